// The consistency score, in the spirit of the hosted suites' migration reports: the share of the
// source items that should be on the target (all of them, less those the batch lists apart with a
// reason and those newer than its last pass) that are there and identical: flags as the copy
// sets them, and with --deep the body bytes. Extra messages on the target are reported but do not
// lower the score or make a mailbox inconsistent: the target may hold mail of its own (delivered
// there already, another tool's copy). Consistent = nothing missing, no flag or body difference,
// every folder compared.

import type {FolderVerification, MailboxVerification} from '../../store/verification-records.js';

export type VerificationTotals = MailboxVerification['totals'];

export function totalsOf(folders: readonly FolderVerification[]): VerificationTotals {
  const totals: VerificationTotals = {
    folders: folders.length,
    sourceMessages: 0,
    targetMessages: 0,
    sourceBytes: 0,
    targetBytes: 0,
    expected: 0,
    identical: 0,
    missing: 0,
    extra: 0,
    flagDifferences: 0,
    bodyDifferences: 0,
    notYetSynced: 0,
    apart: 0,
  };
  for (const folder of folders) {
    totals.sourceMessages += folder.sourceMessages;
    totals.targetMessages += folder.targetMessages;
    totals.sourceBytes += folder.sourceBytes;
    totals.targetBytes += folder.targetBytes;
    totals.expected += folder.expected;
    totals.identical += folder.identical;
    totals.missing += folder.missing;
    totals.extra += folder.extra;
    totals.flagDifferences += folder.flagDifferences;
    totals.bodyDifferences += folder.bodyDifferences;
    totals.notYetSynced += folder.notYetSynced;
    totals.apart += folder.apart;
  }
  return totals;
}

/** Percent with two decimals; 100 when nothing should be there. Never rounds up to 100 while something differs. */
export function consistencyScore(totals: Pick<VerificationTotals, 'expected' | 'identical'>): number {
  if (totals.expected === 0) return 100;
  const score = Math.floor((totals.identical / totals.expected) * 10_000) / 100;
  return score;
}

export function isConsistent(totals: VerificationTotals, folders: readonly FolderVerification[]): boolean {
  return totals.missing === 0 && totals.flagDifferences === 0 && totals.bodyDifferences === 0 && folders.every((folder) => folder.problem === undefined);
}

/** The batch's score: over all verified mailboxes' items (a large mailbox weighs more than a small one). */
export function batchScore(verifications: Iterable<MailboxVerification>): {score: number; consistent: boolean; mailboxes: number} {
  let expected = 0;
  let identical = 0;
  let consistent = true;
  let mailboxes = 0;
  for (const verification of verifications) {
    mailboxes++;
    expected += verification.totals.expected;
    identical += verification.totals.identical;
    if (!verification.consistent || verification.error) consistent = false;
  }
  return {score: consistencyScore({expected, identical}), consistent, mailboxes};
}
