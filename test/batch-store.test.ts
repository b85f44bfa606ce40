import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {hostname, tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {BatchStore} from '../source/store/batch-store.js';
import {postCommand} from '../source/store/command-inbox.js';
import {isShardedHead, parseHead, ShardedStateFiles} from '../source/store/sharded-state.js';
import {
  MAX_ERRORS,
  STATE_VERSION,
  assertNoSecrets,
  newBatchState,
  newMailboxState,
  pushBounded,
  pushRing,
  upgradeState,
  type BatchState,
} from '../source/store/state-schema.js';
import {DEFAULT_SETTINGS, type BatchDefinition, type MailboxIdentity} from '../source/engine/batch-model.js';
import {makeEndpoint} from '../source/imap/endpoint.js';
import {MigrationError} from '../source/imap/imap-error.js';
import {registerSecret} from '../source/log/secret-redaction.js';

const storeModule = fileURLToPath(new URL('../source/store/batch-store.ts', import.meta.url));

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'mailferry-store-'));
});
after(() => {
  rmSync(root, {recursive: true, force: true});
});

let dirCounter = 0;
function freshStateDir(): string {
  dirCounter += 1;
  return join(root, `state-${dirCounter}`, 'nested');
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

const people: MailboxIdentity[] = [
  {emailAddress: 'Alice@Example.com', userName: 'alice'},
  {emailAddress: 'bob@example.com', userName: 'bob'},
  {emailAddress: 'carol@example.com', userName: 'carol'},
];

function batchState(name: string): BatchState {
  return newBatchState(definition(name), people.map((identity) => ({...identity})));
}

/** The state on disk, in either layout (a v2 head is read with its mailbox files). */
function readState(file: string): BatchState {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  return isShardedHead(raw) ? ShardedStateFiles.readState(file, parseHead(raw, file)) : (raw as BatchState);
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`gave up waiting for ${what}`);
}

/** Counts the flushes that reach the disk (wraps a private; test-only peek). */
function countWrites(store: BatchStore): {count: number} {
  const counter = {count: 0};
  const inner = store as unknown as {writeNow: () => Promise<void>};
  const original = inner.writeNow.bind(store);
  inner.writeNow = () => {
    counter.count += 1;
    return original();
  };
  return counter;
}

/** A separate node process that opens a batch; `script` runs with `store` in scope. */
function childWithStore(stateDir: string, name: string, script: string): ChildProcess {
  const code = `
    import {BatchStore} from ${JSON.stringify(storeModule)};
    const store = await BatchStore.open(${JSON.stringify(stateDir)}, ${JSON.stringify(name)});
    ${script}
  `;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {stdio: ['ignore', 'pipe', 'inherit']});
}

function untilLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(line)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before printing ${line}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('batch names and paths', () => {
  for (const name of ['a', 'spring-2025', 'Wave_3.final', 'x'.repeat(64)]) {
    it(`accepts ${JSON.stringify(name)}`, () => {
      assert.equal(BatchStore.fileFor('/state', name), `/state/batches/${name}.json`);
    });
  }
  for (const name of ['', 'a/b', '../etc', 'a b', 'émigré', 'x'.repeat(65), 'semi;colon']) {
    it(`rejects ${JSON.stringify(name)}`, () => {
      assert.throws(() => BatchStore.fileFor('/state', name), (error: unknown) => error instanceof MigrationError && /Batch name .* is not valid/.test(error.message));
    });
  }
});

describe('BatchStore create / open / list / remove', () => {
  it('creates the state directory 0700 and the file 0600', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, batchState('wave1'));
    await store.close();
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(stateDir, 'batches')).mode & 0o777, 0o700);
    assert.equal(store.file, join(stateDir, 'batches', 'wave1.json'));
    assert.equal(statSync(store.file).mode & 0o777, 0o600);
    const onDisk = readState(store.file);
    assert.equal(onDisk.version, STATE_VERSION);
    assert.deepEqual(Object.keys(onDisk.mailboxes), ['alice@example.com', 'bob@example.com', 'carol@example.com']);
  });

  it('refuses to create a batch whose name exists', async () => {
    const stateDir = freshStateDir();
    await (await BatchStore.create(stateDir, batchState('wave1'))).close();
    await assert.rejects(BatchStore.create(stateDir, batchState('wave1')), /A batch named "wave1" already exists/);
  });

  it('opens what was created, with every field', async () => {
    const stateDir = freshStateDir();
    const state = batchState('wave1');
    await (await BatchStore.create(stateDir, state)).close();
    const store = await BatchStore.open(stateDir, 'wave1');
    assert.deepEqual(store.state, JSON.parse(JSON.stringify(state)));
    await store.close();
  });

  it('names the existing batches when the one asked for is missing', async () => {
    const stateDir = freshStateDir();
    await assert.rejects(BatchStore.open(stateDir, 'nope'), /No batch named "nope": there are no batches in/);
    await (await BatchStore.create(stateDir, batchState('wave2'))).close();
    await (await BatchStore.create(stateDir, batchState('wave1'))).close();
    await assert.rejects(BatchStore.open(stateDir, 'nope'), /No batch named "nope" in .*; existing batches: wave1, wave2/);
  });

  it('reports a damaged state file with the file name and the .bak hint', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, batchState('wave1'));
    await store.close();
    writeFileSync(store.file, '{"version":1,"batch":');
    await assert.rejects(BatchStore.open(stateDir, 'wave1'), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.ok(error.message.includes(store.file));
      assert.ok(error.hint.includes(`${store.file}.bak`));
      return true;
    });
  });

  it('lists batches with status counts, and damaged ones with their error', async () => {
    const stateDir = freshStateDir();
    assert.deepEqual(await BatchStore.list(stateDir), []);
    const store = await BatchStore.create(stateDir, batchState('wave1'));
    store.state.mailboxes['bob@example.com']!.status = 'Synced';
    store.markDirty('bob@example.com');
    await store.close();
    await (await BatchStore.create(stateDir, batchState('wave2'))).close();
    writeFileSync(BatchStore.fileFor(stateDir, 'wave2'), 'not json');
    const list = await BatchStore.list(stateDir);
    assert.equal(list.length, 2);
    assert.deepEqual({...list[0], updatedAt: undefined}, {name: 'wave1', file: store.file, updatedAt: undefined, mailboxes: 3, counts: {Queued: 2, Synced: 1}});
    assert.equal(typeof list[0]!.updatedAt, 'string');
    assert.equal(list[1]!.name, 'wave2');
    assert.match(list[1]!.error!, /damaged/);
  });

  it('remove deletes the state, its backup, unapplied commands and a stale lock, and nothing else', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, batchState('wave1'), {backupIntervalMs: 0});
    await store.flushNow();
    await store.close();
    await (await BatchStore.create(stateDir, batchState('wave2'))).close();
    assert.ok(existsSync(`${store.file}.bak`));
    await postCommand(store.file, {action: 'stop'});
    writeFileSync(join(stateDir, 'batches', 'wave1.lock'), 'garbage');
    await BatchStore.remove(stateDir, 'wave1');
    assert.deepEqual(readdirSync(join(stateDir, 'batches')), ['wave2.d', 'wave2.json']);
    await assert.rejects(BatchStore.remove(stateDir, 'wave1'), /No batch named "wave1" .*existing batches: wave2/);
  });
});

describe('BatchStore flushing', () => {
  it('coalesces many markDirty calls into one write', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, batchState('wave1'), {flushIntervalMs: 30});
    const writes = countWrites(store);
    for (let i = 1; i <= 100; i++) {
      store.state.mailboxes['bob@example.com']!.stats.appendCount = i;
      store.markDirty('bob@example.com');
    }
    await waitFor(() => readState(store.file).mailboxes['bob@example.com']!.stats.appendCount === 100, 'the flush');
    assert.equal(writes.count, 1);
    await store.close();
    assert.equal(writes.count, 1, 'close() wrote although nothing changed');
  });

  it('never loses the last change, even one made while a write runs', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, batchState('wave1'), {flushIntervalMs: 5});
    const stats = store.state.mailboxes['bob@example.com']!.stats;
    for (let i = 1; i <= 300; i++) {
      stats.appendCount = i;
      store.markDirty('bob@example.com');
      if (i % 50 === 0) {
        const flushing = store.flushNow();
        stats.appendCount = i + 0.5; // changed while the write is on its way
        store.markDirty('bob@example.com');
        await flushing;
      }
      if (i % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    stats.appendCount = 301;
    store.markDirty('bob@example.com');
    await waitFor(() => readState(store.file).mailboxes['bob@example.com']!.stats.appendCount === 301, 'the last change on disk');
    await store.close();
  });

  it('flushNow writes at once and close() writes pending changes', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, batchState('wave1'), {flushIntervalMs: 60_000});
    store.state.mailboxes['alice@example.com']!.status = 'Syncing';
    await store.flushNow('alice@example.com');
    assert.equal(readState(store.file).mailboxes['alice@example.com']!.status, 'Syncing');
    store.state.mailboxes['alice@example.com']!.status = 'Stopped';
    store.markDirty('alice@example.com');
    const listeners = process.listenerCount('exit');
    await store.close();
    assert.equal(readState(store.file).mailboxes['alice@example.com']!.status, 'Stopped');
    assert.equal(process.listenerCount('exit'), listeners - 1, 'close() left its exit handler behind');
  });

  it('flushSync writes synchronously', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, batchState('wave1'));
    store.state.completeRequested = true;
    store.markDirty();
    store.flushSync();
    assert.equal(readState(store.file).completeRequested, true);
    await store.close();
  });

  it('saves pending changes and releases the lock when the process exits without close()', {timeout: 60_000}, async () => {
    const stateDir = freshStateDir();
    await (await BatchStore.create(stateDir, batchState('wave1'))).close();
    const child = childWithStore(stateDir, 'wave1', `
      await store.acquireRunLock();
      store.state.mailboxes['carol@example.com'].status = 'Synced';
      store.markDirty('carol@example.com');
      process.exit(0);
    `);
    assert.equal(await exited(child), 0);
    assert.equal(readState(BatchStore.fileFor(stateDir, 'wave1')).mailboxes['carol@example.com']!.status, 'Synced');
    assert.equal(existsSync(join(stateDir, 'batches', 'wave1.lock')), false);
  });

  it('reload() shows another store\'s writes; the lock holder may not reload', async () => {
    const stateDir = freshStateDir();
    const runner = await BatchStore.create(stateDir, batchState('wave1'));
    const viewer = await BatchStore.open(stateDir, 'wave1');
    await runner.acquireRunLock();
    runner.state.mailboxes['bob@example.com']!.status = 'IncrementalSyncing';
    await runner.flushNow('bob@example.com');
    assert.equal(viewer.state.mailboxes['bob@example.com']!.status, 'Queued');
    await viewer.reload();
    assert.equal(viewer.state.mailboxes['bob@example.com']!.status, 'IncrementalSyncing');
    await assert.rejects(runner.reload(), /would drop unsaved progress/);
    await runner.close();
    await viewer.close();
  });
});

describe('BatchStore run lock', () => {
  it('records pid and host; a second holder in a live process is refused by pid', async () => {
    const stateDir = freshStateDir();
    const first = await BatchStore.create(stateDir, batchState('wave1'));
    await first.acquireRunLock();
    await first.acquireRunLock(); // idempotent for the holder
    const lock = JSON.parse(readFileSync(join(stateDir, 'batches', 'wave1.lock'), 'utf8')) as {pid: number; hostname: string; startedAt: string};
    assert.equal(lock.pid, process.pid);
    assert.equal(lock.hostname, hostname());
    assert.equal(statSync(join(stateDir, 'batches', 'wave1.lock')).mode & 0o777, 0o600);
    assert.equal(await BatchStore.runningPid(stateDir, 'wave1'), process.pid);
    const second = await BatchStore.open(stateDir, 'wave1');
    await assert.rejects(second.acquireRunLock(), new RegExp(`already being run by process ${process.pid}`));
    await first.releaseRunLock();
    assert.equal(await BatchStore.runningPid(stateDir, 'wave1'), undefined);
    await second.acquireRunLock();
    await second.close();
    await first.close();
    assert.equal(existsSync(join(stateDir, 'batches', 'wave1.lock')), false);
  });

  const staleLocks: [string, () => Promise<string>][] = [
    ['a dead pid', async () => {
      const child = spawn(process.execPath, ['-e', '']);
      await exited(child);
      return JSON.stringify({pid: child.pid, hostname: hostname(), startedAt: '2025-01-01T00:00:00Z'});
    }],
    ['a live pid that started later than the holder (pid reused)', async () =>
      JSON.stringify({pid: process.pid, hostname: hostname(), startedAt: '2025-01-01T00:00:00Z', processStart: '1'})],
    ['unparseable content', async () => '{"pid":'],
  ];
  for (const [what, lockText] of staleLocks) {
    it(`takes over a stale lock: ${what}`, async () => {
      const stateDir = freshStateDir();
      const store = await BatchStore.create(stateDir, batchState('wave1'));
      writeFileSync(join(stateDir, 'batches', 'wave1.lock'), await lockText());
      assert.equal(await BatchStore.runningPid(stateDir, 'wave1'), undefined);
      await store.acquireRunLock();
      assert.equal(await BatchStore.runningPid(stateDir, 'wave1'), process.pid);
      await store.close();
    });
  }

  it('treats a lock from another host as held', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, batchState('wave1'));
    writeFileSync(join(stateDir, 'batches', 'wave1.lock'), JSON.stringify({pid: 4242, hostname: 'elsewhere.invalid', startedAt: '2025-01-01T00:00:00Z'}));
    await assert.rejects(store.acquireRunLock(), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /process 4242 on elsewhere\.invalid/);
      assert.match(error.hint, /wave1\.lock/);
      return true;
    });
    assert.equal(await BatchStore.runningPid(stateDir, 'wave1'), 4242);
    await store.close();
  });

  it('a batch run by another live process: lock, save and remove are refused; after a kill the lock is taken over', {timeout: 60_000}, async () => {
    const stateDir = freshStateDir();
    await (await BatchStore.create(stateDir, batchState('wave1'))).close();
    const child = childWithStore(stateDir, 'wave1', `
      await store.acquireRunLock();
      console.log('locked');
      setInterval(() => {}, 1000);
    `);
    try {
      await untilLine(child, 'locked');
      assert.equal(await BatchStore.runningPid(stateDir, 'wave1'), child.pid);
      const store = await BatchStore.open(stateDir, 'wave1');
      await assert.rejects(store.acquireRunLock(), new RegExp(`already being run by process ${child.pid}`));
      store.state.mailboxes['bob@example.com']!.stopRequested = true;
      await assert.rejects(store.flushNow('bob@example.com'), new RegExp(`being run by process ${child.pid}`));
      assert.throws(() => store.flushSync(), new RegExp(`being run by process ${child.pid}`));
      assert.equal(readState(store.file).mailboxes['bob@example.com']!.stopRequested, undefined);
      await assert.rejects(BatchStore.remove(stateDir, 'wave1'), new RegExp(`already being run by process ${child.pid}`));
      assert.ok(existsSync(store.file));
      child.kill('SIGKILL');
      await exited(child);
      assert.equal(await BatchStore.runningPid(stateDir, 'wave1'), undefined);
      await store.acquireRunLock();
      await store.close();
      assert.equal(readState(store.file).mailboxes['bob@example.com']!.stopRequested, true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('state file secrets', () => {
  const password = 'Correct-Horse-Battery-9';
  registerSecret(password);
  registerSecret('20250101');

  it('refuses to save a registered secret anywhere in the state, and writes nothing', async () => {
    const stateDir = freshStateDir();
    const store = await BatchStore.create(stateDir, batchState('wave1'));
    const before = readFileSync(store.file, 'utf8');
    const mailbox = store.state.mailboxes['alice@example.com']!;
    mailbox.error = {kind: 'auth', message: password, hint: 'x', retryable: false, at: '2025-01-01T00:00:00Z'};
    await assert.rejects(store.flushNow('alice@example.com'), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /field mailboxes\.alice@example\.com\.error\.message would contain a password or token/);
      assert.ok(!error.message.includes(password) && !error.hint.includes(password));
      return true;
    });
    assert.throws(() => store.flushSync(), /would contain a password/);
    assert.equal(readFileSync(store.file, 'utf8'), before);
    delete mailbox.error;
    await store.close();
  });

  const refused: [string, (state: BatchState) => void][] = [
    ['a password field', (state) => void ((state.batch as unknown as Record<string, unknown>)['password'] = 'anything')],
    ['an accessToken field deep inside', (state) => void ((state.mailboxes['bob@example.com']!.identity as unknown as Record<string, unknown>)['accessToken'] = 'tok')],
    ['a secret as a folder name', (state) => void (state.mailboxes['bob@example.com']!.renamedFolders.push({source: 'a', target: password, reason: 'r'}))],
    ['a secret as an object key', (state) => void (state.mailboxes['bob@example.com']!.folders[password] = {} as never)],
  ];
  for (const [what, mutate] of refused) {
    it(`refuses ${what}`, () => {
      const state = batchState('wave1');
      mutate(state);
      assert.throws(() => assertNoSecrets(state, '/x.json'), /would contain a password or token/);
    });
  }

  const allowed: [string, (state: BatchState) => void][] = [
    ['a password equal to the user name', (state) => void (state.mailboxes['bob@example.com']!.identity.userName = password)],
    ['a numeric password inside a longer number or text', (state) => {
      state.mailboxes['bob@example.com']!.stats.flagUpdates = 202501019;
      state.mailboxes['bob@example.com']!.skipped.push({folder: 'INBOX', uid: 1, size: 1, subject: 'Invoice 20250101-7', reason: 'too large'});
    }],
    ['a SecretSource naming an environment variable', (state) => void (state.batch.sourceCredentials = {kind: 'authzid', adminUser: 'admin', adminSecret: {from: 'env', name: 'SRC_PASS'}})],
  ];
  for (const [what, mutate] of allowed) {
    it(`allows ${what}`, () => {
      const state = batchState('wave1');
      mutate(state);
      assertNoSecrets(state, '/x.json');
    });
  }
});

describe('state schema', () => {
  it('newMailboxState starts Queued with empty, bounded collections', () => {
    const state = newMailboxState({emailAddress: 'a@b.c', userName: 'a'});
    assert.equal(state.status, 'Queued');
    assert.deepEqual([state.errors, state.skipped, state.failed, state.folders], [[], [], [], {}]);
    assert.equal(state.stats.appendCount, 0);
    assert.equal(state.skippedOverflow + state.failedOverflow, 0);
  });

  it('pushBounded stops at max and says so; pushRing keeps the newest', () => {
    const list: number[] = [];
    const kept = [1, 2, 3, 4].map((n) => pushBounded(list, n, 3));
    assert.deepEqual(kept, [true, true, true, false]);
    assert.deepEqual(list, [1, 2, 3]);
    const ring: number[] = [];
    for (let n = 1; n <= MAX_ERRORS + 5; n++) pushRing(ring, n, MAX_ERRORS);
    assert.equal(ring.length, MAX_ERRORS);
    assert.equal(ring[0], 6);
    assert.equal(ring[MAX_ERRORS - 1], MAX_ERRORS + 5);
  });

  const rejected: [string, unknown, RegExp][] = [
    ['a non-object', [], /not a JSON object/],
    ['no version', {batch: {}}, /missing or invalid "version"/],
    ['a newer version', {version: STATE_VERSION + 1}, /written by a newer mailferry \(state version 3; this mailferry reads up to version 2\)/],
    ['no batch', {version: 1, mailboxes: {}}, /invalid "batch"/],
    ['a mailbox without identity', {...batchState('w'), mailboxes: {x: {status: 'Queued'}}}, /mailbox "x" has no identity/],
    ['an unknown status', {...batchState('w'), mailboxes: {x: {...newMailboxState({emailAddress: 'x', userName: 'x'}), status: 'Bogus'}}}, /unknown status "Bogus"/],
    ['a checkpoint without done set', {...batchState('w'), mailboxes: {x: {...newMailboxState({emailAddress: 'x', userName: 'x'}), folders: {INBOX: {target: 'INBOX'}}}}}, /invalid checkpoint for folder "INBOX"/],
  ];
  for (const [what, raw, message] of rejected) {
    it(`upgradeState rejects ${what}, naming the file`, () => {
      assert.throws(() => upgradeState(JSON.parse(JSON.stringify(raw)), '/states/w.json'), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.match(error.message, message);
        assert.match(error.message, /\/states\/w\.json/);
        return true;
      });
    });
  }

  it('upgradeState fills collections and counters a v1 file lacks', () => {
    const raw = JSON.parse(JSON.stringify(batchState('w'))) as Record<string, unknown>;
    const mailboxes = raw['mailboxes'] as Record<string, Record<string, unknown>>;
    const bob = mailboxes['bob@example.com']!;
    delete bob['droppedKeywords'];
    delete bob['failedOverflow'];
    bob['stats'] = {appendCount: 5};
    bob['folders'] = {INBOX: {target: 'INBOX', sourceUidValidity: '7', done: '1:5'}};
    const state = upgradeState(raw, '/w.json');
    const mailbox = state.mailboxes['bob@example.com']!;
    assert.deepEqual(mailbox.droppedKeywords, []);
    assert.equal(mailbox.failedOverflow, 0);
    assert.equal(mailbox.stats.appendCount, 5);
    assert.equal(mailbox.stats.passes, 0);
    assert.deepEqual(mailbox.folders['INBOX'], {target: 'INBOX', sourceUidValidity: '7', done: '1:5', total: 0, doneCount: 0, skipped: 0, failed: 0, bytesDone: 0, bytesTotal: 0});
  });

  it('upgradeState keeps what reconciling learned and drops a malformed record of it', () => {
    const raw = JSON.parse(JSON.stringify(batchState('w'))) as Record<string, unknown>;
    const mailboxes = raw['mailboxes'] as Record<string, Record<string, unknown>>;
    mailboxes['bob@example.com']!['targetRewrites'] = {size: 'changed', headersAdded: ['x-scanned']};
    mailboxes['bob@example.com']!['reconciled'] = {INBOX: 'not a list'};
    const mailbox = upgradeState(raw, '/w.json').mailboxes['bob@example.com']!;
    assert.deepEqual(mailbox.targetRewrites, {size: 'changed', headersAdded: ['x-scanned']});
    assert.equal(mailbox.reconciled, undefined);
  });
});

describe('state write statistics (MAILFERRY_STATE_STATS)', () => {
  it('appends one JSON line per write with its duration, bytes, files and layout', async () => {
    const stateDir = freshStateDir();
    const statsFile = join(root, `stats-${dirCounter}.jsonl`);
    process.env['MAILFERRY_STATE_STATS'] = statsFile;
    try {
      const store = await BatchStore.create(stateDir, batchState('stats'), {flushIntervalMs: 60_000});
      store.state.mailboxes['bob@example.com']!.status = 'Syncing';
      await store.flushNow();
      store.state.mailboxes['bob@example.com']!.status = 'Synced';
      await store.flushNow();
      await store.close();
      const lines = readFileSync(statsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.ok(lines.length >= 2, `expected a line per write, got ${lines.length}`);
      for (const line of lines) {
        assert.equal(typeof line['at'], 'string');
        assert.ok(typeof line['ms'] === 'number' && line['ms'] >= 0);
        assert.ok(typeof line['bytes'] === 'number' && line['bytes'] > 0);
        assert.ok(typeof line['files'] === 'number' && line['files'] >= 1);
        assert.ok(line['layout'] === 'single' || line['layout'] === 'sharded');
      }
    } finally {
      delete process.env['MAILFERRY_STATE_STATS'];
    }
  });
});
