// The settle wait before an interrupted folder is compared (target-quiet-wait.ts) and the check
// for messages stored twice afterwards (duplicate-copy-check.ts): pure logic, on a fake clock.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {waitUntilQuiet} from '../source/engine/copy/target-quiet-wait.js';
import {surplusCopies} from '../source/engine/copy/duplicate-copy-check.js';
import type {KeyedMessage} from '../source/engine/copy/message-key.js';

/** A folder whose count follows `counts` one read at a time (the last one repeats), on a fake clock. */
function fakeFolder(counts: number[]) {
  let clock = 0;
  let reads = 0;
  return {
    reads: () => reads,
    options: {
      read: async () => counts[Math.min(reads++, counts.length - 1)]!,
      now: () => clock,
      sleep: async (ms: number) => {
        clock += ms;
      },
      settleMs: 1000,
      pollMs: 250,
      maxMs: 10_000,
    },
  };
}

describe('waitUntilQuiet', () => {
  it('returns once the count has not changed for the settle period', async () => {
    const folder = fakeFolder([10, 10, 10, 10, 10]);
    const result = await waitUntilQuiet(folder.options);
    assert.deepEqual(result, {messages: 10, firstMessages: 10, quiet: true, waitedMs: 1000});
  });

  it('starts the settle period again at every change, and returns the count it settled at', async () => {
    const folder = fakeFolder([10, 110, 110, 210, 310, 310]);
    const result = await waitUntilQuiet(folder.options);
    assert.equal(result.quiet, true);
    assert.equal(result.messages, 310);
    assert.equal(result.firstMessages, 10);
    // Last change at the 5th read (t = 1000 ms), quiet 1000 ms later.
    assert.equal(result.waitedMs, 2000);
  });

  it('gives up after the maximum while the count still changes, and says so', async () => {
    const counts = Array.from({length: 100}, (_, i) => i);
    const result = await waitUntilQuiet({...fakeFolder(counts).options, maxMs: 3000});
    assert.equal(result.quiet, false);
    assert.equal(result.waitedMs, 3000);
    assert.equal(result.messages, 12);
  });

  it('stops at once when the pass is stopped', async () => {
    const abort = new AbortController();
    abort.abort(new Error('stop'));
    // The real sleep: it must reject on the signal instead of waiting out the poll interval.
    const {sleep: _fake, ...options} = fakeFolder([1, 2, 3]).options;
    await assert.rejects(waitUntilQuiet({...options, pollMs: 60_000, signal: abort.signal}), /stop/);
  });
});

const msg = (uid: number, digest: string, size = 100): KeyedMessage => ({uid, headerDigest: digest, internalDate: '2024-01-01T00:00:00Z', size});

describe('surplusCopies', () => {
  it('lists a message this pass copied whose key the target holds more often than the source', () => {
    const source = [msg(1, 'a'), msg(2, 'b'), msg(3, 'c')];
    const target = [msg(11, 'a'), msg(12, 'b'), msg(13, 'b'), msg(14, 'c')];
    assert.deepEqual(surplusCopies(source, target, new Set([2, 3])).map((m) => m.uid), [2]);
  });

  it('leaves alone a surplus this pass did not copy (mail the target held before)', () => {
    const source = [msg(1, 'a'), msg(2, 'b')];
    const target = [msg(11, 'a'), msg(12, 'a'), msg(13, 'b')];
    assert.deepEqual(surplusCopies(source, target, new Set([2])), []);
  });

  it('counts keys as multisets: two source messages with one key and two copies are no surplus', () => {
    const source = [msg(1, 'a'), msg(2, 'a')];
    assert.deepEqual(surplusCopies(source, [msg(11, 'a'), msg(12, 'a')], new Set([1, 2])), []);
    assert.deepEqual(surplusCopies(source, [msg(11, 'a'), msg(12, 'a'), msg(13, 'a')], new Set([1, 2])).map((m) => m.uid), [1]);
  });

  it('never lists more than this pass copied of a key', () => {
    const source = [msg(1, 'a')];
    const target = [msg(11, 'a'), msg(12, 'a'), msg(13, 'a')];
    assert.deepEqual(surplusCopies(source, target, new Set([1])).map((m) => m.uid), [1]);
  });

  it('a different size or internal date is a different key', () => {
    const source = [msg(1, 'a')];
    const target = [msg(11, 'a'), msg(12, 'a', 101), {...msg(13, 'a'), internalDate: '2024-01-01T00:00:01Z'}];
    assert.deepEqual(surplusCopies(source, target, new Set([1])), []);
  });
});
