import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {durationText, parseDuration} from '../source/engine/duration-text.js';

describe('duration text (settings form and --interval)', () => {
  it('reads durations with units, alone or combined', () => {
    const table: [string, number][] = [
      ['24h', 86_400_000], ['30m', 1_800_000], ['1h30m', 5_400_000], ['90s', 90_000], ['2d', 172_800_000],
      ['1.5h', 5_400_000], [' 1H 30M ', 5_400_000], ['1d12h', 129_600_000],
    ];
    for (const [text, expected] of table) assert.equal(parseDuration(text), expected, text);
  });

  it('refuses what it would have to guess: bare numbers, unknown units, zero, words', () => {
    for (const text of ['', '15', '90', '10ms', '3w', '0m', '0s0m', 'soon', '1h and 5m', 'h', '1.h', '-5m']) assert.equal(parseDuration(text), undefined, text);
  });

  it('prints what it reads back', () => {
    assert.equal(durationText(86_400_000), '24h');
    assert.equal(durationText(5_400_000), '1h30m');
    assert.equal(durationText(172_800_000), '2d');
    for (const ms of [60_000, 5_400_000, 86_400_000, 90_000, 129_600_000]) assert.equal(parseDuration(durationText(ms)), ms);
  });
});
