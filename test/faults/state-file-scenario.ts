// Fault campaign, state-file: what happens to a batch whose state files are hit.
//
// Each round runs one kind of fault (kindOfRound: six rounds in a row cover all six) on a fresh small batch (2 mailboxes,
// a few dozen seeded messages) against one Dovecot pair:
// - kill -9 in state write: `batch start` is SIGKILLed when its Nth state write (seeded) has put
//   its temporary file down, i.e. between the write and the rename. Every state file must then
//   parse, and the restarted run finish with 0 lost, 0 duplicated.
// - truncated / corrupted head or shard: after a full run (which leaves .bak copies), one file is
//   cut at a seeded offset or has seeded structural bytes replaced. `batch start`, `batch status`
//   and `batch list` must exit non-zero naming the file and its .bak, no stack trace, and write nothing: every file
//   under batches/ byte-identical before and after. (A mailbox's own file is not read by `batch
//   status`, by design: for one of those, status must show the intact summaries instead.) Then the .bak is copied over the file, as the
//   error says, and `batch start` finishes the batch with 0 lost, 0 duplicated.
// - old version: the batch is created (and, seeded, half run) in the version 1 single-file layout;
//   today's `batch start` converts it and finishes, exact check clean.

import {watch, type FSWatcher} from 'node:fs';
import {copyFile, readdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {SeededRandom} from '../../bench/seeded-random.js';
import {readBatchState, stateFile, waitFor} from '../helpers/batch-fixture.js';
import {describeResult, runMailferry, spawnMailferry, type MailferryResult} from '../helpers/mailferry-process.js';
import {mailboxDirFor} from '../../source/store/sharded-state.js';
import {exactCheck} from './exact-check.js';
import {kindInTurn, type FailedMailbox, type RoundResult, type Scenario} from './round-result.js';
import {createSmallBatch, hasStackTrace, roundsOnOnePair, runBatchCreate, startArgs, statusArgs, type Pair, type SmallBatch} from './small-batch.js';
import {corrupted, parsesAsJson, truncated} from './state-damage.js';
import {findSecrets} from './secret-scan.js';

export const KINDS = ['kill -9 in state write', 'truncated head', 'truncated shard', 'corrupted head', 'corrupted shard', 'old version'] as const;
type Kind = (typeof KINDS)[number];

/** Consecutive rounds take the kinds in turn, starting where the seed says. */
export function kindOfRound(seed: number, round: number): Kind {
  return kindInTurn(KINDS, seed, round);
}

interface Round {
  pair: Pair;
  batch: SmallBatch;
  random: SeededRandom;
  kind: Kind;
  result: RoundResult;
  note: (line: string) => void;
}

export const stateFileScenario: Scenario = (options) =>
  roundsOnOnePair('state-file', options, async ({pair, work, round, random, result, note}) => {
    const batch = await createSmallBatch(pair, work, `s${round}x${result.seed % 1000}`, random);
    await runRound({pair, batch, random, kind: kindOfRound(options.seed, round), result, note});
  });

async function runRound(round: Round): Promise<void> {
  if (round.kind === 'kill -9 in state write') await killInStateWrite(round);
  else if (round.kind === 'old version') await oldVersion(round);
  else await damagedFile(round);
  await finishAndCheck(round);
}

// ---- kill -9 between a state write's temporary file and its rename --------------------------

async function killInStateWrite(round: Round): Promise<void> {
  const {batch, random} = round;
  await runBatchCreate(round.pair, batch);
  const wanted = random.int(1, 6);
  const head = stateFile(batch.stateDir, batch.name);
  const dirs = [path.dirname(head), mailboxDirFor(head)];
  const child = spawnMailferry(startArgs(batch), {env: batch.env, timeoutMs: 120_000});
  let seen = 0;
  let killedAt: string | undefined;
  const watchers: FSWatcher[] = [];
  const killed = new Promise<void>((resolve) => {
    for (const dir of dirs) {
      watchers.push(
        watch(dir, (_event, name) => {
          if (killedAt || !name || !/\.json\.tmp-\d+$/.test(String(name)) || !String(name).includes(`.tmp-${child.pid}`)) return;
          if (++seen < wanted) return;
          killedAt = String(name);
          child.kill('SIGKILL');
          resolve();
        }),
      );
    }
    void child.exited.then(() => resolve());
  });
  await killed;
  for (const watcher of watchers) watcher.close();
  const exited = await child.exited;
  if (exited.signal !== 'SIGKILL') {
    round.note(`the run ended (${exited.code}) after ${seen} state writes, before write ${wanted}: no kill this round`);
    round.result.faults['kill -9 in state write (run ended first)'] = 1;
    if (exited.code !== 0) round.result.problems.push(`batch start before any kill: ${describeResult(exited)}`);
    return;
  }
  round.result.faults['kill -9 in state write'] = 1;
  const leftover = (await leftoverTempFiles(batch)).length;
  round.note(`killed at state write ${wanted} (${killedAt}); ${leftover} temporary file(s) left behind`);
  for (const file of await stateFilesOf(batch)) {
    const bytes = await readFile(file);
    if (!parsesAsJson(bytes)) round.result.problems.push(`after the kill, ${file} does not parse (${bytes.length} bytes): a write was not atomic`);
  }
}

// ---- a damaged head or shard file -----------------------------------------------------------

async function damagedFile(round: Round): Promise<void> {
  const {batch, random, kind, result} = round;
  await runBatchCreate(round.pair, batch);
  const first = await runMailferry(startArgs(batch), {env: batch.env, timeoutMs: 120_000});
  if (first.code !== 0) result.problems.push(`the first batch start, before any damage: ${describeResult(first)}`);

  const head = stateFile(batch.stateDir, batch.name);
  const candidates = kind.endsWith('head') ? [head] : (await stateFilesOf(batch)).filter((file) => file !== head);
  const withBackup: string[] = [];
  for (const file of candidates) if (await exists(`${file}.bak`)) withBackup.push(file);
  if (withBackup.length === 0) {
    result.problems.push(`no .bak next to ${candidates.join(', ')} after a full run: nothing to restore from`);
    return;
  }
  const target = random.pick(withBackup.sort());
  const original = await readFile(target);
  let damage = kind.startsWith('truncated') ? truncated(original, random) : corrupted(original, random);
  while (parsesAsJson(damage.bytes)) damage = corrupted(original, random);
  await writeFile(target, damage.bytes);
  result.faults[kind] = 1;
  round.note(`${path.relative(batch.stateDir, target)}: ${damage.what}`);

  const before = await snapshotBatches(batch);
  const listArgs = ['batch', 'list', '--state-dir', batch.stateDir];
  for (const [label, args] of [['batch start', startArgs(batch)], ['batch status', statusArgs(batch)], ['batch list', listArgs]] as const) {
    const run = await runMailferry(args, {env: batch.env, timeoutMs: 60_000});
    // Like status, list reads heads and summaries only.
    if (label !== 'batch start' && isMailboxFile(target)) checkStatusShowsSummaries(round, label, run);
    else checkRefusal(round, label, run, target);
    const after = await snapshotBatches(batch);
    for (const change of compareSnapshots(before, after)) result.problems.push(`${label} on the damaged state changed ${change}`);
  }

  // What the error says to do: copy the .bak over the file.
  await copyFile(`${target}.bak`, target);
}

/** A mailbox's own file, as opposed to the head or a summary shard. */
function isMailboxFile(file: string): boolean {
  return path.basename(path.dirname(file)).endsWith('.d') && !path.basename(file).startsWith('_summary-');
}

/**
 * `batch status` reads the head and the summary shards only (batch-command.ts: at 10,000
 * mailboxes reading every mailbox's file would miss its one-second budget), so a damaged file of
 * a Synced mailbox is not its to see: it must still show the summaries, untouched, and not crash.
 * `batch start`, which reads every file, is the one that must refuse.
 */
function checkStatusShowsSummaries(round: Round, label: string, run: MailferryResult): void {
  const text = `${run.stdout}\n${run.stderr}`;
  const problems = round.result.problems;
  if (run.code !== 0 || run.signal) problems.push(`${label} with a damaged mailbox file (the summaries intact) did not show them:\n${describeResult(run)}`);
  const shown = label === 'batch list' ? [`${round.batch.name}\t${round.batch.mailboxes.length} mailbox(es)`] : round.batch.mailboxes.map((mailbox) => mailbox.targetLogin);
  for (const wanted of shown) if (!run.stdout.includes(wanted)) problems.push(`${label} does not show ${JSON.stringify(wanted)}:\n${describeResult(run)}`);
  if (hasStackTrace(text)) problems.push(`${label}: a stack trace reached the user:\n${describeResult(run)}`);
}

function checkRefusal(round: Round, label: string, run: MailferryResult, file: string): void {
  const text = `${run.stdout}\n${run.stderr}`;
  const problems = round.result.problems;
  if (run.code === 0) problems.push(`${label} exited 0 on a damaged ${path.basename(file)}:\n${describeResult(run)}`);
  if (run.signal) problems.push(`${label} died of ${run.signal} on a damaged ${path.basename(file)}`);
  if (!text.includes(file)) problems.push(`${label}: the error does not name the damaged file ${file}:\n${describeResult(run)}`);
  if (!text.includes(`${file}.bak`)) problems.push(`${label}: the error does not offer ${file}.bak:\n${describeResult(run)}`);
  if (hasStackTrace(text)) problems.push(`${label}: a stack trace reached the user:\n${describeResult(run)}`);
}

// ---- a state file of the version 1 layout ---------------------------------------------------

async function oldVersion(round: Round): Promise<void> {
  const {batch, random, result} = round;
  const single = {MAILFERRY_STATE_LAYOUT: 'single'};
  await runBatchCreate(round.pair, batch, single);
  const head = stateFile(batch.stateDir, batch.name);
  const written = JSON.parse(await readFile(head, 'utf8')) as {version?: unknown; layout?: unknown};
  if (written.version !== 1 || written.layout !== undefined) result.problems.push(`MAILFERRY_STATE_LAYOUT=single created ${JSON.stringify({version: written.version, layout: written.layout})}, not a version 1 file`);
  result.faults['old version (v1 single file)'] = 1;
  if (random.chance(0.5)) {
    // Half run by the old layout first, so the converted file carries checkpoints and progress.
    const child = spawnMailferry(startArgs(batch), {env: {...batch.env, ...single}, timeoutMs: 120_000});
    const copied = random.int(1, 10);
    await waitFor(`${copied} messages checkpointed in the v1 file`, async () => {
      if (child.hasExited) return true;
      const text = await readFile(head, 'utf8').catch(() => '');
      const counts = [...text.matchAll(/"doneCount":(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
      return counts >= copied ? true : undefined;
    }, 60_000, 5);
    child.kill('SIGKILL');
    const exited = await child.exited;
    round.note(`v1 run ${exited.signal === 'SIGKILL' ? `killed after ${copied}+ messages` : `ended (${exited.code}) before the kill`}`);
    result.faults['kill -9 of the v1 run'] = exited.signal === 'SIGKILL' ? 1 : 0;
  }
}

// ---- the end of every round: the batch finishes, the target is exact, no secrets ------------

async function finishAndCheck(round: Round): Promise<void> {
  const {pair, batch, result} = round;
  let last: MailferryResult | undefined;
  const outputs: Record<string, string> = {};
  // A restart after a kill may need a second pass for a mailbox the kill interrupted mid-login.
  for (let run = 0; run < 3 && last?.code !== 0; run++) {
    last = await runMailferry(startArgs(batch), {env: batch.env, timeoutMs: 120_000});
    outputs[`stdout of restart ${run}`] = last.stdout;
    outputs[`stderr of restart ${run}`] = last.stderr;
    if (hasStackTrace(`${last.stdout}\n${last.stderr}`)) result.problems.push(`restart ${run}: a stack trace reached the user:\n${describeResult(last)}`);
  }
  if (last?.code !== 0) result.problems.push(`batch start did not finish the batch after the fault:\n${describeResult(last!)}`);

  // The dead run's temporary files are the restart's to clear (removeStaleTempFiles).
  for (const file of await leftoverTempFiles(batch)) result.problems.push(`temporary state file left after the batch finished: ${file}`);
  const state = await readBatchState(batch.stateDir, batch.name);
  if (state.version !== 2) result.problems.push(`the state is version ${state.version} after the run, not 2`);
  const failed: FailedMailbox[] = [];
  for (const mailbox of Object.values(state.mailboxes)) {
    if (mailbox.status === 'Failed') failed.push({mailbox: mailbox.identity.emailAddress, reason: `${mailbox.error?.kind}: ${mailbox.error?.message}`, expected: false});
    else if (mailbox.status !== 'Synced') result.problems.push(`${mailbox.identity.emailAddress} ended ${mailbox.status}, not Synced`);
    for (const item of mailbox.failed) result.problems.push(`${mailbox.identity.emailAddress}: message ${item.folder} UID ${item.uid} listed as failed: ${item.reason}`);
  }
  result.failed.push(...failed);

  const check = await exactCheck(pair.source, pair.target, batch.mailboxes);
  result.mailboxes = check.mailboxes;
  result.messages = check.messages;
  result.lost = check.lost;
  result.duplicated = check.duplicated;
  result.problems.push(...check.problems);
  result.problems.push(...(await findSecrets(batch.secrets, {dirs: [batch.stateDir], texts: outputs})));
}

// ---- files ----------------------------------------------------------------------------------

/** The head and every file in NAME.d that is state (not a .bak or a temporary file). */
async function stateFilesOf(batch: SmallBatch): Promise<string[]> {
  const head = stateFile(batch.stateDir, batch.name);
  const dir = mailboxDirFor(head);
  const names = await readdir(dir).catch(() => [] as string[]);
  return [head, ...names.filter((name) => name.endsWith('.json')).sort().map((name) => path.join(dir, name))];
}

async function leftoverTempFiles(batch: SmallBatch): Promise<string[]> {
  const root = path.join(batch.stateDir, 'batches');
  const entries = await readdir(root, {withFileTypes: true, recursive: true});
  return entries.filter((entry) => entry.isFile() && /\.tmp-\d+/.test(entry.name)).map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}

/** Every file under batches/ (the lock aside: a refused start may take and drop it) by content. */
async function snapshotBatches(batch: SmallBatch): Promise<Map<string, string>> {
  const root = path.join(batch.stateDir, 'batches');
  const entries = await readdir(root, {withFileTypes: true, recursive: true});
  const files = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.endsWith('.lock')) continue;
    const file = path.join(entry.parentPath, entry.name);
    files.set(path.relative(root, file), (await readFile(file)).toString('base64'));
  }
  return files;
}

function compareSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [file, bytes] of before) {
    if (!after.has(file)) changes.push(`${file}: deleted`);
    else if (after.get(file) !== bytes) changes.push(`${file}: rewritten`);
  }
  for (const file of after.keys()) if (!before.has(file)) changes.push(`${file}: created`);
  return changes;
}
