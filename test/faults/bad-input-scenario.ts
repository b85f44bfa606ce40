// Fault campaign, bad-input: what an admin's mistakes and a wrong server do to mailferry.
//
// Each round runs one kind (kindOfRound: seven rounds in a row cover all seven), seeded:
// - bad rows: a 1,000-row CSV with 50 bad rows (seeded lines, seeded kind of mistake each).
//   `check-csv --json` and `batch create` report exactly those 50 lines as errors, one each, no
//   crash, no password printed, no batch created.
// - duplicate addresses: a CSV where seeded addresses appear twice (case changed or not); each
//   second row is an error that names the first row's line, and `batch create` refuses.
// - missing CSV at resume: a created batch whose CSV is gone; `batch start` fails naming the CSV
//   and what to do, no stack trace, the state untouched; with the CSV back it finishes, exact.
// - wrong admin password: the target master password is wrong; every mailbox ends Failed with an
//   auth error that says what to do; no password anywhere (state dir, stdout, stderr, the
//   process list while it runs). With the right one, `batch resume` + `batch start` finish it.
// - garbage server / endless line / endless answer: a port that greets with seeded garbage, or
//   "* OK " and megabytes without CRLF, or greets well and answers the first command so;
//   `test-endpoint` and `batch start` fail with a clear error in bounded time (the child is
//   killed at 90 s) and bounded memory (peak RSS under 300 MB).

import {readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {SeededRandom} from '../../bench/seeded-random.js';
import {pairCreateArgs, readBatchState, stateFile, TARGET_ADMIN_ENV} from '../helpers/batch-fixture.js';
import {describeResult, runMailferry, spawnMailferry, type MailferryResult} from '../helpers/mailferry-process.js';
import {badCsv, duplicateCsv} from './bad-csv.js';
import {exactCheck} from './exact-check.js';
import {startHostileServer, type HostileMode} from './hostile-server.js';
import {kindInTurn, type FailedMailbox, type RoundResult, type Scenario} from './round-result.js';
import {findSecrets, processListSnapshot} from './secret-scan.js';
import {createSmallBatch, hasStackTrace, roundsOnOnePair, runBatchCreate, startArgs, statusArgs, type Pair, type SmallBatch} from './small-batch.js';

export const KINDS = ['bad rows', 'duplicate addresses', 'missing CSV at resume', 'wrong admin password', 'garbage server', 'endless line', 'endless answer'] as const;
type Kind = (typeof KINDS)[number];

const PEAK_RSS_LIMIT_KIB = 300 * 1024;
/** Far above a clear failure (3 quick retries), far below "hangs until the socket timeout". */
const HOSTILE_RUN_LIMIT_MS = 90_000;

export function kindOfRound(seed: number, round: number): Kind {
  return kindInTurn(KINDS, seed, round);
}

interface Round {
  pair: Pair;
  work: string;
  random: SeededRandom;
  result: RoundResult;
  prefix: string;
  note: (line: string) => void;
}

export const badInputScenario: Scenario = (options) =>
  roundsOnOnePair('bad-input', options, ({pair, work, round, random, result, note}) =>
    ROUNDS[kindOfRound(options.seed, round)]({pair, work, random, result, prefix: `i${round}x${result.seed % 1000}`, note}),
  );

const ROUNDS: Record<Kind, (round: Round) => Promise<void>> = {
  'bad rows': badRows,
  'duplicate addresses': duplicateAddresses,
  'missing CSV at resume': missingCsvAtResume,
  'wrong admin password': wrongAdminPassword,
  'garbage server': (round) => hostileServer(round, 'garbage'),
  'endless line': (round) => hostileServer(round, 'endless line'),
  'endless answer': (round) => hostileServer(round, 'endless answer'),
};

// ---- CSVs ------------------------------------------------------------------------------------

interface JsonProblem {
  line: number;
  severity: string;
  code: string;
  message: string;
}

/** `check-csv --json` and `batch create` on `file`: the error lines each reports (or a problem). */
async function csvVerdicts(round: Round, file: string, label: string): Promise<{checkCsv: JsonProblem[]; create: number[]; createText: string}> {
  const {result, pair} = round;
  const checked = await runMailferry(['check-csv', file, '--json']);
  if (checked.code !== 1) result.problems.push(`check-csv on ${label} exited ${checked.code ?? checked.signal}, not 1:\n${describeResult(checked)}`);
  let problems: JsonProblem[] = [];
  try {
    problems = (JSON.parse(checked.stdout) as {problems: JsonProblem[]}).problems;
  } catch {
    result.problems.push(`check-csv --json on ${label} printed no JSON:\n${describeResult(checked)}`);
  }
  const stateDir = path.join(round.work, `${round.prefix}-state`);
  const created = await runMailferry(['batch', 'create', `b${round.prefix}`, '--csv', file, '--state-dir', stateDir, ...pairCreateArgs(pair)], {env: {[TARGET_ADMIN_ENV]: pair.target.masterPassword}});
  if (created.code !== 1) result.problems.push(`batch create on ${label} exited ${created.code ?? created.signal}, not 1:\n${describeResult(created)}`);
  if (await readBatchState(stateDir, `b${round.prefix}`).then(() => true, () => false)) result.problems.push(`batch create on ${label} created the batch anyway`);
  const createText = `${created.stdout}\n${created.stderr}`;
  const lines = [...createText.matchAll(/^line (\d+)(?:, column \w+)?: error: /gm)].map((match) => Number(match[1]));
  for (const [label2, run] of [['check-csv', checked], ['batch create', created]] as const) {
    if (hasStackTrace(`${run.stdout}\n${run.stderr}`)) result.problems.push(`${label2} on ${label}: a stack trace reached the user:\n${describeResult(run)}`);
  }
  return {checkCsv: problems, create: lines, createText};
}

function sameLines(round: Round, what: string, expected: number[], got: number[]): void {
  const want = [...expected].sort((a, b) => a - b).join(',');
  const have = [...got].sort((a, b) => a - b).join(',');
  if (want === have) return;
  const missing = expected.filter((line) => !got.includes(line));
  const extra = got.filter((line) => !expected.includes(line));
  const twice = got.filter((line, index) => got.indexOf(line) !== index);
  round.result.problems.push(
    `${what}: ${got.length} errors for ${expected.length} bad lines` +
      (missing.length ? `; not reported: lines ${missing.join(', ')}` : '') +
      (extra.length ? `; reported but good: lines ${extra.join(', ')}` : '') +
      (twice.length ? `; reported twice: lines ${twice.join(', ')}` : ''),
  );
}

async function badRows(round: Round): Promise<void> {
  const {random, result} = round;
  const csv = badCsv(random, 1000, 50);
  const file = path.join(round.work, `${round.prefix}-bad.csv`);
  await writeFile(file, csv.text, {mode: 0o600});
  result.faults['bad CSV rows'] = csv.bad.size;
  const kinds = new Map<string, number>();
  for (const kind of csv.bad.values()) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  round.note(`1000 rows, bad: ${[...kinds].map(([kind, count]) => `${kind} x${count}`).join(', ')}`);

  const verdicts = await csvVerdicts(round, file, 'the CSV with 50 bad rows');
  const errors = verdicts.checkCsv.filter((problem) => problem.severity === 'error');
  sameLines(round, 'check-csv', [...csv.bad.keys()], errors.map((problem) => problem.line));
  sameLines(round, 'batch create', [...csv.bad.keys()], verdicts.create);
  result.problems.push(...(await findSecrets(csv.secrets, {texts: {'check-csv and batch create output': `${JSON.stringify(verdicts.checkCsv)}\n${verdicts.createText}`}})));
}

async function duplicateAddresses(round: Round): Promise<void> {
  const {random, result} = round;
  const csv = duplicateCsv(random, random.int(20, 200), random.int(1, 6));
  const file = path.join(round.work, `${round.prefix}-dup.csv`);
  await writeFile(file, csv.text, {mode: 0o600});
  result.faults['duplicate addresses'] = csv.pairs.length;
  round.note(`duplicates on lines ${csv.pairs.map(([first, second]) => `${first}+${second}`).join(', ')}`);

  const verdicts = await csvVerdicts(round, file, 'the CSV with duplicate addresses');
  const errors = verdicts.checkCsv.filter((problem) => problem.severity === 'error');
  sameLines(round, 'check-csv', csv.pairs.map(([, second]) => second), errors.map((problem) => problem.line));
  sameLines(round, 'batch create', csv.pairs.map(([, second]) => second), verdicts.create);
  for (const [first, second] of csv.pairs) {
    const problem = errors.find((candidate) => candidate.line === second);
    if (problem && !new RegExp(`\\bline ${first}\\b`).test(problem.message)) result.problems.push(`check-csv: the duplicate on line ${second} does not name line ${first}: ${problem.message}`);
    const created = new RegExp(`^line ${second}\\b.*\\bline ${first}\\b`, 'm');
    if (!created.test(verdicts.createText)) result.problems.push(`batch create: the duplicate on line ${second} is not reported with line ${first}`);
  }
}

// ---- a created batch whose CSV is gone --------------------------------------------------------

async function missingCsvAtResume(round: Round): Promise<void> {
  const {pair, random, result} = round;
  const batch = await createSmallBatch(pair, round.work, round.prefix, random);
  await runBatchCreate(pair, batch);
  // Seeded: the CSV goes before the first start, or after a first run killed part way.
  const killedFirst = random.chance(0.5);
  if (killedFirst) {
    const child = spawnMailferry(startArgs(batch), {env: batch.env, timeoutMs: 120_000});
    await child.waitForLine(/Syncing|pass done|Synced/, 60_000).catch(() => undefined);
    child.kill('SIGKILL');
    await child.exited;
  }
  const text = await readFile(batch.csv, 'utf8');
  await rm(batch.csv);
  result.faults[killedFirst ? 'CSV deleted after a killed run' : 'CSV deleted before the first start'] = 1;

  const before = await stateText(batch);
  const run = await runMailferry(startArgs(batch), {env: batch.env, timeoutMs: 120_000});
  const output = `${run.stdout}\n${run.stderr}`;
  round.note(`batch start without its CSV: exit ${run.code}; ${run.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  if (run.code === 0) result.problems.push(`batch start without its CSV exited 0:\n${describeResult(run)}`);
  if (!output.includes(batch.csv)) result.problems.push(`batch start without its CSV does not name ${batch.csv}:\n${describeResult(run)}`);
  if (hasStackTrace(output)) result.problems.push(`batch start without its CSV: a stack trace reached the user:\n${describeResult(run)}`);
  const after = await stateText(batch);
  // A run that refuses to start must not mark anyone Failed (or anything else).
  if (before !== after) result.problems.push(`batch start without its CSV changed the mailboxes' state:\nbefore ${before}\nafter ${after}`);
  const status = await runMailferry(statusArgs(batch));
  if (hasStackTrace(`${status.stdout}\n${status.stderr}`) || status.signal) result.problems.push(`batch status after the missing CSV:\n${describeResult(status)}`);

  await writeFile(batch.csv, text, {mode: 0o600});
  await finishAndCheck(round, batch, {'stdout without the CSV': run.stdout, 'stderr without the CSV': run.stderr});
}

/** The mailboxes' statuses and errors, as JSON, for a before/after comparison. */
async function stateText(batch: SmallBatch): Promise<string> {
  const state = await readBatchState(batch.stateDir, batch.name);
  return JSON.stringify(Object.values(state.mailboxes).map((mailbox) => [mailbox.identity.emailAddress, mailbox.status, mailbox.error?.message ?? null]));
}

// ---- a wrong target admin password ------------------------------------------------------------

async function wrongAdminPassword(round: Round): Promise<void> {
  const {pair, random, result} = round;
  const batch = await createSmallBatch(pair, round.work, round.prefix, random, {mailboxes: random.int(2, 3)});
  await runBatchCreate(pair, batch);
  const wrong = `wrong-admin-${random.int(100_000, 999_999)}-${random.int(100_000, 999_999)}`;
  result.faults['wrong target admin password'] = 1;
  const secrets = {...batch.secrets, 'the wrong admin password': wrong, 'the real admin password': pair.target.masterPassword};

  const child = spawnMailferry(startArgs(batch), {env: {[TARGET_ADMIN_ENV]: wrong}, timeoutMs: 120_000});
  // The process list while it runs (it has started on the mailboxes by then).
  await child.waitForLine(/Starting/, 60_000).catch(() => undefined);
  const processes = await processListSnapshot();
  const run = await child.exited;
  if (child.wasTimedOut) result.problems.push('batch start with a wrong admin password did not end within 120 s');
  if (run.code === 0) result.problems.push(`batch start with a wrong admin password exited 0:\n${describeResult(run)}`);
  if (hasStackTrace(`${run.stdout}\n${run.stderr}`)) result.problems.push(`a stack trace reached the user:\n${describeResult(run)}`);

  const state = await readBatchState(batch.stateDir, batch.name);
  const failed: FailedMailbox[] = [];
  for (const mailbox of Object.values(state.mailboxes)) {
    const error = mailbox.error;
    const who = mailbox.identity.emailAddress;
    if (mailbox.status !== 'Failed') result.problems.push(`${who} ended ${mailbox.status} with a wrong admin password, not Failed`);
    if (!error) continue;
    failed.push({mailbox: who, reason: `${error.kind}: ${error.message}`, expected: true});
    if (error.kind !== 'auth') result.problems.push(`${who}: the error is of kind ${error.kind}, not auth: ${error.message}`);
    if (error.endpoint !== 'target') result.problems.push(`${who}: the error does not say it is the target's login (endpoint ${error.endpoint})`);
    // What to do means: which password to check (the admin one, where it comes from) and how to go on.
    if (!error.hint?.includes(TARGET_ADMIN_ENV) || !/admin password/.test(error.hint) || !/batch resume/.test(error.hint)) {
      result.problems.push(`${who}: the auth error does not say which password to check (the target admin password from ${TARGET_ADMIN_ENV}) and how to go on: ${error.message} / ${error.hint ?? '(no hint)'}`);
    }
  }
  result.failed.push(...failed);
  round.note(`${failed.length} Failed: ${failed[0]?.reason ?? '-'} / ${Object.values(state.mailboxes)[0]?.error?.hint ?? '-'}`);
  result.problems.push(
    ...(await findSecrets(secrets, {dirs: [batch.stateDir], texts: {'batch start stdout': run.stdout, 'batch start stderr': run.stderr, 'the process list during batch start': processes}})),
  );

  // What the hint says: fix the password, resume the mailboxes, start again.
  const resumed = await runMailferry(['batch', 'resume', batch.name, '--state-dir', batch.stateDir], {env: batch.env});
  if (resumed.code !== 0) result.problems.push(`batch resume after fixing the admin password:\n${describeResult(resumed)}`);
  await finishAndCheck(round, batch, {'batch resume stdout': resumed.stdout}, secrets);
}

// ---- a port that is not IMAP ------------------------------------------------------------------

async function hostileServer(round: Round, mode: HostileMode): Promise<void> {
  const {pair, random, result} = round;
  const server = await startHostileServer(mode, random.int(1, 1_000_000));
  const role = random.pick(['source', 'target'] as const);
  result.faults[`${mode} (${role})`] = 1;
  try {
    const tested = await watchedRun(round, 'test-endpoint', ['test-endpoint', '--host', '127.0.0.1', '--port', String(server.port), '--security', 'none'], {});
    if (tested) {
      if (tested.code !== 1) result.problems.push(`test-endpoint against a ${mode} server exited ${tested.code ?? tested.signal}, not 1:\n${describeResult(tested)}`);
      const step = mode === 'endless answer' ? 'CAPABILITY' : 'IMAP greeting';
      if (!new RegExp(`FAIL\\s+${step}`).test(tested.stdout)) result.problems.push(`test-endpoint against a ${mode} server did not fail at the ${step} step:\n${describeResult(tested)}`);
      if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/.test(tested.stdout)) result.problems.push(`test-endpoint printed the ${mode} server's control characters to the terminal`);
    }

    const batch = await createSmallBatch(pair, round.work, round.prefix, random, {mailboxes: 1});
    const args = pairCreateArgs(pair);
    const portFlag = role === 'source' ? '--source-port' : '--target-port';
    args[args.indexOf(portFlag) + 1] = String(server.port);
    const created = await runMailferry(['batch', 'create', batch.name, '--csv', batch.csv, '--state-dir', batch.stateDir, ...args], {env: batch.env});
    if (created.code !== 0) throw new Error(`batch create against a ${mode} ${role}: ${describeResult(created)}`);
    const started = await watchedRun(round, 'batch start', startArgs(batch), batch.env);
    if (!started) return;
    if (started.code === 0) result.problems.push(`batch start against a ${mode} ${role} exited 0:\n${describeResult(started)}`);
    const state = await readBatchState(batch.stateDir, batch.name);
    for (const mailbox of Object.values(state.mailboxes)) {
      const error = mailbox.error;
      if (mailbox.status !== 'Failed' || !error) {
        result.problems.push(`${mailbox.identity.emailAddress} ended ${mailbox.status} against a ${mode} ${role}, not Failed with an error`);
        continue;
      }
      result.failed.push({mailbox: mailbox.identity.emailAddress, reason: `${error.kind}: ${error.message}`, expected: true});
      round.note(`${mailbox.identity.emailAddress}: ${error.kind}: ${error.message} / ${error.hint}`);
      if (error.endpoint !== role) result.problems.push(`the error blames the ${error.endpoint}, not the ${role}: ${error.message}`);
      const clear = mode === 'endless answer' ? /could not read .*without an end of line/ : /does not answer like an IMAP server/;
      if (!clear.test(error.message) || !error.hint) result.problems.push(`the error does not say what the ${role} did wrong, or what to do: ${error.message} / ${error.hint ?? '(no hint)'}`);
    }
    result.problems.push(...(await findSecrets(batch.secrets, {dirs: [batch.stateDir], texts: {'batch start stdout': started.stdout, 'batch start stderr': started.stderr}})));
  } finally {
    await server.stop();
  }
}

/** Runs mailferry with its peak RSS watched; kills it past HOSTILE_RUN_LIMIT_MS or twice the RSS limit. */
async function watchedRun(round: Round, label: string, args: string[], env: Record<string, string>): Promise<MailferryResult | undefined> {
  const child = spawnMailferry(args, {env, timeoutMs: HOSTILE_RUN_LIMIT_MS});
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, child.peakRssKiB() ?? 0);
    // Well past the limit already: stop before it takes the machine's memory with it.
    if (peak > 2 * PEAK_RSS_LIMIT_KIB) child.kill('SIGKILL');
  }, 50);
  const result = await child.exited;
  clearInterval(timer);
  round.note(`${label}: exit ${result.code ?? result.signal}, peak RSS ${Math.round(peak / 1024)} MB`);
  if (peak > PEAK_RSS_LIMIT_KIB) round.result.problems.push(`${label}: peak RSS ${Math.round(peak / 1024)} MB, over ${PEAK_RSS_LIMIT_KIB / 1024} MB`);
  if (child.wasTimedOut) round.result.problems.push(`${label} was still running after ${HOSTILE_RUN_LIMIT_MS / 1000} s`);
  if (hasStackTrace(`${result.stdout}\n${result.stderr}`)) round.result.problems.push(`${label}: a stack trace reached the user:\n${describeResult(result)}`);
  return child.wasTimedOut || result.signal ? undefined : result;
}

// ---- the end of a round that copies: finished, exact, no secrets ------------------------------

async function finishAndCheck(round: Round, batch: SmallBatch, outputs: Record<string, string>, secrets: Record<string, string> = batch.secrets): Promise<void> {
  const {pair, result} = round;
  const run = await runMailferry(startArgs(batch), {env: batch.env, timeoutMs: 120_000});
  if (run.code !== 0) result.problems.push(`batch start once the input was fixed:\n${describeResult(run)}`);
  const state = await readBatchState(batch.stateDir, batch.name);
  for (const mailbox of Object.values(state.mailboxes)) {
    if (mailbox.status === 'Failed') result.failed.push({mailbox: mailbox.identity.emailAddress, reason: `${mailbox.error?.kind}: ${mailbox.error?.message}`, expected: false});
    else if (mailbox.status !== 'Synced') result.problems.push(`${mailbox.identity.emailAddress} ended ${mailbox.status}, not Synced`);
  }
  const check = await exactCheck(pair.source, pair.target, batch.mailboxes);
  result.mailboxes = check.mailboxes;
  result.messages = check.messages;
  result.lost = check.lost;
  result.duplicated = check.duplicated;
  result.problems.push(...check.problems);
  result.problems.push(...(await findSecrets(secrets, {dirs: [batch.stateDir], files: [stateFile(batch.stateDir, batch.name)], texts: {...outputs, 'final batch start stdout': run.stdout, 'final batch start stderr': run.stderr}})));
}
