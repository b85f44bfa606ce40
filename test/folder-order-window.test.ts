// FolderOrderWindow: how far lanes may run ahead of the oldest message the target has not stored.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {FolderOrderWindow} from '../source/engine/copy/folder-order-window.js';

const newestFirst = (count: number) => Array.from({length: count}, (_, index) => count - index);

/** Hands out everything `window.next()` gives now. */
function drain(window: FolderOrderWindow): number[] {
  const taken: number[] = [];
  for (let uid = window.next(); uid !== undefined; uid = window.next()) taken.push(uid);
  return taken;
}

/** Whether `promise` has settled by the time queued callbacks have run. */
async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('FolderOrderWindow', () => {
  it('hands out newest first and stops `window` positions past the oldest unsettled message', () => {
    const window = new FolderOrderWindow(newestFirst(10), 4);
    assert.deepEqual(drain(window), [10, 9, 8, 7]);
    assert.equal(window.blocked, true);
    assert.equal(window.exhausted, false);
    assert.equal(window.peek(), 6);
  });

  it('settling newer messages does not move it while the oldest handed out is unsettled', () => {
    const window = new FolderOrderWindow(newestFirst(10), 4);
    drain(window);
    window.settle([9, 8, 7]);
    assert.equal(window.blocked, true);
    assert.deepEqual(drain(window), []);
    window.settle([10]);
    // Positions 0-3 are settled: 4-7 may go.
    assert.deepEqual(drain(window), [6, 5, 4, 3]);
  });

  it('wakes waiters when it moves, not on a settlement that leaves it where it was', async () => {
    const window = new FolderOrderWindow(newestFirst(6), 2);
    drain(window);
    const changed = window.changed();
    window.settle([5]);
    assert.equal(await settledNow(changed), false, 'position 0 is still unsettled');
    window.settle([6]);
    assert.equal(await settledNow(changed), true);
    assert.deepEqual(drain(window), [4, 3]);
  });

  it('release() lifts the limit for good and wakes waiters', async () => {
    const window = new FolderOrderWindow(newestFirst(6), 2);
    drain(window);
    const changed = window.changed();
    window.release();
    assert.equal(await settledNow(changed), true);
    assert.equal(window.blocked, false);
    assert.deepEqual(drain(window), [4, 3, 2, 1]);
    assert.equal(window.exhausted, true);
    assert.equal(await settledNow(window.changed()), true);
  });

  it('an unlimited window never blocks', () => {
    const window = new FolderOrderWindow(newestFirst(1000), Infinity);
    assert.equal(drain(window).length, 1000);
  });

  it('three lanes, one held up: nothing is stored after a message `window` or more positions older', () => {
    // Lanes take up to 5 in turn and store them at once, except lane 0, held up (a large message,
    // a slow link) for its first 20 turns.
    const count = 200;
    const width = 30;
    const window = new FolderOrderWindow(newestFirst(count), width);
    const position = (uid: number) => count - uid;
    const holding: number[][] = [[], [], []];
    const stored: number[] = [];
    for (let turn = 0; !window.exhausted || holding.some((uids) => uids.length > 0); turn++) {
      assert.ok(turn < 10_000, 'the lanes finish');
      const lane = turn % 3;
      for (let uid = window.next(); uid !== undefined; uid = holding[lane]!.length % 5 === 0 ? undefined : window.next()) holding[lane]!.push(uid);
      if (lane === 0 && turn < 60) continue;
      const now = holding[lane]!.splice(0);
      stored.push(...now);
      window.settle(now);
    }
    assert.equal(new Set(stored).size, count);
    let oldestStored = -1;
    let worst = 0;
    for (const uid of stored) {
      oldestStored = Math.max(oldestStored, position(uid));
      worst = Math.max(worst, oldestStored - position(uid));
    }
    assert.ok(worst < width, `a message was stored after one ${worst} positions older`);
    // The held-up lane did hold the others back (else this test would prove nothing).
    assert.equal(worst, width - 1);
  });
});
