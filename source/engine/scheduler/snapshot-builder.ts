// Turns persisted state plus live runtime facts (current folder, retry timers, rates) into the
// immutable BatchSnapshot the UI and headless status read.

import type {BatchState, MailboxState} from '../../store/state-schema.js';
import {MAILBOX_STATUSES, type MailboxStatus} from '../batch-model.js';
import type {BatchSnapshot, MailboxSnapshot} from './batch-snapshot.js';
import {mailboxTotals} from './mailbox-totals.js';
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
