// Fault campaign, "restart": the source Dovecot, the target Dovecot or both are restarted while
// mailferry copies 3-4 realistic mailboxes (several folders, a few 1-5 MB messages): in most rounds
// during `batch start`'s first pass, in a third of them during an incremental pass
// (`batch sync-now`, after new mail, some of it large, and flag changes on the source). The
// moment is seeded (see Moment). mailferry must reconnect and finish; when a run still exits
// non-zero, it is run again as an admin would (at most twice more). Every mailbox must end Synced
// and exact: 0 lost, 0 duplicated, no message listed as failed, no password in the state, the log
// or the output.

import {rm} from 'node:fs/promises';
import {SeededRandom} from '../../bench/seeded-random.js';
import {startDovecotPair, type DovecotServer} from '../helpers/dovecot-pair.js';
import {sessions} from '../helpers/dovecot-log.js';
import {runMailferry, spawnMailferry, type MailferryResult} from '../helpers/mailferry-process.js';
import {EMPTY_FOLDER, openClient, seedMailbox} from '../helpers/seed-mailbox.js';
import {createRoundBatch, exitsText, largestPartialAppend, leakedPasswords, mailboxOutcomes, maildirMessageCount, newMail, rerunUntilDone, roundMailboxes, type RoundBatch, type RoundMailbox} from './batch-round.js';
import {exactCheck} from './exact-check.js';
import {roundSeed, type RoundResult, type Scenario} from './round-result.js';

type Restarted = 'source' | 'target' | 'both';
/** share: once the target holds the seeded share of the messages the pass copies; login: at the
 *  pass's first login on the restarted server (by its log); large append: while the target
 *  receives a message of 256 KB or more (or at the share, should the poll miss every one). */
type Moment = 'share' | 'login' | 'large append';
const PARTIAL_APPEND_BYTES = 256 * 1024;

const RUN_TIMEOUT_MS = 180_000;
/** How often the target's Maildirs are counted while the copy runs: the copy takes seconds. */
const POLL_MS = 5;

/** Flag changes the incremental pass must carry: \\Flagged on and \\Seen off for a few INBOX messages. */
async function changeFlags(server: DovecotServer, login: string, random: SeededRandom): Promise<void> {
  const client = await openClient(server, login);
  try {
    await client.mailboxOpen('INBOX');
    const first = random.int(1, 10);
    await client.messageFlagsAdd(`${first}:${first + 3}`, ['\\Flagged']);
    await client.messageFlagsRemove(`${first + 4}`, ['\\Seen']);
  } finally {
    await client.logout();
  }
}

/** New mail (see newMail) and flag changes for every mailbox on the source; returns the messages added. */
async function changeSource(source: DovecotServer, mailboxes: readonly RoundMailbox[], random: SeededRandom): Promise<number> {
  let added = 0;
  for (const mailbox of mailboxes) {
    const messages = newMail(random, mailbox.spec.folders.filter((folder) => folder !== EMPTY_FOLDER));
    added += messages.length;
    await seedMailbox(source, mailbox.user, {folders: [], messages});
    await changeFlags(source, mailbox.user, random);
  }
  return added;
}

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
  const pass = random.chance(1 / 3) ? 'incremental' : 'initial';
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
    const watched = pair[restarted === 'both' ? 'target' : restarted];
    const loginsSoFar = () => sessions(watched, (name) => logins.has(name)).started.length;

    let args = batch.startArgs;
    let before = {copied: 0, logins: 0};
    let goal = total;
    let quietRuns: MailferryResult[] = [];
    if (pass === 'incremental') {
      const first = await runMailferry(batch.startArgs, {env: batch.env, timeoutMs: RUN_TIMEOUT_MS});
      quietRuns = [first];
      if (first.code !== 0) result.problems.push(`the first batch start, before any fault, exited ${first.code ?? first.signal}:\n${first.stdout.slice(-2000)}`);
      goal = await changeSource(pair.source, mailboxes, random);
      before = {copied: onTarget(), logins: loginsSoFar()};
      args = ['batch', 'sync-now', batch.name, '--state-dir', batch.stateDir];
    }
    // The share is of the messages this pass copies.
    const at = before.copied + Math.floor((threshold / total) * goal);

    const child = spawnMailferry(args, {env: batch.env, timeoutMs: RUN_TIMEOUT_MS});
    let trigger = '';
    const receiving = () => mailboxes.some((mailbox) => largestPartialAppend(pair.target, mailbox.email) >= PARTIAL_APPEND_BYTES);
    for (;;) {
      if (child.hasExited) break;
      if (momentKind === 'login' && loginsSoFar() > before.logins) break;
      if (momentKind === 'large append' && receiving()) {
        trigger = ', receiving a large message';
        break;
      }
      if (momentKind !== 'login' && onTarget() >= at) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    let moment = 'never';
    if (child.hasExited) {
      result.problems.push(`the ${pass} pass ended (${exitsText([await child.exited])}) before the moment (${momentKind}, at ${at} messages on the target): no restart injected`);
    } else {
      moment = momentKind === 'login' ? `mailferry's first login of the pass on the ${watched.role}` : `${onTarget() - before.copied} of ${goal} messages of the pass on the target${trigger}`;
      const servers: DovecotServer[] = restarted === 'both' ? [pair.source, pair.target] : [pair[restarted]];
      await Promise.all(servers.map((server) => server.restart()));
      for (const server of servers) result.faults[`restart ${server.role}`] = 1;
    }
    const faulted = await rerunUntilDone(batch, await child.exited, 2, RUN_TIMEOUT_MS, args);
    const runs = [...quietRuns, ...faulted];
    // The retries show that the restart hit a connection in use rather than falling between passes.
    const retries = faulted.reduce((sum, run) => sum + run.stdout.split('\n').filter((line) => / retry \d+ in /.test(line)).length, 0);
    report(`restart round ${round} seed ${seed}: restarted ${restarted} in the ${pass} pass at ${moment}; ${args[1]}: ${exitsText(faulted)}, ${retries} mailbox retries`);

    const outcomes = await mailboxOutcomes(batch, 'Synced');
    result.failed.push(...outcomes.failed);
    result.problems.push(...outcomes.problems);
    const last = runs.at(-1)!;
    if (last.code !== 0 && outcomes.failed.length === 0 && outcomes.problems.length === 0) {
      result.problems.push(`${args[1]} exited ${last.code ?? last.signal} although every mailbox is Synced:\n${last.stdout.slice(-2000)}${last.stderr.slice(-2000)}`);
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
