// `mailferry batch start` killed with SIGKILL at awkward moments (right after starting, in the
// middle of a folder, in the middle of a 20 MB APPEND) and started again until it finishes: the
// target must end up equal to the source with no message lost and none duplicated. Also the
// UIDVALIDITY of a folder changing under a finished migration (folder recreated or renumbered)
// must not make the next pass copy everything again.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, statSync} from 'node:fs';
import path from 'node:path';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, readMailbox, realisticMailbox, seedMailbox, type SeedSpec} from './helpers/seed-mailbox.js';
import {compareMailboxes, duplicateCount, expectedTargetFolder, folderCounts, messageCount, type MailboxContent} from './helpers/compare-mailboxes.js';
import {describeResult, runMailferry, spawnMailferry, type MailferryResult} from './helpers/mailferry-process.js';
import {
  folderMessageCount,
  maildirInboxCount,
  makeWorkDir,
  pairCreateArgs,
  passFinishedLines,
  readBatchState,
  removeWorkDir,
  targetAdminEnv,
  writeMigrationCsv,
} from './helpers/batch-fixture.js';

const SOURCE_PASSWORDS = {alice: 'crash-alice-pw1', bob: 'crash-bob-pw2', dave: 'crash-dave-pw3'} as const;
type User = keyof typeof SOURCE_PASSWORDS;
const email = (user: string) => `${user}@example.test`;
const LARGE_BYTES = 20 * 1024 * 1024;

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let work: string | undefined;
let stateDir = '';
let env: Record<string, string> = {};

function mapFolder(sourcePath: string): string {
  return expectedTargetFolder(pair!.source, pair!.target, sourcePath);
}

async function createBatch(name: string, users: User[], extra: string[] = []): Promise<void> {
  const csv = await writeMigrationCsv(
    path.join(work!, `${name}.csv`),
    users.map((user) => ({email: email(user), user, password: SOURCE_PASSWORDS[user]})),
  );
  const result = await runMailferry(['batch', 'create', name, '--csv', csv, '--state-dir', stateDir, ...pairCreateArgs(pair!), ...extra], {env});
  assert.equal(result.code, 0, describeResult(result));
}

/** `batch start` again and again until it exits 0 (every mailbox Synced). */
async function startUntilDone(name: string, maxRuns = 4): Promise<MailferryResult> {
  let last: MailferryResult | undefined;
  for (let run = 0; run < maxRuns; run++) {
    last = await runMailferry(['batch', 'start', name, '--state-dir', stateDir], {env, timeoutMs: 90_000});
    if (last.code === 0) return last;
  }
  throw new Error(`batch start ${name} did not finish in ${maxRuns} runs; last:\n${describeResult(last!)}`);
}

async function assertExactCopy(user: User): Promise<{source: MailboxContent; target: MailboxContent}> {
  const source = await readMailbox(pair!.source, user);
  const target = await readMailbox(pair!.target, email(user));
  assert.equal(duplicateCount(source, target, mapFolder), 0, `${user}: duplicates on the target\nsource ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
  assert.deepEqual(compareMailboxes(source, target, {mapFolder}), [], `${user}: source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
  return {source, target};
}

/** Size of the biggest file Dovecot is receiving into the user's Maildir tmp/ (an APPEND in progress). */
function appendInProgressBytes(login: string): number {
  const dir = path.join(pair!.target.mailDir(login), 'tmp');
  let biggest = 0;
  try {
    for (const name of readdirSync(dir)) {
      try {
        biggest = Math.max(biggest, statSync(path.join(dir, name)).size);
      } catch {
        // renamed into cur/ between readdir and stat: that APPEND just finished
      }
    }
  } catch {
    // tmp/ does not exist before the first delivery
  }
  return biggest;
}

describe('engine crash and resume against real Dovecot', {timeout: 240_000}, () => {
  before(async () => {
    pair = await startDovecotPair({
      source: {users: SOURCE_PASSWORDS, specialUse: {'\\Sent': 'Sent Items', '\\Trash': 'Deleted Items'}},
      target: {
        users: Object.fromEntries((Object.keys(SOURCE_PASSWORDS) as User[]).map((user) => [email(user), `tgt-${user}`])),
        separator: '.',
        prefix: 'INBOX.',
      },
    });
    env = targetAdminEnv(pair);
    work = await makeWorkDir('crash');
    stateDir = path.join(work, 'state');
    await Promise.all([
      seedMailbox(pair.source, 'alice', realisticMailbox({seed: 21, scale: 'medium'})),
      seedMailbox(pair.source, 'bob', realisticMailbox({seed: 22})),
      seedMailbox(pair.source, 'dave', realisticMailbox({seed: 23, largeMessageBytes: LARGE_BYTES})),
    ]);
  });

  after(async () => {
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('SIGKILL right after start and in the middle of a folder, then restarts: exact copy, no duplicates', async (t) => {
    await createBatch('crash', ['alice', 'bob']);
    const args = ['batch', 'start', 'crash', '--state-dir', stateDir];

    const early = spawnMailferry(args, {env});
    await early.waitForLine(/Queued -> Starting/);
    early.kill('SIGKILL');
    assert.equal((await early.exited).signal, 'SIGKILL');

    const inboxTotal = await folderMessageCount(pair!.source, 'alice', 'INBOX');
    const mid = spawnMailferry(args, {env});
    let atKill = -1;
    // Counted on disk every 2 ms: the copy of one folder can take well under a second.
    while (!mid.hasExited) {
      const copied = maildirInboxCount(pair!.target, email('alice'));
      if (copied >= 50 && copied < inboxTotal - 10) {
        mid.kill('SIGKILL');
        atKill = copied;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const midResult = await mid.exited;
    assert.equal(midResult.signal, 'SIGKILL', `killed in the middle of alice's INBOX (it finished first?)\n${describeResult(midResult)}`);
    t.diagnostic(`killed with ${atKill} of ${inboxTotal} INBOX messages on the target`);
    const stateAfterKill = await readBatchState(stateDir, 'crash');
    // A checkpoint made in this pass is made with the mark: on disk it is either not there yet
    // (the restart then compares the folder with the target) or marked, never unmarked.
    const inboxOnDisk = stateAfterKill.mailboxes[email('alice')]!.folders['INBOX'];
    assert.ok(inboxOnDisk === undefined || inboxOnDisk.inProgress === true, `the INBOX checkpoint on disk is absent or marked in progress: ${JSON.stringify(inboxOnDisk)}`);
    t.diagnostic(`INBOX checkpoint on disk at the kill: ${inboxOnDisk ? 'marked in progress' : 'not written yet'}`);

    const final = await startUntilDone('crash');
    await assertExactCopy('alice');
    await assertExactCopy('bob');
    for (const line of passFinishedLines(final.stdout)) t.diagnostic(`resumed ${line.emailAddress}: ${line.copied} copied in ${line.seconds} s`);
  });

  it('SIGKILL during a 20 MB APPEND (early, mid, late) and right after it landed, then finishes: exact copy, no duplicates', async (t) => {
    await createBatch('large', ['dave']);
    const args = ['batch', 'start', 'large', '--state-dir', stateDir];
    const inboxBefore = await folderMessageCount(pair!.target, email('dave'), 'INBOX').catch(() => 0);
    // Kill once Dovecot has received this much of the APPEND; 'landed' = just after it completed.
    const moments: (number | 'landed')[] = [1, 4 * 1024 * 1024, 12 * 1024 * 1024, 'landed'];
    for (const moment of moments) {
      const child = spawnMailferry(args, {env});
      let seen = 0;
      let outcome = '';
      // The large message has the highest UID in INBOX, so newest-first copies it first.
      while (!child.hasExited) {
        const receiving = appendInProgressBytes(email('dave'));
        seen = Math.max(seen, receiving);
        if (typeof moment === 'number' && receiving >= moment) {
          child.kill('SIGKILL');
          outcome = `during the APPEND at ${receiving} bytes`;
          break;
        }
        if (seen >= LARGE_BYTES / 2 && receiving === 0) {
          // tmp/ emptied: the APPEND completed (or the threshold was passed between two polls).
          child.kill('SIGKILL');
          outcome = `right after the APPEND completed (${seen} bytes seen)`;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const result = await child.exited;
      assert.equal(result.signal, 'SIGKILL', `kill at ${moment} happened before the process finished\n${describeResult(result)}`);
      t.diagnostic(`kill at ${moment}: ${outcome}`);
    }
    const landed = await folderMessageCount(pair!.target, email('dave'), 'INBOX');
    assert.ok(landed > inboxBefore, 'the last kill came after the large message reached the target');
    await startUntilDone('large');
    const {source} = await assertExactCopy('dave');
    assert.ok(source.get('INBOX')!.some((message) => message.size >= LARGE_BYTES), 'the 20 MB message was part of the comparison');
  });

  it('a source folder recreated or renumbered (new UIDVALIDITY) and a target folder renumbered: sync-now copies nothing twice', async (t) => {
    // bob was migrated completely by the first test.
    const spec: SeedSpec = realisticMailbox({seed: 22});
    const before = await readMailbox(pair!.source, 'bob');
    assert.ok(messageCount(await readMailbox(pair!.target, email('bob'))) > 0, 'bob was migrated before');

    // 1. R&D deleted and recreated with the same messages: new UIDVALIDITY, new UIDs.
    await pair!.source.doveadm(['mailbox', 'delete', '-u', 'bob', 'R&D']);
    await seedMailbox(pair!.source, 'bob', {folders: ['R&D'], messages: spec.messages.filter((m) => m.folder === 'R&D')});
    // 2. INBOX keeps its messages but gets a new UIDVALIDITY (as after a server-side rebuild).
    await pair!.source.doveadm(['mailbox', 'update', '-u', 'bob', '--uid-validity', '4242', 'INBOX']);
    // 3. The same on the target side for one folder.
    await pair!.target.doveadm(['mailbox', 'update', '-u', email('bob'), '--uid-validity', '4343', 'INBOX.Projects']);
    const afterChange = await readMailbox(pair!.source, 'bob');
    assert.deepEqual(compareMailboxes(before, afterChange), [], 'the source holds the same messages as before');

    const result = await runMailferry(['batch', 'sync-now', 'crash', '--state-dir', stateDir, '--mailbox', email('bob')], {env, timeoutMs: 90_000});
    assert.equal(result.code, 0, describeResult(result));
    await assertExactCopy('bob');
    const passes = passFinishedLines(result.stdout).filter((line) => line.emailAddress === email('bob'));
    assert.equal(passes.length, 1, result.stdout);
    assert.equal(passes[0]!.copied, 0, 'messages copied again after the UIDVALIDITY changes');
    t.diagnostic(result.stdout.trim().split('\n').filter((line) => line.includes('bob')).join(' | '));

    // And a new message in the recreated folder after that still arrives exactly once.
    await seedMailbox(pair!.source, 'bob', {folders: [], messages: [{folder: 'R&D', raw: buildMessage({subject: 'after the UIDVALIDITY change', seed: 9922})}]});
    const again = await runMailferry(['batch', 'sync-now', 'crash', '--state-dir', stateDir, '--mailbox', email('bob')], {env, timeoutMs: 90_000});
    assert.equal(again.code, 0, describeResult(again));
    await assertExactCopy('bob');
  });
});
