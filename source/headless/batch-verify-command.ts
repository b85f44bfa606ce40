// `mailferry batch verify NAME [--mailbox EMAIL ...] [--deep] [--json]`: compares each mailbox's
// source with its target, read-only (engine/verify/), and keeps the result beside the state file
// (store/verification-file.ts) for `batch report` and the UI's detail view. It reads the state
// file but never writes it and takes no run lock, so it runs while the batch runs in another
// process; it logs in with the batch's credentials the way `start` does (CSV re-read, admin
// secrets from their sources). Mailboxes are verified one after another over one connection per
// side: one more per side than a running batch uses, never more.
// Exit 0 only when every verified mailbox is consistent, 1 otherwise.

import {resolve} from 'node:path';
import {unknownMailbox} from '../engine/batch-engine.js';
import {loadBatchRows} from '../engine/batch-membership.js';
import {resolveSecrets} from '../engine/credentials/row-credentials.js';
import {batchScore} from '../engine/verify/consistency-score.js';
import {scoreText, verificationItemLines, verificationSummary} from '../engine/verify/verification-text.js';
import {verifyMailbox} from '../engine/verify/verify-mailbox.js';
import {createFileLogger} from '../log/logger.js';
import {BatchStore} from '../store/batch-store.js';
import {mailboxKey} from '../store/state-schema.js';
import {batchLogFile} from '../store/state-dir.js';
import {writeVerification} from '../store/verification-file.js';
import type {MailboxVerification} from '../store/verification-records.js';

export interface VerifyOutput {
  readonly json: boolean;
  line(text: string): void;
  record(value: unknown): void;
}

export interface VerifyFlags {
  mailbox?: string[] | undefined;
  deep: boolean;
  csv?: string | undefined;
  log?: string | undefined;
}

export async function verifyBatch(out: VerifyOutput, stateDir: string, name: string, flags: VerifyFlags): Promise<number> {
  // A copy of the state as last written; the store is closed at once (no lock, no write).
  const store = await BatchStore.open(stateDir, name);
  const state = store.state;
  await store.close();
  const keys = flags.mailbox?.length ? flags.mailbox.map(mailboxKey) : Object.keys(state.mailboxes);
  for (const key of keys) if (!state.mailboxes[key]) throw unknownMailbox(name, key);
  const definition = state.batch;
  // The rows as `start` reads them: the batch's CSV and each CSV users were added from.
  const {rows} = await loadBatchRows(state, flags.csv ?? definition.csvPath);
  const secrets = await resolveSecrets({source: definition.sourceCredentials, target: definition.targetCredentials});
  const logger = createFileLogger(resolve(flags.log ?? batchLogFile(stateDir, name))).child({batch: name});
  const results: MailboxVerification[] = [];
  for (const key of keys) {
    const verification = await verifyMailbox({batch: definition, state: state.mailboxes[key]!, row: rows.get(key), secrets, deep: flags.deep, logger});
    await writeVerification(BatchStore.fileFor(stateDir, name), verification);
    results.push(verification);
    if (out.json) {
      out.record({event: 'verified', ...verification});
      continue;
    }
    out.line(`${verification.emailAddress}: ${verificationSummary(verification)}`);
    for (const line of verificationItemLines(verification)) out.line(`  ${line}`);
  }
  const batch = batchScore(results);
  const consistent = results.filter((verification) => verification.consistent).length;
  if (out.json) out.record({event: 'summary', batch: name, mailboxes: batch.mailboxes, consistent, score: batch.score, allConsistent: batch.consistent});
  else out.line(`batch ${name}: ${batch.mailboxes} mailbox(es) verified, ${consistent} consistent, score ${scoreText(batch.score)}`);
  return batch.consistent ? 0 : 1;
}
