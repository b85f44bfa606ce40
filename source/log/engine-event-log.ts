// What a run leaves in the batch's log file, from the engine's typed events: each pass started
// and finished per mailbox, every skipped, failed and changed-in-transit message with its reason, throttling,
// status changes (a failure with its error), and the folders not migrated or renamed.
// Errors and retries are logged by the runner itself where they happen (batch-runner.ts).

import type {BatchControl} from '../engine/batch-control.js';
import type {ItemRecord, MailboxStatus} from '../engine/batch-model.js';
import type {Logger} from './logger.js';

const PASS_OF: Partial<Record<MailboxStatus, 'initial' | 'incremental' | 'final'>> = {
  Starting: 'initial',
  IncrementalSyncing: 'incremental',
  Completing: 'final',
};

/** Logs `batch`'s events to `logger` until the returned function is called. */
export function logEngineEvents(batch: Pick<BatchControl, 'on' | 'getMailboxDetail'>, logger: Logger): () => void {
  // Folders already named in this log by this process, per mailbox: each once per run, not per pass.
  const folderNotes = new Map<string, Set<string>>();
  const noteFolders = (emailAddress: string) => {
    const detail = batch.getMailboxDetail(emailAddress);
    if (!detail) return;
    let seen = folderNotes.get(emailAddress);
    if (!seen) folderNotes.set(emailAddress, (seen = new Set()));
    for (const folder of detail.unmigratedFolders) {
      const key = `unmigrated\0${folder.source}\0${folder.reason}`;
      if (seen.has(key)) continue;
      seen.add(key);
      logger.warn('folder not migrated', {mailbox: emailAddress, folder: folder.source, reason: folder.reason});
    }
    for (const folder of detail.renamedFolders) {
      const key = `renamed\0${folder.source}\0${folder.target}`;
      if (seen.has(key)) continue;
      seen.add(key);
      logger.info('folder renamed on the target', {mailbox: emailAddress, folder: folder.source, target: folder.target, reason: folder.reason});
    }
  };
  const item = (record: ItemRecord) => ({
    folder: record.folder,
    uid: record.uid,
    ...(record.count ? {count: record.count} : {}),
    ...(record.subject !== undefined ? {subject: record.subject} : {}),
    ...(record.date ? {date: record.date} : {}),
    size: record.size,
    reason: record.reason,
  });
  const offs = [
    batch.on('status', (event) => {
      const pass = PASS_OF[event.to];
      // Syncing -> Starting is the same initial pass starting over after a retry.
      if (pass && event.from !== 'Syncing') {
        logger.info('pass started', {mailbox: event.emailAddress, kind: pass});
        return;
      }
      if (event.to === 'Failed') {
        logger.error('mailbox failed', {mailbox: event.emailAddress, from: event.from, ...(event.error ? {error: event.error.message, kind: event.error.kind, hint: event.error.hint} : {})});
        noteFolders(event.emailAddress);
        return;
      }
      logger.info('mailbox status', {mailbox: event.emailAddress, from: event.from, to: event.to});
    }),
    batch.on('pass-finished', (event) => {
      logger.info('pass finished', {mailbox: event.emailAddress, kind: event.kind, copied: event.copied, flagsUpdated: event.flagsUpdated, ms: event.ms});
      noteFolders(event.emailAddress);
    }),
    batch.on('item-skipped', (event) => logger.warn('message skipped', {mailbox: event.emailAddress, ...item(event.item)})),
    batch.on('item-failed', (event) => logger.error('message failed', {mailbox: event.emailAddress, ...item(event.item)})),
    batch.on('item-changed', (event) => logger.warn('message copied but changed in transit', {mailbox: event.emailAddress, ...item(event.item)})),
    batch.on('throttled', (event) => logger.warn('server throttled the mailbox', {mailbox: event.emailAddress, endpoint: event.endpoint, waitMs: event.waitMs, ...(event.serverText ? {serverText: event.serverText} : {})})),
  ];
  return () => {
    for (const off of offs) off();
  };
}
