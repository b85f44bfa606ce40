// Sizes on the command line: 35MB / 512k / 1.5G (durations: engine/duration-text.ts, shared with the UI).

export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!match) throw new Error(`"${text}" is not a size; write it like 35MB, 512KB or 1.5GB`);
  const power = {'': 0, k: 1, m: 2, g: 3, t: 4}[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(match[1]) * 1024 ** power);
}
