// Human units on the command line: sizes like 35MB / 512k / 1.5G and durations like 24h / 30m / 90s.

export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!match) throw new Error(`"${text}" is not a size; write it like 35MB, 512KB or 1.5GB`);
  const power = {'': 0, k: 1, m: 2, g: 3, t: 4}[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(match[1]) * 1024 ** power);
}

export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration; write it like 24h, 30m, 90s or 2d`);
  const unit = (match[2] ?? 's').toLowerCase();
  const factor = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[unit as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(match[1]) * factor);
}
