// The batch as the state file holds it, and as the engine, the headless commands and the UI see
// it (engine/batch-model.ts hands these types on, so the layers above the engine need not know
// where they live). store/ owns them because it persists them: a change here is a change of the
// state file's format (state-schema.ts: version and upgrade). Nothing here holds a password or token: credentials are resolved at connect time from the
// CSV (re-read on resume) or from a SecretSource.

import type {EndpointConfig, SecretSource} from '../imap/endpoint.js';
import type {ErrorInfo} from '../imap/imap-error.js';

export const MAILBOX_STATUSES = [
  'Queued',
  'Starting',
  'Syncing',
  'Synced',
  'IncrementalSyncing',
  'Stopping',
  'Stopped',
  'Completing',
  'Completed',
  'Failed',
] as const;
export type MailboxStatus = (typeof MAILBOX_STATUSES)[number];

/** Statuses in which a mailbox holds connections and is doing work. */
export const ACTIVE_STATUSES: ReadonlySet<MailboxStatus> = new Set([
  'Starting',
  'Syncing',
  'IncrementalSyncing',
  'Stopping',
  'Completing',
]);

/** How the source logs in for each row. */
export type SourceCredentialMode =
  /** UserName/Password from the CSV, UserName passed to the server untouched (covers Exchange
   *  `domain/admin/user`, Dovecot `user*admin`, Mirapoint `#user@domain#admin#`). */
  | {kind: 'csv'}
  /** SASL PLAIN: the admin authenticates, authorization identity = the row's UserName. */
  | {kind: 'authzid'; adminUser: string; adminSecret: SecretSource}
  | OAuthCredentialMode;

/**
 * OAuth2 with the endpoint's token command (EndpointConfig.tokenCommand, a template; tokens are
 * never stored). 'oauth2': each row's own token; 'oauth2-admin': the admin's token, used to log in
 * as each row's user where the server allows it (Microsoft 365 app-only tokens).
 */
export type OAuthCredentialMode = {kind: 'oauth2'} | {kind: 'oauth2-admin'; adminUser: string};

/** How the target logs in for each row. */
export type TargetCredentialMode =
  /** TargetUserName/TargetPassword columns of the CSV. */
  | {kind: 'csv'}
  /** SASL PLAIN: the admin authenticates, authorization identity = EmailAddress. */
  | {kind: 'authzid'; adminUser: string; adminSecret: SecretSource}
  /** A login name built from a pattern such as `{email}*admin` (Dovecot master user), admin's password. */
  | {kind: 'login-pattern'; pattern: string; adminSecret: SecretSource}
  | OAuthCredentialMode;

export interface BatchSettings {
  maxConcurrentMigrations: number;
  maxConcurrentIncrementalSyncs: number;
  /** Folder names, subtrees (`Archive/*` or `Archive/`), or special-use kinds (`\\Junk`). */
  excludedFolders: string[];
  maxMessageBytes: number;
  maxItemsPerMailbox: number;
  incrementalIntervalMs: number;
  /** Target connections used in parallel by one mailbox's copy (APPEND workers). */
  appendConnectionsPerMailbox: number;
  /**
   * Leave out messages marked \Deleted on the source (not expunged), each listed as skipped.
   * Off by default: they are copied with \Deleted, the user's own state (message-flags.ts).
   */
  skipDeletedMessages: boolean;
}

export const DEFAULT_SETTINGS: BatchSettings = {
  maxConcurrentMigrations: 20,
  maxConcurrentIncrementalSyncs: 10,
  excludedFolders: [],
  maxMessageBytes: 35 * 1024 * 1024,
  maxItemsPerMailbox: 500_000,
  incrementalIntervalMs: 24 * 60 * 60 * 1000,
  appendConnectionsPerMailbox: 3,
  skipDeletedMessages: false,
};

export interface BatchDefinition {
  name: string;
  createdAt: string;
  /** Absolute path of the migration CSV; re-read for passwords on every start/resume. Mailboxes
   *  added later from other CSVs name theirs in MailboxIdentity.csvPath (batch-membership.ts). */
  csvPath: string;
  source: EndpointConfig;
  target: EndpointConfig;
  sourceCredentials: SourceCredentialMode;
  targetCredentials: TargetCredentialMode;
  settings: BatchSettings;
}

/** One user row of a batch without its secrets. */
export interface MailboxIdentity {
  emailAddress: string;
  userName: string;
  userRoot?: string;
  targetUserName?: string;
  /** Absolute path of the CSV this row's passwords are read from, when it is not the batch's own
   *  csvPath (a mailbox added with `batch add`). Absent in state files from before. */
  csvPath?: string;
}

export interface ItemRecord {
  folder: string;
  uid: number;
  size: number;
  /** Internal date, ISO. */
  date?: string;
  subject?: string;
  reason: string;
  /** For a run of messages recorded as one entry (e.g. past the item cap). */
  count?: number;
}

export interface ErrorRecord extends ErrorInfo {
  at: string;
}

export interface FolderProgress {
  source: string;
  target: string;
  total: number;
  done: number;
  skipped: number;
  failed: number;
  bytesDone: number;
}

export interface UnmigratedFolder {
  source: string;
  reason: string;
}

export interface RenamedFolder {
  source: string;
  target: string;
  reason: string;
  /** Set when the entry says how a special-use folder was created on the target (under the
   *  kind's conventional name, or with CREATE-SPECIAL-USE): kept on later passes, which find
   *  the folder already there (folder-mapping.ts carryCreatedSpecialUse). */
  specialUse?: string;
}
