// Fault campaign, "disk-full": one of 3 mailboxes has room on the target for a seeded share (up to
// 70 %) of its mail: in some rounds a Dovecot quota (quota plugin, count backend), in the others a
// real full disk (a tmpfs of that size on the user's home, where root may mount). In a third of
// the rounds the first pass fits and the room runs out in an incremental pass (`batch sync-now`
// after new mail). That pass must end the mailbox Failed with a reason that says over quota or
// disk full, for which mailbox and folder, and what to do (raise the quota or free space, then
// resume), while the other mailboxes end Synced and exact. Then the quota is raised (the user's
// userdb entry rewritten, as an admin would) or the volume grown, the mailbox resumed
// (`batch resume --mailbox`, `batch start`): all three end Synced and exact, 0 lost, 0 duplicated.

import {rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {SeededRandom} from '../../bench/seeded-random.js';
import {dovecotPaths} from '../helpers/dovecot-config.js';
import {startDovecotPair, type DovecotServer} from '../helpers/dovecot-pair.js';
import {waitFor} from '../helpers/batch-fixture.js';
import {describeResult, runMailferry, type MailferryResult} from '../helpers/mailferry-process.js';
import {EMPTY_FOLDER, seedMailbox, type SeedMessage} from '../helpers/seed-mailbox.js';
import {createRoundBatch, exitsText, largeMessage, leakedPasswords, mailboxOutcomes, newMail, rerunUntilDone, roundMailboxes, type RoundBatch, type RoundMailbox} from './batch-round.js';
import {exactCheck} from './exact-check.js';
import {mountSmallDisk, smallDiskAvailable} from './small-disk.js';
import {roundSeed, type FailedMailbox, type RoundResult, type Scenario} from './round-result.js';

const RUN_TIMEOUT_MS = 180_000;

// Limits come from the userdb (quota_rule below), so only the mailbox given one has a quota.
const QUOTA_CONFIG = `
mail_plugins = $mail_plugins quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
plugin {
  quota = count:User quota
  quota_vsizes = yes
}
`;

/** Gives `login` a storage quota of `kib` KiB through its own passwd-file (userdb extra field). */
async function setQuota(server: DovecotServer, login: string, kib: number): Promise<void> {
  const file = path.join(dovecotPaths(server.dir).usersDir, login);
  await writeFile(file, `${login}:{PLAIN}${server.users[login]}::::::userdb_quota_rule=*:storage=${kib}k\n`, {mode: 0o644});
  // Dovecot notices a changed passwd-file within about a second; new logins then get the limit.
  await waitFor(`the ${kib} KiB quota of ${login}`, async () => {
    const output = await server.doveadm(['quota', 'get', '-u', login]);
    return new RegExp(`STORAGE\\s+\\d+\\s+${kib}\\b`).test(output) ? true : undefined;
  }, 15_000, 100);
}

/** What the quota mailbox's reason lacks: it must say over quota, for which mailbox and folder, and what to do. */
export function quotaReasonGaps(reason: string, mailbox: RoundMailbox): string[] {
  const gaps: string[] = [];
  if (!/quota|disk (is )?full|disk space|no space/i.test(reason)) gaps.push('does not say quota or disk full');
  if (!reason.includes(mailbox.email)) gaps.push(`does not name the mailbox ${mailbox.email}`);
  // formatError puts "ENDPOINT / MAILBOX / FOLDER: " in front of the message.
  if (!new RegExp(`${mailbox.email.replace(/[.]/g, '\\.')} / [^:]+: `).test(reason)) gaps.push('does not name the folder');
  if (!/raise|free/i.test(reason)) gaps.push('does not say to raise the quota or free space');
  if (!/resume/i.test(reason)) gaps.push('does not say to resume the mailbox afterwards');
  return gaps;
}

interface TargetLimit {
  fault: string;
  /** Sets the room: the quota, or the size of the volume (tmpfs shrinks down to what it holds). */
  set(kib: number): Promise<void>;
  /** What the mailbox takes up now, as the limit counts it. */
  usedKiB(): Promise<number>;
  remove(): Promise<void>;
}

async function limitTarget(kind: 'quota' | 'disk', server: DovecotServer, login: string, kib: number): Promise<TargetLimit> {
  if (kind === 'disk') {
    const disk = await mountSmallDisk(server, login, kib);
    return {fault: 'disk full (tmpfs)', set: (size) => disk.resize(size), usedKiB: () => disk.usedKiB(), remove: () => disk.remove()};
  }
  await setQuota(server, login, kib);
  return {
    fault: 'quota exceeded',
    set: (size) => setQuota(server, login, size),
    usedKiB: async () => Number(/STORAGE\s+(\d+)/.exec(await server.doveadm(['quota', 'get', '-u', login]))?.[1] ?? NaN),
    remove: async () => undefined,
  };
}

async function diskFullRound(round: number, seed: number, report: (line: string) => void): Promise<RoundResult> {
  const started = Date.now();
  const random = new SeededRandom(seed);
  const wantDisk = random.chance(0.5);
  const kind = wantDisk && (await smallDiskAvailable()) ? 'disk' : 'quota';
  const mailboxes = roundMailboxes(random, 'df', 3, () => random.int(0, 1));
  const full = random.pick(mailboxes);
  // Two large messages more, so the limit is passed by more than Dovecot's 10 % quota grace for the last message.
  const folders = full.spec.folders.filter((folder) => folder !== EMPTY_FOLDER);
  full.spec.messages.push(largeMessage(random, folders), largeMessage(random, folders));
  const bytesOf = (messages: readonly SeedMessage[]) => messages.reduce((sum, message) => sum + message.raw.length, 0);
  const fullBytes = bytesOf(full.spec.messages);
  // The room left: from nearly nothing (SELECT and CREATE fail too) to 70 % of what the pass copies.
  const share = random.next() * 0.7;
  const targetLayout = random.chance(0.5) ? {separator: '.' as const, prefix: 'INBOX.' as const} : {};
  // In a third of the rounds the first pass fits and the incremental pass after new mail does not.
  const pass = random.chance(1 / 3) ? 'incremental' : 'initial';
  const arriving = pass === 'incremental' ? [...newMail(random, folders), largeMessage(random, folders)] : [];
  const raisedKiB = Math.ceil(((fullBytes + bytesOf(arriving)) * 4) / 1024);
  const result: RoundResult = {
    scenario: 'disk-full', round, seed, faults: {}, mailboxes: mailboxes.length, messages: 0,
    lost: 0, duplicated: 0, failed: [], problems: [], seconds: 0,
  };
  const pair = await startDovecotPair({
    source: {users: Object.fromEntries(mailboxes.map((mailbox) => [mailbox.user, mailbox.password]))},
    target: {users: Object.fromEntries(mailboxes.map((mailbox) => [mailbox.email, `tgt-${mailbox.user}`])), ...(kind === 'quota' ? {extraConfig: QUOTA_CONFIG} : {}), ...targetLayout},
  });
  let batch: RoundBatch | undefined;
  let limit: TargetLimit | undefined;
  const checked = (list: readonly RoundMailbox[]) => list.map((mailbox) => ({sourceLogin: mailbox.user, targetLogin: mailbox.email}));
  try {
    await Promise.all(mailboxes.map((mailbox) => seedMailbox(pair.source, mailbox.user, mailbox.spec)));
    // tmpfs takes size=0 for no limit at all, so the room is never below 16 KiB.
    const room = (bytes: number) => Math.max(16, Math.floor((bytes * share) / 1024));
    let limitKiB = room(fullBytes);
    limit = await limitTarget(kind, pair.target, full.email, pass === 'initial' ? limitKiB : raisedKiB);
    result.faults[limit.fault] = 1;
    batch = await createRoundBatch(pair, 'diskfull', mailboxes);
    const runsBefore: MailferryResult[] = [];
    let faultArgs = batch.startArgs;
    if (pass === 'incremental') {
      runsBefore.push(await runMailferry(batch.startArgs, {env: batch.env, timeoutMs: RUN_TIMEOUT_MS}));
      if (runsBefore[0]!.code !== 0) result.problems.push(`the first batch start, with room for everything, exited ${runsBefore[0]!.code ?? runsBefore[0]!.signal}`);
      await seedMailbox(pair.source, full.user, {folders: [], messages: arriving});
      limitKiB = (await limit.usedKiB()) + room(bytesOf(arriving));
      await limit.set(limitKiB);
      faultArgs = ['batch', 'sync-now', batch.name, '--state-dir', batch.stateDir];
    }

    const first = await runMailferry(faultArgs, {env: batch.env, timeoutMs: RUN_TIMEOUT_MS});
    if (first.code !== 1) result.problems.push(`the ${pass} pass (${faultArgs[1]}) exited ${first.code ?? first.signal}, not 1 (a mailbox failed)`);
    const atFull = await mailboxOutcomes(batch, 'Synced', (email) => email === full.email);
    const fullFailed = atFull.failed.find((failed) => failed.mailbox === full.email);
    if (!fullFailed) result.problems.push(`${full.email} (${limit.fault} at ${limitKiB} KiB for ${Math.round((fullBytes + bytesOf(arriving)) / 1024)} KiB of mail) did not end Failed after the ${pass} pass`);
    else for (const gap of quotaReasonGaps(fullFailed.reason, full)) result.problems.push(`${full.email}'s reason ${gap}: ${fullFailed.reason}`);
    result.failed.push(...atFull.failed);
    result.problems.push(...atFull.problems.filter((problem) => !problem.startsWith(`${full.email} ended`)));
    const others = await exactCheck(pair.source, pair.target, checked(mailboxes.filter((mailbox) => mailbox !== full)));
    if (others.lost || others.duplicated) result.problems.push(`beside the full mailbox, the other mailboxes had ${others.lost} lost, ${others.duplicated} duplicated`);
    result.problems.push(...others.problems.map((problem) => `beside the full mailbox: ${problem}`));

    // As the hint says: make room, resume the mailbox, start the batch again.
    await limit.set(raisedKiB);
    const resumed = await runMailferry(['batch', 'resume', batch.name, '--mailbox', full.email, '--state-dir', batch.stateDir], {env: batch.env});
    if (resumed.code !== 0) result.problems.push(`batch resume --mailbox ${full.email} failed:\n${describeResult(resumed)}`);
    const runs = await rerunUntilDone(batch, await runMailferry(batch.startArgs, {env: batch.env, timeoutMs: RUN_TIMEOUT_MS}), 2, RUN_TIMEOUT_MS);
    const mail = pass === 'initial' ? `${Math.round(fullBytes / 1024)} KiB` : `${Math.round(fullBytes / 1024)} KiB, then ${Math.round(bytesOf(arriving) / 1024)} KiB more`;
    report(`disk-full round ${round} seed ${seed}: ${full.email} had ${limit.fault} at ${limitKiB} KiB for ${mail}${wantDisk && kind === 'quota' ? ' (a quota: this machine cannot mount a tmpfs)' : ''}; the ${pass} pass (${faultArgs[1]}) exit ${first.code}; after making room: ${exitsText(runs)}`);
    const end = await mailboxOutcomes(batch, 'Synced');
    result.failed.push(...end.failed.map((failed): FailedMailbox => ({...failed, reason: `after making room: ${failed.reason}`})));
    result.problems.push(...end.problems);
    if (runs.at(-1)!.code !== 0 && end.failed.length === 0 && end.problems.length === 0) result.problems.push(`batch start exited ${runs.at(-1)!.code} although every mailbox is Synced`);

    const check = await exactCheck(pair.source, pair.target, checked(mailboxes));
    result.messages = check.messages;
    result.lost = check.lost;
    result.duplicated = check.duplicated;
    result.problems.push(...check.problems);
    result.problems.push(...(await leakedPasswords(batch, pair, mailboxes, [...runsBefore, first, resumed, ...runs])));
  } catch (error) {
    result.problems.push(`the round broke off: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  } finally {
    await limit?.remove().catch((error: unknown) => result.problems.push(`could not unmount the small disk: ${String(error)}`));
    await pair.stop();
    if (batch) await rm(batch.work, {recursive: true, force: true});
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

export const diskFullScenario: Scenario = async ({rounds, seed, report}) => {
  const results: RoundResult[] = [];
  for (let round = 0; round < rounds; round++) results.push(await diskFullRound(round, roundSeed(seed, round), report));
  return results;
};
