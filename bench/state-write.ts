// Micro-measurement of the state layouts (not a test, not part of `npm run bench`): a batch of
// N mailboxes (default 10,000) whose records look like migrated ones (14 folder checkpoints,
// a few items and errors: about 5 KB each), 20 of them changing, flushed once per round as the
// engine's 1-second flusher would, with a status change every 5th round. Prints flush time
// (p50/p99/max), bytes and files per flush, open time, `batch status` time and RSS, for
// MAILFERRY_STATE_LAYOUT=single (version 1, one file) and the default sharded layout.
//
//   node --import tsx bench/state-write.ts [--mailboxes 10000] [--rounds 60] [--dir /tmp/x]

import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {BatchStore} from '../source/store/batch-store.js';
import {newBatchState, type MailboxState} from '../source/store/state-schema.js';
import {DEFAULT_SETTINGS, type BatchDefinition} from '../source/engine/batch-model.js';
import {makeEndpoint} from '../source/imap/endpoint.js';

const {values} = parseArgs({options: {mailboxes: {type: 'string', default: '10000'}, rounds: {type: 'string', default: '60'}, dir: {type: 'string'}, layout: {type: 'string'}, phase: {type: 'string'}}});
const MAILBOXES = Number(values.mailboxes);
const ROUNDS = Number(values.rounds);
const CHANGING = 20;

function definition(name: string): BatchDefinition {
  return {
    name,
    createdAt: new Date().toISOString(),
    csvPath: '/srv/migration/users.csv',
    source: makeEndpoint({host: 'imap.old.example', port: 993, security: 'tls'}),
    target: makeEndpoint({host: 'imap.new.example', port: 993, security: 'tls'}),
    sourceCredentials: {kind: 'csv'},
    targetCredentials: {kind: 'csv'},
    settings: {...DEFAULT_SETTINGS},
  };
}

function migrated(mailbox: MailboxState, seed: number): void {
  mailbox.status = 'Synced';
  mailbox.stats = {startedAt: '2026-12-01T10:00:00.000Z', initialSyncMs: 3_600_000, lastSyncedAt: '2026-12-01T11:00:00.000Z', passes: 2, appendCount: 9000 + seed, flagUpdates: 12};
  const names = ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive', 'Archive/2023', 'Archive/2024', 'Projects', 'Projects/Q3 Reports', 'Clients & Partners', 'Newsletters', 'Receipts', 'Travel'];
  for (const [i, name] of names.entries()) {
    mailbox.folders[name] = {
      target: name,
      sourceUidValidity: String(1_700_000_000 + i),
      targetUidValidity: String(1_800_000_000 + i),
      done: `1:${400 + i},${402 + i}:${1900 + seed % 50},${1902 + i}:${2600 + i}`,
      highestModseq: String(123_456 + seed),
      uidNext: 2601 + i,
      total: 2600,
      doneCount: 2598,
      skipped: 1,
      failed: 1,
      bytesDone: 123_456_789,
      bytesTotal: 123_456_789,
      lastPassAt: '2026-12-01T11:00:00.000Z',
    };
  }
  mailbox.skipped.push({folder: 'INBOX', uid: 401, size: 40_000_000, date: '2024-05-01T00:00:00.000Z', subject: 'Scans of the contract', reason: 'larger than the 35 MB limit'});
  mailbox.failed.push({folder: 'Sent', uid: 1901, size: 2_000, reason: 'the target refused it: NO [LIMIT] message too large'});
  mailbox.errors.push({kind: 'connect', message: 'connection reset by the target', hint: 'retried', retryable: true, at: '2026-12-01T10:30:00.000Z'});
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Phase 1 (its own process, so that the run's RSS is that of a process that only opened the batch). */
async function create(layout: 'single' | 'sharded', base: string): Promise<void> {
  process.env['MAILFERRY_STATE_LAYOUT'] = layout;
  const stateDir = join(base, layout);
  const people = Array.from({length: MAILBOXES}, (_, i) => ({emailAddress: `user${i}@example.com`, userName: `user${i}`}));
  const state = newBatchState(definition('scale'), people);
  const keys = Object.keys(state.mailboxes);
  keys.forEach((key, i) => migrated(state.mailboxes[key]!, i));
  const creating = performance.now();
  await (await BatchStore.create(stateDir, state, {flushIntervalMs: 60_000})).close();
  console.log(JSON.stringify({layout, createMs: Math.round(performance.now() - creating)}));
}

/** Phase 2: open, copy-like writes, close, `batch status`. */
async function measure(layout: 'single' | 'sharded', base: string): Promise<void> {
  process.env['MAILFERRY_STATE_LAYOUT'] = layout;
  const stateDir = join(base, layout);
  const opening = performance.now();
  const store = await BatchStore.open(stateDir, 'scale', {flushIntervalMs: 60_000});
  const openMs = performance.now() - opening;
  await store.acquireRunLock();
  const keys = Object.keys(store.state.mailboxes);
  const working = keys.slice(0, CHANGING);
  for (const key of working) store.state.mailboxes[key]!.status = 'Syncing';
  store.markDirty();
  await store.flushNow();

  const statsFile = join(base, `${layout}.jsonl`);
  process.env['MAILFERRY_STATE_STATS'] = statsFile;
  const started = performance.now();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const key of working) {
      const mailbox = store.state.mailboxes[key]!;
      const inbox = mailbox.folders['INBOX']!;
      inbox.doneCount += 1;
      inbox.bytesDone += 20_000;
      inbox.done = `1:${400 + round}`;
      mailbox.stats.appendCount += 1;
      store.markDirty(key);
    }
    if (round % 5 === 0) {
      // One mailbox finishes and the next one starts: two status changes.
      const done = working.shift()!;
      store.state.mailboxes[done]!.status = 'Synced';
      store.markDirty(done);
      const next = keys[CHANGING + round / 5]!;
      store.state.mailboxes[next]!.status = 'Syncing';
      store.markDirty(next);
      working.push(next);
    }
    await store.flushNow();
  }
  const elapsedS = (performance.now() - started) / 1000;
  delete process.env['MAILFERRY_STATE_STATS'];
  const rss = process.memoryUsage().rss;
  await store.close();

  const summarising = performance.now();
  await BatchStore.summary(stateDir, 'scale');
  const summaryMs = performance.now() - summarising;

  const lines = readFileSync(statsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as {ms: number; bytes: number; files: number});
  const ms = lines.map((line) => line.ms).sort((a, b) => a - b);
  const bytes = lines.reduce((sum, line) => sum + line.bytes, 0);
  const files = lines.reduce((sum, line) => sum + line.files, 0);
  const headBytes = readFileSync(BatchStore.fileFor(stateDir, 'scale')).length;
  console.log(
    JSON.stringify({
      layout,
      mailboxes: MAILBOXES,
      flushes: lines.length,
      flushMs: {p50: round1(percentile(ms, 50)), p90: round1(percentile(ms, 90)), p99: round1(percentile(ms, 99)), max: round1(ms[ms.length - 1]!)},
      bytesPerFlush: Math.round(bytes / lines.length),
      filesPerFlush: round1(files / lines.length),
      // Written per second of copying if the flusher runs once a second.
      mbPerSecondAt1Hz: round1(bytes / lines.length / 1e6),
      headFileBytes: headBytes,
      openMs: Math.round(openMs),
      statusMs: Math.round(summaryMs),
      rssMB: Math.round(rss / 1e6),
      loopSeconds: round1(elapsedS),
    }),
  );
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

if (values.phase) {
  const layout = values.layout as 'single' | 'sharded';
  if (values.phase === 'create') await create(layout, values.dir!);
  else await measure(layout, values.dir!);
} else {
  const base = values.dir ?? mkdtempSync(join(tmpdir(), 'mailferry-state-write-'));
  try {
    const layouts = values.layout ? [values.layout as 'single' | 'sharded'] : (['single', 'sharded'] as const);
    for (const layout of layouts) {
      for (const phase of ['create', 'run']) {
        const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--phase', phase, '--layout', layout, '--dir', base, '--mailboxes', String(MAILBOXES), '--rounds', String(ROUNDS)];
        const child = spawnSync(process.execPath, args, {stdio: ['ignore', 'inherit', 'inherit']});
        if (child.status !== 0) throw new Error(`${phase} ${layout} failed (${child.status})`);
      }
    }
  } finally {
    if (!values.dir) rmSync(base, {recursive: true, force: true});
  }
}
