// The incremental rows of the batch snapshots (MailboxRows in snapshot-builder.ts) against a full
// rebuild of every row, through the changes the runner makes: passes (touched, with live facts),
// commands (status, error), new and removed mailboxes, verification progress. And the point of
// it: a row that did not change keeps its object.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {MAILBOX_STATUSES, type ErrorRecord} from '../source/engine/batch-model.js';
import type {MailboxSnapshot} from '../source/engine/scheduler/batch-snapshot.js';
import {RateTracker} from '../source/engine/scheduler/rate-tracker.js';
import {MailboxRows, buildMailboxSnapshot, type LiveMailboxFacts} from '../source/engine/scheduler/snapshot-builder.js';
import {MAX_ERRORS, mailboxKey, newMailboxState, pushRing, type MailboxState} from '../source/store/state-schema.js';

function mailbox(index: number, folders = 3): MailboxState {
  const state = newMailboxState({emailAddress: `User${index}@example.test`, userName: `user${index}`});
  for (let folder = 0; folder < folders; folder++) {
    state.folders[`Folder ${folder}`] = {target: `Folder ${folder}`, sourceUidValidity: '1', done: '', total: 10 * (folder + 1), doneCount: folder, skipped: 0, failed: 0, bytesDone: folder * 100, bytesTotal: 1000};
  }
  return state;
}

function errorRecord(message: string): ErrorRecord {
  return {kind: 'connection-lost', message, hint: 'it is retried', retryable: true, at: '2026-03-01T12:00:00.000Z'};
}

/** A small deterministic generator, so a failing round can be replayed. */
function random(seed: number): () => number {
  let value = seed;
  return () => {
    value = (value * 1_103_515_245 + 12_345) % 2_147_483_648;
    return value / 2_147_483_648;
  };
}

class World {
  readonly mailboxes: Record<string, MailboxState> = {};
  readonly live = new Map<string, LiveMailboxFacts>();
  readonly verifying = new Map<string, string>();
  readonly rows = new MailboxRows();

  add(state: MailboxState): string {
    const key = mailboxKey(state.identity.emailAddress);
    this.mailboxes[key] = state;
    return key;
  }

  incremental(): MailboxSnapshot[] {
    return this.rows.build(this.mailboxes, (key) => this.live.get(key), (key) => this.verifying.get(key));
  }

  /** What the runner built before MailboxRows: every row from scratch. */
  full(): MailboxSnapshot[] {
    return Object.entries(this.mailboxes).map(([key, state]) => {
      const row = buildMailboxSnapshot(state, this.live.get(key));
      const progress = this.verifying.get(key);
      return progress === undefined ? row : {...row, verifying: progress};
    });
  }

  /** A pass as the runner runs one: touched at launch and end, live facts while it runs. */
  startPass(key: string): void {
    this.rows.touch(key);
    const rate = new RateTracker();
    rate.sample(0, 0, 0);
    this.live.set(key, {currentFolder: 'Folder 0', rate});
    this.mailboxes[key]!.status = 'Syncing';
  }

  endPass(key: string, status: MailboxState['status']): void {
    this.rows.touch(key);
    this.live.delete(key);
    this.mailboxes[key]!.status = status;
  }
}

describe('MailboxRows', () => {
  it('builds the same rows as a full rebuild, and keeps the objects of rows that did not change', () => {
    const world = new World();
    for (let index = 0; index < 20; index++) world.add(mailbox(index, index % 4));
    const first = world.incremental();
    assert.deepEqual(first, world.full());
    const second = world.incremental();
    assert.deepEqual(second, world.full());
    second.forEach((row, index) => assert.equal(row, first[index], `row ${index} is the same object`));
  });

  it('rebuilds a row after each change a command makes without a pass', () => {
    const world = new World();
    const keys = Array.from({length: 6}, (_, index) => world.add(mailbox(index)));
    let before = world.incremental();
    // Which mailbox each change goes to: a change and its undoing go to the same one.
    const changes: [string, number, (state: MailboxState, key: string) => void][] = [
      ['status', 0, (state) => (state.status = 'Stopped')],
      ['error set', 1, (state) => (state.error = errorRecord('login refused'))],
      ['error cleared', 1, (state) => delete state.error],
      ['error added to the ring', 2, (state) => pushRing(state.errors, errorRecord('reset'), MAX_ERRORS)],
      ['last synced', 3, (state) => (state.stats.lastSyncedAt = '2026-03-01T12:00:00.000Z')],
      ['started', 4, (state) => (state.stats.startedAt = '2026-03-01T11:00:00.000Z')],
      ['first pass time', 4, (state) => (state.stats.initialSyncMs = 5000)],
      ['user name', 5, (state) => (state.identity = {...state.identity, userName: 'renamed'})],
      ['verification progress', 2, (_, key) => world.verifying.set(key, 'INBOX')],
      ['verification done', 2, (_, key) => world.verifying.delete(key)],
    ];
    for (const [what, index, change] of changes) {
      change(world.mailboxes[keys[index]!]!, keys[index]!);
      const after = world.incremental();
      assert.deepEqual(after, world.full(), what);
      assert.notEqual(after[index], before[index], `${what}: the changed row is new`);
      after.forEach((row, other) => {
        if (other !== index) assert.equal(row, before[other], `${what}: row ${other} kept`);
      });
      before = after;
    }
  });

  it('a row built from live facts is rebuilt once they are gone, even untouched', () => {
    const world = new World();
    const key = world.add(mailbox(0));
    world.live.set(key, {currentFolder: 'INBOX', retrying: {attempt: 2, nextAt: '2026-03-01T12:00:05.000Z'}});
    assert.deepEqual(world.incremental(), world.full());
    world.live.delete(key);
    const rows = world.incremental();
    assert.deepEqual(rows, world.full());
    assert.equal(rows[0]!.retrying, undefined);
  });

  it('follows a pass: live rows rebuilt on every build, the row after the pass without its live facts', () => {
    const world = new World();
    const keys = Array.from({length: 4}, (_, index) => world.add(mailbox(index)));
    world.incremental();
    world.startPass(keys[1]!);
    assert.deepEqual(world.incremental(), world.full());
    const folder = world.mailboxes[keys[1]!]!.folders['Folder 0']!;
    for (let step = 1; step <= 3; step++) {
      folder.doneCount += 1;
      folder.bytesDone += 50;
      (world.live.get(keys[1]!)!.rate as RateTracker).sample(step * 1000, step * 10, step * 500);
      const rows = world.incremental();
      assert.deepEqual(rows, world.full(), `step ${step}`);
      assert.equal(rows[1]!.itemsDone, 3 + step);
      assert.ok(rows[1]!.messagesPerSecond > 0);
    }
    folder.doneCount += 1;
    world.endPass(keys[1]!, 'Synced');
    const after = world.incremental();
    assert.deepEqual(after, world.full());
    assert.equal(after[1]!.messagesPerSecond, 0);
    assert.equal(after[1]!.currentFolder, undefined);
  });

  it('a pass that starts and ends between two builds, leaving the status as it was, still shows its counts', () => {
    const world = new World();
    const key = world.add(mailbox(0));
    world.mailboxes[key]!.status = 'Synced';
    world.incremental();
    // An incremental pass stopped by close(): Synced → IncrementalSyncing → Synced, nothing else
    // a command would change, but a message copied.
    world.startPass(key);
    world.mailboxes[key]!.folders['Folder 1']!.doneCount += 1;
    world.endPass(key, 'Synced');
    assert.deepEqual(world.incremental(), world.full());
  });

  it('follows mailboxes added, removed, and replaced by a new state object', () => {
    const world = new World();
    const keys = Array.from({length: 5}, (_, index) => world.add(mailbox(index)));
    world.incremental();
    delete world.mailboxes[keys[2]!];
    assert.deepEqual(world.incremental(), world.full());
    world.add(mailbox(7, 5));
    assert.deepEqual(world.incremental(), world.full());
    // Added again after its removal: a new state object, its row is built from it.
    const again = mailbox(2, 1);
    again.folders['Folder 0']!.doneCount = 9;
    world.add(again);
    const rows = world.incremental();
    assert.deepEqual(rows, world.full());
    assert.equal(rows.at(-1)!.itemsDone, 9);
    world.mailboxes[keys[0]!] = mailbox(0, 2);
    assert.deepEqual(world.incremental(), world.full());
  });

  it('equals a full rebuild through a long random run of passes and commands', () => {
    const next = random(16);
    const world = new World();
    const keys = Array.from({length: 40}, (_, index) => world.add(mailbox(index, 1 + (index % 5))));
    const statuses = MAILBOX_STATUSES.filter((status) => status !== 'Syncing');
    for (let round = 0; round < 400; round++) {
      for (let change = 0; change < 3; change++) {
        const key = keys[Math.floor(next() * keys.length)]!;
        const state = world.mailboxes[key];
        if (!state) continue;
        const roll = next();
        if (world.live.has(key)) {
          // Inside a pass anything moves: counts, the folder, errors, the status at the end.
          const folders = Object.values(state.folders);
          const folder = folders[Math.floor(next() * folders.length)];
          if (folder) {
            folder.doneCount += 1;
            folder.bytesDone += 10;
          }
          world.live.get(key)!.currentFolder = `Folder ${Math.floor(next() * 5)}`;
          if (roll < 0.1) pushRing(state.errors, errorRecord(`round ${round}`), MAX_ERRORS);
          if (roll > 0.8) world.endPass(key, statuses[Math.floor(next() * statuses.length)]!);
        } else if (roll < 0.3) {
          world.startPass(key);
        } else if (roll < 0.5) {
          state.status = statuses[Math.floor(next() * statuses.length)]!;
        } else if (roll < 0.6) {
          state.error = errorRecord(`failed in round ${round}`);
        } else if (roll < 0.65) {
          delete state.error;
        } else if (roll < 0.7) {
          world.verifying.set(key, roll < 0.68 ? 'waiting' : 'INBOX');
        } else if (roll < 0.75) {
          world.verifying.delete(key);
        }
      }
      assert.deepEqual(world.incremental(), world.full(), `round ${round}`);
    }
  });
});
