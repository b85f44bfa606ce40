// `mailferry batch start` killed with SIGKILL in the middle of a folder and started again at
// once, as a supervisor would, while the target is still storing the dead run's last APPENDs.
//
// With LITERAL+ a lane writes whole MULTIAPPENDs ahead of the answers; after a kill, Dovecot
// keeps reading and committing the complete ones still in its buffers (the hostile corpus saw
// 210 messages on disk at the kill and up to 1,950 seconds later). How long that tail lasts
// depends on buffer sizes and timing, so the test makes it certain: besides the real kill's own
// tail, a second connection (the dead run's buffered commands, as far as the restart can tell)
// stores copies of 1,000 of the source messages in small MULTIAPPENDs over the next seconds,
// starting when the restart starts. A restart that compares the folder while that goes on
// appends them again. 0 lost and 0 duplicated, by Dovecot's own count and by content.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {readMailbox} from './helpers/seed-mailbox.js';
import {compareMailboxes, duplicateCount, expectedTargetFolder, folderCounts} from './helpers/compare-mailboxes.js';
import {describeResult, runMailferry, spawnMailferry} from './helpers/mailferry-process.js';
import {folderMessageCount, maildirInboxCount, makeWorkDir, pairCreateArgs, readBatchState, removeWorkDir, targetAdminEnv, writeMigrationCsv} from './helpers/batch-fixture.js';
import {RawTestClient} from './helpers/raw-imap-test-client.js';
import {imapDateTime} from './helpers/hostile-corpus-seed.js';
import {openClient} from './helpers/seed-mailbox.js';
import {checkDuplicateCopies} from '../source/engine/copy/duplicate-copy-check.js';
import type {PassContext} from '../source/engine/copy/pass-context.js';
import type {ItemRecord} from '../source/engine/batch-model.js';
import {silentLogger} from '../source/log/logger.js';

const SOURCE_LOGIN = 'lena';
const SOURCE_PASSWORD = 'late-lena-pw7';
const TARGET = 'lena@example.test';
const CHECK_LOGIN = 'milo';
const CHECK_TARGET = 'milo@example.test';
const MESSAGES = 6_000;
/** The oldest messages: mailferry copies newest first, so the killed run never got to them. */
const LATE_MESSAGES = 1_000;
const LATE_GROUP = 25;
/** Between the late MULTIAPPENDs: the pace of a server working through a backlog (measured:
 *  100 messages per 100-400 ms after a kill). Load, not a wait for a result. */
const LATE_PACE_MS = 100;

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let work: string | undefined;

/** Message `i` of the source INBOX, as the APPEND arguments that store it exactly. */
function appendArguments(i: number): (string | Buffer)[] {
  const date = new Date(Date.UTC(2024, 0, 1) + i * 60_000);
  const raw = Buffer.from(
    `From: sender${i % 7}@example.test\r\nTo: ${SOURCE_LOGIN}@example.test\r\nSubject: late append ${i}\r\n` +
      `Date: ${date.toUTCString()}\r\nMessage-ID: <late-${i}@example.test>\r\n\r\nbody of message ${i}\r\n`,
  );
  return [` (${i % 3 === 0 ? '\\Seen' : ''}) "${imapDateTime(date)}" {${raw.length}+}\r\n`, raw];
}

/** Messages [from, to) into `server`'s INBOX of `login`, `group` per MULTIAPPEND. */
async function appendRange(client: RawTestClient, from: number, to: number): Promise<void> {
  const parts: (string | Buffer)[] = ['APPEND INBOX'];
  for (let i = from; i < to; i++) parts.push(...appendArguments(i));
  await client.ok(...parts);
}

describe('SIGKILL mid-folder and an immediate restart against real Dovecot', {timeout: 240_000}, () => {
  before(async () => {
    pair = await startDovecotPair({
      source: {users: {[SOURCE_LOGIN]: SOURCE_PASSWORD, [CHECK_LOGIN]: 'src-milo'}},
      target: {users: {[TARGET]: 'tgt-lena', [CHECK_TARGET]: 'tgt-milo'}, separator: '.', prefix: 'INBOX.'},
    });
    work = await makeWorkDir('late-appends');
    const client = await RawTestClient.open(pair.source, SOURCE_LOGIN);
    try {
      const appends: Promise<void>[] = [];
      for (let start = 0; start < MESSAGES; start += 500) appends.push(appendRange(client, start, Math.min(MESSAGES, start + 500)));
      await Promise.all(appends);
    } finally {
      await client.logout();
    }
  });

  after(async () => {
    await pair?.stop();
    await removeWorkDir(work);
  });

  it("the restarted run waits for the dead run's APPENDs to land before it compares: 0 lost, 0 duplicated", async (t) => {
    const stateDir = path.join(work!, 'state');
    const env = targetAdminEnv(pair!);
    const csv = await writeMigrationCsv(path.join(work!, 'late.csv'), [{email: TARGET, user: SOURCE_LOGIN, password: SOURCE_PASSWORD}]);
    const created = await runMailferry(['batch', 'create', 'late', '--csv', csv, '--state-dir', stateDir, ...pairCreateArgs(pair!)], {env});
    assert.equal(created.code, 0, describeResult(created));

    const args = ['batch', 'start', 'late', '--state-dir', stateDir];
    const child = spawnMailferry(args, {env, timeoutMs: 120_000});
    let atKill = -1;
    // Counted on disk every 2 ms: the copy of the folder takes a few seconds at most.
    while (!child.hasExited) {
      const copied = maildirInboxCount(pair!.target, TARGET);
      if (copied >= 200 && copied < 1000) {
        child.kill('SIGKILL');
        atKill = copied;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const killed = await child.exited;
    assert.equal(killed.signal, 'SIGKILL', `killed in the middle of INBOX (it finished first?)\n${describeResult(killed)}`);
    const state = (await readBatchState(stateDir, 'late')).mailboxes[TARGET]!;
    t.diagnostic(`killed with ${atKill} of ${MESSAGES} messages on the target; INBOX checkpoint on disk: ${JSON.stringify(state.folders['INBOX'] ?? null)}`);

    // At once, with the late APPENDs going on beside it.
    const late = await RawTestClient.open(pair!.target, TARGET);
    const restarted = runMailferry(args, {env, timeoutMs: 120_000});
    try {
      for (let from = 0; from < LATE_MESSAGES; from += LATE_GROUP) {
        await appendRange(late, from, from + LATE_GROUP);
        await new Promise((resolve) => setTimeout(resolve, LATE_PACE_MS));
      }
    } finally {
      await late.logout();
    }
    let last = await restarted;
    for (let run = 1; run < 3 && last.code !== 0; run++) last = await runMailferry(args, {env, timeoutMs: 120_000});
    assert.equal(last.code, 0, `batch start after the kill:\n${describeResult(last)}`);

    const log = await readFile(path.join(stateDir, 'logs', 'late.log'), 'utf8').catch(() => '');
    for (const line of log.split('\n').filter((entry) => entry.includes('interrupted run'))) t.diagnostic(`log: ${line}`);
    assert.equal(await folderMessageCount(pair!.target, TARGET, 'INBOX'), MESSAGES, "Dovecot's count of the target INBOX");
    const source = await readMailbox(pair!.source, SOURCE_LOGIN);
    const target = await readMailbox(pair!.target, TARGET);
    const mapFolder = (sourcePath: string) => expectedTargetFolder(pair!.source, pair!.target, sourcePath);
    assert.equal(duplicateCount(source, target, mapFolder), 0, `duplicates on the target\nsource ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
    assert.deepEqual(compareMailboxes(source, target, {mapFolder}), []);
    const mailbox = (await readBatchState(stateDir, 'late')).mailboxes[TARGET]!;
    assert.equal(mailbox.status, 'Synced');
    assert.deepEqual(mailbox.failed, [], 'nothing listed as failed or stored twice');
  });

  it('a message the target got twice after the comparison is listed as failed, with what to do; the target is left as it is', async () => {
    // Source: messages 0-3. Target: copies of 0-3, plus a second copy of 1 (a late APPEND of the
    // cut-off run) and of 3 (a copy that was on the target before: not this pass's doing).
    const source = await RawTestClient.open(pair!.source, CHECK_LOGIN);
    const target = await RawTestClient.open(pair!.target, CHECK_TARGET);
    try {
      await appendRange(source, 0, 4);
      await appendRange(target, 0, 4);
      await appendRange(target, 3, 4);
    } finally {
      await source.logout();
    }
    const sourceClient = await openClient(pair!.source, CHECK_LOGIN);
    const targetClient = await openClient(pair!.target, CHECK_TARGET);
    const failed: ItemRecord[] = [];
    const warnings: string[] = [];
    try {
      const ctx = {
        source: sourceClient,
        target: targetClient,
        report: {failed: (item: ItemRecord) => failed.push(item)},
        logger: {...silentLogger, warn: (message: string) => warnings.push(message)},
      } as unknown as PassContext;
      const selectControl = async () => {
        await sourceClient.mailboxOpen('INBOX', {readOnly: true});
        await targetClient.mailboxOpen('INBOX');
        // The late copy lands after the check's session opened the folder: it must still see it.
        await appendRange(target, 1, 2);
      };
      // This pass appended source UIDs 2 and 3 (messages 1 and 2); UIDs 1 and 4 were there before.
      const found = await checkDuplicateCopies(ctx, {folder: 'INBOX', targetPath: 'INBOX', copied: new Set([2, 3]), selectControl});
      assert.equal(found, 1);
      assert.deepEqual(failed.map((item) => item.uid), [2]);
      assert.match(failed[0]!.reason, /stored twice on the target in "INBOX".*delete one of the two identical copies/);
      assert.equal(warnings.length, 1);
    } finally {
      await sourceClient.logout();
      await targetClient.logout();
      await target.logout();
    }
    assert.equal(await folderMessageCount(pair!.target, CHECK_TARGET, 'INBOX'), 6, 'nothing deleted on the target');
  });
});
