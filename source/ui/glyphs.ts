// Box drawing and markers in two flavours. Terminals over old SSH clients, serial consoles and
// some tmux setups without a UTF-8 locale show mojibake for box drawing, so ASCII is chosen
// whenever the locale does not promise UTF-8, or when the admin asks for it.

export interface Glyphs {
  readonly ascii: boolean;
  readonly horizontal: string;
  readonly vertical: string;
  readonly separator: string;
  readonly selected: string;
  readonly marked: string;
  readonly ellipsis: string;
  readonly arrow: string;
  readonly sortAscending: string;
  readonly sortDescending: string;
  /** Progress bar cells: empty, then partial fills from least to most, the last one full. */
  readonly barEmpty: string;
  readonly barPartials: readonly string[];
  /** Sparkline levels from lowest to highest. */
  readonly sparkLevels: readonly string[];
  readonly ok: string;
  readonly failed: string;
  readonly running: string;
  readonly skipped: string;
}

export const UNICODE_GLYPHS: Glyphs = {
  ascii: false,
  horizontal: '─',
  vertical: '│',
  separator: '·',
  selected: '>',
  marked: '●',
  ellipsis: '…',
  arrow: '→',
  sortAscending: '↑',
  sortDescending: '↓',
  barEmpty: '░',
  barPartials: ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'],
  sparkLevels: ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
  ok: '✓',
  failed: '✗',
  running: '…',
  skipped: '-',
};

export const ASCII_GLYPHS: Glyphs = {
  ascii: true,
  horizontal: '-',
  vertical: '|',
  separator: '|',
  selected: '>',
  marked: '*',
  ellipsis: '~',
  arrow: '->',
  sortAscending: '^',
  sortDescending: 'v',
  barEmpty: '.',
  barPartials: ['#'],
  sparkLevels: ['_', '.', '-', '~', '=', '+', '*', '#'],
  ok: 'ok',
  failed: 'X',
  running: '..',
  skipped: '-',
};

/** The locale the C library would use for character classification: LC_ALL, then LC_CTYPE, then LANG. */
function effectiveLocale(env: NodeJS.ProcessEnv): string {
  for (const name of ['LC_ALL', 'LC_CTYPE', 'LANG']) {
    const value = env[name];
    if (value) return value;
  }
  return '';
}

export function wantsAscii(env: NodeJS.ProcessEnv, argv: readonly string[] = []): boolean {
  if (argv.includes('--ascii')) return true;
  if (env['MAILFERRY_ASCII'] === '1') return true;
  if (env['MAILFERRY_ASCII'] === '0') return false;
  return !/utf-?8/i.test(effectiveLocale(env));
}

export function pickGlyphs(env: NodeJS.ProcessEnv, argv: readonly string[] = []): Glyphs {
  return wantsAscii(env, argv) ? ASCII_GLYPHS : UNICODE_GLYPHS;
}
