// Turns persisted state plus live runtime facts (current folder, retry timers, rates) into the
// immutable BatchSnapshot the UI and headless status read.

import type {BatchState, MailboxState} from '../../store/state-schema.js';
import {MAILBOX_STATUSES, type MailboxStatus} from '../batch-model.js';
import type {BatchSnapshot, MailboxSnapshot} from './batch-snapshot.js';
import {mailboxTotals} from '../../store/mailbox-totals.js';
import type {RateTracker} from './rate-tracker.js';

export interface LiveMailboxFacts {
  currentFolder?: string | undefined;
  retrying?: {attempt: number; nextAt: string} | undefined;
  rate?: RateTracker | undefined;
}

export function emptyCounts(): Record<MailboxStatus, number> {
  return Object.fromEntries(MAILBOX_STATUSES.map((status) => [status, 0])) as Record<MailboxStatus, number>;
}

export function buildMailboxSnapshot(state: MailboxState, live: LiveMailboxFacts | undefined): MailboxSnapshot {
  const totals = mailboxTotals(state);
  const messagesPerSecond = live?.rate?.itemsPerSecond ?? 0;
  const bytesPerSecond = live?.rate?.bytesPerSecond ?? 0;
  const remaining = Math.max(0, totals.itemsTotal - totals.itemsDone - totals.itemsSkipped - totals.itemsFailed);
  const snapshot: MailboxSnapshot = {
    emailAddress: state.identity.emailAddress,
    userName: state.identity.userName,
    status: state.status,
    ...totals,
    messagesPerSecond,
    bytesPerSecond,
    errorCount: state.errors.length,
    ...(live?.currentFolder ? {currentFolder: live.currentFolder} : {}),
    ...(messagesPerSecond > 0 && remaining > 0 ? {etaSeconds: Math.round(remaining / messagesPerSecond)} : {}),
    ...(state.error ? {lastError: state.error} : {}),
    ...(live?.retrying ? {retrying: live.retrying} : {}),
    ...(state.stats.startedAt ? {startedAt: state.stats.startedAt} : {}),
    ...(state.stats.lastSyncedAt ? {lastSyncedAt: state.stats.lastSyncedAt} : {}),
    ...(state.stats.initialSyncMs !== undefined ? {initialSyncMs: state.stats.initialSyncMs} : {}),
  };
  return snapshot;
}

export function buildBatchSnapshot(
  batch: BatchState,
  mailboxes: readonly MailboxSnapshot[],
  extra: {version: number; running: boolean; throughputHistory: readonly number[]},
): BatchSnapshot {
  const counts = emptyCounts();
  const totals = {mailboxes: mailboxes.length, itemsDone: 0, itemsTotal: 0, itemsSkipped: 0, itemsFailed: 0, bytesDone: 0, bytesTotal: 0};
  let messagesPerSecond = 0;
  let bytesPerSecond = 0;
  let oldestSync: string | undefined;
  let allSynced = mailboxes.length > 0;
  for (const mailbox of mailboxes) {
    counts[mailbox.status]++;
    totals.itemsDone += mailbox.itemsDone;
    totals.itemsTotal += mailbox.itemsTotal;
    totals.itemsSkipped += mailbox.itemsSkipped;
    totals.itemsFailed += mailbox.itemsFailed;
    totals.bytesDone += mailbox.bytesDone;
    totals.bytesTotal += mailbox.bytesTotal;
    messagesPerSecond += mailbox.messagesPerSecond;
    bytesPerSecond += mailbox.bytesPerSecond;
    if (!mailbox.lastSyncedAt) allSynced = false;
    else if (!oldestSync || mailbox.lastSyncedAt < oldestSync) oldestSync = mailbox.lastSyncedAt;
  }
  const remaining = Math.max(0, totals.itemsTotal - totals.itemsDone - totals.itemsSkipped - totals.itemsFailed);
  return {
    name: batch.batch.name,
    version: extra.version,
    at: new Date().toISOString(),
    running: extra.running,
    completing: Boolean(batch.completeRequested) && !batch.completedAt,
    completed: Boolean(batch.completedAt),
    counts,
    totals,
    messagesPerSecond,
    bytesPerSecond,
    throughputHistory: extra.throughputHistory,
    ...(messagesPerSecond > 0 && remaining > 0 ? {etaSeconds: Math.round(remaining / messagesPerSecond)} : {}),
    ...(allSynced && oldestSync ? {lastSyncedAt: oldestSync} : batch.lastSyncedAt ? {lastSyncedAt: batch.lastSyncedAt} : {}),
    mailboxes,
  };
}

/** What a mailbox's row was built from, besides its folders and live facts (see MailboxRows). */
interface RowEntry {
  state: MailboxState;
  row: MailboxSnapshot;
  /** Built while a pass ran: rates and the current folder came from it. */
  live: boolean;
  status: MailboxStatus;
  error: MailboxState['error'];
  errorCount: number;
  emailAddress: string;
  userName: string;
  startedAt: string | undefined;
  lastSyncedAt: string | undefined;
  initialSyncMs: number | undefined;
  verifying: string | undefined;
  built: number;
}

/**
 * The rows of a batch's snapshots, rebuilt only for mailboxes that may have changed. A full build
 * sums every folder of every mailbox (10,000 mailboxes of 30 folders: ~90 ms per publication, 5
 * times a second, on the UI's thread); here a row is rebuilt when a pass runs or ran on the
 * mailbox since the last build (folder counts move only inside passes), or when a field it shows
 * that a command can change without a pass (status, error, identity, sync times, verification)
 * differs. An unchanged row keeps its object, so the UI can tell unchanged rows by identity.
 */
export class MailboxRows {
  private readonly entries = new Map<string, RowEntry>();
  private readonly touched = new Set<string>();
  private builds = 0;

  /** A pass starts or ends on this mailbox: rebuild its row next time whatever it looks like. */
  touch(key: string): void {
    this.touched.add(key);
  }

  /**
   * Rows in the state's order. `live` gives a running pass's facts (undefined when no pass
   * runs on the mailbox), `verifying` a verification's progress.
   */
  build(
    mailboxes: Readonly<Record<string, MailboxState>>,
    live: (key: string) => LiveMailboxFacts | undefined,
    verifying: (key: string) => string | undefined,
  ): MailboxSnapshot[] {
    const build = ++this.builds;
    const rows: MailboxSnapshot[] = [];
    for (const key of Object.keys(mailboxes)) {
      const state = mailboxes[key]!;
      const facts = live(key);
      const progress = verifying(key);
      let entry = this.entries.get(key);
      if (!entry || facts !== undefined || entry.live || this.touched.has(key) || !sameInputs(entry, state, progress)) {
        const built = buildMailboxSnapshot(state, facts);
        entry = {
          state,
          row: progress === undefined ? built : {...built, verifying: progress},
          live: facts !== undefined,
          status: state.status,
          error: state.error,
          errorCount: state.errors.length,
          emailAddress: state.identity.emailAddress,
          userName: state.identity.userName,
          startedAt: state.stats.startedAt,
          lastSyncedAt: state.stats.lastSyncedAt,
          initialSyncMs: state.stats.initialSyncMs,
          verifying: progress,
          built: build,
        };
        this.entries.set(key, entry);
      } else {
        entry.built = build;
      }
      rows.push(entry.row);
    }
    this.touched.clear();
    // Mailboxes removed from the batch.
    if (this.entries.size > rows.length) {
      for (const [key, entry] of this.entries) if (entry.built !== build) this.entries.delete(key);
    }
    return rows;
  }
}

function sameInputs(entry: RowEntry, state: MailboxState, verifying: string | undefined): boolean {
  return (
    entry.state === state &&
    entry.status === state.status &&
    entry.error === state.error &&
    entry.errorCount === state.errors.length &&
    entry.emailAddress === state.identity.emailAddress &&
    entry.userName === state.identity.userName &&
    entry.startedAt === state.stats.startedAt &&
    entry.lastSyncedAt === state.stats.lastSyncedAt &&
    entry.initialSyncMs === state.stats.initialSyncMs &&
    entry.verifying === verifying
  );
}
