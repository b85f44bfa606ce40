// The last verification of a mailbox (engine/verify/), as its own file persists it. store/ owns
// these types because it writes them; the file is separate from the state file (a verification
// run from another shell must not race the process that rewrites the state: verification-file.ts).
// Lists are bounded (MAX_LISTED per folder and kind); the counts are always complete.

/** Entries listed per folder and kind; the rest is only counted. */
export const MAX_LISTED = 50;

/** A message on one side, as the verification names it. */
export interface VerifiedMessage {
  uid: number;
  size: number;
  messageId?: string;
  /** Internal date, ISO. */
  date?: string;
}

/** A source message whose copy carries other flags than the copy would have set. */
export interface FlagDifference {
  sourceUid: number;
  targetUid: number;
  messageId?: string;
  /** Flags the copy should have (source flags as the engine copies them) but lacks. */
  missingOnTarget: string[];
  /** Flags the copy has that the source message has not. */
  extraOnTarget: string[];
}

/** A source message whose copy has other bytes (--deep), though the keys matched. */
export interface BodyDifference {
  sourceUid: number;
  targetUid: number;
  messageId?: string;
  sourceSize: number;
  targetSize: number;
  sourceSha256: string;
  targetSha256: string;
}

/** A source message not counted as missing because the state gives its reason. */
export interface ApartItem {
  folder: string;
  uid: number;
  size: number;
  /** skipped / failed / changed: as the batch recorded it. */
  outcome: 'skipped' | 'failed' | 'changed';
  reason: string;
  /** Whether a copy was found on the target anyway. */
  onTarget: boolean;
}

export interface FolderVerification {
  source: string;
  target: string;
  sourceMessages: number;
  targetMessages: number;
  sourceBytes: number;
  targetBytes: number;
  /** Source messages that should be on the target (all, less those apart and not yet synced). */
  expected: number;
  /** Of those: with a copy on the target, and with a copy identical in flags (and body with --deep). */
  present: number;
  identical: number;
  missing: number;
  missingListed: VerifiedMessage[];
  extra: number;
  extraListed: VerifiedMessage[];
  flagDifferences: number;
  flagListed: FlagDifference[];
  bodyDifferences: number;
  bodyListed: BodyDifference[];
  /** --deep: pairs whose bodies were not compared (the target is known to change sizes). */
  bodiesNotComparable: number;
  /** Source messages with UIDs the last pass had not reached (new since), not on the target yet. */
  notYetSynced: number;
  notYetSyncedListed: VerifiedMessage[];
  /** Flag changes on the source after the last pass (MODSEQ above its HIGHESTMODSEQ): the next pass carries them. */
  flagChangesNotYetSynced: number;
  /** Source messages listed apart (state: skipped, failed, changed with a reason). */
  apart: number;
  /** Why this folder could not be compared (a folder gone on either side): the mailbox is then not consistent. */
  problem?: string;
  /** Something that bears on the figures but is no difference (UIDVALIDITY changed since the last pass). */
  note?: string;
}

export interface MailboxVerification {
  emailAddress: string;
  startedAt: string;
  finishedAt: string;
  deep: boolean;
  folders: FolderVerification[];
  /** The items of the state's skipped/failed/changed lists found in the compared folders (first MAX_LISTED × 10). */
  apartListed: ApartItem[];
  /** The state lists fewer items than it counted (its own cap): missing messages may be among those. */
  apartUnlisted: number;
  /** Source folders not migrated on purpose, with the batch's reason. */
  unmigratedFolders: Array<{source: string; reason: string}>;
  /** Source folders the batch has no checkpoint for yet (created since the last pass). */
  notYetSyncedFolders: Array<{source: string; messages: number}>;
  totals: {
    folders: number;
    sourceMessages: number;
    targetMessages: number;
    sourceBytes: number;
    targetBytes: number;
    expected: number;
    identical: number;
    missing: number;
    extra: number;
    flagDifferences: number;
    bodyDifferences: number;
    notYetSynced: number;
    apart: number;
  };
  /** Share of the source items that should be on the target found there and identical, in percent (2 decimals). */
  score: number;
  /** Nothing missing, no flag or body difference, every folder compared (extra target messages are shown, not counted). */
  consistent: boolean;
  /** Set when the mailbox was syncing as it was verified: copies in flight may show as differences. */
  caution?: string;
  /** The verification could not run (login refused ...): no score. */
  error?: string;
}
