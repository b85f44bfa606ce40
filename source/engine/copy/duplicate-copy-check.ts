// After a folder whose earlier copy was interrupted has been copied again: the check that the
// copy did not store a message twice. The quiet wait (target-quiet-wait.ts) keeps an interrupted
// run's late APPENDs from being missed by the comparison; this catches any that still landed
// after it (a server stalled for longer than the settle period), so a duplicate is listed
// instead of left silently. Nothing is deleted: only a message this pass appended can be a
// duplicate it caused, and which of two identical copies is "ours" is not knowable by key.

import type {PassContext} from './pass-context.js';
import {fetchKeys, type KeyedFlags} from './folder-keys.js';
import {messageKey, type KeyedMessage} from './message-key.js';

/**
 * Source UIDs copied in this pass whose key the target holds more often than the source does:
 * per key, the surplus (target count minus source count), but no more than the copies this
 * pass made of that key (a surplus without one is mail the target held before, not ours).
 */
export function surplusCopies(source: KeyedMessage[], target: KeyedMessage[], copiedThisPass: Set<number>): KeyedMessage[] {
  const counts = new Map<string, number>();
  for (const message of target) counts.set(messageKey(message), (counts.get(messageKey(message)) ?? 0) + 1);
  for (const message of source) counts.set(messageKey(message), (counts.get(messageKey(message)) ?? 0) - 1);
  const found: KeyedMessage[] = [];
  for (const message of [...source].sort((a, b) => a.uid - b.uid)) {
    if (!copiedThisPass.has(message.uid)) continue;
    const key = messageKey(message);
    const surplus = counts.get(key) ?? 0;
    if (surplus <= 0) continue;
    counts.set(key, surplus - 1);
    found.push(message);
  }
  return found;
}

interface CheckInput {
  folder: string;
  targetPath: string;
  /** Source UIDs this pass appended. */
  copied: Set<number>;
  /** Selects the folder on imapflow's source and target connections. */
  selectControl(): Promise<void>;
}

/** Compares the folder with the target by key and lists each message stored twice. Returns how many. */
export async function checkDuplicateCopies(ctx: PassContext, input: CheckInput): Promise<number> {
  if (input.copied.size === 0) return 0;
  await input.selectControl();
  // The messages went in over other connections: the session sees them after its next sync
  // (RFC 3501 section 6.1.2).
  await ctx.target.noop();
  const source: KeyedFlags[] = await fetchKeys(ctx.source, '1:*');
  const target: KeyedFlags[] = await fetchKeys(ctx.target, '1:*');
  const duplicates = surplusCopies(source, target, input.copied);
  for (const message of duplicates) {
    const date = message.internalDate === undefined ? undefined : new Date(message.internalDate).toISOString();
    const reason =
      `stored twice on the target in "${input.targetPath}": an interrupted run's APPEND was committed by the target after this run had compared the folder; ` +
      'delete one of the two identical copies there (same headers, internal date and size)';
    ctx.report.failed({folder: input.folder, uid: message.uid, size: message.size ?? 0, ...(date ? {date} : {}), reason});
    ctx.logger.warn('message stored twice on the target', {folder: input.folder, target: input.targetPath, uid: message.uid, reason});
  }
  return duplicates.length;
}
