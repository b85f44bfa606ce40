// Fault campaign, "restart": the source Dovecot, the target Dovecot or both are restarted while
// `batch start` copies 3-4 realistic mailboxes (several folders, a few 1-5 MB messages). The
// moment is seeded: once the target holds a seeded share of the messages on disk. mailferry must
// reconnect and finish; when a run still exits non-zero, `batch start` is run again as an admin
// would (at most twice more). Every mailbox must end Synced and exact: 0 lost, 0 duplicated,
// no message listed as failed, no password in the state, the log or the output.

import {rm} from 'node:fs/promises';
import {SeededRandom} from '../../bench/seeded-random.js';
import {startDovecotPair, type DovecotServer} from '../helpers/dovecot-pair.js';
import {sessions} from '../helpers/dovecot-log.js';
import {spawnMailferry} from '../helpers/mailferry-process.js';
import {seedMailbox} from '../helpers/seed-mailbox.js';
import {createRoundBatch, exitsText, largestPartialAppend, leakedPasswords, mailboxOutcomes, maildirMessageCount, rerunUntilDone, roundMailboxes, type RoundBatch} from './batch-round.js';
import {exactCheck} from './exact-check.js';
import {roundSeed, type RoundResult, type Scenario} from './round-result.js';

type Restarted = 'source' | 'target' | 'both';
/** share: once the target holds the seeded share of the messages; login: as the first mailbox
 *  logs in (the first mailbox lists its folders); large append: while the target receives a message of 256 KB
 *  or more (or at the share, should the poll miss every one). */
type Moment = 'share' | 'login' | 'large append';
const PARTIAL_APPEND_BYTES = 256 * 1024;

const RUN_TIMEOUT_MS = 180_000;
/** How often the target's Maildirs are counted while the copy runs: the copy takes seconds. */
const POLL_MS = 5;

async function restartRound(round: number, seed: number, report: (line: string) => void): Promise<RoundResult> {
  const started = Date.now();
  const random = new SeededRandom(seed);
  const restarted = random.pick<Restarted>(['source', 'target', 'both']);
  const mailboxes = roundMailboxes(random, 'rs', random.int(3, 4), () => random.int(1, 3));
  const targetLayout = random.chance(0.5) ? {separator: '.' as const, prefix: 'INBOX.' as const} : {};
  const total = mailboxes.reduce((sum, mailbox) => sum + mailbox.spec.messages.length, 0);
  // 0: before mailferry has logged in; up to 95 %: the last folders, the large messages among them.
  const threshold = Math.floor(total * random.next() * 0.95);
  const momentKind = random.pick<Moment>(['share', 'share', 'login', 'large append']);
  const result: RoundResult = {
    scenario: 'restart', round, seed, faults: {}, mailboxes: mailboxes.length, messages: 0,
    lost: 0, duplicated: 0, failed: [], problems: [], seconds: 0,
  };
  const pair = await startDovecotPair({
    source: {users: Object.fromEntries(mailboxes.map((mailbox) => [mailbox.user, mailbox.password]))},
    target: {users: Object.fromEntries(mailboxes.map((mailbox) => [mailbox.email, `tgt-${mailbox.user}`])), ...targetLayout},
  });
  let batch: RoundBatch | undefined;
  try {
    await Promise.all(mailboxes.map((mailbox) => seedMailbox(pair.source, mailbox.user, mailbox.spec)));
    batch = await createRoundBatch(pair, 'restart', mailboxes);
    const logins = new Set(mailboxes.flatMap((mailbox) => [mailbox.user, mailbox.email]));
    const onTarget = () => mailboxes.reduce((sum, mailbox) => sum + maildirMessageCount(pair.target, mailbox.email), 0);

    const child = spawnMailferry(batch.startArgs, {env: batch.env, timeoutMs: RUN_TIMEOUT_MS});
    let trigger = '';
    const watched = pair[restarted === 'both' ? 'target' : restarted];
    const loggedIn = () => sessions(watched, (name) => logins.has(name)).started.length > 0;
    const receiving = () => mailboxes.some((mailbox) => largestPartialAppend(pair.target, mailbox.email) >= PARTIAL_APPEND_BYTES);
    for (;;) {
      if (child.hasExited) break;
      if (momentKind === 'login' && loggedIn()) break;
      if (momentKind === 'large append' && receiving()) {
        trigger = ', receiving a large message';
        break;
      }
      if (momentKind !== 'login' && onTarget() >= threshold) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    let moment = 'never';
    if (child.hasExited) {
      result.problems.push(`the first batch start ended (${exitsText([await child.exited])}) before the moment (${momentKind}, threshold ${threshold} of ${total} messages): no restart injected`);
    } else {
      moment = momentKind === 'login' ? `mailferry's first login on the ${watched.role}` : `${onTarget()} of ${total} messages on the target${trigger}`;
      const servers: DovecotServer[] = restarted === 'both' ? [pair.source, pair.target] : [pair[restarted]];
      await Promise.all(servers.map((server) => server.restart()));
      for (const server of servers) result.faults[`restart ${server.role}`] = 1;
    }
    const runs = await rerunUntilDone(batch, await child.exited, 2, RUN_TIMEOUT_MS);
    // The retries show that the restart hit a connection in use rather than falling between passes.
    const retries = runs.reduce((sum, run) => sum + run.stdout.split('\n').filter((line) => / retry \d+ in /.test(line)).length, 0);
    report(`restart round ${round} seed ${seed}: restarted ${restarted} at ${moment} (threshold ${threshold}); batch start: ${exitsText(runs)}, ${retries} mailbox retries`);

    const outcomes = await mailboxOutcomes(batch, 'Synced');
    result.failed.push(...outcomes.failed);
    result.problems.push(...outcomes.problems);
    const last = runs.at(-1)!;
    if (last.code !== 0 && outcomes.failed.length === 0 && outcomes.problems.length === 0) {
      result.problems.push(`batch start exited ${last.code ?? last.signal} although every mailbox is Synced:\n${last.stdout.slice(-2000)}${last.stderr.slice(-2000)}`);
    }
    const check = await exactCheck(pair.source, pair.target, mailboxes.map((mailbox) => ({sourceLogin: mailbox.user, targetLogin: mailbox.email})));
    result.messages = check.messages;
    result.lost = check.lost;
    result.duplicated = check.duplicated;
    result.problems.push(...check.problems);
    result.problems.push(...(await leakedPasswords(batch, pair, mailboxes, runs)));
  } catch (error) {
    result.problems.push(`the round broke off: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  } finally {
    if (process.env.FAULTS_KEEP) {
      const {cp} = await import('node:fs/promises');
      await cp(pair.target.dir + '/log', process.env.FAULTS_KEEP + '/target-log', {recursive: true});
      if (batch) await cp(batch.stateDir, process.env.FAULTS_KEEP + '/state', {recursive: true});
    }
    await pair.stop();
    if (batch) await rm(batch.work, {recursive: true, force: true});
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

export const restartScenario: Scenario = async ({rounds, seed, report}) => {
  const results: RoundResult[] = [];
  for (let round = 0; round < rounds; round++) results.push(await restartRound(round, roundSeed(seed, round), report));
  return results;
};
