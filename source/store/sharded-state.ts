// The batch state on disk, version 2: a write costs what changed, not the batch's size.
//
//   batches/NAME.json              the head: batch definition, batch-level fields (small).
//   batches/NAME.d/_summary-NN.json  the summaries: per mailbox its status, counts, last error,
//                                  in a few shards by hash of the key (about 250 mailboxes
//                                  each); together the list of the batch's mailboxes. `batch
//                                  list` and `batch status` read the head and these.
//   batches/NAME.d/KEY.json        one file per mailbox: its whole MailboxState (checkpoints,
//                                  items, errors, reconcile records). The truth about the mailbox.
//
// Every file is written whole and atomically by AtomicJsonFile (temp + fsync + rename, .bak).
// A flush writes the mailbox files marked dirty, then the summary shards in which membership or
// a mailbox's status/error changed (progress counts alone do not rewrite a summary: they reach
// it with its next write, and `batch status` reads the working mailboxes' own files for fresh
// counts), then the head if a batch-level field changed.
//
// Crash consistency (kill -9 at any moment leaves each file old or new, never half-written):
// - Order: mailbox files first, then the summaries, then the head, then the deletion of removed
//   mailboxes' files. So a summary never names a mailbox whose file is not on disk.
// - A mailbox file newer than its summary (killed between the two): the mailbox's own state is
//   read from its file, so nothing of it is lost; the summary of it is just older (the runner
//   rewrites it at its first status change). A mailbox added in that flush has a file no summary
//   names: it is ignored, as if the add had not happened — its flushNow never resolved, so nobody
//   was told it had.
// - A summary newer than a mailbox file cannot happen for membership (order above); it is one
//   moment of memory like the files, and only for display: the file wins on open.
// - A head older than the mailbox files: the batch-level fields (startedAt, completeRequested,
//   completedAt, lastSyncedAt) are those of the previous write; each is set again by the engine
//   from the mailboxes' statuses or by the command that set it (which had not been told it was
//   saved). A head newer than the files cannot happen (written last).
// - Each mailbox file is one mailbox's state at one moment: the engine's checkpoint ordering
//   (inProgress written before the first APPEND, `done` after the APPEND) is per mailbox, and a
//   flushNow resolves only once every dirty mailbox file and the head are on disk, so every
//   guarantee the single file gave holds per mailbox. Mailboxes never depend on each other's
//   files; batch-level fields (completeRequested, completedAt) depend only on statuses, which
//   are re-derived from the mailbox files on open.

import {createHash} from 'node:crypto';
import {mkdirSync, readdirSync} from 'node:fs';
import {link, mkdir, rename, rm, unlink} from 'node:fs/promises';
import {join} from 'node:path';
import {Low} from 'lowdb';
import {MigrationError} from '../imap/imap-error.js';
import {AtomicJsonFile, errorCode, fsyncDirectory} from './atomic-json-file.js';
import {mailboxTotals, type MailboxTotals} from './mailbox-totals.js';
import type {BatchDefinition, MailboxStatus} from './batch-records.js';
import {assertNoSecretsIn, STATE_VERSION, upgradeMailbox, upgradeState, type BatchState, type MailboxState, type MailboxStats} from './state-schema.js';

/** A mailbox's item and byte counts as its summary keeps them (mailbox-totals.ts). */
export type MailboxTotalsSummary = MailboxTotals;

/** What the head keeps of each mailbox: enough for `batch list` and `batch status`. */
export interface MailboxSummary {
  emailAddress: string;
  userName: string;
  status: MailboxStatus;
  error?: {message: string; hint?: string};
  stats: Pick<MailboxStats, 'startedAt' | 'initialSyncMs' | 'lastSyncedAt' | 'passes'>;
  totals: MailboxTotalsSummary;
}

/** The head as read: its `mailboxes` come from the summary shards (not written in the head). */
export interface StateHead {
  version: number;
  layout: 'sharded';
  batch: BatchDefinition;
  startedAt?: string;
  completeRequested?: boolean;
  completedAt?: string;
  lastSyncedAt?: string;
  updatedAt: string;
  /** How many summary shards (fixed when the batch is created or converted). */
  summaryShards: number;
  mailboxes: Record<string, MailboxSummary>;
}

type HeadFileData = Omit<StateHead, 'mailboxes'>;

interface SummaryFileData {
  version: number;
  shard: number;
  updatedAt?: string;
  mailboxes: Record<string, MailboxSummary>;
}

interface MailboxFileData {
  version: number;
  mailbox: MailboxState;
}

export function isShardedHead(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>)['layout'] === 'sharded';
}

/** NAME.d next to NAME.json. */
export function mailboxDirFor(headFile: string): string {
  return `${headFile.slice(0, -'.json'.length)}.d`;
}

/**
 * A mailbox's file name: the key with anything but [a-z0-9._@+-] escaped as %XX (so distinct keys
 * get distinct names), shortened with a hash when too long for a file name.
 */
export function mailboxFileName(key: string): string {
  let name = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const char = String.fromCharCode(byte);
    name += /[a-z0-9._@+-]/.test(char) ? char : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  if (name.length > 160) name = `${name.slice(0, 100)}~${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
  return `${name}.json`;
}

export function summaryOf(mailbox: MailboxState): MailboxSummary {
  const totals: MailboxTotalsSummary = mailboxTotals(mailbox);
  const {startedAt, initialSyncMs, lastSyncedAt, passes} = mailbox.stats;
  const stats: MailboxSummary['stats'] = {passes};
  if (startedAt !== undefined) stats.startedAt = startedAt;
  if (initialSyncMs !== undefined) stats.initialSyncMs = initialSyncMs;
  if (lastSyncedAt !== undefined) stats.lastSyncedAt = lastSyncedAt;
  const summary: MailboxSummary = {emailAddress: mailbox.identity.emailAddress, userName: mailbox.identity.userName, status: mailbox.status, stats, totals};
  if (mailbox.error) summary.error = {message: mailbox.error.message, ...(mailbox.error.hint ? {hint: mailbox.error.hint} : {})};
  return summary;
}

/** A change here rewrites the head (a status, an error); progress counts alone do not. */
function headWorthy(a: MailboxSummary | undefined, b: MailboxSummary): boolean {
  return (
    !a ||
    a.status !== b.status ||
    a.emailAddress !== b.emailAddress ||
    a.userName !== b.userName ||
    a.error?.message !== b.error?.message ||
    a.error?.hint !== b.error?.hint ||
    a.stats.lastSyncedAt !== b.stats.lastSyncedAt
  );
}

function notAState(file: string, what: string): MigrationError {
  return new MigrationError({
    kind: 'config',
    message: `State file ${file} is not a mailferry batch state (${what})`,
    hint: `Check that the file belongs to mailferry; the last good state may be in ${file}.bak`,
    retryable: false,
  });
}

function checkVersion(raw: Record<string, unknown>, file: string): void {
  const version = raw['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 2) throw notAState(file, 'missing or invalid "version"');
  if (version > STATE_VERSION) {
    throw new MigrationError({
      kind: 'config',
      message: `State file ${file} was written by a newer mailferry (state version ${version}; this mailferry reads up to version ${STATE_VERSION})`,
      hint: 'Upgrade mailferry to manage this batch',
      retryable: false,
    });
  }
}

/** The summary shard of a mailbox key (FNV-1a of the key). */
export function summaryShardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return hash % shards;
}

/** About 250 mailboxes per summary shard, at most 64 shards. */
export function summaryShardsFor(mailboxes: number): number {
  return Math.min(64, Math.max(1, Math.ceil(mailboxes / 250)));
}

export function summaryFileFor(headFile: string, shard: number): string {
  return join(mailboxDirFor(headFile), `_summary-${String(shard).padStart(2, '0')}.json`);
}

/** Validates a v2 head (parsed JSON) and reads its summary shards into `mailboxes`. */
export function parseHead(raw: unknown, file: string): StateHead {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw notAState(file, 'not a JSON object');
  const head = raw as Record<string, unknown>;
  checkVersion(head, file);
  // The batch definition and batch-level fields are validated (and defaults filled) as in v1.
  upgradeState({...head, version: 1, mailboxes: {}}, file);
  const shards = head['summaryShards'];
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1) throw notAState(file, 'missing or invalid "summaryShards"');
  const mailboxes: Record<string, MailboxSummary> = {};
  for (let shard = 0; shard < shards; shard++) {
    const summaryFile = summaryFileFor(file, shard);
    const data = new AtomicJsonFile<SummaryFileData>(summaryFile, {parse: (value) => parseSummaryFile(value, summaryFile)}).readSync();
    if (!data) throw missingFile(summaryFile, `the mailbox summaries of ${file}`);
    Object.assign(mailboxes, data.mailboxes);
    if (typeof data.updatedAt === 'string' && (typeof head['updatedAt'] !== 'string' || data.updatedAt > head['updatedAt'])) head['updatedAt'] = data.updatedAt;
  }
  head['mailboxes'] = mailboxes;
  if (typeof head['updatedAt'] !== 'string') head['updatedAt'] = new Date(0).toISOString();
  return head as unknown as StateHead;
}

function parseSummaryFile(raw: unknown, file: string): SummaryFileData {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw notAState(file, 'not a JSON object');
  const data = raw as Record<string, unknown>;
  checkVersion(data, file);
  const mailboxes = data['mailboxes'];
  if (typeof mailboxes !== 'object' || mailboxes === null) throw notAState(file, 'missing "mailboxes"');
  for (const [key, summary] of Object.entries(mailboxes as Record<string, unknown>)) {
    if (typeof summary !== 'object' || summary === null || typeof (summary as MailboxSummary).status !== 'string') throw notAState(file, `mailbox ${JSON.stringify(key)} has no summary`);
  }
  return data as unknown as SummaryFileData;
}

function missingFile(file: string, what: string): MigrationError {
  return new MigrationError({
    kind: 'config',
    message: `State file ${file} (${what}) is missing`,
    hint: `The last good state may be in ${file}.bak: check it and copy it over ${file}, or remove the batch and create it again`,
    retryable: false,
  });
}

function parseMailboxFile(raw: unknown, key: string, file: string): MailboxFileData {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw notAState(file, 'not a JSON object');
  const data = raw as Record<string, unknown>;
  checkVersion(data, file);
  return {version: data['version'] as number, mailbox: upgradeMailbox(key, data['mailbox'], file)};
}

export interface ShardedFilesOptions {
  backupIntervalMs?: number;
  onWritten?: (bytes: number) => void;
}

export interface WriteResult {
  files: number;
}

/** Writes (and reads) one batch's v2 files; BatchStore decides when and what is dirty. */
export class ShardedStateFiles {
  readonly headFile: string;
  readonly dir: string;
  private readonly options: ShardedFilesOptions;
  private readonly headAdapter: AtomicJsonFile<HeadFileData>;
  /** Adapters, kept for their backup clock; a lowdb is made per write, so no copy of a mailbox stays behind. */
  private readonly mailboxFiles = new Map<string, AtomicJsonFile<MailboxFileData>>();
  private readonly summaryFiles = new Map<number, AtomicJsonFile<SummaryFileData>>();
  private shards = 1;
  /** The summaries as on disk: the membership, and what headWorthy compares with. */
  private written = new Map<string, MailboxSummary>();
  /** Summaries computed since their shard was last written (of mailbox files written meanwhile). */
  private readonly fresh = new Map<string, MailboxSummary>();
  /** The keys of each summary shard, in memory (kept with the membership). */
  private members: Set<string>[] = [new Set()];
  private dirMade = false;

  constructor(headFile: string, options: ShardedFilesOptions = {}) {
    this.headFile = headFile;
    this.dir = mailboxDirFor(headFile);
    this.options = options;
    this.headAdapter = new AtomicJsonFile<HeadFileData>(headFile, {
      check: (data) => assertNoSecretsIn(data, headFile),
      ...this.adapterOptions(),
      syncDirectory: true,
    });
  }

  /** Reads the head's mailboxes' files (synchronously: thousands of small reads, no event-loop turns). */
  static readState(headFile: string, head: StateHead): BatchState {
    const dir = mailboxDirFor(headFile);
    const mailboxes: Record<string, MailboxState> = {};
    for (const key of Object.keys(head.mailboxes)) {
      const file = join(dir, mailboxFileName(key));
      const data = new AtomicJsonFile<MailboxFileData>(file, {parse: (raw) => parseMailboxFile(raw, key, file)}).readSync();
      if (!data) throw missingFile(file, `mailbox ${head.mailboxes[key]!.emailAddress} of ${headFile}`);
      mailboxes[key] = data.mailbox;
    }
    const state: BatchState = {version: STATE_VERSION, batch: head.batch, mailboxes, updatedAt: head.updatedAt};
    for (const field of ['startedAt', 'completeRequested', 'completedAt', 'lastSyncedAt'] as const) {
      if (head[field] !== undefined) (state as unknown as Record<string, unknown>)[field] = head[field];
    }
    return state;
  }

  /** The files as they are on disk (after a read); undefined: none yet, with `shards` summary shards to make. */
  knowHead(head: StateHead | undefined, shards = 1): void {
    this.shards = head?.summaryShards ?? shards;
    this.written = new Map(Object.entries(head?.mailboxes ?? {}));
    this.fresh.clear();
    this.members = Array.from({length: this.shards}, () => new Set<string>());
    for (const key of this.written.keys()) this.members[summaryShardOf(key, this.shards)]!.add(key);
  }

  /**
   * Writes the dirty mailboxes' files, then the summary shards that changed, then the head when
   * asked. The data is copied synchronously first, so what is written is one moment of the state
   * even if it changes while the writes run.
   */
  async write(state: BatchState, dirtyKeys: ReadonlySet<string>, headDirty: boolean, everything = false): Promise<WriteResult> {
    const plan = this.plan(state, dirtyKeys, headDirty, everything);
    if (!this.dirMade) {
      await mkdir(this.dir, {recursive: true, mode: 0o700});
      this.dirMade = true;
    }
    // One directory fsync per group instead of one per file; each group is durable before the next.
    await inParallel(plan.mailboxes, ([key, data]) => new Low(this.mailboxAdapter(key), data).write());
    if (plan.mailboxes.length > 0) await fsyncDirectory(this.dir);
    await inParallel(plan.summaries, (data) => new Low(this.summaryAdapter(data.shard), data).write());
    if (plan.summaries.length > 0) await fsyncDirectory(this.dir);
    if (plan.head) await new Low(this.headAdapter, plan.head).write();
    this.settle(plan);
    await Promise.all(plan.removed.map((key) => this.removeFiles(key)));
    return {files: plan.mailboxes.length + plan.summaries.length + (plan.head ? 1 : 0)};
  }

  /** write() for a process 'exit' handler. */
  writeSync(state: BatchState, dirtyKeys: ReadonlySet<string>, headDirty: boolean): WriteResult {
    const plan = this.plan(state, dirtyKeys, headDirty, false);
    mkdirSync(this.dir, {recursive: true, mode: 0o700});
    for (const [key, data] of plan.mailboxes) this.mailboxAdapter(key).writeSync(data);
    for (const data of plan.summaries) this.summaryAdapter(data.shard).writeSync(data);
    if (plan.head) this.headAdapter.writeSync(plan.head);
    this.settle(plan);
    return {files: plan.mailboxes.length + plan.summaries.length + (plan.head ? 1 : 0)};
  }

  /** Deletes temporary files of processes that died mid-write, in the head's directory and NAME.d. */
  removeStaleTempFiles(): void {
    this.headAdapter.removeStaleTempFiles();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    const seen = new Set<string>();
    for (const name of names) {
      const at = name.indexOf('.json.');
      if (at < 0) continue;
      const base = name.slice(0, at + '.json'.length);
      if (seen.has(base)) continue;
      seen.add(base);
      new AtomicJsonFile(join(this.dir, base)).removeStaleTempFiles();
    }
  }

  private plan(state: BatchState, dirtyKeys: ReadonlySet<string>, headDirty: boolean, everything: boolean): Plan {
    const mailboxes: [string, MailboxFileData][] = [];
    const dirtyShards = new Set<number>();
    const write = (key: string): void => {
      const mailbox = state.mailboxes[key];
      if (!mailbox) return;
      mailboxes.push([key, {version: STATE_VERSION, mailbox: structuredClone(mailbox)}]);
      const summary = summaryOf(mailbox);
      if (headWorthy(this.written.get(key), summary)) dirtyShards.add(summaryShardOf(key, this.shards));
      this.fresh.set(key, summary);
    };
    for (const key of dirtyKeys) write(key);
    // Mailboxes added without a markDirty(key) (batch add) are new to the summaries: written too.
    for (const key of Object.keys(state.mailboxes)) if (!this.written.has(key) && !dirtyKeys.has(key)) write(key);
    const removed = [...this.written.keys()].filter((key) => !state.mailboxes[key]);
    for (const key of removed) dirtyShards.add(summaryShardOf(key, this.shards));
    if (everything) for (let shard = 0; shard < this.shards; shard++) dirtyShards.add(shard);
    const members = this.members.map((set) => new Set(set));
    for (const [key] of mailboxes) members[summaryShardOf(key, this.shards)]!.add(key);
    for (const key of removed) members[summaryShardOf(key, this.shards)]!.delete(key);
    const summaries: SummaryFileData[] = [];
    for (const shard of [...dirtyShards].sort((a, b) => a - b)) {
      const record: Record<string, MailboxSummary> = {};
      for (const key of members[shard]!) record[key] = this.fresh.get(key) ?? this.written.get(key) ?? summaryOf(state.mailboxes[key]!);
      summaries.push({version: STATE_VERSION, shard, updatedAt: state.updatedAt, mailboxes: record});
    }
    const plan: Plan = {mailboxes, summaries, removed, members};
    if (headDirty || everything) {
      const head: HeadFileData = {version: STATE_VERSION, layout: 'sharded', batch: structuredClone(state.batch), updatedAt: state.updatedAt, summaryShards: this.shards};
      for (const field of ['startedAt', 'completeRequested', 'completedAt', 'lastSyncedAt'] as const) {
        if (state[field] !== undefined) (head as unknown as Record<string, unknown>)[field] = state[field];
      }
      plan.head = head;
    }
    return plan;
  }

  /** After a successful write: what the summaries on disk now say. */
  private settle(plan: Plan): void {
    this.members = plan.members;
    for (const data of plan.summaries) {
      for (const [key, summary] of Object.entries(data.mailboxes)) {
        this.written.set(key, summary);
        if (this.fresh.get(key) === summary) this.fresh.delete(key);
      }
    }
    for (const key of plan.removed) {
      this.written.delete(key);
      this.fresh.delete(key);
    }
  }

  private async removeFiles(key: string): Promise<void> {
    const file = join(this.dir, mailboxFileName(key));
    this.mailboxFiles.delete(key);
    for (const path of [file, `${file}.bak`]) await unlink(path).catch(() => undefined);
  }

  private mailboxAdapter(key: string): AtomicJsonFile<MailboxFileData> {
    let adapter = this.mailboxFiles.get(key);
    if (!adapter) {
      const file = join(this.dir, mailboxFileName(key));
      adapter = new AtomicJsonFile<MailboxFileData>(file, {
        parse: (raw) => parseMailboxFile(raw, key, file),
        // Named as in the single file (mailboxes.KEY.…), so a refusal reads the same either way.
        check: (value) => assertNoSecretsIn(value.mailbox, file, `mailboxes.${key}`),
        ...this.adapterOptions(),
      });
      this.mailboxFiles.set(key, adapter);
    }
    return adapter;
  }

  private summaryAdapter(shard: number): AtomicJsonFile<SummaryFileData> {
    let adapter = this.summaryFiles.get(shard);
    if (!adapter) {
      const file = summaryFileFor(this.headFile, shard);
      adapter = new AtomicJsonFile<SummaryFileData>(file, {
        // The keys are e-mail addresses, as in the single file's "mailboxes" map.
        check: (value) => assertNoSecretsIn(value.mailboxes, file, 'mailboxes'),
        ...this.adapterOptions(),
      });
      this.summaryFiles.set(shard, adapter);
    }
    return adapter;
  }

  private adapterOptions(): {backupIntervalMs?: number; onWritten?: (bytes: number) => void; syncDirectory?: boolean} {
    return {
      syncDirectory: false,
      ...(this.options.backupIntervalMs !== undefined ? {backupIntervalMs: this.options.backupIntervalMs} : {}),
      ...(this.options.onWritten ? {onWritten: this.options.onWritten} : {}),
    };
  }
}

/** At most 32 writes at a time: a create or conversion of 10,000 mailboxes must not run out of file descriptors. */
async function inParallel<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({length: Math.min(32, items.length)}, worker));
}

interface Plan {
  mailboxes: [string, MailboxFileData][];
  summaries: SummaryFileData[];
  head?: HeadFileData;
  removed: string[];
  members: Set<string>[];
}

/** NAME.json.v1.bak: the single file a migration to v2 started from, kept as it was. */
export function v1BackupFor(headFile: string): string {
  return `${headFile}.v1.bak`;
}

/**
 * Converts a v1 single-file batch: keeps the old file as NAME.json.v1.bak (a hard link, no copy),
 * writes every mailbox's file, then the v2 head over NAME.json. Killed midway, NAME.json is still
 * the v1 file and the next open converts again.
 */
export async function migrateSingleFile(headFile: string, state: BatchState, files: ShardedStateFiles): Promise<string> {
  const backup = v1BackupFor(headFile);
  const temp = `${backup}.tmp-${process.pid}`;
  await unlink(temp).catch(() => undefined);
  await link(headFile, temp);
  await rename(temp, backup);
  // Leftovers of an earlier, interrupted migration are overwritten; files of mailboxes no longer
  // in the batch would be ignored anyway, but go now.
  await rm(files.dir, {recursive: true, force: true}).catch((error: unknown) => {
    if (errorCode(error) !== 'ENOENT') throw error;
  });
  files.knowHead(undefined, summaryShardsFor(Object.keys(state.mailboxes).length));
  await files.write(state, new Set(Object.keys(state.mailboxes)), true, true);
  return backup;
}
