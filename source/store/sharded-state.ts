// The batch state on disk, version 2: a write costs what changed, not the batch's size.
//
//   batches/NAME.json            the head: batch definition, batch-level fields and a small
//                                summary per mailbox (status, counts), which is also the list of
//                                the batch's mailboxes. `batch list` and `batch status` read this.
//   batches/NAME.d/KEY.json      one file per mailbox: its whole MailboxState (checkpoints,
//                                items, errors, reconcile records). The truth about the mailbox.
//
// Every file is written whole and atomically by AtomicJsonFile (temp + fsync + rename, .bak).
// A flush writes the mailbox files marked dirty, then the head if the batch-level fields, the
// membership or a mailbox's status/error changed (progress counts alone do not rewrite the
// head; they reach it with its next write, and `batch status` reads the working mailboxes' own
// files for fresh counts).
//
// Crash consistency (kill -9 at any moment leaves each file old or new, never half-written):
// - Order: mailbox files first, then the head, then the deletion of removed mailboxes' files.
//   So the head never names a mailbox whose file is not on disk.
// - A mailbox file newer than the head (killed between the two): the mailbox's own state is
//   read from its file, so nothing of it is lost; the head's summary of it is just older (the
//   runner rewrites the head when it opens the batch). A mailbox added in that flush has a file
//   the head does not name: it is ignored, as if the add had not happened — its flushNow never
//   resolved, so nobody was told it had.
// - A head newer than a mailbox file cannot happen for membership (order above); its summary can
//   be ahead of a file (computed from memory after the file was serialised): the summary is only
//   for display, the file wins on open.
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
import {AtomicJsonFile, errorCode} from './atomic-json-file.js';
import type {BatchDefinition, MailboxStatus} from './batch-records.js';
import {assertNoSecretsIn, STATE_VERSION, upgradeMailbox, upgradeState, type BatchState, type MailboxState, type MailboxStats} from './state-schema.js';

export interface MailboxTotalsSummary {
  itemsDone: number;
  itemsTotal: number;
  itemsSkipped: number;
  itemsFailed: number;
  bytesDone: number;
  bytesTotal: number;
}

/** What the head keeps of each mailbox: enough for `batch list` and `batch status`. */
export interface MailboxSummary {
  emailAddress: string;
  userName: string;
  status: MailboxStatus;
  error?: {message: string; hint?: string};
  stats: MailboxStats;
  totals: MailboxTotalsSummary;
}

export interface StateHead {
  version: number;
  layout: 'sharded';
  batch: BatchDefinition;
  startedAt?: string;
  completeRequested?: boolean;
  completedAt?: string;
  lastSyncedAt?: string;
  updatedAt: string;
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
  const totals: MailboxTotalsSummary = {itemsDone: 0, itemsTotal: 0, itemsSkipped: 0, itemsFailed: 0, bytesDone: 0, bytesTotal: 0};
  for (const folder of Object.values(mailbox.folders)) {
    totals.itemsDone += folder.doneCount;
    totals.itemsTotal += folder.total;
    totals.itemsSkipped += folder.skipped;
    totals.itemsFailed += folder.failed;
    totals.bytesDone += folder.bytesDone;
    totals.bytesTotal += folder.bytesTotal;
  }
  const summary: MailboxSummary = {emailAddress: mailbox.identity.emailAddress, userName: mailbox.identity.userName, status: mailbox.status, stats: {...mailbox.stats}, totals};
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

/** Validates a v2 head (parsed JSON). */
export function parseHead(raw: unknown, file: string): StateHead {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw notAState(file, 'not a JSON object');
  const head = raw as Record<string, unknown>;
  checkVersion(head, file);
  // The batch definition and batch-level fields are validated (and defaults filled) as in v1.
  upgradeState({...head, version: 1, mailboxes: {}}, file);
  const mailboxes = head['mailboxes'];
  if (typeof mailboxes !== 'object' || mailboxes === null) throw notAState(file, 'missing "mailboxes"');
  for (const [key, summary] of Object.entries(mailboxes as Record<string, unknown>)) {
    if (typeof summary !== 'object' || summary === null || typeof (summary as MailboxSummary).status !== 'string') throw notAState(file, `mailbox ${JSON.stringify(key)} has no summary`);
  }
  if (typeof head['updatedAt'] !== 'string') head['updatedAt'] = new Date(0).toISOString();
  return head as unknown as StateHead;
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
  private head: Low<StateHead> | undefined;
  private readonly headAdapter: AtomicJsonFile<StateHead>;
  private readonly mailboxFiles = new Map<string, Low<MailboxFileData>>();
  /** The head as last written (or read): membership and the summaries headWorthy compares with. */
  private headSummaries: Record<string, MailboxSummary> = {};
  /** Summaries computed since the head was last written (of mailbox files written meanwhile). */
  private freshSummaries = new Map<string, MailboxSummary>();
  private dirMade = false;

  constructor(headFile: string, options: ShardedFilesOptions = {}) {
    this.headFile = headFile;
    this.dir = mailboxDirFor(headFile);
    this.options = options;
    this.headAdapter = new AtomicJsonFile<StateHead>(headFile, {
      parse: (raw) => parseHead(raw, headFile),
      check: (data) => assertNoSecretsIn(data, headFile),
      ...this.adapterOptions(),
    });
  }

  /** Reads the head's mailboxes' files (synchronously: thousands of small reads, no event-loop turns). */
  static readState(headFile: string, head: StateHead): BatchState {
    const dir = mailboxDirFor(headFile);
    const mailboxes: Record<string, MailboxState> = {};
    for (const key of Object.keys(head.mailboxes)) {
      const file = join(dir, mailboxFileName(key));
      const data = new AtomicJsonFile<MailboxFileData>(file, {parse: (raw) => parseMailboxFile(raw, key, file)}).readSync();
      if (!data) {
        throw new MigrationError({
          kind: 'config',
          message: `State file ${file} of mailbox ${head.mailboxes[key]!.emailAddress} in ${headFile} is missing`,
          hint: `The last good state may be in ${file}.bak: check it and copy it over ${file}, or remove the mailbox from the batch and add it again`,
          retryable: false,
        });
      }
      mailboxes[key] = data.mailbox;
    }
    const state: BatchState = {version: STATE_VERSION, batch: head.batch, mailboxes, updatedAt: head.updatedAt};
    for (const field of ['startedAt', 'completeRequested', 'completedAt', 'lastSyncedAt'] as const) {
      if (head[field] !== undefined) (state as unknown as Record<string, unknown>)[field] = head[field];
    }
    return state;
  }

  /** The files as they are on disk (after a read, or after the first write of a new batch). */
  knowHead(head: StateHead | undefined): void {
    this.headSummaries = head ? {...head.mailboxes} : {};
    this.freshSummaries.clear();
  }

  /**
   * Writes the dirty mailboxes' files, then the head when it changed. The data is copied
   * synchronously first, so what is written is one moment of the state even if it changes
   * while the writes run.
   */
  async write(state: BatchState, dirtyKeys: ReadonlySet<string>, headDirty: boolean): Promise<WriteResult> {
    const plan = this.plan(state, dirtyKeys, headDirty);
    if (!this.dirMade) {
      await mkdir(this.dir, {recursive: true, mode: 0o700});
      this.dirMade = true;
    }
    await Promise.all(plan.mailboxes.map(([key, data]) => this.fileOf(key, data).write()));
    if (plan.head) {
      this.head ??= new Low<StateHead>(this.headAdapter, plan.head);
      this.head.data = plan.head;
      await this.head.write();
    }
    this.settle(plan);
    await Promise.all(plan.removed.map((key) => this.removeFiles(key)));
    return {files: plan.mailboxes.length + (plan.head ? 1 : 0)};
  }

  /** write() for a process 'exit' handler. */
  writeSync(state: BatchState, dirtyKeys: ReadonlySet<string>, headDirty: boolean): WriteResult {
    const plan = this.plan(state, dirtyKeys, headDirty);
    mkdirSync(this.dir, {recursive: true, mode: 0o700});
    for (const [key, data] of plan.mailboxes) this.adapterOf(key, data).writeSync(data);
    if (plan.head) this.headAdapter.writeSync(plan.head);
    this.settle(plan);
    return {files: plan.mailboxes.length + (plan.head ? 1 : 0)};
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

  private plan(state: BatchState, dirtyKeys: ReadonlySet<string>, headDirty: boolean): {mailboxes: [string, MailboxFileData][]; head?: StateHead; removed: string[]} {
    const mailboxes: [string, MailboxFileData][] = [];
    const write = (key: string): void => {
      const mailbox = state.mailboxes[key];
      if (!mailbox) return;
      mailboxes.push([key, {version: STATE_VERSION, mailbox: structuredClone(mailbox)}]);
      const summary = summaryOf(mailbox);
      if (headWorthy(this.headSummaries[key], summary)) headDirty = true;
      this.freshSummaries.set(key, summary);
    };
    for (const key of dirtyKeys) write(key);
    // Mailboxes added without a markDirty(key) (batch add) are new to the head: written too.
    for (const key of Object.keys(state.mailboxes)) if (!(key in this.headSummaries) && !dirtyKeys.has(key)) write(key);
    const removed = Object.keys(this.headSummaries).filter((key) => !state.mailboxes[key]);
    if (removed.length > 0) headDirty = true;
    if (!headDirty) return {mailboxes, removed};
    const summaries: Record<string, MailboxSummary> = {};
    for (const key of Object.keys(state.mailboxes)) summaries[key] = this.freshSummaries.get(key) ?? this.headSummaries[key] ?? summaryOf(state.mailboxes[key]!);
    const head: StateHead = {version: STATE_VERSION, layout: 'sharded', batch: structuredClone(state.batch), updatedAt: state.updatedAt, mailboxes: summaries};
    for (const field of ['startedAt', 'completeRequested', 'completedAt', 'lastSyncedAt'] as const) {
      if (state[field] !== undefined) (head as unknown as Record<string, unknown>)[field] = state[field];
    }
    return {mailboxes, head, removed};
  }

  private settle(plan: {head?: StateHead; removed: string[]}): void {
    if (plan.head) this.knowHead(plan.head);
  }

  private async removeFiles(key: string): Promise<void> {
    const file = join(this.dir, mailboxFileName(key));
    this.mailboxFiles.delete(key);
    for (const path of [file, `${file}.bak`]) await unlink(path).catch(() => undefined);
  }

  /** The mailbox's lowdb, holding `data` (the copy to write next). */
  private fileOf(key: string, data: MailboxFileData): Low<MailboxFileData> {
    let low = this.mailboxFiles.get(key);
    if (low) {
      low.data = data;
    } else {
      const file = join(this.dir, mailboxFileName(key));
      low = new Low<MailboxFileData>(
        new AtomicJsonFile<MailboxFileData>(file, {
          parse: (raw) => parseMailboxFile(raw, key, file),
          // Named as in the single file (mailboxes.KEY.…), so a refusal reads the same either way.
          check: (data) => assertNoSecretsIn(data.mailbox, file, `mailboxes.${key}`),
          ...this.adapterOptions(),
        }),
        data,
      );
      this.mailboxFiles.set(key, low);
    }
    return low;
  }

  private adapterOf(key: string, data: MailboxFileData): AtomicJsonFile<MailboxFileData> {
    return this.fileOf(key, data).adapter as AtomicJsonFile<MailboxFileData>;
  }

  private adapterOptions(): {backupIntervalMs?: number; onWritten?: (bytes: number) => void} {
    return {
      ...(this.options.backupIntervalMs !== undefined ? {backupIntervalMs: this.options.backupIntervalMs} : {}),
      ...(this.options.onWritten ? {onWritten: this.options.onWritten} : {}),
    };
  }
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
  files.knowHead(undefined);
  await files.write(state, new Set(Object.keys(state.mailboxes)), true);
  return backup;
}
