// The shape of a batch's state. On disk (version 2, sharded-state.ts) the batch-level fields and
// a small summary per mailbox are one file and each mailbox's own state is another, each
// rewritten whole when it changes; version 1 kept it all in one file (still read, and still
// written with MAILFERRY_STATE_LAYOUT=single). Either way a mailbox's record stays small:
// per-message facts live in UidSet strings, never in arrays that grow with a mailbox.

import type {BatchDefinition, ErrorRecord, ItemRecord, MailboxIdentity, MailboxStatus, RenamedFolder, UnmigratedFolder} from './batch-records.js';
import {DEFAULT_SETTINGS, MAILBOX_STATUSES} from './batch-records.js';
import {MigrationError} from '../imap/imap-error.js';
import {isSecret} from '../log/secret-redaction.js';

/** Version 2: the sharded layout (sharded-state.ts). */
export const STATE_VERSION = 2;
/** The single-file layout: the whole BatchState in one file. */
export const SINGLE_FILE_VERSION = 1;
export const MAX_ERRORS = 20;
export const MAX_ITEMS = 1000;

export interface FolderCheckpoint {
  /** Target folder path. */
  target: string;
  /** Bigint as decimal string. */
  sourceUidValidity: string;
  targetUidValidity?: string;
  /** UidSet serialized: source UIDs ended (copied, skipped or failed). */
  done: string;
  /** Source HIGHESTMODSEQ at the end of the last completed pass. */
  highestModseq?: string;
  /** Source UIDNEXT at the end of the last completed pass. */
  uidNext?: number;
  total: number;
  doneCount: number;
  skipped: number;
  failed: number;
  bytesDone: number;
  /** Bytes of the folder's messages still to copy plus those done (for ETA). */
  bytesTotal: number;
  /** Set (and flushed) before the first APPEND of a pass; found set after a crash → reconcile with the target. */
  inProgress?: boolean;
  lastPassAt?: string;
  /**
   * UidSet serialized: source UIDs appended as literal8 (NUL bytes, RFC 3516), whose copies may
   * have another RFC822.SIZE (the target may re-encode binary parts): matched without the size
   * (message-key.ts). Written before such an APPEND.
   */
  resized?: string;
}

/** What one target was seen to change on APPEND (learned after the first copies: engine/copy/target-rewrites.ts). */
export interface TargetRewrites {
  /** 'kept': past dates read back as sent; 'clamped-future': future dates replaced; 'replaced': any date replaced. */
  internalDate?: 'kept' | 'clamped-future' | 'replaced';
  /** 'kept': RFC822.SIZE as sent; 'changed': another size (conversion, added headers). */
  size?: 'kept' | 'changed';
  /** Header field names (lower case) the target added to the messages read back. */
  headersAdded?: string[];
  /** Target folder and time of the read-back the facts come from. */
  learnedFrom?: string;
  learnedAt?: string;
}

/** A target message no source message matched when a folder was reconciled. */
export interface UnmatchedTargetMessage {
  uid: number;
  messageId?: string;
  size: number;
}

/** How a folder's reconciliation with the target went (message-key.ts pairMessages). */
export interface ReconcileRecord {
  folder: string;
  target: string;
  at: string;
  /** Target messages matched to a source message, in all and by basis. */
  matched: number;
  exact: number;
  dateRewritten: number;
  sizeChanged: number;
  /** Source messages found already copied (not copied again) in this reconciliation. */
  alreadyPresent: number;
  /** Target messages nothing matched, and the first MAX_UNMATCHED_LISTED of them. */
  unmatched: number;
  unmatchedListed: UnmatchedTargetMessage[];
}

export const MAX_UNMATCHED_LISTED = 20;

/** Item and byte counts are not here: they are derived from the folder checkpoints (mailbox-totals.ts). */
export interface MailboxStats {
  startedAt?: string;
  initialSyncMs?: number;
  lastSyncedAt?: string;
  passes: number;
  appendCount: number;
  flagUpdates: number;
}

export interface MailboxState {
  identity: MailboxIdentity;
  status: MailboxStatus;
  /** Set when a stop was requested (by a command or another process). */
  stopRequested?: boolean;
  error?: ErrorRecord;
  /** Ring, newest last, at most MAX_ERRORS. */
  errors: ErrorRecord[];
  stats: MailboxStats;
  /** By source folder path. */
  folders: Record<string, FolderCheckpoint>;
  /** At most MAX_ITEMS each; the rest is counted in the overflow fields. */
  skipped: ItemRecord[];
  failed: ItemRecord[];
  skippedOverflow: number;
  failedOverflow: number;
  /**
   * Copied, but not byte for byte (e.g. NUL bytes the source sent as 0x80 and the target could
   * not take as they are): each with the reason. At most MAX_ITEMS; absent in older state files.
   */
  changed: ItemRecord[];
  changedOverflow: number;
  unmigratedFolders: UnmigratedFolder[];
  renamedFolders: RenamedFolder[];
  droppedKeywords: {folder: string; keywords: string[]}[];
  /** What the target was seen to change on APPEND; absent until learned (and in older files). */
  targetRewrites?: TargetRewrites;
  /** The last reconciliation of each folder that had one; absent in older files. */
  reconciled?: ReconcileRecord[];
}

export interface BatchState {
  version: number;
  batch: BatchDefinition;
  /** Key: emailAddress lowercased. */
  mailboxes: Record<string, MailboxState>;
  startedAt?: string;
  completeRequested?: boolean;
  completedAt?: string;
  lastSyncedAt?: string;
  updatedAt: string;
}

export function mailboxKey(emailAddress: string): string {
  return emailAddress.toLowerCase();
}

export function newMailboxState(identity: MailboxIdentity): MailboxState {
  return {
    identity,
    status: 'Queued',
    errors: [],
    stats: newMailboxStats(),
    folders: {},
    skipped: [],
    failed: [],
    skippedOverflow: 0,
    failedOverflow: 0,
    changed: [],
    changedOverflow: 0,
    unmigratedFolders: [],
    renamedFolders: [],
    droppedKeywords: [],
  };
}

export function newBatchState(batch: BatchDefinition, identities: readonly MailboxIdentity[], now = new Date()): BatchState {
  const mailboxes: Record<string, MailboxState> = {};
  for (const identity of identities) mailboxes[mailboxKey(identity.emailAddress)] = newMailboxState(identity);
  return {version: STATE_VERSION, batch, mailboxes, updatedAt: now.toISOString()};
}

function newMailboxStats(): MailboxStats {
  return {passes: 0, appendCount: 0, flagUpdates: 0};
}

/** Appends unless the list is full; false means the item was dropped (the caller counts overflow). */
export function pushBounded<T>(list: T[], item: T, max: number): boolean {
  if (list.length >= max) return false;
  list.push(item);
  return true;
}

/** Appends to a ring that keeps the newest `max` entries (used for the per-mailbox error list). */
export function pushRing<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/**
 * Validates a whole batch state (a version 1 single file, or the same shape in memory) and fills
 * collections a hand-edited or older file may lack. A version 2 head file is read by
 * sharded-state.ts instead; a version above STATE_VERSION is refused as written by a newer mailferry.
 */
export function upgradeState(raw: unknown, file: string): BatchState {
  const bad = (what: string): MigrationError =>
    new MigrationError({
      kind: 'config',
      message: `State file ${file} is not a mailferry batch state (${what})`,
      hint: `Check that the file belongs to mailferry; the last good state may be in ${file}.bak`,
      retryable: false,
    });
  if (!isObject(raw)) throw bad('not a JSON object');
  const version = raw['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw bad('missing or invalid "version"');
  if (version > STATE_VERSION) {
    throw new MigrationError({
      kind: 'config',
      message: `State file ${file} was written by a newer mailferry (state version ${version}; this mailferry reads up to version ${STATE_VERSION})`,
      hint: 'Upgrade mailferry to manage this batch',
      retryable: false,
    });
  }
  const batch = raw['batch'];
  if (!isObject(batch) || typeof batch['name'] !== 'string' || !isObject(batch['source']) || !isObject(batch['target']) || !isObject(batch['settings'])) {
    throw bad('missing or invalid "batch" definition');
  }
  // Settings added since a state file was written (skipDeletedMessages, ...) take their default.
  batch['settings'] = {...DEFAULT_SETTINGS, excludedFolders: [], ...batch['settings']};
  const mailboxes = raw['mailboxes'];
  if (!isObject(mailboxes)) throw bad('missing "mailboxes"');
  for (const [key, mailbox] of Object.entries(mailboxes)) upgradeMailbox(key, mailbox, file);
  if (typeof raw['updatedAt'] !== 'string') raw['updatedAt'] = new Date(0).toISOString();
  return raw as unknown as BatchState;
}

/** Validates one mailbox's record (of a v1 file, or a v2 mailbox file) and fills what an older file lacks. */
export function upgradeMailbox(key: string, mailbox: unknown, file: string): MailboxState {
  const bad = (what: string): MigrationError =>
    new MigrationError({
      kind: 'config',
      message: `State file ${file} is not a mailferry batch state (${what})`,
      hint: `Check that the file belongs to mailferry; the last good state may be in ${file}.bak`,
      retryable: false,
    });
  if (!isObject(mailbox) || !isObject(mailbox['identity']) || typeof mailbox['identity']['emailAddress'] !== 'string') {
    throw bad(`mailbox ${JSON.stringify(key)} has no identity`);
  }
  if (!(MAILBOX_STATUSES as readonly unknown[]).includes(mailbox['status'])) throw bad(`mailbox ${JSON.stringify(key)} has unknown status ${JSON.stringify(mailbox['status'])}`);
  const defaults = newMailboxState(mailbox['identity'] as unknown as MailboxIdentity);
  for (const field of ['errors', 'skipped', 'failed', 'changed', 'unmigratedFolders', 'renamedFolders', 'droppedKeywords'] as const) {
    if (!Array.isArray(mailbox[field])) mailbox[field] = defaults[field];
  }
  for (const field of ['skippedOverflow', 'failedOverflow', 'changedOverflow'] as const) {
    if (typeof mailbox[field] !== 'number') mailbox[field] = 0;
  }
  // Added later (issue 17), optional: a file without them, or with something else there, has nothing learned.
  if ('reconciled' in mailbox && !Array.isArray(mailbox['reconciled'])) delete mailbox['reconciled'];
  if ('targetRewrites' in mailbox && !isObject(mailbox['targetRewrites'])) delete mailbox['targetRewrites'];
  if (!isObject(mailbox['folders'])) mailbox['folders'] = {};
  for (const [path, checkpoint] of Object.entries(mailbox['folders'] as Record<string, unknown>)) {
    if (!isObject(checkpoint) || typeof checkpoint['done'] !== 'string' || typeof checkpoint['sourceUidValidity'] !== 'string') {
      throw bad(`mailbox ${JSON.stringify(key)} has an invalid checkpoint for folder ${JSON.stringify(path)}`);
    }
    for (const field of ['total', 'doneCount', 'skipped', 'failed', 'bytesDone', 'bytesTotal']) {
      if (typeof checkpoint[field] !== 'number') checkpoint[field] = 0;
    }
  }
  mailbox['stats'] = {...newMailboxStats(), ...(isObject(mailbox['stats']) ? mailbox['stats'] : {})};
  return mailbox as unknown as MailboxState;
}

/** Keys that name a credential. The state stores where a secret comes from (SecretSource), never one of these. */
const CREDENTIAL_KEY = /^(password|passwd|targetpassword|adminpassword|accesstoken|refreshtoken|token|secret)$/i;
/** Values that are the login names themselves: a password equal to its own user name is no new leak. */
const LOGIN_NAME_KEYS: ReadonlySet<string> = new Set(['emailAddress', 'userName', 'targetUserName', 'userRoot', 'adminUser']);

/**
 * Refuses state that would put a credential on disk: a credential-named field with a string
 * value, or any string (value or key) equal to a registered secret. Exact comparison keeps it
 * cheap on large states and free of false alarms from a numeric password that happens to occur
 * inside a byte count or a subject.
 */
export function assertNoSecrets(state: BatchState, file: string): void {
  assertNoSecretsIn(state, file);
}

/** assertNoSecrets for any state file's data (the v2 head and mailbox files too). */
export function assertNoSecretsIn(data: unknown, file: string, path = ''): void {
  const leak = findSecret(data, path, 0);
  if (leak === undefined) return;
  throw new MigrationError({
    kind: 'internal',
    message: `Refused to write state file ${file}: field ${leak} would contain a password or token (nothing was written)`,
    hint: 'This is a bug in mailferry; please report it with the field name (never the secret)',
    retryable: false,
  });
}

function findSecret(value: unknown, path: string, depth: number): string | undefined {
  if (depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findSecret(value[i], `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const inMailboxMap = path === 'mailboxes'; // keys are email addresses
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (typeof child === 'string' && child !== '' && CREDENTIAL_KEY.test(key)) return childPath;
    if (!inMailboxMap && isSecret(key)) return `${path || '<root>'} (a key)`;
    if (typeof child === 'string') {
      if (!LOGIN_NAME_KEYS.has(key) && isSecret(child)) return childPath;
    } else if (typeof child === 'object' && child !== null) {
      const found = findSecret(child, childPath, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
