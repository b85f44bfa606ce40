// Every line the UI draws is cut to the terminal width here, so nothing ever wraps (a wrapped
// line would push the whole screen down and break the fixed layout).

const SURROGATE = /[\uD800-\uDFFF]/;

/** Characters (code points) in `text`; most texts the UI draws are without astral characters. */
function charCount(text: string): number {
  return SURROGATE.test(text) ? Array.from(text).length : text.length;
}

export function truncate(text: string, width: number, ellipsis: string): string {
  if (width <= 0) return '';
  // Never more characters than UTF-16 units; and without surrogates one unit is one character.
  // This runs for every cell of every row drawn: skip splitting the text when it can.
  if (text.length <= width) return text;
  if (!SURROGATE.test(text)) {
    if (width <= ellipsis.length) return text.slice(0, width);
    return text.slice(0, width - ellipsis.length) + ellipsis;
  }
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= ellipsis.length) return chars.slice(0, width).join('');
  return chars.slice(0, width - ellipsis.length).join('') + ellipsis;
}

/** Exactly `width` characters: truncated with an ellipsis, or padded. */
export function fit(text: string, width: number, ellipsis: string, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width, ellipsis);
  const pad = width - charCount(cut);
  if (pad <= 0) return cut;
  return align === 'left' ? cut + ' '.repeat(pad) : ' '.repeat(pad) + cut;
}

/** One line, control characters (server texts can hold CR/LF/tabs) flattened to spaces. */
export function singleLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[ ]*[\u0000-\u001f\u007f]+[ ]*/g, ' ').trim();
}

/**
 * Soft-wraps one line at spaces into lines of at most `width` characters; continuation lines get
 * `indent`. A word longer than a line is cut hard. At most `maxLines` lines, the last one ending
 * in an ellipsis when text was left over.
 */
export function wrapText(text: string, width: number, options: {indent?: string; maxLines?: number; ellipsis?: string} = {}): string[] {
  const indent = options.indent ?? '';
  const maxLines = options.maxLines ?? Number.POSITIVE_INFINITY;
  const ellipsis = options.ellipsis ?? '…';
  if (width <= indent.length + 1) return [truncate(text, width, ellipsis)];
  const lines: string[] = [];
  let rest = text;
  let prefix = '';
  while (rest.length > 0 && lines.length < maxLines) {
    const room = width - prefix.length;
    if (Array.from(rest).length <= room) {
      lines.push(prefix + rest);
      rest = '';
      break;
    }
    let cut = rest.lastIndexOf(' ', room);
    if (cut <= 0) cut = room;
    lines.push(prefix + rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
    prefix = indent;
  }
  if (rest.length > 0 && lines.length > 0) lines[lines.length - 1] = truncate(`${lines[lines.length - 1]!} ${rest}`, width, ellipsis);
  return lines;
}
