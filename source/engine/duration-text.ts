// Durations as admins type them, for the incremental interval in the settings form and on the
// command line alike: one parser, so `--interval 90` and the form's field can never mean two
// different things.

const UNIT_MS = {d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000} as const;

/**
 * "24h", "30m", "90s", "2d", "1h30m", "1.5h" into milliseconds; undefined when not understood,
 * zero, or a bare number: whether "15" meant seconds or minutes is a guess not worth making.
 */
export function parseDuration(text: string): number | undefined {
  const compact = text.trim().toLowerCase().replace(/\s+/g, '');
  if (!/^(\d+(\.\d+)?[dhms])+$/.test(compact)) return undefined;
  let total = 0;
  for (const match of compact.matchAll(/(\d+(?:\.\d+)?)([dhms])/g)) total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  const rounded = Math.round(total);
  return rounded > 0 ? rounded : undefined;
}

/** What an admin should type instead, for error messages and form hints. */
export const DURATION_EXAMPLES = '24h, 30m, 1h30m or 2d';

/** The inverse of parseDuration: 86400000 -> "24h", 5400000 -> "1h30m". */
export function durationText(ms: number): string {
  let seconds = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (seconds >= size) {
      const amount = Math.floor(seconds / size);
      seconds -= amount * size;
      parts.push(`${amount}${unit}`);
    }
  }
  // Whole days read better as hours for the usual "24h" interval.
  if (parts.length === 1 && parts[0] === '1d') return '24h';
  return parts.join('') || '0s';
}
