// What the copying scenarios (kill, cut) share: source mailboxes seeded once per campaign, a
// fresh set of target mailboxes for every round (so each round's exact check starts from an
// empty target), `batch create` through whatever ports the round's proxies listen on, and the
// round's verdict from the exact check, the state file, `batch report` and the secret scan.

import path from 'node:path';
import {describeResult, runMailferry, type MailferryResult} from '../helpers/mailferry-process.js';
import {makeWorkDir, pairCreateArgs, readBatchState, targetAdminEnv, writeMigrationCsv, type PairLike} from '../helpers/batch-fixture.js';
import type {ClientView} from '../helpers/client-view.js';
import {exactCheck} from './exact-check.js';
import {findSecrets} from './secret-scan.js';
import type {FailedMailbox, RoundResult} from './round-result.js';

export interface SourceMailbox {
  login: string;
  password: string;
  /** Messages seeded (the report's itemsTotal must say as much). */
  messages: number;
}

export interface RoundMailbox extends SourceMailbox {
  email: string;
}

export interface RoundBatch {
  name: string;
  work: string;
  stateDir: string;
  env: Record<string, string>;
  mailboxes: RoundMailbox[];
  /** `batch start NAME --state-dir DIR` */
  startArgs: string[];
}

/**
 * A batch of every source mailbox, each to a new target address for round `tag`, created with
 * mailferry reaching the servers through `reach` (proxy ports) rather than directly.
 */
export async function createRoundBatch(pair: PairLike, reach: PairLike, sources: readonly SourceMailbox[], tag: string): Promise<RoundBatch> {
  const work = await makeWorkDir(`faults-${tag}`);
  const mailboxes: RoundMailbox[] = [];
  for (const source of sources) {
    const email = `${tag}-${source.login}@example.test`;
    await pair.target.addUser(email, `unused-${tag}-${source.login}`);
    mailboxes.push({...source, email});
  }
  const stateDir = path.join(work, 'state');
  const name = `faults-${tag}`;
  const env = targetAdminEnv(pair);
  const csv = await writeMigrationCsv(path.join(work, 'users.csv'), mailboxes.map((m) => ({email: m.email, user: m.login, password: m.password})));
  const created = await runMailferry(['batch', 'create', name, '--csv', csv, '--state-dir', stateDir, ...pairCreateArgs(reach)], {env});
  if (created.code !== 0) throw new Error(`batch create for round ${tag} failed:\n${describeResult(created)}`);
  return {name, work, stateDir, env, mailboxes, startArgs: ['batch', 'start', name, '--state-dir', stateDir]};
}

export interface RoundVerdictInput {
  scenario: string;
  round: number;
  seed: number;
  started: number;
  faults: Record<string, number>;
  /** Problems the round saw while it ran (exit codes, runs needed). */
  problems: string[];
  /** Every text mailferry printed in the round, searched for secrets. */
  output: string;
  /** Mailbox addresses the round set out to fail. */
  expectedFailures?: ReadonlySet<string>;
  /** The source mailboxes as read once, when the scenario never changes them. */
  sourceViews?: Map<string, ClientView>;
}

/**
 * The round's result once mailferry has finished: every mailbox Synced with nothing failed in
 * the state, `batch report` counting every message once, the target an exact copy, no secret in
 * the state directory, the output or the report.
 */
export async function roundVerdict(pair: PairLike, batch: RoundBatch, input: RoundVerdictInput): Promise<RoundResult> {
  const problems = [...input.problems];
  const failed: FailedMailbox[] = [];
  const state = await readBatchState(batch.stateDir, batch.name);
  for (const mailbox of batch.mailboxes) {
    const record = state.mailboxes[mailbox.email];
    if (!record) {
      problems.push(`${mailbox.email}: not in the state file`);
      continue;
    }
    if (record.status === 'Failed') {
      failed.push({mailbox: mailbox.email, reason: `${record.error?.kind ?? '?'}: ${record.error?.message ?? 'no error recorded'}`, expected: input.expectedFailures?.has(mailbox.email) ?? false});
    } else if (record.status !== 'Synced') {
      problems.push(`${mailbox.email}: ended ${record.status}, not Synced`);
    }
    for (const item of record.failed) problems.push(`${mailbox.email}: message listed as failed: ${item.folder} UID ${item.uid}: ${item.reason}`);
  }

  const report = await runMailferry(['batch', 'report', batch.name, '--state-dir', batch.stateDir, '--format', 'json'], {env: batch.env});
  if (report.code !== 0) problems.push(`batch report exited ${report.code}: ${report.stderr.trim()}`);
  else problems.push(...reportProblems(report, batch.mailboxes));

  const check = await exactCheck(pair.source, pair.target, batch.mailboxes.map((m) => ({sourceLogin: m.login, targetLogin: m.email})), input.sourceViews);
  problems.push(...check.problems.slice(0, 20));
  if (check.problems.length > 20) problems.push(`... and ${check.problems.length - 20} more differences`);

  const secrets: Record<string, string> = {'the target admin password': pair.target.masterPassword};
  for (const mailbox of batch.mailboxes) secrets[`${mailbox.login}'s source password`] = mailbox.password;
  const leaks = await findSecrets(secrets, {dirs: [batch.work], texts: {'mailferry output': input.output, 'batch report': report.stdout + report.stderr}});
  // The CSV holds the source passwords by design; everything else under the work dir must not.
  problems.push(...leaks.filter((leak) => !leak.endsWith(path.join(batch.work, 'users.csv'))).map((leak) => `secret leaked: ${leak}`));

  return {
    scenario: input.scenario,
    round: input.round,
    seed: input.seed,
    faults: input.faults,
    mailboxes: check.mailboxes,
    messages: check.messages,
    lost: check.lost,
    duplicated: check.duplicated,
    failed,
    problems,
    seconds: (Date.now() - input.started) / 1000,
  };
}

/** What `batch report --format json` says wrong about the counts. */
function reportProblems(report: MailferryResult, mailboxes: readonly RoundMailbox[]): string[] {
  const problems: string[] = [];
  const rows = (JSON.parse(report.stdout) as {mailboxes: Array<{emailAddress: string; itemsTotal: number; itemsCopied: number; itemsSkipped: number; itemsFailed: number}>}).mailboxes;
  for (const mailbox of mailboxes) {
    const row = rows.find((r) => r.emailAddress === mailbox.email);
    if (!row) {
      problems.push(`${mailbox.email}: not in batch report`);
      continue;
    }
    const want = {itemsTotal: mailbox.messages, itemsCopied: mailbox.messages, itemsSkipped: 0, itemsFailed: 0};
    const have = {itemsTotal: row.itemsTotal, itemsCopied: row.itemsCopied, itemsSkipped: row.itemsSkipped, itemsFailed: row.itemsFailed};
    if (JSON.stringify(want) !== JSON.stringify(have)) problems.push(`${mailbox.email}: batch report counts ${JSON.stringify(have)}, expected ${JSON.stringify(want)}`);
  }
  return problems;
}
