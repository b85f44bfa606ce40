import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {ASCII_GLYPHS, UNICODE_GLYPHS, wantsAscii} from '../../source/ui/glyphs.js';
import {colorAllowed} from '../../source/ui/display-options.js';
import {progressBar} from '../../source/ui/format/progress-bar.js';
import {sparkline} from '../../source/ui/format/sparkline.js';
import {fit, singleLine, truncate} from '../../source/ui/format/text-fit.js';
import {
  formatAge,
  formatByteRate,
  formatBytes,
  formatClock,
  formatCount,
  formatDuration,
  formatMessageRate,
  formatPercent,
} from '../../source/ui/format/units.js';

describe('units', () => {
  it('formats counts in at most 5 characters', () => {
    const table: [number, string][] = [[0, '0'], [7, '7'], [999, '999'], [1000, '1k'], [1234, '1.2k'], [12_345, '12k'], [999_999, '999k'], [1_500_000, '1.5M'], [25_000_000_000, '25G'], [-1, '-'], [Number.NaN, '-']];
    for (const [value, expected] of table) assert.equal(formatCount(value), expected, String(value));
    for (let value = 1; value < 1e12; value *= 3.7) assert.ok(formatCount(value).length <= 5, `${value} -> ${formatCount(value)}`);
  });

  it('formats bytes in binary units, at most 5 characters', () => {
    const table: [number, string][] = [[0, '0B'], [1023, '1023B'], [1024, '1K'], [1536, '1.5K'], [35 * 1024 * 1024, '35M'], [5 * 1024 ** 3, '5G'], [1.25 * 1024 ** 4, '1.3T']];
    for (const [value, expected] of table) assert.equal(formatBytes(value), expected, String(value));
    for (let value = 1024; value < 1e15; value *= 3.3) assert.ok(formatBytes(value).length <= 5, `${value} -> ${formatBytes(value)}`);
  });

  it('formats percent, rates and durations', () => {
    assert.equal(formatPercent(0, 0), '-');
    assert.equal(formatPercent(5, 0), '100%');
    assert.equal(formatPercent(1, 3), '33%');
    assert.equal(formatPercent(10, 5), '100%');
    assert.equal(formatMessageRate(0), '-');
    assert.equal(formatMessageRate(2.25), '2.3/s');
    assert.equal(formatMessageRate(1500), '1.5k/s');
    assert.equal(formatByteRate(2 * 1024 * 1024), '2M/s');
    const durations: [number | undefined, string][] = [[undefined, '-'], [-5, '-'], [0, '0s'], [59, '59s'], [60, '1m'], [3599, '59m'], [3600, '1h00m'], [3900, '1h05m'], [86_400 + 4 * 3600, '1d04h'], [200 * 86_400, '200d']];
    for (const [value, expected] of durations) assert.equal(formatDuration(value), expected, String(value));
  });

  it('formats ages and clock times relative to a fixed now', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    assert.equal(formatAge(undefined, now), '-');
    assert.equal(formatAge('not a date', now), '-');
    assert.equal(formatAge('2026-03-01T11:59:58Z', now), 'now');
    assert.equal(formatAge('2026-03-01T11:59:20Z', now), '40s ago');
    assert.equal(formatAge('2026-03-01T11:48:00Z', now), '12m ago');
    assert.equal(formatAge('2026-03-01T09:00:00Z', now), '3h ago');
    assert.equal(formatAge('2026-02-26T12:00:00Z', now), '3d ago');
    const local = new Date(2026, 2, 1, 14, 5);
    assert.equal(formatClock(local.toISOString(), new Date(2026, 2, 1, 18, 0)), '14:05');
    assert.equal(formatClock(local.toISOString(), new Date(2026, 2, 3, 18, 0)), '2026-03-01 14:05');
  });
});

describe('progress bar', () => {
  it('is always exactly as wide as asked', () => {
    for (const glyphs of [UNICODE_GLYPHS, ASCII_GLYPHS]) {
      for (let done = 0; done <= 100; done += 7) assert.equal(Array.from(progressBar(done, 100, 10, glyphs)).length, 10);
      assert.equal(progressBar(5, 0, 4, glyphs), glyphs.barEmpty.repeat(4));
      assert.equal(progressBar(500, 100, 4, glyphs), (glyphs.barPartials.at(-1) ?? '').repeat(4));
    }
  });

  it('shows partial cells in UTF-8 and whole cells in ASCII', () => {
    assert.equal(progressBar(1, 2, 4, ASCII_GLYPHS), '##..');
    assert.equal(progressBar(1, 8, 1, UNICODE_GLYPHS), '▏');
    assert.equal(progressBar(9, 16, 2, UNICODE_GLYPHS), '█▏');
    assert.equal(progressBar(0, 16, 2, UNICODE_GLYPHS), '░░');
  });
});

describe('sparkline', () => {
  it('scales to the largest sample, newest on the right, padded to width', () => {
    assert.equal(sparkline([0, 1, 2, 4, 8], 5, UNICODE_GLYPHS), ' ▁▂▄█');
    assert.equal(sparkline([8, 4], 4, UNICODE_GLYPHS), '  █▄');
    assert.equal(sparkline([1, 2, 3, 4, 5, 6], 3, ASCII_GLYPHS).length, 3);
    assert.equal(sparkline([], 3, UNICODE_GLYPHS), '   ');
    assert.equal(sparkline([0, 0], 2, UNICODE_GLYPHS), '  ');
  });
});

describe('text fit', () => {
  it('truncates with an ellipsis and pads to the exact width', () => {
    assert.equal(truncate('alice@example.com', 8, '…'), 'alice@e…');
    assert.equal(truncate('alice@example.com', 8, '~'), 'alice@e~');
    assert.equal(truncate('short', 8, '…'), 'short');
    assert.equal(truncate('anything', 0, '…'), '');
    assert.equal(fit('ab', 4, '…'), 'ab  ');
    assert.equal(fit('ab', 4, '…', 'right'), '  ab');
    assert.equal(fit('abcdef', 4, '…', 'right'), 'abc…');
    assert.equal(singleLine('  server said:\r\n  NO\tquota  '), 'server said: NO quota');
  });
});

describe('display choices', () => {
  it('uses ASCII when asked or when the locale is not UTF-8', () => {
    const table: [NodeJS.ProcessEnv, string[], boolean][] = [
      [{LANG: 'en_US.UTF-8'}, [], false],
      [{LANG: 'C.utf8'}, [], false],
      [{LANG: 'en_US.UTF-8'}, ['--ascii'], true],
      [{LANG: 'en_US.UTF-8', MAILFERRY_ASCII: '1'}, [], true],
      [{LANG: 'C'}, [], true],
      [{}, [], true],
      [{LC_ALL: 'POSIX', LANG: 'en_US.UTF-8'}, [], true],
      [{LC_CTYPE: 'de_DE.UTF-8'}, [], false],
      [{LANG: 'C', MAILFERRY_ASCII: '0'}, [], false],
    ];
    for (const [env, argv, expected] of table) assert.equal(wantsAscii(env, argv), expected, JSON.stringify([env, argv]));
  });

  it('honours NO_COLOR and dumb terminals', () => {
    assert.equal(colorAllowed({}), true);
    assert.equal(colorAllowed({NO_COLOR: '1'}), false);
    assert.equal(colorAllowed({NO_COLOR: ''}), true);
    assert.equal(colorAllowed({TERM: 'dumb'}), false);
  });
});

describe('wrapping', () => {
  it('wraps at spaces with an indent, cuts long words, and stops at maxLines with an ellipsis', async () => {
    const {wrapText} = await import('../../source/ui/format/text-fit.js');
    assert.deepEqual(wrapText('short', 20), ['short']);
    assert.deepEqual(wrapText('the quick brown fox jumps over', 12, {indent: '  '}), ['the quick', '  brown fox', '  jumps over']);
    assert.deepEqual(wrapText('abcdefghijklmnop', 6), ['abcdef', 'ghijkl', 'mnop']);
    const limited = wrapText('one two three four five six seven', 10, {maxLines: 2, ellipsis: '~'});
    assert.equal(limited.length, 2);
    assert.ok(limited[1]!.endsWith('~') && limited[1]!.length <= 10, limited[1]);
  });
});
