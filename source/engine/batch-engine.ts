// The engine's front door for both front ends: create, open (to run), list and remove batches.
// Opening a batch takes its run lock, re-reads the CSV for passwords (they are never in the
// state file), reads admin secrets, and starts listening for commands from other processes.

import {resolve} from 'node:path';
import {MigrationError} from '../imap/imap-error.js';
import {logEngineEvents} from '../log/engine-event-log.js';
import {silentLogger, type Logger} from '../log/logger.js';
import {BatchStore} from '../store/batch-store.js';
import {postCommand, watchCommands, type RemoteCommand} from '../store/command-inbox.js';
import {mailboxKey, STATE_VERSION, type BatchState} from '../store/state-schema.js';
import type {BatchControl} from './batch-control.js';
import type {BatchDefinition, MailboxStatus} from './batch-model.js';
import {BatchRunner} from './scheduler/batch-runner.js';
import type {MigrationRow} from './csv/migration-csv.js';
import {resolveSecrets, type ResolvedSecrets} from './credentials/row-credentials.js';
import {exposedMigrationCsv, exposedSecretFiles} from './credentials/secret-file-exposure.js';
import {addRowsToState, loadBatchCsv, loadBatchRows, planAddition, unknownMailboxError as unknownMailbox, type AdditionPlan} from './batch-membership.js';
import type {ExposedSecretFile} from './credentials/secret-source.js';

export interface CreateBatchOptions {
  stateDir: string;
  definition: BatchDefinition;
  rows: readonly MigrationRow[];
}

export async function createBatch(options: CreateBatchOptions): Promise<void> {
  const definition: BatchDefinition = {...options.definition, csvPath: resolve(options.definition.csvPath)};
  const state: BatchState = {
    version: STATE_VERSION,
    batch: definition,
    mailboxes: {},
    updatedAt: new Date().toISOString(),
  };
  addRowsToState(state, definition.csvPath, options.rows);
  if (Object.keys(state.mailboxes).length === 0) {
    throw new MigrationError({
      kind: 'config',
      message: `batch "${definition.name}" has no users`,
      hint: 'give a migration CSV with at least one valid row (mailferry check-csv FILE shows its problems)',
      retryable: false,
    });
  }
  const store = await BatchStore.create(options.stateDir, state);
  await store.close();
}

export interface OpenBatchOptions {
  stateDir: string;
  name: string;
  logger?: Logger;
  /** Admin secrets already typed into the UI; otherwise read per the batch's SecretSources. */
  secrets?: ResolvedSecrets;
  /** Read passwords from this CSV instead of the one recorded in the batch. */
  csvPath?: string;
  follow?: boolean;
  inFlightBytes?: number;
  backoffScale?: number;
}

export interface OpenedBatch extends BatchControl {
  readonly stateFile: string;
  readonly activeCount: number;
  /** Files holding passwords that other users can read (also in the log): for the admin's eyes. */
  readonly exposedSecretFiles: readonly ExposedSecretFile[];
  /** Adds the new rows of a CSV (validated as check-csv does; with errors, nothing) as Queued mailboxes. */
  addUsersFromCsv(csvPath: string): Promise<AdditionPlan>;
  /** Takes mailboxes out of the batch (state only, never mail); returns the keys removed. */
  removeMailboxes(emailAddresses: readonly string[]): Promise<string[]>;
}

export async function openBatch(options: OpenBatchOptions): Promise<OpenedBatch> {
  const logger = options.logger ?? silentLogger;
  const store = await BatchStore.open(options.stateDir, options.name, {
    onFlushError: (error) => logger.error('could not write the state file; retrying', {error: String(error)}),
  });
  try {
    await store.acquireRunLock();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  try {
    const definition = store.state.batch;
    const csvPath = options.csvPath ?? definition.csvPath;
    // The batch's CSV and each CSV users were added from (batch-membership.ts).
    const {rows, files, unreadable} = await loadBatchRows(store.state, csvPath);
    const secrets =
      options.secrets ?? (await resolveSecrets({source: definition.sourceCredentials, target: definition.targetCredentials}));
    const exposed = [
      ...(await exposedSecretFiles({...definition, csvPath}, files[0]!.rows)),
      ...(await exposedAddedCsvs(files.slice(1))),
    ];
    for (const file of exposed) logger.warn(file.message, {batch: definition.name});
    const runLogger = logger.child({batch: definition.name});
    for (const [path, reason] of unreadable) runLogger.error('a CSV users were added from cannot be read; its mailboxes fail until it is back', {csv: path, reason});
    const runner = new BatchRunner({
      store,
      rows,
      unreadableCsvs: unreadable,
      secrets,
      logger: runLogger,
      ...(options.follow !== undefined ? {follow: options.follow} : {}),
      ...(options.inFlightBytes !== undefined ? {inFlightBytes: options.inFlightBytes} : {}),
      ...(options.backoffScale !== undefined ? {backoffScale: options.backoffScale} : {}),
    });
    const stopWatching = watchCommands(
      store.file,
      (command) => applyRemoteCommand(runner, store.state, command, runLogger),
      (error) => logger.warn('could not read a command for this batch', {error: String(error)}),
    );
    // Every front end that runs passes (headless commands, the UI) gets the same log.
    runLogger.info('batch opened', {pid: process.pid, mailboxes: Object.keys(store.state.mailboxes).length, stateFile: store.file});
    if (store.migratedFrom) runLogger.info('state converted to the per-mailbox layout (version 2); the old single file is kept', {stateFile: store.file, kept: store.migratedFrom});
    const stopLogging = logEngineEvents(runner, runLogger);
    const close = runner.close.bind(runner);
    let closed = false;
    return Object.assign(runner, {
      stateFile: store.file,
      exposedSecretFiles: exposed,
      addUsersFromCsv: (path: string) => addFromCsv(runner, store.state, resolve(path), undefined, runLogger),
      close: async () => {
        stopWatching();
        await close();
        await store.close();
        if (!closed) {
          closed = true;
          stopLogging();
          runLogger.info('batch closed; state saved', {counts: runner.getSnapshot().counts});
        }
      },
    });
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

async function applyRemoteCommand(runner: BatchRunner, state: BatchState, command: RemoteCommand, logger: Logger): Promise<void> {
  const control: BatchControl = runner;
  const mailboxes = command.mailboxes ?? [];
  switch (command.action) {
    case 'add':
      if (command.csvPath) await addFromCsv(runner, state, command.csvPath, mailboxes, logger).catch(() => undefined);
      break;
    case 'remove': {
      const removed = await runner.removeMailboxes(mailboxes);
      logger.info('mailboxes removed from the batch (state only; no mail touched)', {mailboxes: removed});
      break;
    }
    case 'stop':
      await control.stop(mailboxes);
      break;
    case 'resume':
      control.resume(mailboxes);
      break;
    case 'sync-now':
      control.syncNow(mailboxes);
      break;
    case 'complete':
      void control.complete();
      break;
  }
}

/**
 * Re-reads and validates a CSV in the process that runs the batch and adds its new rows (only
 * those in `only`, the rows the sender validated, when given). A file that now has errors adds
 * nothing. What was added, left alone or refused goes to the log.
 */
async function addFromCsv(runner: BatchRunner, state: BatchState, csvPath: string, only: readonly string[] | undefined, logger: Logger): Promise<AdditionPlan> {
  let plan: AdditionPlan;
  try {
    plan = planAddition(state, csvPath, await loadBatchCsv(state.batch, csvPath));
  } catch (error) {
    logger.error('could not add users: the CSV cannot be read', {csv: csvPath, error: error instanceof MigrationError ? error.message : String(error)});
    throw error;
  }
  if (plan.errors.length > 0) {
    logger.error('no users added: the CSV has errors (mailferry check-csv lists them)', {csv: csvPath, errors: plan.errors.map((problem) => `line ${problem.line}: ${problem.message}`)});
    return plan;
  }
  const wanted = only?.length ? new Set(only.map(mailboxKey)) : undefined;
  const rows = plan.toAdd.filter((row) => !wanted || wanted.has(mailboxKey(row.emailAddress)));
  const added = runner.addMailboxes(csvPath, rows);
  logger.info('users added to the batch as Queued', {csv: csvPath, mailboxes: added, alreadyInBatch: plan.alreadyInBatch.map((row) => row.emailAddress)});
  return plan;
}

async function exposedAddedCsvs(files: readonly {path: string; rows: readonly MigrationRow[]}[]): Promise<ExposedSecretFile[]> {
  const exposed = await Promise.all(files.map((file) => exposedMigrationCsv(file.path, file.rows)));
  return exposed.filter((file): file is ExposedSecretFile => file !== undefined);
}

export interface BatchListing {
  name: string;
  file: string;
  updatedAt?: string;
  mailboxes: number;
  counts: Partial<Record<MailboxStatus, number>>;
  runningPid?: number;
  /** Set when the batch's state could not be read (what and what to do); the counts are then empty. */
  error?: string;
}

export async function listBatches(stateDir: string): Promise<BatchListing[]> {
  const batches = await BatchStore.list(stateDir);
  return Promise.all(
    batches.map(async (batch) => {
      const pid = await BatchStore.runningPid(stateDir, batch.name);
      return {...batch, ...(pid ? {runningPid: pid} : {})};
    }),
  );
}

export async function removeBatch(stateDir: string, name: string): Promise<void> {
  await BatchStore.remove(stateDir, name);
}

/**
 * A command for a batch from a process that does not run it: handed to the running process when
 * there is one; otherwise applied to the state file directly so the next start honours it.
 * Returns where it went.
 */
export async function sendBatchCommand(
  stateDir: string,
  name: string,
  command: Omit<RemoteCommand, 'at'>,
): Promise<'posted' | 'applied'> {
  const pid = await BatchStore.runningPid(stateDir, name);
  if (pid) {
    await postCommand(BatchStore.fileFor(stateDir, name), command);
    return 'posted';
  }
  const store = await BatchStore.open(stateDir, name);
  try {
    await store.acquireRunLock();
    const keys = command.mailboxes?.length ? command.mailboxes.map(mailboxKey) : Object.keys(store.state.mailboxes);
    for (const key of keys) {
      const mailbox = store.state.mailboxes[key];
      if (!mailbox) throw unknownMailbox(name, key);
      if (command.action === 'stop' && (mailbox.status === 'Queued' || mailbox.status === 'Synced')) mailbox.status = 'Stopped';
      if (command.action === 'resume' && (mailbox.status === 'Stopped' || mailbox.status === 'Failed')) {
        mailbox.status = 'Queued';
        delete mailbox.error;
      }
      store.markDirty(key);
    }
    if (command.action === 'complete') store.state.completeRequested = true;
    store.markDirty();
    await store.flushNow();
  } finally {
    await store.close();
  }
  return 'applied';
}

export {unknownMailboxError as unknownMailbox} from './batch-membership.js';
