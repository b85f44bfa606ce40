// One batch's state on disk: <stateDir>/batches/<name>.json (the head) and <name>.d/ (one file
// per mailbox, sharded-state.ts), plus <name>.lock while a process runs the batch. The engine
// mutates `state` in place and calls markDirty(mailboxKey) (markDirty() alone: the batch-level
// fields); one flusher writes the changed files at most about once a second, and at once on
// flushNow() (status changes, exit signals). lowdb rewrites each file whole, which is why the
// state has no per-message arrays. MAILFERRY_STATE_LAYOUT=single keeps the version 1 layout,
// everything in <name>.json rewritten on every flush, for the bench to compare.

import {readFileSync, unlinkSync} from 'node:fs';
import {access, link, mkdir, open, readFile, readdir, rename, rm, unlink} from 'node:fs/promises';
import {hostname} from 'node:os';
import {join} from 'node:path';
import {Low} from 'lowdb';
import type {MailboxStatus} from './batch-records.js';
import {MigrationError, formatError} from '../imap/imap-error.js';
import {AtomicJsonFile, errorCode, isProcessAlive} from './atomic-json-file.js';
import {commandDirFor} from './command-inbox.js';
import {isShardedHead, mailboxDirFor, migrateSingleFile, parseHead, ShardedStateFiles, summaryOf, v1BackupFor, type MailboxSummary, type StateHead} from './sharded-state.js';
import {assertNoSecrets, SINGLE_FILE_VERSION, upgradeState, type BatchState} from './state-schema.js';
import {recordStateWrite, stateLayoutFromEnv, type StateLayout} from './state-write-stats.js';

const BATCH_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const DEFAULT_FLUSH_INTERVAL_MS = 1000;

export interface BatchStoreOptions {
  /** Delay between a markDirty() and the write it causes (default 1000 ms). */
  flushIntervalMs?: number;
  /** Least time between two rotations of the `.bak` copy (default one minute). */
  backupIntervalMs?: number;
  /** A background flush failed (disk full, …); it is retried on the next interval. */
  onFlushError?: (error: unknown) => void;
}

export interface BatchListEntry {
  name: string;
  file: string;
  updatedAt?: string;
  mailboxes: number;
  counts: Partial<Record<MailboxStatus, number>>;
  /** Set when the state file could not be read; the other fields are then empty. */
  error?: string;
}

/** What `batch status` shows, read from the head alone (plus the working mailboxes' own files). */
export interface BatchSummary {
  name: string;
  lastSyncedAt?: string;
  completedAt?: string;
  mailboxes: Record<string, MailboxSummary>;
}

interface OpenedState {
  state: BatchState;
  layout: StateLayout;
  head?: StateHead;
  migratedFrom?: string;
}

interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Kernel start time of the process (Linux), so a recycled pid is not mistaken for the holder. */
  processStart?: string;
}

export class BatchStore {
  readonly file: string;
  private readonly lockFile: string;
  private readonly name: string;
  private readonly stateDir: string;
  readonly layout: StateLayout;
  private readonly adapter: AtomicJsonFile<BatchState>;
  private readonly db: Low<BatchState>;
  private readonly sharded: ShardedStateFiles | undefined;
  /** Mailboxes changed since the last write began, and whether the batch-level fields did. */
  private dirtyKeys = new Set<string>();
  private headDirty = false;
  /** Sharded flushes run one at a time; one waiting flush is joined by later flushNow calls. */
  private flushChain: Promise<void> = Promise.resolve();
  private queuedFlush: Promise<void> | undefined;
  /** Set when open() converted a version 1 file: the kept copy of it (say so in the log). */
  migratedFrom: string | undefined;
  private readonly flushIntervalMs: number;
  private readonly onFlushError: ((error: unknown) => void) | undefined;
  private dirty = false;
  /** The newest write started (by flushNow or the timer), to wait for before the file counts as current. */
  private lastWrite: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lock: LockInfo | undefined;
  private closed = false;
  private readonly onExit = (): void => this.exitHandler();
  private data: BatchState;
  /** Bytes the adapter wrote since the current flush began (MAILFERRY_STATE_STATS). */
  private bytesWritten = 0;

  private constructor(stateDir: string, name: string, state: BatchState, layout: StateLayout, options: BatchStoreOptions) {
    this.name = name;
    this.stateDir = stateDir;
    this.layout = layout;
    this.file = BatchStore.fileFor(stateDir, name);
    this.lockFile = lockFileFor(stateDir, name);
    const file = this.file;
    const onWritten = (bytes: number): void => {
      this.bytesWritten += bytes;
    };
    this.sharded =
      layout === 'sharded'
        ? new ShardedStateFiles(file, {...(options.backupIntervalMs !== undefined ? {backupIntervalMs: options.backupIntervalMs} : {}), onWritten})
        : undefined;
    this.adapter = new AtomicJsonFile<BatchState>(file, {
      parse: (raw) => upgradeState(raw, file),
      check: (data) => assertNoSecrets(data, file),
      ...(options.backupIntervalMs !== undefined ? {backupIntervalMs: options.backupIntervalMs} : {}),
      onWritten,
    });
    this.db = new Low<BatchState>(this.adapter, state);
    this.data = state;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.onFlushError = options.onFlushError;
    // Last-ditch save when the process ends without close(): no promise settles in 'exit'.
    process.on('exit', this.onExit);
  }

  /** <stateDir>/batches/<name>.json; throws on a name outside [A-Za-z0-9._-]{1,64}. */
  static fileFor(stateDir: string, name: string): string {
    checkBatchName(name);
    return join(stateDir, 'batches', `${name}.json`);
  }

  /** Writes a new batch's first state. Refuses when a batch of that name exists. */
  static async create(stateDir: string, state: BatchState, options: BatchStoreOptions = {}): Promise<BatchStore> {
    const name = state.batch.name;
    checkBatchName(name);
    await mkdir(stateDir, {recursive: true, mode: 0o700});
    await mkdir(join(stateDir, 'batches'), {recursive: true, mode: 0o700});
    const layout = stateLayoutFromEnv();
    const store = new BatchStore(stateDir, name, state, layout, options);
    state.updatedAt = new Date().toISOString();
    try {
      if (layout === 'single') {
        await store.adapter.writeNew(singleFileData(state));
      } else {
        if (await fileExists(store.file)) throw Object.assign(new Error('exists'), {code: 'EEXIST'});
        // Under the run lock, so that two creates of one name cannot mix their mailbox files.
        const lock = await acquireLock(store.lockFile, name);
        try {
          if (await fileExists(store.file)) throw Object.assign(new Error('exists'), {code: 'EEXIST'});
          await rm(mailboxDirFor(store.file), {recursive: true, force: true}); // a create killed midway
          await store.sharded!.write(state, new Set(Object.keys(state.mailboxes)), true);
        } finally {
          await releaseLock(store.lockFile, lock);
        }
      }
    } catch (error) {
      store.detach();
      if (errorCode(error) === 'EEXIST') {
        throw new MigrationError({
          kind: 'config',
          message: `A batch named "${name}" already exists (${store.file})`,
          hint: `Choose another name, or remove the old batch first with: mailferry batch remove ${name}`,
          retryable: false,
        });
      }
      throw error;
    }
    return store;
  }

  /**
   * Opens a batch. A version 1 file is converted to the sharded layout (kept as NAME.json.v1.bak;
   * `migratedFrom` says so) unless MAILFERRY_STATE_LAYOUT=single, or another live process runs
   * the batch (then it is read as it is).
   */
  static async open(stateDir: string, name: string, options: BatchStoreOptions = {}): Promise<BatchStore> {
    const opened = await readBatch(stateDir, name, true);
    const store = new BatchStore(stateDir, name, opened.state, opened.layout, options);
    store.sharded?.knowHead(opened.head);
    if (opened.migratedFrom) store.migratedFrom = opened.migratedFrom;
    return store;
  }

  /**
   * The head's summary of every mailbox, for `batch status`: no mailbox file is read except those
   * of working mailboxes (their counts move between head writes). A v1 file is read whole.
   */
  static async summary(stateDir: string, name: string): Promise<BatchSummary> {
    const file = BatchStore.fileFor(stateDir, name);
    const raw = await new AtomicJsonFile<unknown>(file).read();
    if (raw === null) throw await notFound(stateDir, name);
    if (!isShardedHead(raw)) {
      const state = upgradeState(raw, file);
      const mailboxes: Record<string, MailboxSummary> = {};
      for (const [key, mailbox] of Object.entries(state.mailboxes)) mailboxes[key] = summaryOf(mailbox);
      return {name, ...batchTimes(state), mailboxes};
    }
    const head = parseHead(raw, file);
    const working = Object.keys(head.mailboxes).filter((key) => WORKING.has(head.mailboxes[key]!.status));
    if (working.length > 0) {
      // Fresh counts of the few that move; a file that cannot be read leaves the head's figures.
      try {
        const fresh = ShardedStateFiles.readState(file, {...head, mailboxes: Object.fromEntries(working.map((key) => [key, head.mailboxes[key]!]))});
        for (const [key, mailbox] of Object.entries(fresh.mailboxes)) head.mailboxes[key] = summaryOf(mailbox);
      } catch {
        // keep the head's summary
      }
    }
    return {name, ...batchTimes(head), mailboxes: head.mailboxes};
  }

  static async list(stateDir: string): Promise<BatchListEntry[]> {
    const names = await batchNames(stateDir);
    const entries: BatchListEntry[] = [];
    for (const name of names) {
      const file = BatchStore.fileFor(stateDir, name);
      try {
        // The head alone (a v1 file is read whole): listing never opens a mailbox file.
        const raw = await new AtomicJsonFile<unknown>(file).read();
        if (raw === null) continue; // removed meanwhile
        const state = isShardedHead(raw) ? parseHead(raw, file) : upgradeState(raw, file);
        const counts: Partial<Record<MailboxStatus, number>> = {};
        const mailboxes: {status: MailboxStatus}[] = Object.values(state.mailboxes);
        for (const mailbox of mailboxes) counts[mailbox.status] = (counts[mailbox.status] ?? 0) + 1;
        entries.push({name, file, updatedAt: state.updatedAt, mailboxes: mailboxes.length, counts});
      } catch (error) {
        entries.push({name, file, mailboxes: 0, counts: {}, error: error instanceof MigrationError ? formatError(error) : String(error)});
      }
    }
    return entries;
  }

  /** Deletes a batch's state (never any mail). Refuses while a live process runs the batch. */
  static async remove(stateDir: string, name: string): Promise<void> {
    const file = BatchStore.fileFor(stateDir, name);
    const lockFile = lockFileFor(stateDir, name);
    const names = await batchNames(stateDir);
    if (!names.includes(name)) throw await notFound(stateDir, name);
    // Hold the run lock while deleting, so that a start racing with the removal fails cleanly.
    const lock = await acquireLock(lockFile, name);
    try {
      for (const path of [file, `${file}.bak`, v1BackupFor(file)]) await unlink(path).catch(ignoreMissing);
      new AtomicJsonFile(file).removeStaleTempFiles();
      await rm(mailboxDirFor(file), {recursive: true, force: true});
      // Commands nobody applied must not reach a later batch of the same name.
      await rm(commandDirFor(file), {recursive: true, force: true});
      // The last verifications (verification-file.ts) belong to this batch too.
      await rm(`${file.slice(0, -'.json'.length)}.verify`, {recursive: true, force: true});
    } finally {
      await releaseLock(lockFile, lock);
    }
  }

  /** Pid of a live process running the batch (a lock from another host counts as live). */
  static async runningPid(stateDir: string, name: string): Promise<number | undefined> {
    const holder = await readLock(lockFileFor(stateDir, name));
    return holder && isLockLive(holder) ? holder.pid : undefined;
  }

  /** The batch state; mutate it in place, then markDirty() or flushNow(). */
  get state(): BatchState {
    return this.data;
  }

  /**
   * The mailbox `mailboxKey` changed (any of its fields); without a key, the batch-level fields
   * did. Mailboxes added or removed need no call of their own: every write compares the membership.
   */
  markDirty(mailboxKey?: string): void {
    if (mailboxKey === undefined) this.headDirty = true;
    else this.dirtyKeys.add(mailboxKey);
    this.dirty = true;
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushNow().catch((error: unknown) => {
        this.markDirty(); // keep the change; try again next interval
        this.onFlushError?.(error);
      });
    }, this.flushIntervalMs);
    // The timer alone must not keep a finished process alive; the 'exit' handler saves the rest.
    this.timer.unref();
  }

  /**
   * Writes now what changed (see markDirty); resolves once it is on disk. Changes made while the
   * write runs are picked up by the next flush.
   * With a key, the mailbox `mailboxKey` is written (as markDirty(mailboxKey) then flushNow()).
   * Without one and with nothing marked, the head is written, as the single file was.
   */
  async flushNow(mailboxKey?: string): Promise<void> {
    if (mailboxKey !== undefined) this.dirtyKeys.add(mailboxKey);
    else if (this.dirtyKeys.size === 0) this.headDirty = true;
    this.clearTimer();
    if (!this.sharded) {
      this.dirty = false;
      const write = this.writeNow();
      this.lastWrite = write;
      return write;
    }
    // One sharded write at a time, each planned when it starts (so it holds every change made
    // before it): a flushNow that finds one waiting joins it.
    if (this.queuedFlush) return this.queuedFlush;
    const write = this.flushChain.then(() => {
      this.queuedFlush = undefined;
      return this.writeNow();
    });
    this.queuedFlush = write;
    this.flushChain = write.catch(() => undefined);
    this.lastWrite = write;
    return write;
  }

  /**
   * Writes now if anything changed since the last write began; either way, returns once the
   * writes already started are on disk. For points that must leave the file current (start,
   * stop, close) without paying for a write (two fsyncs) when there is nothing new.
   */
  async flushIfDirty(): Promise<void> {
    await this.lastWrite?.catch(() => undefined);
    if (this.dirty) await this.flushNow();
  }

  private async writeNow(): Promise<void> {
    const keys = this.dirtyKeys;
    const headDirty = this.headDirty;
    this.dirtyKeys = new Set();
    this.headDirty = false;
    this.dirty = false;
    try {
      if (!this.lock) await this.assertNoOtherRunner();
      const startedAt = performance.now();
      this.state.updatedAt = new Date().toISOString();
      this.bytesWritten = 0;
      if (this.sharded) {
        const {files} = await this.sharded.write(this.state, keys, headDirty);
        if (files > 0) recordStateWrite(startedAt, this.bytesWritten, files, 'sharded');
      } else {
        this.db.data = singleFileData(this.data);
        await this.db.write();
        recordStateWrite(startedAt, this.bytesWritten, 1, 'single');
      }
    } catch (error) {
      this.keepDirty(keys, headDirty);
      throw error;
    }
  }

  /** A failed write's changes are written by the next one. */
  private keepDirty(keys: ReadonlySet<string>, headDirty: boolean): void {
    for (const key of keys) this.dirtyKeys.add(key);
    if (headDirty) this.headDirty = true;
    this.dirty = true;
  }

  /** Synchronous save for a process 'exit' handler; not for use while the event loop runs. */
  flushSync(): void {
    this.clearTimer();
    const keys = this.dirtyKeys;
    const headDirty = this.headDirty;
    this.dirtyKeys = new Set();
    this.headDirty = false;
    this.dirty = false;
    try {
      if (!this.lock) {
        const holder = readLockSync(this.lockFile);
        if (holder && isLockLive(holder)) throw this.runningElsewhere(holder);
      }
      const startedAt = performance.now();
      this.state.updatedAt = new Date().toISOString();
      this.bytesWritten = 0;
      if (this.sharded) {
        const {files} = this.sharded.writeSync(this.state, keys, headDirty);
        if (files > 0) recordStateWrite(startedAt, this.bytesWritten, files, 'sharded');
      } else {
        this.adapter.writeSync(singleFileData(this.data));
        recordStateWrite(startedAt, this.bytesWritten, 1, 'single');
      }
    } catch (error) {
      this.keepDirty(keys, headDirty);
      throw error;
    }
  }

  /**
   * Takes the per-batch run lock (pid + hostname + start time, created atomically). A lock whose
   * process is gone is stale and taken over. Throws naming the pid when a live process runs the batch.
   */
  async acquireRunLock(): Promise<void> {
    if (this.lock) return;
    this.lock = await acquireLock(this.lockFile, this.name);
    this.adapter.removeStaleTempFiles();
    this.sharded?.removeStaleTempFiles();
  }

  async releaseRunLock(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    if (lock) await releaseLock(this.lockFile, lock);
  }

  /** Final flush (when anything changed), stop the timer, release the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    try {
      // Also waits for a write still running: the lock must outlive it.
      await this.flushIfDirty();
    } finally {
      await this.releaseRunLock();
      this.detach();
    }
  }

  /** Re-reads the file (for a process that is not running the batch and wants fresh status). */
  async reload(): Promise<void> {
    if (this.lock) {
      throw new MigrationError({
        kind: 'internal',
        message: `Batch "${this.name}": reload() in the process running the batch would drop unsaved progress`,
        hint: 'This is a bug in mailferry; please report it',
        retryable: false,
      });
    }
    let opened: OpenedState;
    try {
      opened = await readBatch(this.stateDir, this.name, false);
    } catch (error) {
      if (!(await fileExists(this.file))) {
        throw new MigrationError({
          kind: 'config',
          message: `Batch "${this.name}" no longer exists (${this.file} was removed)`,
          hint: 'It was probably removed by another mailferry command',
          retryable: false,
        });
      }
      throw error;
    }
    this.data = opened.state;
    this.db.data = opened.state;
    this.sharded?.knowHead(opened.head);
    this.dirtyKeys.clear();
    this.headDirty = false;
    this.dirty = false;
  }

  private async assertNoOtherRunner(): Promise<void> {
    const holder = await readLock(this.lockFile);
    if (holder && isLockLive(holder)) throw this.runningElsewhere(holder);
  }

  private runningElsewhere(holder: LockInfo): MigrationError {
    return new MigrationError({
      kind: 'config',
      message: `Not saving batch "${this.name}": it is being run by process ${holder.pid} on ${holder.hostname}, which would overwrite the change`,
      hint: `Send the command to that process, or stop it first (mailferry batch stop ${this.name})`,
      retryable: false,
    });
  }

  private exitHandler(): void {
    try {
      if (this.dirty) this.flushSync();
    } catch {
      // Nothing can be reported from an exit handler; the previous state file is intact.
    }
    if (this.lock) {
      const holder = readLockSync(this.lockFile);
      if (holder && sameLock(holder, this.lock)) {
        try {
          unlinkSync(this.lockFile);
        } catch {
          // a stale lock is taken over by the next run anyway
        }
      }
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private detach(): void {
    this.closed = true;
    this.clearTimer();
    process.removeListener('exit', this.onExit);
  }
}

/** Statuses whose counts move between head writes: `batch status` reads their own files. */
const WORKING: ReadonlySet<MailboxStatus> = new Set(['Starting', 'Syncing', 'IncrementalSyncing', 'Stopping', 'Completing']);

/** The single file carries version 1 whatever the state says in memory. */
function singleFileData(state: BatchState): BatchState {
  return state.version === SINGLE_FILE_VERSION ? state : {...state, version: SINGLE_FILE_VERSION};
}

function batchTimes(state: {lastSyncedAt?: string; completedAt?: string}): {lastSyncedAt?: string; completedAt?: string} {
  return {...(state.lastSyncedAt ? {lastSyncedAt: state.lastSyncedAt} : {}), ...(state.completedAt ? {completedAt: state.completedAt} : {})};
}

/** Reads either layout; converts a v1 file when `migrate` and the layout is sharded and nobody else runs the batch. */
async function readBatch(stateDir: string, name: string, migrate: boolean): Promise<OpenedState> {
  const file = BatchStore.fileFor(stateDir, name);
  const raw = await new AtomicJsonFile<unknown>(file).read();
  if (raw === null) throw await notFound(stateDir, name);
  if (isShardedHead(raw)) {
    const head = parseHead(raw, file);
    return {state: ShardedStateFiles.readState(file, head), layout: 'sharded', head};
  }
  const state = upgradeState(raw, file);
  if (!migrate || stateLayoutFromEnv() === 'single') return {state, layout: 'single'};
  let lock: LockInfo;
  try {
    lock = await acquireLock(lockFileFor(stateDir, name), name);
  } catch {
    return {state, layout: 'single'}; // run by another process: it owns the file; read it as it is
  }
  try {
    // Read again under the lock: a runner that just let go wrote its last progress first.
    const fresh = await new AtomicJsonFile<unknown>(file).read();
    if (fresh === null) throw await notFound(stateDir, name);
    if (isShardedHead(fresh)) {
      const head = parseHead(fresh, file);
      return {state: ShardedStateFiles.readState(file, head), layout: 'sharded', head};
    }
    const current = upgradeState(fresh, file);
    current.version = SINGLE_FILE_VERSION + 1;
    const files = new ShardedStateFiles(file);
    const backup = await migrateSingleFile(file, current, files);
    const head = parseHead(JSON.parse(await readFile(file, 'utf8')), file);
    return {state: current, layout: 'sharded', head, migratedFrom: backup};
  } finally {
    await releaseLock(lockFileFor(stateDir, name), lock);
  }
}

function checkBatchName(name: string): void {
  if (!BATCH_NAME.test(name)) {
    throw new MigrationError({
      kind: 'config',
      message: `Batch name ${JSON.stringify(name)} is not valid`,
      hint: 'Use 1 to 64 letters, digits, dots, dashes or underscores',
      retryable: false,
    });
  }
}

function lockFileFor(stateDir: string, name: string): string {
  checkBatchName(name);
  return join(stateDir, 'batches', `${name}.lock`);
}

async function batchNames(stateDir: string): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(join(stateDir, 'batches'));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  return files
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .filter((name) => BATCH_NAME.test(name))
    .sort();
}

async function notFound(stateDir: string, name: string): Promise<MigrationError> {
  const names = await batchNames(stateDir);
  return new MigrationError({
    kind: 'config',
    message:
      names.length === 0
        ? `No batch named "${name}": there are no batches in ${stateDir}`
        : `No batch named "${name}" in ${stateDir}; existing batches: ${names.join(', ')}`,
    hint: 'Check the name, or the state directory (MAILFERRY_STATE_DIR or the --state-dir option)',
    retryable: false,
  });
}

// --- the run lock -------------------------------------------------------------------------------

async function acquireLock(lockFile: string, name: string): Promise<LockInfo> {
  const mine: LockInfo = {pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString()};
  const start = processStartTime(process.pid);
  if (start !== undefined) mine.processStart = start;
  const text = JSON.stringify(mine);
  // Written to a private file first and published with link(), which fails if a lock exists:
  // nobody ever sees a half-written lock.
  const temp = `${lockFile}.tmp-${process.pid}`;
  await mkdir(join(lockFile, '..'), {recursive: true, mode: 0o700});
  for (let attempt = 0; attempt < 5; attempt++) {
    await writeSmallFile(temp, text);
    try {
      await link(temp, lockFile);
      return mine;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    } finally {
      await unlink(temp).catch(ignoreMissing);
    }
    const holderText = await readFile(lockFile, 'utf8').catch(() => undefined);
    if (holderText === undefined) continue; // released meanwhile: try again
    const holder = parseLock(holderText);
    if (holder && isLockLive(holder)) {
      throw new MigrationError({
        kind: 'config',
        message: `Batch "${name}" is already being run by process ${holder.pid} on ${holder.hostname} (since ${holder.startedAt})`,
        hint:
          holder.hostname === hostname()
            ? `Stop that process first (mailferry batch stop ${name}), or work with it instead of starting another`
            : `Stop it on ${holder.hostname}; if that host no longer runs it, delete ${lockFile}`,
        retryable: false,
      });
    }
    // Stale: move it aside and check that what moved is the lock judged stale, not one another
    // process took over in between (then put that one back).
    const aside = `${lockFile}.stale-${process.pid}`;
    try {
      await rename(lockFile, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      throw error;
    }
    const movedText = await readFile(aside, 'utf8').catch(() => undefined);
    if (movedText !== holderText) await link(aside, lockFile).catch(() => undefined);
    await unlink(aside).catch(ignoreMissing);
  }
  throw new MigrationError({
    kind: 'config',
    message: `Could not take the run lock of batch "${name}" (${lockFile}): other processes keep changing it`,
    hint: 'Check that only one mailferry runs this batch, then try again',
    retryable: true,
  });
}

async function releaseLock(lockFile: string, lock: LockInfo): Promise<void> {
  const holder = await readLock(lockFile);
  // Only our own lock: after a long pause another process may have judged ours stale and taken over.
  if (holder && sameLock(holder, lock)) await unlink(lockFile).catch(ignoreMissing);
}

async function readLock(lockFile: string): Promise<LockInfo | undefined> {
  const text = await readFile(lockFile, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseLock(text);
}

function readLockSync(lockFile: string): LockInfo | undefined {
  try {
    return parseLock(readFileSync(lockFile, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A lock file that does not parse was not written by mailferry (which publishes whole files): stale. */
function parseLock(text: string): LockInfo | undefined {
  try {
    const raw = JSON.parse(text) as Partial<LockInfo>;
    if (typeof raw.pid !== 'number' || typeof raw.hostname !== 'string' || typeof raw.startedAt !== 'string') return undefined;
    return raw as LockInfo;
  } catch {
    return undefined;
  }
}

function isLockLive(holder: LockInfo): boolean {
  // Another host's process cannot be probed: assume it is alive rather than risk two runners.
  if (holder.hostname !== hostname()) return true;
  if (!isProcessAlive(holder.pid)) return false;
  if (holder.processStart !== undefined) {
    const start = processStartTime(holder.pid);
    if (start !== undefined && start !== holder.processStart) return false; // pid recycled
  }
  return true;
}

function sameLock(a: LockInfo, b: LockInfo): boolean {
  return a.pid === b.pid && a.hostname === b.hostname && a.startedAt === b.startedAt;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * No fsync: link() publishes the whole file or nothing, and a lock that a power cut left empty
 * does not parse, which makes it stale (parseLock), the right verdict after a reboot.
 */
async function writeSmallFile(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
  } finally {
    await handle.close();
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}
