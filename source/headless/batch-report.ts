// Per-mailbox statistics and the skipped/failed item list of a batch, as CSV and JSON, for the
// admin's records and for scripts that decide whether a batch may be completed.

import type {BatchState, ReconcileRecord} from '../store/state-schema.js';
import {summaryOf, type MailboxSummary} from '../store/sharded-state.js';
import {mailboxKey} from '../store/state-schema.js';
import type {MailboxVerification} from '../store/verification-records.js';
import {verifyColumns, verifyRows, type VerifyReportRow} from './verify-report.js';

export interface MailboxReportRow {
  emailAddress: string;
  userName: string;
  status: string;
  itemsTotal: number;
  itemsCopied: number;
  itemsSkipped: number;
  itemsFailed: number;
  bytesTotal: number;
  bytesCopied: number;
  startedAt: string;
  initialSyncSeconds: number | '';
  messagesPerSecond: number | '';
  lastSyncedAt: string;
  passes: number;
  error: string;
  /** The last `batch verify` (verify-report.ts): when, its score, consistent yes/no; '' if never. */
  verifiedAt: string;
  verifyScore: number | '';
  verifyConsistent: 'yes' | 'no' | '';
}

export interface ItemReportRow {
  emailAddress: string;
  /** changed: copied, but not byte for byte (the reason says how). */
  outcome: 'skipped' | 'failed' | 'changed';
  folder: string;
  uid: number;
  count: number;
  size: number;
  date: string;
  subject: string;
  reason: string;
}

/**
 * One folder that was not migrated as it is: not migrated at all (with the reason), created under
 * another name, or a special-use folder and how it was created on the target.
 */
export interface FolderReportRow {
  emailAddress: string;
  outcome: 'not-migrated' | 'renamed' | 'special-use';
  source: string;
  /** empty for a folder that was not migrated */
  target: string;
  specialUse: string;
  reason: string;
}

export interface BatchReport {
  batch: string;
  generatedAt: string;
  lastSyncedAt?: string;
  completedAt?: string;
  mailboxes: MailboxReportRow[];
  items: ItemReportRow[];
  /** Items beyond the per-mailbox list limit, counted but not listed. */
  unlistedItems: number;
  /** Every folder not migrated, renamed, or created for a special use, per mailbox. */
  folders: FolderReportRow[];
  /** Folders compared with an already-filled target (message-key.ts): how its messages matched. */
  reconciled: Array<ReconcileRecord & {emailAddress: string}>;
  /** The last verification of each mailbox that has one, and its listed differences as rows. */
  verifications: MailboxVerification[];
  verifyDifferences: VerifyReportRow[];
}

/** A mailbox's row, from what the state head keeps of it (also all `batch status` reads). */
export function mailboxRow(summary: MailboxSummary, verification?: MailboxVerification): MailboxReportRow {
  const totals = summary.totals;
  const seconds = summary.stats.initialSyncMs === undefined ? '' : Math.round(summary.stats.initialSyncMs / 100) / 10;
  return {
    emailAddress: summary.emailAddress,
    userName: summary.userName,
    status: summary.status,
    itemsTotal: totals.itemsTotal,
    itemsCopied: totals.itemsDone,
    itemsSkipped: totals.itemsSkipped,
    itemsFailed: totals.itemsFailed,
    bytesTotal: totals.bytesTotal,
    bytesCopied: totals.bytesDone,
    startedAt: summary.stats.startedAt ?? '',
    initialSyncSeconds: seconds,
    messagesPerSecond: seconds === '' || seconds === 0 ? '' : Math.round((totals.itemsDone / seconds) * 10) / 10,
    lastSyncedAt: summary.stats.lastSyncedAt ?? '',
    passes: summary.stats.passes,
    error: summary.error ? `${summary.error.message}${summary.error.hint ? ` — ${summary.error.hint}` : ''}` : '',
    ...verifyColumns(verification),
  };
}

/** The folder rows of one mailbox (also printed by `batch start` as passes finish). */
export function folderRows(
  emailAddress: string,
  unmigrated: readonly {source: string; reason: string}[],
  renamed: readonly {source: string; target: string; reason: string; specialUse?: string}[],
): FolderReportRow[] {
  return [
    ...unmigrated.map((folder) => ({emailAddress, outcome: 'not-migrated' as const, source: folder.source, target: '', specialUse: '', reason: folder.reason})),
    ...renamed.map((folder) => ({
      emailAddress,
      outcome: folder.specialUse ? ('special-use' as const) : ('renamed' as const),
      source: folder.source,
      target: folder.target,
      specialUse: folder.specialUse ?? '',
      reason: folder.reason,
    })),
  ];
}

export function buildReport(state: BatchState, verifications: ReadonlyMap<string, MailboxVerification> = new Map()): BatchReport {
  const mailboxes: MailboxReportRow[] = [];
  const items: ItemReportRow[] = [];
  const folders: FolderReportRow[] = [];
  const reconciled: BatchReport['reconciled'] = [];
  let unlistedItems = 0;
  for (const mailbox of Object.values(state.mailboxes)) {
    mailboxes.push(mailboxRow(summaryOf(mailbox), verifications.get(mailboxKey(mailbox.identity.emailAddress))));
    for (const [outcome, list] of [['skipped', mailbox.skipped], ['failed', mailbox.failed], ['changed', mailbox.changed ?? []]] as const) {
      for (const item of list) {
        items.push({
          emailAddress: mailbox.identity.emailAddress,
          outcome,
          folder: item.folder,
          uid: item.uid,
          count: item.count ?? 1,
          size: item.size,
          date: item.date ?? '',
          subject: item.subject ?? '',
          reason: item.reason,
        });
      }
    }
    unlistedItems += mailbox.skippedOverflow + mailbox.failedOverflow + (mailbox.changedOverflow ?? 0);
    folders.push(...folderRows(mailbox.identity.emailAddress, mailbox.unmigratedFolders, mailbox.renamedFolders));
    for (const entry of mailbox.reconciled ?? []) reconciled.push({emailAddress: mailbox.identity.emailAddress, ...entry});
  }
  return {
    batch: state.batch.name,
    generatedAt: new Date().toISOString(),
    ...(state.lastSyncedAt ? {lastSyncedAt: state.lastSyncedAt} : {}),
    ...(state.completedAt ? {completedAt: state.completedAt} : {}),
    mailboxes,
    items,
    unlistedItems,
    folders,
    reconciled,
    verifications: [...verifications.values()],
    verifyDifferences: [...verifications.values()].flatMap(verifyRows),
  };
}

/** RFC 4180 CSV: quote fields with a delimiter, quote or line break; CRLF line ends. */
export function toCsv<T extends object>(rows: readonly T[], columns: readonly (keyof T & string)[]): string {
  const escape = (value: unknown): string => {
    const text = value === undefined || value === null ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((column) => escape(row[column])).join(','));
  return lines.join('\r\n') + '\r\n';
}

export const MAILBOX_COLUMNS = [
  'emailAddress', 'userName', 'status', 'itemsTotal', 'itemsCopied', 'itemsSkipped', 'itemsFailed', 'bytesTotal',
  'bytesCopied', 'startedAt', 'initialSyncSeconds', 'messagesPerSecond', 'lastSyncedAt', 'passes', 'error',
  'verifiedAt', 'verifyScore', 'verifyConsistent',
] as const satisfies readonly (keyof MailboxReportRow)[];

export const ITEM_COLUMNS = [
  'emailAddress', 'outcome', 'folder', 'uid', 'count', 'size', 'date', 'subject', 'reason',
] as const satisfies readonly (keyof ItemReportRow)[];

export const FOLDER_COLUMNS = [
  'emailAddress', 'outcome', 'source', 'target', 'specialUse', 'reason',
] as const satisfies readonly (keyof FolderReportRow)[];
