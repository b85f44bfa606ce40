// Recent errors across the batch for the log view: the errors the engine reported while this UI
// was open (kept in a bounded ring), plus each mailbox's last error from the snapshot (which also
// covers errors from before the UI started). Newest first, one entry per distinct error.

import type {ErrorRecord} from '../../engine/batch-model.js';
import type {MailboxSnapshot} from '../../engine/scheduler/batch-snapshot.js';

export interface LogEntry {
  readonly emailAddress: string;
  readonly error: ErrorRecord;
  /** For retries: which attempt is coming. */
  readonly attempt?: number;
}

export const LOG_RING_SIZE = 500;

/** Push into a bounded ring, dropping the oldest; returns the same array for cheap refs. */
export function pushEntry(ring: LogEntry[], entry: LogEntry, limit = LOG_RING_SIZE): LogEntry[] {
  ring.push(entry);
  if (ring.length > limit) ring.splice(0, ring.length - limit);
  return ring;
}

function identity(entry: LogEntry): string {
  return `${entry.emailAddress}\u0000${entry.error.at}\u0000${entry.error.message}`;
}

export function collectLogEntries(ring: readonly LogEntry[], mailboxes: readonly MailboxSnapshot[]): LogEntry[] {
  const seen = new Set<string>();
  const entries: LogEntry[] = [];
  const add = (entry: LogEntry) => {
    const key = identity(entry);
    if (seen.has(key)) return;
    seen.add(key);
    entries.push(entry);
  };
  for (const entry of ring) add(entry);
  for (const mailbox of mailboxes) if (mailbox.lastError) add({emailAddress: mailbox.emailAddress, error: mailbox.lastError});
  return entries.sort((a, b) => b.error.at.localeCompare(a.error.at));
}
