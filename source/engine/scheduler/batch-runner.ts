// The scheduler behind BatchControl: which mailbox runs when, within the concurrency caps and the
// endpoints' connection budgets; retries with backoff; stop/resume/sync-now/complete; snapshots.
//
// Status rules (SPEC "Statuses"):
//   Queued -> Starting -> Syncing -> Synced -> IncrementalSyncing -> Synced ...
//   stop: (any active) -> Stopping -> Stopped; resume: Stopped|Failed -> Queued
//   complete: Synced -> Completing -> Completed (mailboxes still copying complete after their pass)
// An interrupted process (crash, kill, quit) leaves active statuses on disk; on the next start
// they are turned back into Queued (first pass unfinished) or Synced (incremental due now).

import {MigrationError, type ErrorInfo} from '../../imap/imap-error.js';
import type {Logger} from '../../log/logger.js';
import type {BatchStore} from '../../store/batch-store.js';
import {MAX_ERRORS, MAX_ITEMS, mailboxKey, pushRing, pushBounded, type MailboxState} from '../../store/state-schema.js';
import {AsyncSemaphore} from './async-semaphore.js';
import type {BatchControl} from '../batch-control.js';
import type {BatchDefinition, ErrorRecord, ItemRecord, MailboxStatus} from '../batch-model.js';
import type {BatchSnapshot, MailboxDetail} from './batch-snapshot.js';
import {TypedEmitter, type EngineEventName, type EngineListener} from '../engine-events.js';
import type {EngineBudgets, MailboxPassInput, PassSummary} from '../copy/mailbox-pass.js';
import {checkUnchanged} from '../copy/unchanged-check.js';
import {mailboxTotals} from '../../store/mailbox-totals.js';
import type {MigrationRow} from '../csv/migration-csv.js';
import type {PassKind, PassReporter} from '../copy/pass-context.js';
import {RateTracker} from './rate-tracker.js';
import type {ResolvedSecrets} from '../credentials/row-credentials.js';
import {loginCredentialsHint} from '../credentials/login-hint.js';
import {buildBatchSnapshot, MailboxRows} from './snapshot-builder.js';
import {MailboxVerifier} from '../verify/mailbox-verifier.js';
import {addRowsToState} from '../batch-membership.js';

export const DEFAULT_IN_FLIGHT_BYTES = 32 * 1024 * 1024;
const PUBLISH_INTERVAL_MS = 200;
const MAX_ATTEMPTS_WITHOUT_PROGRESS = 8;
const MAX_BACKOFF_MS = 5 * 60 * 1000;
const HISTORY_LENGTH = 60;
/** Statuses of a mailbox at work; see normalizeAfterRestart for what each becomes after a crash. */
const TRANSIENT_STATUSES: ReadonlySet<MailboxStatus> = new Set(['Starting', 'Syncing', 'IncrementalSyncing', 'Completing', 'Stopping']);

export interface RunnerOptions {
  store: BatchStore;
  /** CSV rows by lower-cased EmailAddress: the only place passwords are held. */
  rows: ReadonlyMap<string, MigrationRow>;
  /** Added CSVs that could not be read at open (path → reason): their mailboxes fail with it. */
  unreadableCsvs?: ReadonlyMap<string, string>;
  secrets: ResolvedSecrets;
  logger: Logger;
  /** Bytes of message bodies in flight across all mailboxes. */
  inFlightBytes?: number;
  /** Run incremental passes when their interval comes round (long-running mode). */
  follow?: boolean;
  /** Shortens backoff waits in tests of retry behaviour. */
  backoffScale?: number;
}

class StopRequested extends Error {
  constructor(readonly reason: 'stop' | 'close') {
    super(reason === 'stop' ? 'stopped by request' : 'interrupted: mailferry is closing');
    this.name = 'StopRequested';
  }
}

interface Runtime {
  kind: PassKind;
  abort: AbortController;
  done: Promise<void>;
  currentFolder?: string | undefined;
  retrying?: {attempt: number; nextAt: string} | undefined;
}

export class BatchRunner implements BatchControl {
  private readonly emitter = new TypedEmitter();
  private readonly listeners = new Set<() => void>();
  private readonly runtimes = new Map<string, Runtime>();
  private readonly rates = new Map<string, RateTracker>();
  private readonly syncNowRequests = new Set<string>();
  /** Rows by mailbox key; grows and shrinks with addMailboxes/removeMailboxes. */
  private readonly rows: Map<string, MigrationRow>;
  private readonly budgets: EngineBudgets;
  private readonly history: number[] = [];
  /** Rebuilds only the rows that may have changed (10,000 mailboxes publish 5 times a second). */
  private readonly mailboxRows = new MailboxRows();
  private snapshot: BatchSnapshot;
  private version = 0;
  private dirty = true;
  private started = false;
  private closing = false;
  /** Some mailbox has worked on a folder in this process: the source and the target answered. */
  private endpointsAnswered = false;
  private publishTimer: NodeJS.Timeout | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private lastHistoryAt = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly verifier: MailboxVerifier;

  constructor(private readonly options: RunnerOptions) {
    this.rows = new Map(options.rows);
    const {source, target} = options.store.state.batch;
    this.budgets = {
      bytes: new AsyncSemaphore(options.inFlightBytes ?? DEFAULT_IN_FLIGHT_BYTES),
      sourceConnections: new AsyncSemaphore(Math.max(1, source.maxConnections)),
      targetConnections: new AsyncSemaphore(Math.max(1, target.maxConnections)),
      runningPasses: {count: 0},
    };
    this.verifier = new MailboxVerifier({
      stateFile: options.store.file,
      definition: () => this.definition,
      mailbox: (key) => this.state.mailboxes[key],
      // The runner's own map: users added to the batch later are verified with their rows too.
      rows: this.rows,
      secrets: options.secrets,
      logger: options.logger,
      sourceConnections: this.budgets.sourceConnections,
      targetConnections: this.budgets.targetConnections,
      onChange: () => (this.dirty = true),
    });
    this.normalizeAfterRestart();
    this.snapshot = this.buildSnapshot();
  }

  get definition(): BatchDefinition {
    return this.options.store.state.batch;
  }

  private get state() {
    return this.options.store.state;
  }

  // ---- views ---------------------------------------------------------------------------------

  getSnapshot = (): BatchSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  on<K extends EngineEventName>(event: K, listener: EngineListener<K>): () => void {
    return this.emitter.on(event, listener);
  }

  getMailboxDetail(emailAddress: string): MailboxDetail | undefined {
    const mailbox = this.state.mailboxes[mailboxKey(emailAddress)];
    if (!mailbox) return undefined;
    return {
      emailAddress: mailbox.identity.emailAddress,
      folders: Object.entries(mailbox.folders).map(([source, folder]) => ({
        source,
        target: folder.target,
        total: folder.total,
        done: folder.doneCount,
        skipped: folder.skipped,
        failed: folder.failed,
        bytesDone: folder.bytesDone,
      })),
      skipped: [...mailbox.skipped],
      failed: [...mailbox.failed],
      changed: [...mailbox.changed],
      errors: [...mailbox.errors],
      unmigratedFolders: [...mailbox.unmigratedFolders],
      renamedFolders: [...mailbox.renamedFolders],
      droppedKeywords: mailbox.droppedKeywords.map((entry) => ({folder: entry.folder, keywords: [...entry.keywords]})),
      ...(mailbox.reconciled ? {reconciled: mailbox.reconciled.map((entry) => ({...entry, unmatchedListed: [...entry.unmatchedListed]}))} : {}),
      ...withVerification(this.verifier.lastVerification(mailboxKey(emailAddress))),
    };
  }

  verify(emailAddresses: readonly string[], options: {deep?: boolean} = {}): Promise<void> {
    return this.verifier.verify(this.selectKeys(emailAddresses), options.deep === true);
  }

  // ---- commands ------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.state.startedAt === undefined) {
      this.state.startedAt = new Date().toISOString();
      this.options.store.markDirty();
    }
    // A restart's status repairs and the first start time go to disk before any pass begins;
    // a start with nothing new (a sync-now, say) writes nothing.
    await this.options.store.flushIfDirty();
    this.publishTimer = setInterval(() => this.tick(), PUBLISH_INTERVAL_MS);
    this.publishTimer.unref();
    this.pump();
  }

  async stop(emailAddresses?: readonly string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const key of this.selectKeys(emailAddresses)) {
      const mailbox = this.state.mailboxes[key]!;
      this.syncNowRequests.delete(key);
      const runtime = this.runtimes.get(key);
      if (runtime) {
        this.setStatus(key, 'Stopping');
        runtime.abort.abort(new StopRequested('stop'));
        waits.push(runtime.done);
      } else if (mailbox.status === 'Queued' || mailbox.status === 'Synced') {
        this.setStatus(key, 'Stopped');
      }
    }
    await Promise.all(waits);
    this.publish();
    await this.options.store.flushNow();
  }

  resume(emailAddresses?: readonly string[]): void {
    for (const key of this.selectKeys(emailAddresses)) {
      const mailbox = this.state.mailboxes[key]!;
      if (mailbox.status !== 'Stopped' && mailbox.status !== 'Failed') continue;
      delete mailbox.error;
      this.setStatus(key, 'Queued');
    }
    this.pump();
  }

  syncNow(emailAddresses?: readonly string[]): void {
    for (const key of this.selectKeys(emailAddresses)) {
      if (this.state.mailboxes[key]!.status === 'Synced') this.syncNowRequests.add(key);
    }
    this.pump();
  }

  async complete(): Promise<void> {
    this.state.completeRequested = true;
    this.options.store.markDirty();
    await this.options.store.flushNow();
    this.dirty = true;
    this.pump();
    await this.whenIdle();
  }

  /**
   * New mailboxes (rows already validated, see batch-membership.ts) join the batch as Queued and
   * start when the caps allow. Rows already in the batch are left alone. Returns the keys added.
   */
  addMailboxes(csvPath: string, rows: readonly MigrationRow[]): string[] {
    const added = addRowsToState(this.state, csvPath, rows);
    if (added.length === 0) return added;
    for (const row of rows) {
      const key = mailboxKey(row.emailAddress);
      if (added.includes(key)) this.rows.set(key, row);
    }
    this.emitter.emit('membership', {added: added.map((key) => this.state.mailboxes[key]!.identity.emailAddress), removed: [], csvPath});
    this.afterMembershipChange();
    return added;
  }

  /** Takes mailboxes out of the batch (its state only, never mail); a working one is stopped first. Returns the keys removed. */
  async removeMailboxes(emailAddresses: readonly string[]): Promise<string[]> {
    // Exactly those listed: none listed removes none (unlike stop, where none means all).
    const keys = emailAddresses.map(mailboxKey).filter((key) => this.state.mailboxes[key]);
    const waits: Promise<void>[] = [];
    for (const key of keys) {
      this.syncNowRequests.delete(key);
      const runtime = this.runtimes.get(key);
      if (!runtime) continue;
      this.setStatus(key, 'Stopping');
      runtime.abort.abort(new StopRequested('stop'));
      waits.push(runtime.done);
    }
    await Promise.all(waits);
    const removed: string[] = [];
    for (const key of keys) {
      const mailbox = this.state.mailboxes[key];
      if (!mailbox || this.runtimes.has(key)) continue;
      removed.push(mailbox.identity.emailAddress);
      delete this.state.mailboxes[key];
      this.rows.delete(key);
      this.rates.delete(key);
    }
    if (removed.length > 0) {
      this.emitter.emit('membership', {added: [], removed});
      this.afterMembershipChange();
    }
    return removed.map(mailboxKey);
  }

  private afterMembershipChange(): void {
    this.dirty = true;
    this.updateBatchLastSynced();
    void this.options.store.flushNow().catch((error: unknown) => {
      this.options.logger.error('could not write the state file', {error: String(error)});
    });
    this.publish();
    this.pump();
  }

  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    const waits: Promise<void>[] = [];
    for (const runtime of this.runtimes.values()) {
      runtime.abort.abort(new StopRequested('close'));
      waits.push(runtime.done);
    }
    await Promise.all(waits);
    await this.verifier.close();
    if (this.publishTimer) clearInterval(this.publishTimer);
    this.publish();
    // Every pass ends in a status change, which is written at once: wait for that write rather
    // than repeat it.
    await this.options.store.flushIfDirty();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Mailboxes working now (for the quit confirmation). */
  get activeCount(): number {
    return this.runtimes.size;
  }

  // ---- scheduling ----------------------------------------------------------------------------

  private selectKeys(emailAddresses?: readonly string[]): string[] {
    if (!emailAddresses || emailAddresses.length === 0) return Object.keys(this.state.mailboxes);
    return emailAddresses.map(mailboxKey).filter((key) => this.state.mailboxes[key]);
  }

  private normalizeAfterRestart(): void {
    for (const [key, mailbox] of Object.entries(this.state.mailboxes)) {
      const before = mailbox.status;
      if (before === 'Starting' || before === 'Syncing') mailbox.status = 'Queued';
      else if (before === 'IncrementalSyncing' || before === 'Completing') mailbox.status = 'Synced';
      else if (before === 'Stopping') mailbox.status = 'Stopped';
      if (mailbox.status !== before) this.options.store.markDirty(key);
    }
  }

  private isIdle(): boolean {
    if (this.runtimes.size > 0) return false;
    if (!this.started) return true;
    for (const [key, mailbox] of Object.entries(this.state.mailboxes)) {
      if (mailbox.status === 'Queued') return false;
      if (mailbox.status === 'Synced' && (this.syncNowRequests.has(key) || this.state.completeRequested)) return false;
    }
    return true;
  }

  private passKindFor(key: string, mailbox: MailboxState): PassKind | undefined {
    const finished = mailbox.stats.initialSyncMs !== undefined;
    if (mailbox.status === 'Queued') {
      if (!finished) return 'initial';
      return this.state.completeRequested ? 'final' : 'incremental';
    }
    if (mailbox.status !== 'Synced') return undefined;
    if (this.state.completeRequested) return 'final';
    if (this.syncNowRequests.has(key)) return 'incremental';
    if (this.options.follow && this.dueAt(mailbox) <= Date.now()) return 'incremental';
    return undefined;
  }

  private dueAt(mailbox: MailboxState): number {
    const last = mailbox.stats.lastSyncedAt ? Date.parse(mailbox.stats.lastSyncedAt) : 0;
    return last + this.definition.settings.incrementalIntervalMs;
  }

  private pump(): void {
    if (!this.started || this.closing) return;
    const {maxConcurrentMigrations, maxConcurrentIncrementalSyncs} = this.definition.settings;
    let initial = 0;
    let incremental = 0;
    for (const runtime of this.runtimes.values()) {
      if (runtime.kind === 'initial') initial++;
      else incremental++;
    }
    for (const [key, mailbox] of Object.entries(this.state.mailboxes)) {
      if (this.runtimes.has(key)) continue;
      const kind = this.passKindFor(key, mailbox);
      if (!kind) continue;
      if (kind === 'initial') {
        if (initial >= maxConcurrentMigrations) continue;
        initial++;
      } else {
        if (incremental >= maxConcurrentIncrementalSyncs) continue;
        incremental++;
      }
      this.launch(key, kind);
    }
    this.armDueTimer();
    if (this.isIdle()) {
      this.maybeMarkCompleted();
      // Whoever waits for idle reads the snapshot next: make it the final picture.
      if (this.idleWaiters.length > 0) this.publish();
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private armDueTimer(): void {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = undefined;
    if (!this.options.follow || this.state.completeRequested) return;
    let next = Infinity;
    for (const mailbox of Object.values(this.state.mailboxes)) {
      if (mailbox.status === 'Synced') next = Math.min(next, this.dueAt(mailbox));
    }
    if (next === Infinity) return;
    // setTimeout overflows past ~24.8 days; re-arming at most hourly also absorbs clock jumps.
    const wait = Math.min(Math.max(0, next - Date.now()), 60 * 60 * 1000);
    this.dueTimer = setTimeout(() => this.pump(), wait);
  }

  private maybeMarkCompleted(): void {
    if (!this.state.completeRequested || this.state.completedAt) return;
    const open = Object.values(this.state.mailboxes).some((mailbox) => mailbox.status === 'Synced' || mailbox.status === 'Queued');
    if (open) return;
    this.state.completedAt = new Date().toISOString();
    this.options.store.markDirty();
    this.dirty = true;
  }

  private launch(key: string, kind: PassKind): void {
    this.syncNowRequests.delete(key);
    const runtime: Runtime = {kind, abort: new AbortController(), done: Promise.resolve()};
    this.runtimes.set(key, runtime);
    // A pass that starts and ends between two publications still gets its row rebuilt.
    this.mailboxRows.touch(key);
    runtime.done = this.runMailbox(key, runtime)
      .catch((error: unknown) => {
        this.options.logger.error('mailbox runner crashed', {mailbox: key, error: String(error)});
      })
      .finally(() => {
        this.runtimes.delete(key);
        this.mailboxRows.touch(key);
        this.dirty = true;
        this.pump();
      });
  }

  private async runMailbox(key: string, runtime: Runtime): Promise<void> {
    const mailbox = this.state.mailboxes[key]!;
    const row = this.rows.get(key);
    const {kind} = runtime;
    this.setStatus(key, kind === 'initial' ? 'Starting' : kind === 'final' ? 'Completing' : 'IncrementalSyncing');
    if (!row) {
      const csvPath = mailbox.identity.csvPath ?? this.definition.csvPath;
      const unreadable = this.options.unreadableCsvs?.get(csvPath);
      this.fail(key, new MigrationError({
        kind: 'config',
        message: unreadable
          ? `${mailbox.identity.emailAddress}: its passwords cannot be read: ${unreadable}`
          : `${mailbox.identity.emailAddress} is no longer in the migration CSV (${csvPath})`,
        hint: 'put the row back (its passwords are read from the CSV on every start) or remove the mailbox from the batch',
        mailbox: mailbox.identity.emailAddress,
        retryable: false,
      }));
      return;
    }
    if (kind === 'initial') mailbox.stats.startedAt ??= new Date().toISOString();
    const rate = this.rateFor(key);
    rate.reset();
    let attempt = 0;
    for (;;) {
      const appendsBefore = mailbox.stats.appendCount;
      const passStarted = Date.now();
      try {
        const summary = await runPass({
          kind,
          batch: this.definition,
          state: mailbox,
          row,
          secrets: this.options.secrets,
          budgets: this.budgets,
          logger: this.options.logger,
          report: this.reporterFor(key, runtime),
          signal: runtime.abort.signal,
        });
        const now = new Date().toISOString();
        mailbox.stats.lastSyncedAt = now;
        mailbox.stats.passes++;
        mailbox.stats.flagUpdates += summary.flagsUpdated;
        if (kind === 'initial') mailbox.stats.initialSyncMs = Date.now() - Date.parse(mailbox.stats.startedAt ?? now);
        delete mailbox.error;
        this.updateBatchLastSynced();
        this.emitter.emit('pass-finished', {emailAddress: mailbox.identity.emailAddress, kind, copied: summary.copied, flagsUpdated: summary.flagsUpdated, ms: Date.now() - passStarted});
        this.setStatus(key, kind === 'final' ? 'Completed' : 'Synced');
        return;
      } catch (error) {
        const stop = runtime.abort.signal.aborted ? (runtime.abort.signal.reason as unknown) : undefined;
        if (stop instanceof StopRequested) {
          // A closing process leaves the mailbox to continue next time; a stop keeps it stopped.
          if (stop.reason === 'stop') this.setStatus(key, 'Stopped');
          else this.setStatus(key, mailbox.stats.initialSyncMs === undefined ? 'Queued' : 'Synced');
          return;
        }
        const failure = withLoginHint(toMigrationError(error, mailbox.identity.emailAddress), this.definition);
        const record = this.recordError(key, failure);
        if (mailbox.stats.appendCount > appendsBefore) attempt = 0;
        attempt++;
        // A refused connection or a missing greeting is what a restarting server looks like;
        // a few tries tell that apart from a wrong host without stalling a bad batch for long.
        // Once a mailbox of this run has worked on a folder, both servers were there: a refusal
        // now is a restart, retried like a lost connection (the fault campaign's refusals of a
        // few seconds failed mailboxes whose earlier cuts had used up the three tries), and an
        // answer our parser cannot read (an endless line mid-FETCH) a glitch worth a new session.
        const unreachable = failure.kind === 'connect' || failure.kind === 'greeting';
        const glitch = failure.kind === 'protocol' && this.endpointsAnswered;
        // A server stopped in the middle of a login may refuse it as if the password were wrong
        // (Dovecot answers AUTHENTICATIONFAILED when its auth process goes down mid-request) and
        // accept it a moment later: a refused login is tried once more. A wrong password is
        // refused twice, well within the usual lockout thresholds.
        const refusedLogin = failure.kind === 'auth' && /\bAUTHENTICATIONFAILED\b/i.test(failure.serverText ?? '') && attempt <= 1;
        const transient = failure.retryable || glitch || refusedLogin || (unreachable && (attempt <= 3 || this.endpointsAnswered));
        if (!transient || (failure.kind !== 'throttled' && attempt > MAX_ATTEMPTS_WITHOUT_PROGRESS)) {
          this.fail(key, failure, record);
          return;
        }
        const wait = this.backoff(failure, attempt);
        runtime.retrying = {attempt, nextAt: new Date(Date.now() + wait).toISOString()};
        runtime.currentFolder = undefined;
        this.dirty = true;
        if (failure.kind === 'throttled') {
          this.emitter.emit('throttled', {
            emailAddress: mailbox.identity.emailAddress,
            endpoint: failure.endpoint ?? 'target',
            waitMs: wait,
            ...(failure.serverText ? {serverText: failure.serverText} : {}),
          });
        }
        this.emitter.emit('retry', {emailAddress: mailbox.identity.emailAddress, attempt, waitMs: wait, error: record});
        this.options.logger.warn('retrying mailbox after a transient error', {mailbox: key, attempt, waitMs: wait, error: failure.message});
        const interrupted = await sleep(wait, runtime.abort.signal);
        runtime.retrying = undefined;
        if (interrupted) continue; // the catch above sees the abort on the next turn
        if (kind === 'initial') this.setStatus(key, 'Starting');
      }
    }
  }

  private backoff(error: MigrationError, attempt: number): number {
    const scale = this.options.backoffScale ?? 1;
    if (error.kind === 'throttled' && error.retryAfterMs) return Math.min(error.retryAfterMs, MAX_BACKOFF_MS) * scale;
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (attempt - 1));
    return Math.round((base / 2 + Math.random() * (base / 2)) * scale);
  }

  private reporterFor(key: string, runtime: Runtime): PassReporter {
    const mailbox = this.state.mailboxes[key]!;
    const emailAddress = mailbox.identity.emailAddress;
    return {
      progress: () => {
        this.dirty = true;
        this.options.store.markDirty(key);
      },
      currentFolder: (path) => {
        runtime.currentFolder = path;
        if (path !== undefined) this.endpointsAnswered = true;
        if (path !== undefined && mailbox.status === 'Starting') this.setStatus(key, 'Syncing');
        this.dirty = true;
        if (path !== undefined) {
          const folder = mailbox.folders[path];
          if (folder) this.emitter.emit('folder-progress', {emailAddress, folder: path, done: folder.doneCount, total: folder.total});
        }
      },
      skipped: (item: ItemRecord) => {
        if (!pushBounded(mailbox.skipped, item, MAX_ITEMS)) mailbox.skippedOverflow++;
        this.emitter.emit('item-skipped', {emailAddress, item});
        this.dirty = true;
        this.options.store.markDirty(key);
      },
      failed: (item: ItemRecord) => {
        if (!pushBounded(mailbox.failed, item, MAX_ITEMS)) mailbox.failedOverflow++;
        this.emitter.emit('item-failed', {emailAddress, item});
        this.dirty = true;
        this.options.store.markDirty(key);
      },
      changed: (item: ItemRecord) => {
        if (!pushBounded(mailbox.changed, item, MAX_ITEMS)) mailbox.changedOverflow++;
        this.emitter.emit('item-changed', {emailAddress, item});
        this.dirty = true;
        this.options.store.markDirty(key);
      },
      markDirty: () => {
        this.dirty = true;
        this.options.store.markDirty(key);
      },
      // The pass changed its mailbox (an inProgress mark, a resized UID) and needs it on disk.
      flushNow: () => this.options.store.flushNow(key),
    };
  }

  private recordError(key: string, error: MigrationError): ErrorRecord {
    const mailbox = this.state.mailboxes[key]!;
    const record: ErrorRecord = {...error.toJSON(), at: new Date().toISOString()};
    pushRing(mailbox.errors, record, MAX_ERRORS);
    mailbox.error = record;
    this.options.store.markDirty(key);
    this.emitter.emit('error', {emailAddress: mailbox.identity.emailAddress, error: record});
    this.options.logger.error(error.message, {mailbox: key, kind: error.kind, folder: error.folder, serverText: error.serverText, hint: error.hint});
    this.dirty = true;
    return record;
  }

  private fail(key: string, error: MigrationError, record?: ErrorRecord): void {
    const saved = record ?? this.recordError(key, error);
    this.setStatus(key, 'Failed', saved);
  }

  private setStatus(key: string, to: MailboxStatus, error?: ErrorRecord): void {
    const mailbox = this.state.mailboxes[key]!;
    const from = mailbox.status;
    if (from === to) return;
    mailbox.status = to;
    this.options.store.markDirty(key);
    this.emitter.emit('status', {emailAddress: mailbox.identity.emailAddress, from, to, ...(error ? {error} : {})});
    this.dirty = true;
    if (TRANSIENT_STATUSES.has(to)) {
      // A restart turns these back into Queued, Synced or Stopped (normalizeAfterRestart), so a
      // crash cannot make them matter; other processes see them within the flush interval.
      this.options.store.markDirty(key);
      return;
    }
    if (from === 'IncrementalSyncing' && to === 'Synced' && this.runtimes.size > 1) {
      // On disk the mailbox is Synced already (or IncrementalSyncing, read back as Synced): a
      // crash before the next write costs only an earlier next pass. Left to the last pass
      // still running (or the flush timer), a batch of thousands is not rewritten whole, with
      // two fsyncs, for every mailbox that checks in.
      this.options.store.markDirty(key);
      return;
    }
    // Settled statuses are written at once: they are what an admin reads after a crash.
    void this.options.store.flushNow().catch((flushError: unknown) => {
      this.options.logger.error('could not write the state file', {error: String(flushError)});
    });
  }

  private updateBatchLastSynced(): void {
    let oldest: string | undefined;
    for (const mailbox of Object.values(this.state.mailboxes)) {
      const last = mailbox.stats.lastSyncedAt;
      if (!last) return;
      if (!oldest || last < oldest) oldest = last;
    }
    if (oldest && oldest !== this.state.lastSyncedAt) {
      this.state.lastSyncedAt = oldest;
      this.options.store.markDirty();
    }
  }

  private rateFor(key: string): RateTracker {
    let rate = this.rates.get(key);
    if (!rate) {
      rate = new RateTracker();
      this.rates.set(key, rate);
    }
    return rate;
  }

  // ---- snapshots -----------------------------------------------------------------------------

  private tick(): void {
    const now = Date.now();
    for (const [key] of this.runtimes) {
      const mailbox = this.state.mailboxes[key]!;
      const totals = mailboxTotals(mailbox);
      this.rateFor(key).sample(now, totals.itemsDone, totals.bytesDone);
    }
    if (now - this.lastHistoryAt >= 1000) {
      this.lastHistoryAt = now;
      let rate = 0;
      for (const key of this.runtimes.keys()) rate += this.rateFor(key).itemsPerSecond;
      this.history.push(Math.round(rate * 10) / 10);
      if (this.history.length > HISTORY_LENGTH) this.history.shift();
      if (this.runtimes.size > 0) this.dirty = true;
    }
    if (this.dirty) this.publish();
  }

  private publish(): void {
    this.dirty = false;
    this.snapshot = this.buildSnapshot();
    for (const listener of this.listeners) listener();
  }

  private buildSnapshot(): BatchSnapshot {
    const mailboxes = this.mailboxRows.build(
      this.state.mailboxes,
      (key) => {
        const runtime = this.runtimes.get(key);
        return runtime ? {currentFolder: runtime.currentFolder, retrying: runtime.retrying, rate: this.rates.get(key)} : undefined;
      },
      (key) => this.verifier.progressOf(key),
    );
    this.version++;
    return buildBatchSnapshot(this.state, mailboxes, {
      version: this.version,
      running: this.runtimes.size > 0,
      throughputHistory: [...this.history],
    });
  }
}

function withVerification(verification: MailboxDetail['verification']): Pick<MailboxDetail, 'verification'> {
  return verification ? {verification} : {};
}

/** An auth error, told which credentials were refused and how to go on once they are fixed. */
function withLoginHint(error: MigrationError, batch: BatchDefinition): MigrationError {
  if (error.kind !== 'auth' || !error.endpoint) return error;
  const used = loginCredentialsHint(batch, error.endpoint);
  if (!used) return error;
  const resume = `Then resume the mailbox (mailferry batch resume ${batch.name}${error.mailbox ? ` --mailbox ${error.mailbox}` : ''}) and start the batch again.`;
  return new MigrationError({...error.toJSON(), hint: `${used}: check that one. ${error.hint} ${resume}`}, {cause: error.cause});
}

function toMigrationError(error: unknown, mailbox: string): MigrationError {
  if (error instanceof MigrationError) return error.mailbox ? error : error.withContext({mailbox});
  const info: ErrorInfo = {
    kind: 'internal',
    message: `unexpected error: ${error instanceof Error ? error.message : String(error)}`,
    hint: 'this is a bug in mailferry; the log file has details. Resume the mailbox to try again',
    mailbox,
    retryable: false,
  };
  return new MigrationError(info, {cause: error});
}

/** Resolves true when the wait was cut short by the signal. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, {once: true});
  });
}

/**
 * Most incremental passes find nothing to do and one LIST per side can tell (unchanged-check.ts).
 * The full pass is loaded only when needed: a no-change run then loads 40 of our modules, not 52
 * (the copy paths behind mailbox-pass.ts).
 */
async function runPass(input: MailboxPassInput): Promise<PassSummary> {
  const started = Date.now();
  const unchanged = await checkUnchanged(input);
  if (unchanged) return {copied: 0, alreadyPresent: 0, flagsUpdated: 0, folders: unchanged.folders, ms: Date.now() - started};
  const {runMailboxPass} = await import('../copy/mailbox-pass.js');
  return runMailboxPass(input);
}
