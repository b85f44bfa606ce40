// Which mailboxes a batch holds after it was created: users added from further CSVs (`batch add`,
// the grid's "add users") and mailboxes taken out (`batch remove NAME --mailbox EMAIL`).
//
// Where an added mailbox's passwords come from: never the state file or a command file. Each
// added mailbox remembers the absolute path of the CSV its row is in (MailboxIdentity.csvPath;
// absent = the batch's own csvPath, which is all a state file from before this feature has), and
// every start re-reads the batch's CSV plus each distinct added CSV (loadBatchRows). A file that
// is gone or no longer holds the row fails just those mailboxes, with the path in the error, as a
// row missing from the batch's own CSV does.
//
// A batch run by another process is changed through the command inbox: the command carries the
// CSV path and the EmailAddresses only; the running process reads and validates the file again
// and adds what is (still) valid. Without a running process the change is written to the state
// file under the run lock. Either way nothing here touches mail.

import {existsSync} from 'node:fs';
import {unlink} from 'node:fs/promises';
import {resolve} from 'node:path';
import {MigrationError} from '../imap/imap-error.js';
import {BatchStore} from '../store/batch-store.js';
import {postCommand} from '../store/command-inbox.js';
import {mailboxKey, newMailboxState, type BatchState} from '../store/state-schema.js';
import type {BatchDefinition} from './batch-model.js';
import {loadMigrationCsv, type CsvLoadResult, type CsvProblem, type MigrationRow} from './csv/migration-csv.js';
import {csvOptionsForSource} from './credentials/oauth-identity.js';

export interface AdditionPlan {
  /** Absolute. */
  csvPath: string;
  csv: CsvLoadResult;
  /** Every error of the file as check-csv lists them, plus what the batch needs of it; any → nothing is added. */
  errors: CsvProblem[];
  warnings: CsvProblem[];
  /** Valid rows whose EmailAddress is new to the batch. */
  toAdd: MigrationRow[];
  /** Rows whose EmailAddress (compared as the batch keys mailboxes: lower-cased) is in the batch already: left alone. */
  alreadyInBatch: MigrationRow[];
}

/** What the file holds for `state`'s batch. Duplicates within the file are errors of the file (check-csv's rule). */
export function planAddition(state: BatchState, csvPath: string, csv: CsvLoadResult): AdditionPlan {
  const errors = csv.problems.filter((problem) => problem.severity === 'error');
  const warnings = csv.problems.filter((problem) => problem.severity === 'warning');
  if (state.batch.targetCredentials.kind === 'csv' && csv.rows.length > 0 && !csv.hasTargetCredentials) {
    errors.push({
      line: 1,
      severity: 'error',
      code: 'missing-column',
      message: 'The batch logs in to the target with per-row credentials, but this file has no TargetUserName/TargetPassword columns. Add them.',
    });
  }
  const toAdd: MigrationRow[] = [];
  const alreadyInBatch: MigrationRow[] = [];
  for (const row of csv.rows) (state.mailboxes[mailboxKey(row.emailAddress)] ? alreadyInBatch : toAdd).push(row);
  return {csvPath, csv, errors, warnings, toAdd: errors.length > 0 ? [] : toAdd, alreadyInBatch};
}

/** Adds rows as Queued mailboxes (skipping any already there); returns the keys added. */
export function addRowsToState(state: BatchState, csvPath: string, rows: readonly MigrationRow[]): string[] {
  const added: string[] = [];
  for (const row of rows) {
    const key = mailboxKey(row.emailAddress);
    if (state.mailboxes[key]) continue;
    state.mailboxes[key] = newMailboxState({
      emailAddress: row.emailAddress,
      userName: row.userName,
      ...(row.userRoot ? {userRoot: row.userRoot} : {}),
      ...(row.targetUserName ? {targetUserName: row.targetUserName} : {}),
      ...(csvPath !== state.batch.csvPath ? {csvPath} : {}),
    });
    added.push(key);
  }
  // A completed batch that gains a mailbox is no longer complete: its completion is recorded
  // again once the new mailbox has had its final pass too.
  if (added.length > 0) delete state.completedAt;
  return added;
}

export interface BatchRows {
  /** By mailbox key: the row each mailbox logs in with (from its own CSV). */
  rows: Map<string, MigrationRow>;
  /** Each CSV read, with its rows (for the readable-by-others warning). */
  files: {path: string; rows: MigrationRow[]}[];
  /** Added CSVs that could not be read: path → reason (their mailboxes fail with it). */
  unreadable: Map<string, string>;
}

/**
 * Reads the batch's CSV (mainCsvPath, or the recorded one) and every CSV an added mailbox names.
 * The batch's own CSV must be readable (as before); an added one that is not fails only its mailboxes.
 */
export async function loadBatchRows(state: BatchState, mainCsvPath = state.batch.csvPath): Promise<BatchRows> {
  const main = await loadBatchCsv(state.batch, mainCsvPath);
  const byFile = new Map<string, Map<string, MigrationRow>>();
  const files: BatchRows['files'] = [{path: mainCsvPath, rows: main.rows}];
  const unreadable = new Map<string, string>();
  byFile.set(state.batch.csvPath, indexRows(main.rows));
  for (const path of csvPathsOf(state)) {
    if (path === state.batch.csvPath) continue;
    try {
      const csv = await loadBatchCsv(state.batch, path);
      byFile.set(path, indexRows(csv.rows));
      files.push({path, rows: csv.rows});
    } catch (error) {
      unreadable.set(path, error instanceof MigrationError ? error.message : String(error));
    }
  }
  const rows = new Map<string, MigrationRow>();
  for (const [key, mailbox] of Object.entries(state.mailboxes)) {
    const row = byFile.get(mailbox.identity.csvPath ?? state.batch.csvPath)?.get(key);
    if (row) rows.set(key, row);
  }
  return {rows, files, unreadable};
}

/** Reads one of the batch's CSVs as its source logs in: with OAuth2 it needs no Password column. */
export function loadBatchCsv(definition: BatchDefinition, path: string): Promise<CsvLoadResult> {
  return loadMigrationCsv(path, csvOptionsForSource(definition.sourceCredentials));
}

/** The CSVs the batch's mailboxes read their passwords from: its own first, then each added one once. */
export function csvPathsOf(state: BatchState): string[] {
  const paths = new Set<string>([state.batch.csvPath]);
  for (const mailbox of Object.values(state.mailboxes)) if (mailbox.identity.csvPath) paths.add(mailbox.identity.csvPath);
  return [...paths];
}

/** The CSV a mailbox's row is read from. */
export function csvPathOf(definition: BatchDefinition, identity: {csvPath?: string}): string {
  return identity.csvPath ?? definition.csvPath;
}

// --- from a process that does not run the batch ------------------------------------------------

export type AddOutcome =
  /** The file has errors: nothing added. */
  | 'invalid'
  /** Every row is in the batch already. */
  | 'nothing-new'
  /** Written to the state file (no process runs the batch). */
  | 'applied'
  /** The running process took the command and the mailboxes are in its state. */
  | 'added-by-runner'
  /** Handed to the running process, which had not taken it when the wait ended. */
  | 'posted';

export interface AddUsersResult {
  plan: AdditionPlan;
  outcome: AddOutcome;
  /** EmailAddresses added (or handed over, for 'posted'). */
  added: string[];
  runningPid?: number;
  /** 'applied' after a running process ended before it took the command. */
  runnerEnded?: boolean;
  /** 'posted': the running process took the command file but its state does not show the change (its log says why). */
  taken?: boolean;
}

export interface MembershipOptions {
  /** How long to wait for a running process to take the command (default 60 s). */
  waitMs?: number;
}

/** `batch add`: validates the CSV, then adds its new rows to the batch or hands them to the process running it. */
export async function addUsersToBatch(stateDir: string, name: string, csvPath: string, options: MembershipOptions = {}): Promise<AddUsersResult> {
  const path = resolve(csvPath);
  const state = await readState(stateDir, name);
  const csv = await loadBatchCsv(state.batch, path);
  const plan = planAddition(state, path, csv);
  if (plan.errors.length > 0) return {plan, outcome: 'invalid', added: []};
  if (plan.toAdd.length === 0) return {plan, outcome: 'nothing-new', added: []};
  const emails = plan.toAdd.map((row) => row.emailAddress);
  const keys = emails.map(mailboxKey);
  const change = (state: BatchState): string[] => {
    // Planned again on the state as it is now: another add may have come first.
    const fresh = planAddition(state, path, csv);
    return addRowsToState(state, path, fresh.toAdd).map((key) => state.mailboxes[key]!.identity.emailAddress);
  };
  const result = await handOver(stateDir, name, {action: 'add', csvPath: path, mailboxes: emails}, (state) => keys.every((key) => state.mailboxes[key]), change, options);
  if (result.where === 'here') return {plan, outcome: 'applied', added: result.changed, ...(result.runnerEnded ? {runnerEnded: true} : {})};
  // A plain start may take the add just as it ends: the mailboxes are then Queued for the next start.
  if (result.where === 'runner' && !(await BatchStore.runningPid(stateDir, name))) return {plan, outcome: 'added-by-runner', added: emails, runningPid: result.pid, runnerEnded: true};
  return {plan, outcome: result.where === 'runner' ? 'added-by-runner' : 'posted', added: emails, runningPid: result.pid, ...(result.where === 'posted' ? {taken: result.taken} : {})};
}

export interface RemoveMailboxesResult {
  outcome: 'applied' | 'removed-by-runner' | 'posted';
  removed: string[];
  runningPid?: number;
  runnerEnded?: boolean;
  taken?: boolean;
}

/** `batch remove NAME --mailbox EMAIL`: the mailboxes leave the batch's state (a running one is stopped first); mail is never touched. */
export async function removeMailboxesFromBatch(stateDir: string, name: string, emailAddresses: readonly string[], options: MembershipOptions = {}): Promise<RemoveMailboxesResult> {
  const state = await readState(stateDir, name);
  const keys = [...new Set(emailAddresses.map(mailboxKey))];
  const unknown = keys.find((key) => !state.mailboxes[key]);
  if (unknown !== undefined) throw unknownMailboxError(name, unknown);
  const emails = keys.map((key) => state.mailboxes[key]!.identity.emailAddress);
  const change = (current: BatchState): string[] => {
    const removed = keys.filter((key) => current.mailboxes[key]);
    const emailsRemoved = removed.map((key) => current.mailboxes[key]!.identity.emailAddress);
    for (const key of removed) delete current.mailboxes[key];
    return emailsRemoved;
  };
  const result = await handOver(stateDir, name, {action: 'remove', mailboxes: emails}, (current) => keys.every((key) => !current.mailboxes[key]), change, options);
  if (result.where === 'here') return {outcome: 'applied', removed: result.changed, ...(result.runnerEnded ? {runnerEnded: true} : {})};
  return {outcome: result.where === 'runner' ? 'removed-by-runner' : 'posted', removed: emails, runningPid: result.pid, ...(result.where === 'posted' ? {taken: result.taken} : {})};
}

const TAKEN_WAIT_MS = 15_000;

type HandOver = {where: 'here'; changed: string[]; runnerEnded: boolean} | {where: 'runner'; pid: number} | {where: 'posted'; pid: number; taken: boolean};

/**
 * Hands a command to the process running the batch and waits until the state file shows it
 * applied (`done`). A process that ends before it took the command (a plain `batch start` whose
 * last mailbox just finished) leaves the change to this process, which applies it under the run
 * lock: nothing that was validated and reported as added is lost.
 */
async function handOver(
  stateDir: string,
  name: string,
  command: Parameters<typeof postCommand>[1],
  done: (state: BatchState) => unknown,
  change: (state: BatchState) => string[],
  options: MembershipOptions,
): Promise<HandOver> {
  let pid = await BatchStore.runningPid(stateDir, name);
  if (!pid) {
    try {
      return {where: 'here', changed: await withLockedState(stateDir, name, change), runnerEnded: false};
    } catch (error) {
      if (!isBusy(error)) throw error;
      // A start took the lock meanwhile: hand the command to it.
      pid = (await BatchStore.runningPid(stateDir, name)) ?? 0;
    }
  }
  const stateFile = BatchStore.fileFor(stateDir, name);
  let file = await postCommand(stateFile, command);
  let deadline = Date.now() + (options.waitMs ?? 60_000);
  let taken = false;
  while (Date.now() < deadline) {
    await new Promise((wake) => setTimeout(wake, 200));
    if (done(await readState(stateDir, name))) return {where: 'runner', pid};
    if (await BatchStore.runningPid(stateDir, name)) {
      // Taken: applying it and writing the state takes a moment, not a minute (a refusal is in its log).
      if (!taken && !existsSync(file)) {
        taken = true;
        deadline = Math.min(deadline, Date.now() + TAKEN_WAIT_MS);
      }
      continue;
    }
    try {
      const changed = await withLockedState(stateDir, name, async (state) => {
        // Under the lock nobody else takes the command any more: withdraw it, then apply it here.
        await unlink(file).catch(() => undefined);
        return done(state) ? undefined : change(state);
      });
      if (changed === undefined) return {where: 'runner', pid};
      return {where: 'here', changed, runnerEnded: true};
    } catch (error) {
      if (!isBusy(error)) throw error;
      // A new start took the lock first; it reads the inbox when it opens. Post again if the
      // command was taken by the process that ended without applying it.
      if (!existsSync(file)) file = await postCommand(stateFile, command);
      pid = (await BatchStore.runningPid(stateDir, name)) ?? pid;
    }
  }
  return {where: 'posted', pid, taken: !existsSync(file)};
}

function isBusy(error: unknown): boolean {
  return error instanceof MigrationError && /already being run by process/.test(error.message);
}

async function readState(stateDir: string, name: string): Promise<BatchState> {
  const store = await BatchStore.open(stateDir, name);
  const state = store.state;
  await store.close();
  return state;
}

/**
 * Runs `change` on the batch state under the run lock and writes it. The state is read after the
 * lock is taken: a process that released the lock just before wrote its last progress first.
 */
async function withLockedState<T>(stateDir: string, name: string, change: (state: BatchState) => T | Promise<T>): Promise<T> {
  const store = await BatchStore.open(stateDir, name);
  try {
    await store.acquireRunLock();
    const fresh = await readState(stateDir, name);
    const state = store.state as unknown as Record<string, unknown>;
    for (const key of Object.keys(state)) delete state[key];
    Object.assign(state, fresh);
    const result = await change(store.state);
    store.markDirty();
    await store.flushNow();
    return result;
  } finally {
    await store.close();
  }
}

export function unknownMailboxError(batch: string, key: string): MigrationError {
  return new MigrationError({
    kind: 'config',
    message: `batch "${batch}" has no mailbox ${key}`,
    hint: `mailferry batch status ${batch} lists its mailboxes`,
    retryable: false,
  });
}

function indexRows(rows: readonly MigrationRow[]): Map<string, MigrationRow> {
  const index = new Map<string, MigrationRow>();
  for (const row of rows) index.set(mailboxKey(row.emailAddress), row);
  return index;
}
