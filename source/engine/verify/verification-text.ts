// A verification in words, for `batch verify`'s plain output and the UI's detail view alike.

import type {MailboxVerification, VerifiedMessage} from '../../store/verification-records.js';

export function scoreText(score: number): string {
  return `${score.toFixed(2).replace(/\.00$/, '')} %`;
}

/** One line: the figures of a mailbox's verification. */
export function verificationSummary(verification: MailboxVerification): string {
  if (verification.error) return `verification failed: ${verification.error}`;
  const t = verification.totals;
  const caution = verification.caution ? ` (caution: ${verification.caution})` : '';
  return (
    `${verification.consistent ? 'consistent' : 'NOT consistent'}, score ${scoreText(verification.score)}${verification.deep ? ' (bodies compared)' : ''}: ` +
    `${t.folders} folder(s) checked; source ${t.sourceMessages} message(s) (${megabytes(t.sourceBytes)}), target ${t.targetMessages} (${megabytes(t.targetBytes)}); ` +
    `${t.missing} missing, ${t.extra} extra, ${t.flagDifferences} flag difference(s)${verification.deep ? `, ${t.bodyDifferences} body difference(s)` : ''}, ` +
    `${t.apart} listed apart, ${t.notYetSynced} not yet synced${caution}`
  );
}

/**
 * The listed items, one per line: missing first (what the admin must act on), then flag and body
 * differences, problems, extra, apart, not migrated, not yet synced. At most `limit` lines of
 * items; a last line says how many more there are.
 */
export function verificationItemLines(verification: MailboxVerification, limit = Number.POSITIVE_INFINITY): string[] {
  const lines: string[] = [];
  let unlisted = 0;
  const add = (line: string) => {
    if (lines.length < limit) lines.push(line);
    else unlisted++;
  };
  for (const folder of verification.folders) {
    if (folder.problem) add(`problem: ${folder.source}: ${folder.problem}`);
    for (const message of folder.missingListed) add(`missing on target: ${folder.source} ${describe(message)}`);
    if (folder.missing > folder.missingListed.length) add(`missing on target: ${folder.source}: ${folder.missing - folder.missingListed.length} more not listed`);
  }
  for (const folder of verification.folders) {
    for (const difference of folder.flagListed) {
      const parts = [
        ...(difference.missingOnTarget.length ? [`target lacks ${difference.missingOnTarget.join(' ')}`] : []),
        ...(difference.extraOnTarget.length ? [`target has ${difference.extraOnTarget.join(' ')} the source has not`] : []),
      ];
      add(`flag difference: ${folder.source} UID ${difference.sourceUid} (target UID ${difference.targetUid})${difference.messageId ? ` ${difference.messageId}` : ''}: ${parts.join('; ')}`);
    }
    if (folder.flagDifferences > folder.flagListed.length) add(`flag difference: ${folder.source}: ${folder.flagDifferences - folder.flagListed.length} more not listed`);
    for (const difference of folder.bodyListed) {
      add(`body difference: ${folder.source} UID ${difference.sourceUid} (target UID ${difference.targetUid})${difference.messageId ? ` ${difference.messageId}` : ''}: sha256 ${difference.sourceSha256.slice(0, 12)}… on the source, ${difference.targetSha256.slice(0, 12)}… on the target`);
    }
    if (folder.bodyDifferences > folder.bodyListed.length) add(`body difference: ${folder.source}: ${folder.bodyDifferences - folder.bodyListed.length} more not listed`);
  }
  for (const folder of verification.folders) {
    for (const message of folder.extraListed) add(`extra on target: ${folder.target} ${describe(message)}`);
    if (folder.extra > folder.extraListed.length) add(`extra on target: ${folder.target}: ${folder.extra - folder.extraListed.length} more not listed`);
  }
  for (const item of verification.apartListed) {
    add(`listed apart (${item.outcome}${item.onTarget ? ', on the target' : ''}): ${item.folder} UID ${item.uid}, ${item.size} bytes: ${item.reason}`);
  }
  if (verification.apartUnlisted > 0) add(`the batch counted ${verification.apartUnlisted} more skipped/failed/changed item(s) than it lists; some messages counted as missing may be among them`);
  for (const folder of verification.unmigratedFolders) add(`not migrated on purpose: ${folder.source}: ${folder.reason}`);
  for (const folder of verification.folders) {
    for (const message of folder.notYetSyncedListed) add(`not yet synced (new since the last pass): ${folder.source} ${describe(message)}`);
    if (folder.notYetSynced > folder.notYetSyncedListed.length) add(`not yet synced: ${folder.source}: ${folder.notYetSynced - folder.notYetSyncedListed.length} more not listed`);
    if (folder.flagChangesNotYetSynced > 0) add(`not yet synced: ${folder.source}: ${folder.flagChangesNotYetSynced} flag change(s) made on the source since the last pass`);
    if (folder.note) add(`note: ${folder.source}: ${folder.note}`);
  }
  for (const folder of verification.notYetSyncedFolders) add(`not yet synced (folder new since the last pass): ${folder.source}, ${folder.messages} message(s)`);
  if (unlisted > 0) lines.push(`… ${unlisted} more line(s): mailferry batch verify or batch report lists them all`);
  return lines;
}

function describe(message: VerifiedMessage): string {
  return `UID ${message.uid}, ${message.size} bytes, Message-ID ${message.messageId ?? '(none)'}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
