// What publishing a batch snapshot costs the engine (on the UI's thread, 5 times a second) with
// thousands of mailboxes: a full rebuild of every row, as the runner did before MailboxRows, and
// the incremental rows as it does now, with a running batch's share of mailboxes in a pass.
//
//   node --import tsx bench/snapshot-build.ts [--mailboxes 10000] [--folders 30] [--running 50]
//
// Not a test: nothing here asserts a time.

import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {RateTracker} from '../source/engine/scheduler/rate-tracker.js';
import {MailboxRows, buildBatchSnapshot, buildMailboxSnapshot, type LiveMailboxFacts} from '../source/engine/scheduler/snapshot-builder.js';
import {mailboxKey, newMailboxState, type BatchState, type MailboxState} from '../source/store/state-schema.js';
import {fakeDefinition} from '../test/helpers/fake-batch-control.js';

const {values} = parseArgs({
  options: {
    mailboxes: {type: 'string', default: '10000'},
    folders: {type: 'string', default: '30'},
    running: {type: 'string', default: '50'},
    rounds: {type: 'string', default: '40'},
  },
});
const MAILBOXES = Number(values.mailboxes);
const FOLDERS = Number(values.folders);
const RUNNING = Math.min(MAILBOXES, Number(values.running));
const ROUNDS = Number(values.rounds);

const mailboxes: Record<string, MailboxState> = {};
for (let index = 0; index < MAILBOXES; index++) {
  const state = newMailboxState({emailAddress: `user${index}@example.org`, userName: `user${index}`});
  state.status = index < RUNNING ? 'Syncing' : index % 3 === 0 ? 'Queued' : 'Synced';
  state.stats.lastSyncedAt = index % 3 === 0 ? undefined : '2026-03-01T11:00:00.000Z';
  for (let folder = 0; folder < FOLDERS; folder++) {
    state.folders[`Folder ${folder}`] = {target: `Folder ${folder}`, sourceUidValidity: '1', done: '1:90', total: 100, doneCount: 90, skipped: 1, failed: 0, bytesDone: 9_000_000, bytesTotal: 10_000_000};
  }
  mailboxes[mailboxKey(state.identity.emailAddress)] = state;
}
const batch: BatchState = {version: 1, batch: fakeDefinition(), mailboxes, updatedAt: '2026-03-01T12:00:00.000Z'};
const keys = Object.keys(mailboxes);
const live = new Map<string, LiveMailboxFacts>(keys.slice(0, RUNNING).map((key) => [key, {currentFolder: 'INBOX', rate: new RateTracker()}]));

/** Between two publications the running mailboxes copy a few messages. */
function advance(round: number): void {
  for (const key of keys.slice(0, RUNNING)) {
    const folder = mailboxes[key]!.folders['Folder 0']!;
    folder.doneCount += 1;
    folder.bytesDone += 100_000;
    (live.get(key)!.rate as RateTracker).sample(round * 200, folder.doneCount, folder.bytesDone);
  }
}

function full(): void {
  const rows = keys.map((key) => buildMailboxSnapshot(mailboxes[key]!, live.get(key)));
  buildBatchSnapshot(batch, rows, {version: 1, running: true, throughputHistory: []});
}

const incrementalRows = new MailboxRows();
function incremental(): void {
  const rows = incrementalRows.build(mailboxes, (key) => live.get(key), () => undefined);
  buildBatchSnapshot(batch, rows, {version: 1, running: true, throughputHistory: []});
}

function measure(label: string, publish: () => void): void {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS + 5; round++) {
    advance(round);
    const started = performance.now();
    publish();
    if (round >= 5) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.max(0, Math.ceil(q * times.length) - 1)]!;
  console.log(`${label.padEnd(12)} median ${at(0.5).toFixed(2).padStart(7)} ms  p99 ${at(0.99).toFixed(2).padStart(7)} ms  (${times.length} publications)`);
}

console.log(`snapshot build: ${MAILBOXES} mailboxes of ${FOLDERS} folders, ${RUNNING} in a pass`);
measure('full', full);
measure('incremental', incremental);
