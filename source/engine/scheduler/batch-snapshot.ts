// Immutable pictures of a running batch, published a few times a second for the UI and the
// headless status output. Derived from the engine's counters; nothing here is counted twice.

import type {ReconcileRecord} from '../../store/state-schema.js';
import type {MailboxVerification} from '../../store/verification-records.js';
import type {
  ErrorRecord,
  FolderProgress,
  ItemRecord,
  MailboxStatus,
  RenamedFolder,
  UnmigratedFolder,
} from '../batch-model.js';

export interface MailboxSnapshot {
  readonly emailAddress: string;
  readonly userName: string;
  readonly status: MailboxStatus;
  readonly currentFolder?: string;
  readonly itemsDone: number;
  readonly itemsTotal: number;
  readonly itemsSkipped: number;
  readonly itemsFailed: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Messages per second over the last few seconds of this mailbox's copy. */
  readonly messagesPerSecond: number;
  readonly bytesPerSecond: number;
  readonly etaSeconds?: number;
  /** Most recent error, if the mailbox failed or is retrying. */
  readonly lastError?: ErrorRecord;
  readonly errorCount: number;
  readonly retrying?: {attempt: number; nextAt: string};
  readonly startedAt?: string;
  readonly lastSyncedAt?: string;
  /** Run time of the first full pass, once finished. */
  readonly initialSyncMs?: number;
  /** While a verification is waiting or running: "waiting" or the folder being compared. */
  readonly verifying?: string;
}

export interface MailboxDetail {
  readonly emailAddress: string;
  readonly folders: readonly FolderProgress[];
  readonly skipped: readonly ItemRecord[];
  readonly failed: readonly ItemRecord[];
  /** Copied, but not byte for byte, each with the reason. */
  readonly changed: readonly ItemRecord[];
  readonly errors: readonly ErrorRecord[];
  readonly unmigratedFolders: readonly UnmigratedFolder[];
  readonly renamedFolders: readonly RenamedFolder[];
  /** Keywords the target could not store, per target folder. */
  readonly droppedKeywords: readonly {folder: string; keywords: string[]}[];
  /** Folders compared with an already-filled target: matches by basis, unmatched target messages. */
  readonly reconciled?: readonly ReconcileRecord[];
  /** The last verification (engine/verify/), when there is one. */
  readonly verification?: MailboxVerification;
}

export interface BatchTotals {
  readonly mailboxes: number;
  readonly itemsDone: number;
  readonly itemsTotal: number;
  readonly itemsSkipped: number;
  readonly itemsFailed: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface BatchSnapshot {
  readonly name: string;
  /** Increases with every publication, so a UI can tell a new picture from an old one cheaply. */
  readonly version: number;
  readonly at: string;
  readonly running: boolean;
  readonly completing: boolean;
  readonly completed: boolean;
  readonly counts: Readonly<Record<MailboxStatus, number>>;
  readonly totals: BatchTotals;
  readonly messagesPerSecond: number;
  readonly bytesPerSecond: number;
  /** Recent batch-wide throughput samples (messages/s), oldest first, for a sparkline. */
  readonly throughputHistory: readonly number[];
  readonly etaSeconds?: number;
  /** Oldest lastSyncedAt over all mailboxes once every mailbox has synced once. */
  readonly lastSyncedAt?: string;
  readonly mailboxes: readonly MailboxSnapshot[];
}
