// Errors are data: every failure that can reach an admin says what failed (kind + message), where
// (endpoint, user, mailbox, folder), what the server said, and what to do next (hint).
// Secrets are never put into any field.

export type ErrorKind =
  | 'dns'
  | 'connect'
  | 'timeout'
  | 'tls'
  | 'starttls'
  | 'greeting'
  | 'auth'
  | 'protocol'
  | 'throttled'
  | 'quota'
  | 'storage'
  | 'too-large'
  | 'rejected'
  | 'folder'
  | 'connection-lost'
  | 'config'
  | 'internal';

export type EndpointRole = 'source' | 'target';

export interface ErrorInfo {
  kind: ErrorKind;
  /** One line: what failed. */
  message: string;
  /** What the admin should do next. */
  hint: string;
  endpoint?: EndpointRole;
  host?: string;
  user?: string;
  mailbox?: string;
  folder?: string;
  /** The server's own words (tagged response text), when there was one. */
  serverText?: string;
  /** Transient: worth retrying after a backoff (connection lost, timeout, throttling). */
  retryable: boolean;
  /** For throttling: how long the server asked us to wait. */
  retryAfterMs?: number;
}

export class MigrationError extends Error implements ErrorInfo {
  readonly kind: ErrorKind;
  readonly hint: string;
  readonly endpoint?: EndpointRole;
  readonly host?: string;
  readonly user?: string;
  readonly mailbox?: string;
  readonly folder?: string;
  readonly serverText?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(info: ErrorInfo, options?: {cause?: unknown}) {
    super(info.message, options);
    this.name = 'MigrationError';
    this.kind = info.kind;
    this.hint = info.hint;
    this.retryable = info.retryable;
    if (info.endpoint !== undefined) this.endpoint = info.endpoint;
    if (info.host !== undefined) this.host = info.host;
    if (info.user !== undefined) this.user = info.user;
    if (info.mailbox !== undefined) this.mailbox = info.mailbox;
    if (info.folder !== undefined) this.folder = info.folder;
    if (info.serverText !== undefined) this.serverText = info.serverText;
    if (info.retryAfterMs !== undefined) this.retryAfterMs = info.retryAfterMs;
  }

  /** Same error, placed in a mailbox/folder context (errors from deep inside the sync lack it). */
  withContext(context: {mailbox?: string; folder?: string}): MigrationError {
    return new MigrationError({...this.toJSON(), ...context}, {cause: this.cause});
  }

  toJSON(): ErrorInfo {
    const info: ErrorInfo = {kind: this.kind, message: this.message, hint: this.hint, retryable: this.retryable};
    for (const key of ['endpoint', 'host', 'user', 'mailbox', 'folder', 'serverText', 'retryAfterMs'] as const) {
      const value = this[key];
      if (value !== undefined) (info as unknown as Record<string, unknown>)[key] = value;
    }
    return info;
  }
}

/** "target alice@example.com / Sent: login refused by imap.example.com — check the password" */
export function formatError(error: ErrorInfo): string {
  const where = [error.endpoint, error.mailbox ?? error.user, error.folder].filter(Boolean).join(' / ');
  const server = error.serverText ? ` (server said: ${error.serverText})` : '';
  return `${where ? `${where}: ` : ''}${error.message}${server}. ${error.hint}`;
}
