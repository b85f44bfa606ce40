// The version 2 state layout (store/sharded-state.ts): a head plus one file per mailbox, what a
// flush writes, what survives a kill -9, and the conversion of a version 1 single file.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {BatchStore} from '../source/store/batch-store.js';
import {isShardedHead, mailboxDirFor, mailboxFileName, parseHead, ShardedStateFiles, summaryFileFor} from '../source/store/sharded-state.js';
import {newBatchState, newMailboxState, upgradeState, type BatchState, type MailboxState} from '../source/store/state-schema.js';
import {DEFAULT_SETTINGS, type BatchDefinition, type MailboxIdentity} from '../source/engine/batch-model.js';
import {makeEndpoint} from '../source/imap/endpoint.js';
import {MigrationError} from '../source/imap/imap-error.js';

const storeModule = fileURLToPath(new URL('../source/store/batch-store.ts', import.meta.url));

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'mailferry-sharded-'));
});
after(() => {
  rmSync(root, {recursive: true, force: true});
});

let counter = 0;
function freshStateDir(): string {
  counter += 1;
  return join(root, `state-${counter}`);
}

function definition(name: string): BatchDefinition {
  return {
    name,
    createdAt: '2025-01-01T00:00:00.000Z',
    csvPath: '/srv/migration/users.csv',
    source: makeEndpoint({host: '127.0.0.1', port: 1143, security: 'none'}),
    target: makeEndpoint({host: '127.0.0.1', port: 2143, security: 'none'}),
    sourceCredentials: {kind: 'csv'},
    targetCredentials: {kind: 'login-pattern', pattern: '{email}*admin', adminSecret: {from: 'env', name: 'TARGET_ADMIN_PASSWORD'}},
    settings: {...DEFAULT_SETTINGS},
  };
}

function people(count: number): MailboxIdentity[] {
  return Array.from({length: count}, (_, i) => ({emailAddress: `User${i}@Example.com`, userName: `user${i}`}));
}

function key(i: number): string {
  return `user${i}@example.com`;
}

function readState(file: string): BatchState {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  return isShardedHead(raw) ? ShardedStateFiles.readState(file, parseHead(raw, file)) : (raw as BatchState);
}

interface Stat {
  ms: number;
  bytes: number;
  files: number;
  layout: string;
}

/** Runs `body` with MAILFERRY_STATE_STATS on; returns the lines written meanwhile. */
async function withStats(body: () => Promise<void>): Promise<Stat[]> {
  counter += 1;
  const file = join(root, `stats-${counter}.jsonl`);
  process.env['MAILFERRY_STATE_STATS'] = file;
  try {
    await body();
  } finally {
    delete process.env['MAILFERRY_STATE_STATS'];
  }
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Stat) : [];
}

function progress(mailbox: MailboxState, n: number): void {
  mailbox.stats.appendCount = n;
  mailbox.folders['INBOX'] = {target: 'INBOX', sourceUidValidity: '7', done: n > 0 ? `1:${n}` : '', total: 1000, doneCount: n, skipped: 0, failed: 0, bytesDone: n * 100, bytesTotal: 100_000};
}

describe('sharded state layout', () => {
  it('creates a head and one file per mailbox, each 0600, and a listing that reads the head', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, newBatchState(definition('v2'), people(5)));
    await store.close();
    const head = JSON.parse(readFileSync(store.file, 'utf8')) as Record<string, unknown>;
    assert.equal(head['version'], 2);
    assert.equal(head['layout'], 'sharded');
    assert.deepEqual(readdirSync(mailboxDirFor(store.file)).sort(), ['_summary-00.json', ...[0, 1, 2, 3, 4].map((i) => mailboxFileName(key(i)))].sort());
    const list = await BatchStore.list(stateDir);
    assert.deepEqual(list.map((entry) => [entry.name, entry.mailboxes, entry.counts]), [['v2', 5, {Queued: 5}]]);
  });

  it('a flush writes only the mailboxes marked dirty, and their summaries only when a status changes', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, newBatchState(definition('dirty'), people(50)), {flushIntervalMs: 60_000});
    const stats = await withStats(async () => {
      progress(store.state.mailboxes[key(3)]!, 10);
      store.markDirty(key(3));
      progress(store.state.mailboxes[key(7)]!, 20);
      store.markDirty(key(7));
      await store.flushNow();
      // A status change rewrites the head too.
      store.state.mailboxes[key(3)]!.status = 'Syncing';
      store.markDirty(key(3));
      await store.flushNow();
      // Nothing marked: close writes nothing.
      await store.close();
    });
    assert.deepEqual(stats.map((stat) => [stat.files, stat.layout]), [[2, 'sharded'], [2, 'sharded']]);
    const mailboxBytes = Buffer.byteLength(readFileSync(join(mailboxDirFor(store.file), mailboxFileName(key(7)))));
    const summaryBytes = Buffer.byteLength(readFileSync(summaryFileFor(store.file, 0)));
    assert.ok(stats[0]!.bytes < 3 * mailboxBytes, `the first flush wrote ${stats[0]!.bytes} bytes, about two mailboxes' files (${mailboxBytes} each)`);
    assert.ok(stats[1]!.bytes >= summaryBytes, 'the second flush wrote the summaries');
    const onDisk = readState(store.file);
    assert.equal(onDisk.mailboxes[key(7)]!.stats.appendCount, 20);
    assert.equal(onDisk.mailboxes[key(3)]!.status, 'Syncing');
    // The head's summary carries the counts written with it.
    const summary = await BatchStore.summary(stateDir, 'dirty');
    assert.equal(summary.mailboxes[key(7)]!.totals.itemsDone, 20);
  });

  it('batch status reads fresh counts of working mailboxes from their own files, the rest from the summaries', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, newBatchState(definition('fresh'), people(3)), {flushIntervalMs: 60_000});
    store.state.mailboxes[key(0)]!.status = 'Syncing';
    store.markDirty(key(0));
    await store.flushNow();
    const stats = await withStats(async () => {
      progress(store.state.mailboxes[key(0)]!, 42);
      store.markDirty(key(0));
      await store.flushNow();
    });
    assert.deepEqual(stats.map((stat) => stat.files), [1], 'progress alone rewrites the mailbox file only');
    const summary = await BatchStore.summary(stateDir, 'fresh');
    assert.equal(summary.mailboxes[key(0)]!.totals.itemsDone, 42);
    assert.equal(summary.mailboxes[key(1)]!.status, 'Queued');
    await store.close();
  });

  it('flushNow(key) puts the mailbox on disk before it resolves; a keyless markDirty writes the head alone', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, newBatchState(definition('now'), people(3)), {flushIntervalMs: 60_000});
    store.state.mailboxes[key(1)]!.folders['INBOX'] = {target: 'INBOX', sourceUidValidity: '7', done: '1:4', inProgress: true, total: 9, doneCount: 4, skipped: 0, failed: 0, bytesDone: 4, bytesTotal: 9};
    await store.flushNow(key(1));
    assert.equal(readState(store.file).mailboxes[key(1)]!.folders['INBOX']!.inProgress, true);
    const stats = await withStats(async () => {
      store.state.completeRequested = true;
      store.markDirty();
      await store.flushNow();
    });
    assert.deepEqual(stats.map((stat) => stat.files), [1]);
    assert.equal(readState(store.file).completeRequested, true);
    await store.close();
  });

  it('mailboxes added and removed in memory reach the disk with the next flush', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, newBatchState(definition('members'), people(3)), {flushIntervalMs: 60_000});
    store.state.mailboxes['new@example.com'] = newMailboxState({emailAddress: 'New@Example.com', userName: 'new', csvPath: '/srv/more.csv'});
    delete store.state.mailboxes[key(0)];
    await store.flushNow();
    const dir = mailboxDirFor(store.file);
    assert.ok(existsSync(join(dir, mailboxFileName('new@example.com'))));
    assert.ok(!existsSync(join(dir, mailboxFileName(key(0)))), 'the removed mailbox file is gone');
    assert.deepEqual(Object.keys(readState(store.file).mailboxes).sort(), ['new@example.com', key(1), key(2)].sort());
    assert.equal(readState(store.file).mailboxes['new@example.com']!.identity.csvPath, '/srv/more.csv');
    await store.close();
  });

  it('a mailbox file that cannot be written keeps the head from naming it (files first, then the head)', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, newBatchState(definition('order'), people(2)), {flushIntervalMs: 60_000});
    // A directory where the new mailbox's temporary file would go: its write fails (EISDIR).
    await mkdir(join(mailboxDirFor(store.file), `${mailboxFileName('late@example.com')}.tmp-${process.pid}`), {recursive: true});
    store.state.mailboxes['late@example.com'] = newMailboxState({emailAddress: 'late@example.com', userName: 'late'});
    store.state.mailboxes[key(1)]!.status = 'Stopped';
    store.markDirty(key(1));
    await assert.rejects(store.flushNow());
    // As after a crash at that point: the batch opens, without the mailbox whose file is missing.
    const onDisk = await BatchStore.open(stateDir, 'order');
    assert.deepEqual(Object.keys(onDisk.state.mailboxes).sort(), [key(0), key(1)]);
    await onDisk.close();
    rmSync(join(mailboxDirFor(store.file), `${mailboxFileName('late@example.com')}.tmp-${process.pid}`), {recursive: true});
    await store.flushNow(); // the failed write's changes were kept for the next one
    assert.ok(readState(store.file).mailboxes['late@example.com']);
    assert.equal(readState(store.file).mailboxes[key(1)]!.status, 'Stopped');
    await store.close();
  });

  it('reports a damaged or missing mailbox file naming it and its .bak; batch status still reads the head', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, newBatchState(definition('broken'), people(3)));
    await store.close();
    const file = join(mailboxDirFor(store.file), mailboxFileName(key(2)));
    writeFileSync(file, '{"version":2,"mailbox":');
    await assert.rejects(BatchStore.open(stateDir, 'broken'), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.ok(error.message.includes(file), error.message);
      assert.ok(error.hint.includes(`${file}.bak`), error.hint);
      return true;
    });
    unlinkSync(file);
    await assert.rejects(BatchStore.open(stateDir, 'broken'), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /is missing/);
      assert.ok(error.message.includes(file) && error.hint.includes(`${file}.bak`));
      return true;
    });
    const summary = await BatchStore.summary(stateDir, 'broken');
    assert.equal(Object.keys(summary.mailboxes).length, 3, 'status reads no mailbox file of a mailbox at rest');
  });

  it('survives kill -9 during writes: every mailbox is at a state it passed through, and membership matches the files', {timeout: 120_000}, async () => {
    const stateDir = freshStateDir();
    await (await BatchStore.create(stateDir, newBatchState(definition('killed'), people(40)))).close();
    const code = `
      import {BatchStore} from ${JSON.stringify(storeModule)};
      import {newMailboxState} from ${JSON.stringify(fileURLToPath(new URL('../source/store/state-schema.ts', import.meta.url)))};
      const store = await BatchStore.open(${JSON.stringify(stateDir)}, 'killed', {flushIntervalMs: 1, backupIntervalMs: 0});
      await store.acquireRunLock();
      for (let n = 1; ; n++) {
        for (let i = 0; i < 40; i += 1 + (n % 3)) {
          const mailbox = store.state.mailboxes['user' + i + '@example.com'];
          mailbox.stats.appendCount = n;
          mailbox.folders.INBOX = {target: 'INBOX', sourceUidValidity: '7', done: '1:' + n, total: 100000, doneCount: n, skipped: 0, failed: 0, bytesDone: n * 10, bytesTotal: 1000000};
          if (n % 5 === 0) mailbox.status = mailbox.status === 'Syncing' ? 'Synced' : 'Syncing';
          store.markDirty('user' + i + '@example.com');
        }
        store.state.mailboxes['extra' + n + '@example.com'] = newMailboxState({emailAddress: 'extra' + n + '@example.com', userName: 'x'});
        delete store.state.mailboxes['extra' + (n - 2) + '@example.com'];
        if (n % 2 === 0) await store.flushNow();
        else await new Promise((resolve) => setImmediate(resolve));
        if (n === 30) console.log('running');
      }
    `;
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {stdio: ['ignore', 'pipe', 'inherit']});
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('running')) resolve();
        });
        child.on('exit', (exitCode) => reject(new Error(`child exited (${exitCode}) before writing`)));
      });
      // Some more writes after the line, then the kill lands wherever the writer is.
      await new Promise((resolve) => setTimeout(resolve, 50 + round * 40));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
      const store = await BatchStore.open(stateDir, 'killed');
      for (const [mailboxKey, mailbox] of Object.entries(store.state.mailboxes)) {
        const inbox = mailbox.folders['INBOX'];
        if (!inbox) {
          assert.equal(mailbox.stats.appendCount, 0, `${mailboxKey}: counters without a checkpoint`);
          continue;
        }
        // One moment of the mailbox: the counter and the checkpoint were changed together.
        assert.equal(inbox.doneCount, mailbox.stats.appendCount, `${mailboxKey}: a mix of two moments`);
        assert.equal(inbox.done, `1:${inbox.doneCount}`);
        assert.ok(['Queued', 'Syncing', 'Synced'].includes(mailbox.status));
      }
      for (let i = 0; i < 40; i++) assert.ok(store.state.mailboxes[key(i)], `user${i} is still in the batch`);
      await store.close();
    }
  });
});

describe('version 1 single file', () => {
  /** A v1 state file of today's exact shape, with every kind of record. */
  function v1State(): BatchState {
    const state = newBatchState(definition('old'), people(3));
    state.version = 1;
    state.startedAt = '2025-01-02T00:00:00.000Z';
    state.lastSyncedAt = '2025-01-03T00:00:00.000Z';
    state.updatedAt = '2025-01-03T00:00:01.000Z';
    const alice = state.mailboxes[key(0)]!;
    alice.status = 'Synced';
    alice.stats = {startedAt: '2025-01-02T00:00:00.000Z', initialSyncMs: 4200, lastSyncedAt: '2025-01-03T00:00:00.000Z', passes: 2, appendCount: 12, flagUpdates: 3};
    alice.folders = {
      INBOX: {target: 'INBOX', sourceUidValidity: '1700000000', targetUidValidity: '99', done: '1:10,12', highestModseq: '77', uidNext: 13, total: 11, doneCount: 11, skipped: 1, failed: 0, bytesDone: 12345, bytesTotal: 12345, lastPassAt: '2025-01-03T00:00:00.000Z', resized: '12'},
      'Archive/2024': {target: 'Archive.2024', sourceUidValidity: '5', done: '1', total: 2, doneCount: 1, skipped: 0, failed: 1, bytesDone: 10, bytesTotal: 30, inProgress: true},
    };
    alice.skipped = [{folder: 'INBOX', uid: 11, size: 40_000_000, date: '2024-05-01T00:00:00.000Z', subject: 'Big', reason: 'larger than the limit'}];
    alice.failed = [{folder: 'Archive/2024', uid: 2, size: 20, reason: 'target refused it'}];
    alice.changed = [{folder: 'INBOX', uid: 12, size: 100, reason: 'NUL bytes sent as 0x80'}];
    alice.skippedOverflow = 4;
    alice.errors = [{kind: 'connect', message: 'connection reset', hint: 'it is retried', retryable: true, at: '2025-01-02T01:00:00.000Z'}];
    alice.unmigratedFolders = [{source: 'Public', reason: 'shared folder'}];
    alice.renamedFolders = [{source: 'Sent Items', target: 'Sent', reason: 'special use', specialUse: '\\Sent'}];
    alice.droppedKeywords = [{folder: 'INBOX', keywords: ['$weird']}];
    alice.targetRewrites = {internalDate: 'kept', size: 'changed', headersAdded: ['x-spam'], learnedFrom: 'INBOX', learnedAt: '2025-01-02T00:00:00.000Z'};
    alice.reconciled = [{folder: 'INBOX', target: 'INBOX', at: '2025-01-02T00:00:00.000Z', matched: 5, exact: 4, dateRewritten: 1, sizeChanged: 0, alreadyPresent: 5, unmatched: 1, unmatchedListed: [{uid: 9, messageId: '<a@b>', size: 44}]}];
    const bob = state.mailboxes[key(1)]!;
    bob.status = 'Failed';
    bob.error = {kind: 'auth', message: 'login refused', hint: 'check the password', retryable: false, at: '2025-01-02T00:00:00.000Z'};
    bob.errors = [bob.error];
    bob.identity.csvPath = '/srv/migration/added.csv';
    bob.identity.targetUserName = 'bob.target';
    return state;
  }

  async function writeV1(stateDir: string, state: BatchState): Promise<string> {
    await mkdir(join(stateDir, 'batches'), {recursive: true, mode: 0o700});
    const file = BatchStore.fileFor(stateDir, state.batch.name);
    writeFileSync(file, JSON.stringify(state), {mode: 0o600});
    return file;
  }

  it('is converted on open with everything kept exactly, the old file kept as .v1.bak', async () => {
    const stateDir = freshStateDir();
    const original = v1State();
    const file = await writeV1(stateDir, original);
    const text = readFileSync(file, 'utf8');
    // What today's reader makes of the file, for comparison.
    const expected = upgradeState(JSON.parse(text), file);
    const store = await BatchStore.open(stateDir, 'old');
    assert.equal(store.layout, 'sharded');
    assert.equal(store.migratedFrom, `${file}.v1.bak`);
    assert.equal(readFileSync(`${file}.v1.bak`, 'utf8'), text, 'the v1 file is kept as it was');
    assert.deepEqual({...store.state, version: 1}, expected);
    await store.close();
    const head = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.equal(head['version'], 2);
    // Read back from the new files by a new process' worth of reading.
    const reopened = await BatchStore.open(stateDir, 'old');
    assert.equal(reopened.migratedFrom, undefined, 'converted once');
    assert.deepEqual({...reopened.state, version: 1, updatedAt: expected.updatedAt}, expected);
    await reopened.close();
    const list = await BatchStore.list(stateDir);
    assert.deepEqual(list.map((entry) => [entry.name, entry.counts]), [['old', {Synced: 1, Failed: 1, Queued: 1}]]);
    // batch remove takes the new files and the kept v1 file too.
    await BatchStore.remove(stateDir, 'old');
    assert.deepEqual(readdirSync(join(stateDir, 'batches')), []);
  });

  it('MAILFERRY_STATE_LAYOUT=single keeps (and creates) the single v1 file', async () => {
    const stateDir = freshStateDir();
    process.env['MAILFERRY_STATE_LAYOUT'] = 'single';
    try {
      const file = await writeV1(stateDir, v1State());
      const store = await BatchStore.open(stateDir, 'old');
      assert.equal(store.layout, 'single');
      store.state.mailboxes[key(2)]!.status = 'Stopped';
      const stats = await withStats(async () => {
        store.markDirty(key(2));
        await store.flushNow();
      });
      await store.close();
      assert.deepEqual(stats.map((stat) => [stat.files, stat.layout]), [[1, 'single']]);
      const onDisk = JSON.parse(readFileSync(file, 'utf8')) as BatchState;
      assert.equal(onDisk.version, 1);
      assert.equal(onDisk.mailboxes[key(2)]!.status, 'Stopped');
      assert.equal(onDisk.mailboxes[key(0)]!.folders['INBOX']!.done, '1:10,12');
      assert.ok(!existsSync(mailboxDirFor(file)) && !existsSync(`${file}.v1.bak`));

      const created = await BatchStore.create(stateDir, newBatchState(definition('fresh'), people(2)));
      await created.close();
      assert.equal((JSON.parse(readFileSync(created.file, 'utf8')) as BatchState).version, 1);
      assert.ok(!existsSync(mailboxDirFor(created.file)));
    } finally {
      delete process.env['MAILFERRY_STATE_LAYOUT'];
    }
  });

  it('is read as it is, not converted, while another process runs the batch', {timeout: 60_000}, async () => {
    const stateDir = freshStateDir();
    const file = await writeV1(stateDir, v1State());
    writeFileSync(join(stateDir, 'batches', 'old.lock'), JSON.stringify({pid: process.ppid, hostname: (await import('node:os')).hostname(), startedAt: new Date().toISOString()}));
    const store = await BatchStore.open(stateDir, 'old');
    assert.equal(store.layout, 'single');
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as BatchState).version, 1);
    unlinkSync(join(stateDir, 'batches', 'old.lock'));
    await store.close();
  });
});
