// `mailferry batch ...`: every batch action the UI can take, for scripts and cron. Plain lines
// (or JSON with --json), exit codes that say what happened, never a password.

import {mkdir, writeFile} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import meow from 'meow';
import {createBatch, listBatches, openBatch, removeBatch, sendBatchCommand, type OpenedBatch} from '../engine/batch-engine.js';
import {DEFAULT_SETTINGS, type BatchDefinition, type BatchSettings} from '../engine/batch-model.js';
import type {BatchSnapshot} from '../engine/scheduler/batch-snapshot.js';
import {DURATION_EXAMPLES, parseDuration} from '../engine/duration-text.js';
import {loadMigrationCsv} from '../engine/csv/migration-csv.js';
import {exposedSecretFiles} from '../engine/credentials/secret-file-exposure.js';
import {csvOptionsForSource} from '../engine/credentials/oauth-identity.js';
import {MigrationError, formatError} from '../imap/imap-error.js';
import {createFileLogger, type Logger} from '../log/logger.js';
import {redact} from '../log/secret-redaction.js';
import {BatchStore} from '../store/batch-store.js';
import {batchLogFile, defaultStateDir} from '../store/state-dir.js';
import {FOLDER_COLUMNS, ITEM_COLUMNS, MAILBOX_COLUMNS, buildReport, folderRows, mailboxRow, toCsv} from './batch-report.js';
import {
  ENDPOINT_FLAG_HELP,
  FlagError,
  endpointFlagDefinitions,
  endpointFromFlags,
  sourceCredentialsFromFlags,
  targetCredentialsFromFlags,
} from './endpoint-flags.js';
import {parseSize} from './unit-parsing.js';
import {verifyBatch} from './batch-verify-command.js';
import {VERIFY_COLUMNS} from './verify-report.js';
import {readVerifications} from '../store/verification-file.js';
import {batchAdd, batchRemoveMailboxes, type MembershipContext} from './batch-membership-command.js';

export const EXIT = {ok: 0, failed: 1, usage: 2, interrupted: 3, busy: 4} as const;

const HELP = `
  Usage
    $ mailferry batch create NAME --csv FILE [endpoint, credential and setting options]
    $ mailferry batch start NAME [--follow] [--csv FILE]
    $ mailferry batch stop NAME [--mailbox EMAIL ...]
    $ mailferry batch resume NAME [--mailbox EMAIL ...]
    $ mailferry batch sync-now NAME [--mailbox EMAIL ...]
    $ mailferry batch complete NAME
    $ mailferry batch status [NAME]
    $ mailferry batch report NAME [--out DIR | --format csv|json]
    $ mailferry batch verify NAME [--mailbox EMAIL ...] [--deep]
    $ mailferry batch remove NAME --yes
    $ mailferry batch add NAME --csv FILE
    $ mailferry batch remove NAME --mailbox EMAIL [--mailbox EMAIL ...] --yes
    $ mailferry batch list

  start runs in the foreground until every mailbox is Synced, Stopped or Failed; with --follow
  it keeps running incremental passes on the batch's interval until the batch is completed.
  Ctrl-C / SIGTERM stop cleanly and save state; running start again resumes where it was.
  stop/resume/sync-now/complete reach a start running in another shell; without one they are
  recorded (stop/resume) or run in the foreground (sync-now/complete).
  verify compares source and target read-only (counts, sizes, message keys, flags; --deep also
  bodies by sha256), also while the batch runs; exit 0 only when every mailbox is consistent.
  add checks FILE as check-csv does (a file with errors adds nothing) and queues its new rows;
  rows already in the batch are listed and left alone. Their passwords are read from FILE on
  every start, so keep it. remove --mailbox takes mailboxes out of the batch (a running one is
  stopped first); mail is never touched. Both reach a start running in another shell.

  Endpoints${ENDPOINT_FLAG_HELP('source')}${ENDPOINT_FLAG_HELP('target')}

  Credentials (passwords never on the command line)
    --source-auth csv|authzid          csv: UserName/Password columns, passed to the server as is
                                       (Exchange domain/admin/user, Dovecot user*admin, ...);
                                       authzid: SASL PLAIN, --source-admin-user acts as UserName
    --target-auth csv|authzid|login-pattern
                                       csv: TargetUserName/TargetPassword columns; authzid: the
                                       admin acts as EmailAddress; login-pattern: e.g.
                                       --target-login-pattern '{email}*admin' (Dovecot master user)
    --{source,target}-auth oauth2      OAuth2: each row's own token from --ROLE-token-command
                                       ({email} = EmailAddress, {login} = UserName on the source,
                                       TargetUserName or EmailAddress on the target)
    --{source,target}-auth oauth2-admin
                                       the token of --ROLE-admin-user logs in as each row's user
                                       (servers that allow it: Microsoft 365 app-only tokens)
    --{source,target}-admin-user USER
    --{source,target}-admin-password-file FILE | -env VAR | -prompt

  Settings
    --max-concurrent N          mailboxes in their first pass at once (default ${DEFAULT_SETTINGS.maxConcurrentMigrations})
    --max-incremental N         incremental passes at once (default ${DEFAULT_SETTINGS.maxConcurrentIncrementalSyncs})
    --append-connections N      target connections per mailbox (default ${DEFAULT_SETTINGS.appendConnectionsPerMailbox})
    --exclude PATTERN           folder name, subtree (Archive/*) or kind (\\Junk); repeatable
    --max-message-size SIZE     default 35MB
    --max-items N               per mailbox, default 500000
    --interval DURATION         incremental interval, default 24h
    --skip-deleted              leave out messages marked \\Deleted on the source (not expunged);
                                each is listed as skipped. Default: copy them with \\Deleted

  Common
    --state-dir DIR             default ${'$'}MAILFERRY_STATE_DIR or ~/.local/state/mailferry
    --log FILE                  log file (default STATE_DIR/logs/NAME.log)
    --json                      machine-readable output
    --deep                      verify: also compare message bodies (sha256), one at a time

  Exit codes
    0 done (every mailbox Synced/Completed, or the command was applied)
    1 a mailbox failed, or the command failed
    2 wrong usage
    3 interrupted (Ctrl-C, SIGTERM) before the batch finished; state is saved
    4 the batch is being run by another process
`;

export interface BatchIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const FLAGS = {
  csv: {type: 'string'},
  stateDir: {type: 'string'},
  log: {type: 'string'},
  json: {type: 'boolean', default: false},
  follow: {type: 'boolean', default: false},
  mailbox: {type: 'string', isMultiple: true},
  exclude: {type: 'string', isMultiple: true},
  maxConcurrent: {type: 'number'},
  maxIncremental: {type: 'number'},
  appendConnections: {type: 'number'},
  maxMessageSize: {type: 'string'},
  maxItems: {type: 'number'},
  interval: {type: 'string'},
  targetLoginPattern: {type: 'string'},
  out: {type: 'string'},
  format: {type: 'string'},
  yes: {type: 'boolean', default: false},
  inFlight: {type: 'string'},
  skipDeleted: {type: 'boolean', default: false},
  deep: {type: 'boolean', default: false},
  help: {type: 'boolean', shortFlag: 'h'},
  ...endpointFlagDefinitions('source'),
  ...endpointFlagDefinitions('target'),
} as const;

type Flags = Record<string, unknown> & {
  csv?: string;
  stateDir?: string;
  log?: string;
  json: boolean;
  follow: boolean;
  mailbox?: string[];
  exclude?: string[];
  out?: string;
  format?: string;
  yes: boolean;
  inFlight?: string;
};

export async function runBatchCommand(argv: string[], io: BatchIo = {stdout: process.stdout, stderr: process.stderr}): Promise<number> {
  let cli;
  try {
    cli = meow(HELP, {
      argv,
      importMeta: import.meta,
      description: false,
      autoHelp: false,
      autoVersion: false,
      allowUnknownFlags: true,
      flags: FLAGS as never,
    });
  } catch (error) {
    // meow throws for a flag given twice ("The flag --targetSecurity can only be set once").
    return usage(io, (error as Error).message.replace(/--([a-z]+[A-Z][A-Za-z]*)/g, (_m, name: string) => `--${kebab(name)}`));
  }
  const flags = cli.flags as unknown as Flags;
  const [action, name, ...rest] = cli.input;
  if (flags['help'] || !action) {
    io.stdout.write(HELP.replace(/^\n/, ''));
    return flags['help'] ? EXIT.ok : EXIT.usage;
  }
  const known = new Set([...Object.keys(FLAGS).map(kebab), 'h']);
  const unknown = Object.keys(cli.unnormalizedFlags).filter((flag) => !known.has(flag) && !known.has(kebab(flag)));
  if (unknown.length > 0) return usage(io, `unknown option --${unknown.map(kebab).join(', --')} (mailferry batch --help lists them)`);
  if (rest.length > 0) return usage(io, `unexpected argument "${rest[0]}"`);
  const stateDir = resolve(flags.stateDir ?? defaultStateDir());
  const out = new Output(io, flags.json);

  try {
    switch (action) {
      case 'list':
        return await list(out, stateDir);
      case 'status':
        return name ? await status(out, stateDir, name) : await list(out, stateDir);
    }
    if (!name) return usage(io, `batch ${action} needs the batch NAME`);
    switch (action) {
      case 'create':
        return await create(out, stateDir, name, flags);
      case 'start':
        return await start(out, stateDir, name, flags);
      case 'stop':
      case 'resume':
        return await remote(out, stateDir, name, action, flags);
      case 'sync-now':
      case 'complete':
        return await runOrPost(out, stateDir, name, action, flags);
      case 'report':
        return await report(out, stateDir, name, flags);
      case 'verify':
        return await verifyBatch(out, stateDir, name, {mailbox: flags.mailbox, deep: flags['deep'] === true, csv: flags.csv, log: flags.log});
      case 'add':
        if (!flags.csv) return usage(io, 'batch add needs --csv FILE (EmailAddress,UserName,Password per row)');
        return await batchAdd(membershipContext(out, stateDir, name, flags), flags.csv);
      case 'remove':
        if (flags.mailbox?.length) {
          if (!flags.yes) return usage(io, `batch remove --mailbox takes ${flags.mailbox.join(', ')} out of batch "${name}" (its state only, never mail); add --yes to confirm`);
          return await batchRemoveMailboxes(membershipContext(out, stateDir, name, flags), flags.mailbox);
        }
        if (!flags.yes) return usage(io, `batch remove deletes the state of "${name}" (never mail); add --yes to confirm`);
        await removeBatch(stateDir, name);
        out.done({removed: name}, `removed batch "${name}" (its state only; no mail was touched)`);
        return EXIT.ok;
      default:
        return usage(io, `unknown action "${action}" (create, start, stop, resume, sync-now, complete, status, report, verify, add, remove, list)`);
    }
  } catch (error) {
    if (error instanceof FlagError) return usage(io, error.message);
    if (error instanceof MigrationError) {
      out.error(error);
      return /already being run by process/.test(error.message) ? EXIT.busy : EXIT.failed;
    }
    out.error(error);
    return EXIT.failed;
  }
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function usage(io: BatchIo, message: string): number {
  io.stderr.write(`mailferry batch: ${message}\n`);
  return EXIT.usage;
}

class Output {
  constructor(private readonly io: BatchIo, readonly json: boolean) {}

  line(text: string): void {
    this.io.stdout.write(redact(text) + '\n');
  }

  record(value: unknown): void {
    this.io.stdout.write(redact(JSON.stringify(value)) + '\n');
  }

  done(value: unknown, text: string): void {
    if (this.json) this.record(value);
    else this.line(text);
  }

  /** Something the admin should fix that does not stop the command (stderr, or a JSON record). */
  warning(text: string): void {
    if (this.json) this.record({warning: text});
    else this.io.stderr.write(`mailferry batch: warning: ${redact(text)}\n`);
  }

  error(error: unknown): void {
    const text = error instanceof MigrationError ? formatError(error) : error instanceof Error ? error.message : String(error);
    if (this.json) this.record({error: error instanceof MigrationError ? error.toJSON() : {message: text}});
    else this.io.stderr.write(`mailferry batch: ${redact(text)}\n`);
  }
}

function settingsFromFlags(flags: Flags): BatchSettings {
  const settings: BatchSettings = {...DEFAULT_SETTINGS, excludedFolders: [...(flags.exclude ?? [])]};
  const positive = (value: unknown, option: string): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new FlagError(`--${option} must be a whole number of at least 1`);
    return value;
  };
  settings.maxConcurrentMigrations = positive(flags['maxConcurrent'], 'max-concurrent') ?? settings.maxConcurrentMigrations;
  settings.maxConcurrentIncrementalSyncs = positive(flags['maxIncremental'], 'max-incremental') ?? settings.maxConcurrentIncrementalSyncs;
  settings.appendConnectionsPerMailbox = positive(flags['appendConnections'], 'append-connections') ?? settings.appendConnectionsPerMailbox;
  settings.maxItemsPerMailbox = positive(flags['maxItems'], 'max-items') ?? settings.maxItemsPerMailbox;
  settings.skipDeletedMessages = flags['skipDeleted'] === true;
  try {
    if (flags['maxMessageSize'] !== undefined) settings.maxMessageBytes = parseSize(String(flags['maxMessageSize']));
  } catch (error) {
    throw new FlagError((error as Error).message);
  }
  if (flags['interval'] !== undefined) {
    const interval = parseDuration(String(flags['interval']));
    if (interval === undefined) throw new FlagError(`--interval "${flags['interval']}" is not a duration; write it with its unit, like ${DURATION_EXAMPLES}`);
    settings.incrementalIntervalMs = interval;
  }
  return settings;
}

async function create(out: Output, stateDir: string, name: string, flags: Flags): Promise<number> {
  if (!flags.csv) throw new FlagError('batch create needs --csv FILE (EmailAddress,UserName,Password per row)');
  // Flags first: a usage mistake is reported as one (exit 2) whatever the CSV holds.
  const source = endpointFromFlags(flags, 'source');
  const target = endpointFromFlags(flags, 'target');
  const sourceCredentials = sourceCredentialsFromFlags(flags);
  const targetCredentials = targetCredentialsFromFlags(flags);
  const settings = settingsFromFlags(flags);
  const csv = await loadMigrationCsv(flags.csv, csvOptionsForSource(sourceCredentials));
  const errors = csv.problems.filter((problem) => problem.severity === 'error');
  if (!csv.usable) {
    for (const problem of csv.problems) out.line(`line ${problem.line}${problem.column ? `, column ${problem.column}` : ''}: ${problem.severity}: ${problem.message}`);
    out.line(`the CSV has ${errors.length} error(s); fix them (mailferry check-csv ${flags.csv}) and create the batch again`);
    return EXIT.failed;
  }
  const definition: BatchDefinition = {
    name,
    createdAt: new Date().toISOString(),
    csvPath: resolve(flags.csv),
    source,
    target,
    sourceCredentials,
    targetCredentials,
    settings,
  };
  if (definition.targetCredentials.kind === 'csv' && !csv.hasTargetCredentials) {
    throw new FlagError('the CSV has no TargetUserName/TargetPassword columns: choose --target-auth authzid or login-pattern, or add the columns');
  }
  // Before the batch exists: a log that cannot be written stops the command with nothing created.
  const logger = loggerFor(stateDir, name, flags).child({batch: name});
  await createBatch({stateDir, definition, rows: csv.rows});
  logger.info('batch created', {mailboxes: csv.rows.length, stateFile: BatchStore.fileFor(stateDir, name), source: source.host, target: target.host, settings});
  for (const file of await exposedSecretFiles(definition, csv.rows)) {
    out.warning(file.message);
    logger.warn(file.message);
  }
  out.done(
    {created: name, mailboxes: csv.rows.length, stateFile: BatchStore.fileFor(stateDir, name)},
    `created batch "${name}" with ${csv.rows.length} mailbox(es); state in ${BatchStore.fileFor(stateDir, name)}\nnext: mailferry batch start ${name}${flags.stateDir ? ` --state-dir ${flags.stateDir}` : ''}`,
  );
  return EXIT.ok;
}

function membershipContext(out: Output, stateDir: string, name: string, flags: Flags): MembershipContext {
  return {out, stateDir, name, logger: loggerFor(stateDir, name, flags).child({batch: name}), hintFlags: flags.stateDir ? ` --state-dir ${flags.stateDir}` : ''};
}

/** The batch's log: --log FILE or STATE_DIR/logs/NAME.log, for every command that changes or runs it. */
function loggerFor(stateDir: string, name: string, flags: Flags): Logger {
  return createFileLogger(resolve(flags.log ?? batchLogFile(stateDir, name)));
}

/** Runs the batch in this process, printing events, until idle (or completed with --follow). */
async function runInForeground(
  out: Output,
  stateDir: string,
  name: string,
  flags: Flags,
  body: (batch: OpenedBatch) => Promise<void>,
): Promise<number> {
  const logger = loggerFor(stateDir, name, flags);
  let batch: OpenedBatch;
  try {
    batch = await openBatch({
      stateDir,
      name,
      logger,
      follow: flags.follow,
      ...(flags.csv ? {csvPath: flags.csv} : {}),
      ...(flags.inFlight ? {inFlightBytes: parseSize(flags.inFlight)} : {}),
    });
  } catch (error) {
    // Printed by the caller too; logged so the run that never started is in the log as well.
    logger.error('could not open the batch', {batch: name, error: error instanceof MigrationError ? formatError(error) : String(error)});
    throw error;
  }
  for (const file of batch.exposedSecretFiles) out.warning(file.message);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    logger.warn(`received ${signal}; stopping mailboxes and saving state`, {batch: name});
    out.json ? out.record({event: 'signal', signal}) : out.line(`${signal}: stopping mailboxes and saving state...`);
    void batch.close();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  const unsubscribe = printEvents(out, batch);
  const progress = setInterval(() => printProgress(out, batch.getSnapshot()), 10_000);
  progress.unref();
  try {
    await body(batch);
  } finally {
    clearInterval(progress);
    unsubscribe();
    await batch.close();
    for (const signal of signals) process.off(signal, onSignal);
  }
  const snapshot = batch.getSnapshot();
  printSummary(out, snapshot);
  if (interrupted) return EXIT.interrupted;
  return snapshot.counts.Failed > 0 ? EXIT.failed : EXIT.ok;
}

async function start(out: Output, stateDir: string, name: string, flags: Flags): Promise<number> {
  return runInForeground(out, stateDir, name, flags, async (batch) => {
    await batch.start();
    if (!flags.follow) {
      // A mailbox added (batch add from another shell) just as the last one finished starts at
      // once: wait for it too rather than end with it just launched.
      do await batch.whenIdle();
      while (batch.activeCount > 0);
      return;
    }
    // Long-running: until the batch is completed (from another shell) or a signal closes it.
    // Said once, so whoever runs it under tmux or a supervisor knows it is up and how to reach it.
    const started = batch.getSnapshot();
    if (out.json) out.record({event: 'following', counts: started.counts});
    else out.line(`${stamp()} following batch ${name} (${countsText(started) || 'no mailboxes'}): incremental passes run on its interval until it is completed; stop, resume, sync-now and complete from another shell reach this process`);
    await new Promise<void>((resolveDone) => {
      const check = () => {
        const snapshot = batch.getSnapshot();
        if (snapshot.completed) resolveDone();
      };
      const unsubscribe = batch.subscribe(check);
      const closeOriginal = batch.close;
      batch.close = async () => {
        unsubscribe();
        resolveDone();
        await closeOriginal();
      };
    });
  });
}

async function remote(out: Output, stateDir: string, name: string, action: 'stop' | 'resume', flags: Flags): Promise<number> {
  const mailboxes = flags.mailbox ?? [];
  const where = await sendBatchCommand(stateDir, name, {action, ...(mailboxes.length ? {mailboxes} : {})});
  const who = mailboxes.length ? mailboxes.join(', ') : 'all mailboxes';
  loggerFor(stateDir, name, flags).info(where === 'posted' ? `${action} sent to the running process` : `${action} recorded in the state`, {batch: name, mailboxes: who});
  if (where === 'posted') {
    if (action === 'stop') {
      const settled = await waitForStatuses(stateDir, name, mailboxes, (status) => status !== 'Stopping' && !ACTIVE.has(status), 60_000);
      out.done({action, mailboxes: who, applied: settled}, settled ? `stopped ${who}` : `stop requested for ${who}; the running process is still stopping them`);
    } else {
      out.done({action, mailboxes: who, posted: true}, `resume sent to the running process for ${who}`);
    }
  } else {
    out.done({action, mailboxes: who, applied: true}, action === 'stop' ? `marked ${who} Stopped` : `queued ${who}; run: mailferry batch start ${name}`);
  }
  return EXIT.ok;
}

const ACTIVE = new Set(['Starting', 'Syncing', 'IncrementalSyncing', 'Completing']);

async function waitForStatuses(stateDir: string, name: string, mailboxes: string[], ok: (status: string) => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const wanted = new Set(mailboxes.map((mailbox) => mailbox.toLowerCase()));
  while (Date.now() < deadline) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    const states = Object.entries((await BatchStore.summary(stateDir, name)).mailboxes).filter(([key]) => wanted.size === 0 || wanted.has(key));
    if (states.every(([, mailbox]) => ok(mailbox.status))) return true;
  }
  return false;
}

async function runOrPost(out: Output, stateDir: string, name: string, action: 'sync-now' | 'complete', flags: Flags): Promise<number> {
  const mailboxes = flags.mailbox ?? [];
  if (await BatchStore.runningPid(stateDir, name)) {
    await sendBatchCommand(stateDir, name, {action, ...(mailboxes.length ? {mailboxes} : {})});
    // Its passes are logged by the process that runs them (its own --log or the default file).
    loggerFor(stateDir, name, flags).info(`${action} sent to the running process`, {batch: name, ...(mailboxes.length ? {mailboxes} : {})});
    out.done({action, posted: true}, `${action} sent to the running process`);
    return EXIT.ok;
  }
  return runInForeground(out, stateDir, name, flags, async (batch) => {
    await batch.start();
    if (action === 'complete') {
      await batch.complete();
      return;
    }
    batch.syncNow(mailboxes);
    await batch.whenIdle();
  });
}

function printEvents(out: Output, batch: OpenedBatch): () => void {
  const folderLinesShown = new Set<string>();
  const offs = [
    batch.on('status', (event) => {
      if (out.json) out.record({event: 'status', ...event});
      else out.line(`${stamp()} ${event.emailAddress} ${event.from} -> ${event.to}${event.error ? `: ${formatError(event.error)}` : ''}`);
      // A pass that fails after planning the folders has still decided about them.
      if (event.to === 'Failed') printFolderOutcomes(out, batch, event.emailAddress, folderLinesShown);
    }),
    batch.on('retry', (event) => {
      if (out.json) out.record({event: 'retry', ...event});
      else out.line(`${stamp()} ${event.emailAddress} retry ${event.attempt} in ${Math.round(event.waitMs / 1000)} s: ${formatError(event.error)}`);
    }),
    batch.on('item-skipped', (event) => {
      if (out.json) out.record({event: 'item-skipped', ...event});
      else out.line(`${stamp()} ${event.emailAddress} skipped ${event.item.folder} UID ${event.item.uid}${event.item.count ? ` (+${event.item.count - 1} more)` : ''}: ${event.item.reason}`);
    }),
    batch.on('item-failed', (event) => {
      if (out.json) out.record({event: 'item-failed', ...event});
      else out.line(`${stamp()} ${event.emailAddress} failed ${event.item.folder} UID ${event.item.uid}: ${event.item.reason}`);
    }),
    batch.on('item-changed', (event) => {
      if (out.json) out.record({event: 'item-changed', ...event});
      else out.line(`${stamp()} ${event.emailAddress} changed in transit ${event.item.folder} UID ${event.item.uid}: ${event.item.reason}`);
    }),
    batch.on('membership', (event) => {
      if (out.json) out.record({event: 'membership', ...event});
      else if (event.added.length > 0) out.line(`${stamp()} added to the batch as Queued from ${event.csvPath}: ${event.added.join(', ')}`);
      else out.line(`${stamp()} removed from the batch (state only, no mail touched): ${event.removed.join(', ')}`);
    }),
    batch.on('pass-finished', (event) => {
      if (out.json) out.record({event: 'pass-finished', ...event});
      else out.line(`${stamp()} ${event.emailAddress} ${event.kind} pass done: ${event.copied} copied, ${event.flagsUpdated} flag updates, ${(event.ms / 1000).toFixed(1)} s`);
      printFolderOutcomes(out, batch, event.emailAddress, folderLinesShown);
    }),
  ];
  return () => offs.forEach((off) => off());
}

/**
 * The folders of a mailbox that were not migrated, renamed, or created for a special use, each
 * once per process (again only when its reason changes): nothing about a folder is silent.
 */
function printFolderOutcomes(out: Output, batch: OpenedBatch, emailAddress: string, shown: Set<string>): void {
  const detail = batch.getMailboxDetail(emailAddress);
  if (!detail) return;
  for (const row of folderRows(detail.emailAddress, detail.unmigratedFolders, detail.renamedFolders)) {
    const key = `${row.emailAddress}\u0000${row.outcome}\u0000${row.source}\u0000${row.target}\u0000${row.reason}`;
    if (shown.has(key)) continue;
    shown.add(key);
    if (out.json) out.record({event: 'folder', ...row});
    else if (row.outcome === 'not-migrated') out.line(`${stamp()} ${row.emailAddress} folder not migrated: ${row.source}: ${row.reason}`);
    else out.line(`${stamp()} ${row.emailAddress} folder ${row.source} -> ${row.target}: ${row.reason}`);
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function countsText(snapshot: BatchSnapshot): string {
  return Object.entries(snapshot.counts)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
}

function printProgress(out: Output, snapshot: BatchSnapshot): void {
  const {totals} = snapshot;
  if (out.json) {
    out.record({event: 'progress', counts: snapshot.counts, totals, messagesPerSecond: snapshot.messagesPerSecond, etaSeconds: snapshot.etaSeconds});
    return;
  }
  out.line(
    `${stamp()} progress: ${countsText(snapshot)}; ${totals.itemsDone}/${totals.itemsTotal} items, ${mb(totals.bytesDone)}/${mb(totals.bytesTotal)} MB, ` +
      `${snapshot.messagesPerSecond.toFixed(1)} msg/s${snapshot.etaSeconds !== undefined ? `, ETA ${snapshot.etaSeconds} s` : ''}`,
  );
}

function printSummary(out: Output, snapshot: BatchSnapshot): void {
  const {totals} = snapshot;
  if (out.json) {
    out.record({event: 'summary', counts: snapshot.counts, totals, lastSyncedAt: snapshot.lastSyncedAt});
    return;
  }
  out.line(
    `batch ${snapshot.name}: ${countsText(snapshot)}; ${totals.itemsDone}/${totals.itemsTotal} items copied, ${totals.itemsSkipped} skipped, ${totals.itemsFailed} failed, ${mb(totals.bytesDone)} MB`,
  );
}

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

async function list(out: Output, stateDir: string): Promise<number> {
  const batches = await listBatches(stateDir);
  if (out.json) {
    out.record({stateDir, batches});
    return batches.some((batch) => batch.error) ? EXIT.failed : EXIT.ok;
  }
  if (batches.length === 0) {
    out.line(`no batches in ${stateDir}; create one with: mailferry batch create NAME --csv FILE ...`);
    return EXIT.ok;
  }
  for (const batch of batches) {
    // A batch whose state cannot be read is not an empty batch: say why, and what to do.
    if (batch.error) {
      out.line(`${batch.name}\tstate cannot be read: ${batch.error}`);
      continue;
    }
    const counts = Object.entries(batch.counts).map(([status, count]) => `${status} ${count}`).join(', ');
    out.line(`${batch.name}\t${batch.mailboxes} mailbox(es)\t${counts}${batch.runningPid ? `\trunning (pid ${batch.runningPid})` : ''}\tupdated ${batch.updatedAt ?? '-'}`);
  }
  return batches.some((batch) => batch.error) ? EXIT.failed : EXIT.ok;
}

async function status(out: Output, stateDir: string, name: string): Promise<number> {
  // The head's summaries only: at 10,000 mailboxes, reading every mailbox's file would not do.
  const summary = await BatchStore.summary(stateDir, name);
  const report = {...summary, mailboxes: Object.values(summary.mailboxes).map((mailbox) => mailboxRow(mailbox))};
  const pid = await BatchStore.runningPid(stateDir, name);
  if (out.json) {
    out.record({batch: name, runningPid: pid ?? null, lastSyncedAt: report.lastSyncedAt ?? null, completedAt: report.completedAt ?? null, mailboxes: report.mailboxes});
  } else {
    out.line(`batch ${name}${pid ? ` (running, pid ${pid})` : ''}; last synced ${report.lastSyncedAt ?? 'never'}${report.completedAt ? `; completed ${report.completedAt}` : ''}`);
    for (const row of report.mailboxes) {
      out.line(
        `${row.emailAddress}\t${row.status}\t${row.itemsCopied}/${row.itemsTotal} items\t${row.itemsSkipped} skipped\t${row.itemsFailed} failed\t${mb(row.bytesCopied)} MB\tlast synced ${row.lastSyncedAt || '-'}${row.error ? `\t${row.error}` : ''}`,
      );
    }
  }
  return report.mailboxes.some((row) => row.status === 'Failed') ? EXIT.failed : EXIT.ok;
}

async function report(out: Output, stateDir: string, name: string, flags: Flags): Promise<number> {
  const store = await BatchStore.open(stateDir, name);
  const built = buildReport(store.state, await readVerifications(BatchStore.fileFor(stateDir, name)));
  await store.close();
  if (flags.out) {
    await mkdir(flags.out, {recursive: true});
    const files = {
      mailboxesCsv: join(flags.out, `${name}-mailboxes.csv`),
      itemsCsv: join(flags.out, `${name}-items.csv`),
      foldersCsv: join(flags.out, `${name}-folders.csv`),
      verifyCsv: join(flags.out, `${name}-verify.csv`),
      json: join(flags.out, `${name}-report.json`),
    };
    await writeFile(files.mailboxesCsv, toCsv(built.mailboxes, MAILBOX_COLUMNS));
    await writeFile(files.itemsCsv, toCsv(built.items, ITEM_COLUMNS));
    await writeFile(files.foldersCsv, toCsv(built.folders, FOLDER_COLUMNS));
    await writeFile(files.verifyCsv, toCsv(built.verifyDifferences, VERIFY_COLUMNS));
    await writeFile(files.json, JSON.stringify(built, null, 2) + '\n');
    out.done({report: files}, `wrote ${files.mailboxesCsv}, ${files.itemsCsv}, ${files.foldersCsv}, ${files.verifyCsv} and ${files.json}`);
    return EXIT.ok;
  }
  const format = flags.format ?? (flags.json ? 'json' : 'csv');
  if (format === 'json') out.line(JSON.stringify(built, null, 2));
  else if (format === 'csv') out.line(toCsv(built.mailboxes, MAILBOX_COLUMNS).trimEnd());
  else throw new FlagError(`--format must be csv or json (got "${format}")`);
  return EXIT.ok;
}
