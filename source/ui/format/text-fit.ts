// Every line the UI draws is cut to the terminal width here, so nothing ever wraps (a wrapped
// line would push the whole screen down and break the fixed layout).

export function truncate(text: string, width: number, ellipsis: string): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= ellipsis.length) return chars.slice(0, width).join('');
  return chars.slice(0, width - ellipsis.length).join('') + ellipsis;
}

/** Exactly `width` characters: truncated with an ellipsis, or padded. */
export function fit(text: string, width: number, ellipsis: string, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width, ellipsis);
  const pad = width - Array.from(cut).length;
  if (pad <= 0) return cut;
  return align === 'left' ? cut + ' '.repeat(pad) : ' '.repeat(pad) + cut;
}

/** One line, control characters (server texts can hold CR/LF/tabs) flattened to spaces. */
export function singleLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[ ]*[\u0000-\u001f\u007f]+[ ]*/g, ' ').trim();
}
