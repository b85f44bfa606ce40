// The last verification in the mailbox detail (a section under the status) and the status line
// after the `v` key: the score, the counts and the first listed differences.

import type {BatchControl} from '../../engine/batch-control.js';
import type {MailboxDetail, MailboxSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import {scoreText, verificationItemLines, verificationSummary} from '../../engine/verify/verification-text.js';
import type {Glyphs} from '../glyphs.js';
import {formatAge} from '../format/units.js';
import {truncate, wrapText} from '../format/text-fit.js';
import type {StatusMessage} from '../panels/Footer.js';
import type {DetailLine} from './detail-lines.js';

/** Items shown in the detail; `batch verify` and `batch report` list them all. */
const SHOWN_ITEMS = 20;

export function verificationSection(mailbox: MailboxSnapshot | undefined, detail: MailboxDetail | undefined, options: {width: number; glyphs: Glyphs; now: Date}): DetailLine[] {
  const {width, glyphs, now} = options;
  const verification = detail?.verification;
  const verifying = mailbox?.verifying;
  if (!verification && verifying === undefined) return [];
  const lines: DetailLine[] = [];
  const heading = verification
    ? `Last verification ${formatAge(verification.finishedAt, now)}: ${verification.error ? 'failed' : `${scoreText(verification.score)}, ${verification.consistent ? 'consistent' : 'NOT consistent'}`}`
    : 'Verification';
  lines.push({text: truncate(heading, width, glyphs.ellipsis), tone: 'heading'});
  if (verifying !== undefined) lines.push({text: truncate(`  verifying${glyphs.ellipsis} ${verifying}`, width, glyphs.ellipsis), tone: 'dim'});
  if (!verification) return lines;
  const tone = verification.error ? 'error' : verification.consistent ? 'ok' : 'warn';
  for (const line of wrapText(`  ${verificationSummary(verification)}`, width, {indent: '    ', maxLines: 4, ellipsis: glyphs.ellipsis})) lines.push({text: line, tone});
  for (const item of verificationItemLines(verification, SHOWN_ITEMS)) {
    const itemTone = /^(missing|flag difference|body difference|problem)/.test(item) ? 'warn' : 'plain';
    lines.push({text: truncate(`  ${item}`, width, glyphs.ellipsis), tone: itemTone});
  }
  return lines;
}

/** The status line once control.verify(targets) has resolved. */
export function verifyOutcome(control: BatchControl, targets: readonly string[]): StatusMessage {
  const results = targets.map((email) => control.getMailboxDetail(email)?.verification).filter((verification) => verification !== undefined);
  if (results.length === 0) return {text: 'Verification finished; no result recorded (see the log).', tone: 'warn'};
  const failed = results.filter((verification) => verification.error).length;
  const consistent = results.filter((verification) => verification.consistent).length;
  if (results.length === 1) {
    const only = results[0]!;
    if (only.error) return {text: `Verification of ${only.emailAddress} failed: ${only.error}`, tone: 'error'};
    return {
      text: `${only.emailAddress}: ${scoreText(only.score)}, ${only.consistent ? 'consistent' : `NOT consistent (${only.totals.missing} missing, ${only.totals.flagDifferences} flag differences)`}; Enter shows the detail.`,
      tone: only.consistent ? 'ok' : 'warn',
    };
  }
  return {
    text: `Verified ${results.length} mailboxes: ${consistent} consistent${failed ? `, ${failed} could not be verified` : ''}; Enter on a row shows its result.`,
    tone: consistent === results.length ? 'ok' : 'warn',
  };
}
