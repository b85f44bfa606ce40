// `mailferry batch add NAME --csv FILE` and `mailferry batch remove NAME --mailbox EMAIL --yes`:
// the lines (or JSON records) they print and their exit codes. The work is in
// engine/batch-membership.ts; batch-command.ts dispatches here.

import {addUsersToBatch, removeMailboxesFromBatch} from '../engine/batch-membership.js';
import {exposedMigrationCsv} from '../engine/credentials/secret-file-exposure.js';
import type {Logger} from '../log/logger.js';
import {formatProblem} from './check-csv-command.js';

/** What batch-command.ts's Output offers. */
export interface MembershipOutput {
  readonly json: boolean;
  line(text: string): void;
  record(value: unknown): void;
  done(value: unknown, text: string): void;
  warning(text: string): void;
}

export interface MembershipContext {
  out: MembershipOutput;
  stateDir: string;
  name: string;
  logger: Logger;
  /** Appended to the "next:" hints (e.g. --state-dir DIR). */
  hintFlags: string;
}

const OK = 0;
const FAILED = 1;

export async function batchAdd(context: MembershipContext, csvPath: string): Promise<number> {
  const {out, name, logger} = context;
  const result = await addUsersToBatch(context.stateDir, name, csvPath);
  const {plan} = result;
  const rows = plan.csv.rows.length;
  if (!out.json) {
    out.line(`${plan.csvPath}: ${rows} ${rows === 1 ? 'row' : 'rows'}, delimiter '${plan.csv.delimiter}', columns ${plan.csv.columns.join(', ') || '(none recognised)'}`);
    for (const problem of [...plan.errors, ...plan.warnings].sort((a, b) => a.line - b.line)) out.line(formatProblem(problem));
    for (const row of plan.alreadyInBatch) out.line(`line ${row.line}: ${row.emailAddress} is already in the batch, left alone`);
  }
  const record = {
    action: 'add',
    batch: name,
    csv: plan.csvPath,
    rows,
    outcome: result.outcome,
    added: result.added,
    alreadyInBatch: plan.alreadyInBatch.map((row) => ({line: row.line, emailAddress: row.emailAddress})),
    problems: [...plan.errors, ...plan.warnings],
    ...(result.runningPid ? {runningPid: result.runningPid} : {}),
    ...(result.runnerEnded ? {runnerEnded: true} : {}),
  };
  if (result.added.length > 0) {
    // The file is read again on every start: the same warning as batch create gives for the batch's own CSV.
    const exposed = await exposedMigrationCsv(plan.csvPath, plan.csv.rows);
    if (exposed) {
      out.warning(exposed.message);
      logger.warn(exposed.message);
    }
  }
  const log = {csv: plan.csvPath, mailboxes: result.added, alreadyInBatch: record.alreadyInBatch.map((row) => row.emailAddress)};
  switch (result.outcome) {
    case 'invalid':
      logger.warn('batch add refused: the CSV has errors; nothing added', {csv: plan.csvPath, errors: plan.errors.length});
      out.done(record, `the CSV has ${plan.errors.length} error(s); nothing was added to batch "${name}". Fix them (mailferry check-csv ${plan.csvPath}) and run batch add again`);
      return FAILED;
    case 'nothing-new':
      out.done(record, `nothing to add: every row of ${plan.csvPath} is already in batch "${name}"`);
      return OK;
    case 'applied':
      logger.info(result.runnerEnded ? 'users added to the state (the running process ended before it took them)' : 'users added to the state', log);
      out.done(
        record,
        `added ${result.added.length} mailbox(es) to batch "${name}" as Queued: ${result.added.join(', ')}` +
          (result.runnerEnded ? ' (the process that ran the batch ended before it took them)' : '') +
          `\nnext: mailferry batch start ${name}${context.hintFlags}`,
      );
      return OK;
    case 'added-by-runner':
      logger.info('users added through the running process', {...log, pid: result.runningPid});
      out.done(
        record,
        result.runnerEnded
          ? `added ${result.added.length} mailbox(es) to batch "${name}" as Queued: ${result.added.join(', ')}; the process that ran the batch (pid ${result.runningPid}) ended just after taking them\nnext: mailferry batch start ${name}${context.hintFlags}`
          : `added ${result.added.length} mailbox(es) to batch "${name}" through the running process (pid ${result.runningPid}); they start as the concurrency caps allow: ${result.added.join(', ')}`,
      );
      return OK;
    case 'posted':
      logger.warn('add sent to the running process, which has not shown the users in its state yet', {...log, pid: result.runningPid});
      out.done(
        record,
        result.taken
          ? `the running process (pid ${result.runningPid}) took the add for ${result.added.join(', ')} but its state does not show them; its log says why`
          : `add sent to the running process (pid ${result.runningPid}) for ${result.added.join(', ')}; it has not taken it yet (mailferry batch status ${name} shows them once it has)`,
      );
      return result.taken ? FAILED : OK;
  }
}

export async function batchRemoveMailboxes(context: MembershipContext, mailboxes: readonly string[]): Promise<number> {
  const {out, name, logger} = context;
  const result = await removeMailboxesFromBatch(context.stateDir, name, mailboxes);
  const who = result.removed.join(', ');
  const record = {action: 'remove', batch: name, outcome: result.outcome, removed: result.removed, ...(result.runningPid ? {runningPid: result.runningPid} : {})};
  logger.info(result.outcome === 'posted' ? 'remove sent to the running process' : 'mailboxes removed from the batch (state only; no mail touched)', {mailboxes: result.removed, outcome: result.outcome});
  if (result.outcome === 'posted') {
    out.done(record, `remove sent to the running process (pid ${result.runningPid}) for ${who}; it has not applied it yet`);
  } else {
    const via = result.outcome === 'removed-by-runner' ? ` through the running process (pid ${result.runningPid})` : '';
    out.done(record, `removed ${who} from batch "${name}"${via} (its state only; no mail was touched on the source or the target)`);
  }
  return OK;
}
