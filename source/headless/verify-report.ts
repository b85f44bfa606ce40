// The last verifications (store/verification-file.ts) in `batch report`: one row per listed
// difference for NAME-verify.csv, and the score columns of the mailbox rows.

import type {MailboxVerification} from '../store/verification-records.js';

export interface VerifyReportRow {
  emailAddress: string;
  verifiedAt: string;
  /** missing / extra (on the target), flags, body (--deep), apart (listed with the batch's reason), not-yet-synced, problem */
  kind: 'missing' | 'extra' | 'flags' | 'body' | 'apart' | 'not-yet-synced' | 'problem';
  folder: string;
  targetFolder: string;
  sourceUid: number | '';
  targetUid: number | '';
  size: number | '';
  messageId: string;
  detail: string;
}

export const VERIFY_COLUMNS = [
  'emailAddress', 'verifiedAt', 'kind', 'folder', 'targetFolder', 'sourceUid', 'targetUid', 'size', 'messageId', 'detail',
] as const satisfies readonly (keyof VerifyReportRow)[];

/** The mailbox row's verification columns ('' when the mailbox was never verified). */
export function verifyColumns(verification: MailboxVerification | undefined): {verifiedAt: string; verifyScore: number | ''; verifyConsistent: 'yes' | 'no' | ''} {
  if (!verification) return {verifiedAt: '', verifyScore: '', verifyConsistent: ''};
  return {verifiedAt: verification.finishedAt, verifyScore: verification.error ? '' : verification.score, verifyConsistent: verification.consistent ? 'yes' : 'no'};
}

export function verifyRows(verification: MailboxVerification): VerifyReportRow[] {
  const rows: VerifyReportRow[] = [];
  const base = {emailAddress: verification.emailAddress, verifiedAt: verification.finishedAt};
  const none = {sourceUid: '' as const, targetUid: '' as const, size: '' as const, messageId: ''};
  if (verification.error) rows.push({...base, ...none, kind: 'problem', folder: '', targetFolder: '', detail: verification.error});
  for (const folder of verification.folders) {
    const where = {folder: folder.source, targetFolder: folder.target};
    if (folder.problem) rows.push({...base, ...where, ...none, kind: 'problem', detail: folder.problem});
    for (const message of folder.missingListed) rows.push({...base, ...where, kind: 'missing', sourceUid: message.uid, targetUid: '', size: message.size, messageId: message.messageId ?? '', detail: ''});
    for (const message of folder.extraListed) rows.push({...base, ...where, kind: 'extra', sourceUid: '', targetUid: message.uid, size: message.size, messageId: message.messageId ?? '', detail: ''});
    for (const difference of folder.flagListed) {
      const detail = [
        ...(difference.missingOnTarget.length ? [`target lacks ${difference.missingOnTarget.join(' ')}`] : []),
        ...(difference.extraOnTarget.length ? [`target has ${difference.extraOnTarget.join(' ')}`] : []),
      ].join('; ');
      rows.push({...base, ...where, kind: 'flags', sourceUid: difference.sourceUid, targetUid: difference.targetUid, size: '', messageId: difference.messageId ?? '', detail});
    }
    for (const difference of folder.bodyListed) {
      rows.push({...base, ...where, kind: 'body', sourceUid: difference.sourceUid, targetUid: difference.targetUid, size: difference.sourceSize, messageId: difference.messageId ?? '', detail: `sha256 ${difference.sourceSha256} on the source, ${difference.targetSha256} on the target`});
    }
    for (const message of folder.notYetSyncedListed) rows.push({...base, ...where, kind: 'not-yet-synced', sourceUid: message.uid, targetUid: '', size: message.size, messageId: message.messageId ?? '', detail: 'new on the source since the last pass'});
    const unlisted = [
      ['missing', folder.missing - folder.missingListed.length],
      ['extra', folder.extra - folder.extraListed.length],
      ['flags', folder.flagDifferences - folder.flagListed.length],
      ['body', folder.bodyDifferences - folder.bodyListed.length],
      ['not-yet-synced', folder.notYetSynced - folder.notYetSyncedListed.length],
    ] as const;
    for (const [kind, count] of unlisted) if (count > 0) rows.push({...base, ...where, ...none, kind, detail: `${count} more not listed`});
  }
  for (const item of verification.apartListed) {
    rows.push({...base, folder: item.folder, targetFolder: '', kind: 'apart', sourceUid: item.uid, targetUid: '', size: item.size, messageId: '', detail: `${item.outcome}${item.onTarget ? ' (on the target)' : ''}: ${item.reason}`});
  }
  for (const folder of verification.notYetSyncedFolders) rows.push({...base, ...none, folder: folder.source, targetFolder: '', kind: 'not-yet-synced', detail: `folder new since the last pass, ${folder.messages} message(s)`});
  return rows;
}
