// Users added to a batch after it was created (`batch add NAME --csv FILE`) and mailboxes taken
// out (`batch remove NAME --mailbox EMAIL --yes`), against a real Dovecot pair: added to a batch
// that `batch start --follow` runs in another process (through the command inbox), added with no
// process running, refused for a CSV with errors, removed running and not, and a state file of
// the shape written before this feature still opening, running and growing.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {existsSync, readdirSync} from 'node:fs';
import {readFile, rename, writeFile} from 'node:fs/promises';
import {hostname} from 'node:os';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {newBatchState} from '../source/store/state-schema.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, readMailbox, realisticMailbox, seedMailbox} from './helpers/seed-mailbox.js';
import {startSlowLink, withSlowTarget} from './helpers/slow-link.js';
import type {DelayProxy} from '../bench/delay-proxy.js';
import {compareMailboxes, expectedTargetFolder, folderCounts, messageCount} from './helpers/compare-mailboxes.js';
import {describeResult, runMailferry, spawnMailferry} from './helpers/mailferry-process.js';
import {
  captureIo,
  makeWorkDir,
  pairCreateArgs,
  pairDefinition,
  readBatchState,
  removeWorkDir,
  stateFile,
  stateFilesText,
  targetAdminEnv,
  waitFor,
  writeMigrationCsv,
} from './helpers/batch-fixture.js';

const PASSWORDS = {alice: 'mem-alice-pw1', bob: 'mem-bob-pw2', carol: 'mem-carol-pw3', dave: 'mem-dave-pw4', erin: 'mem-erin-pw5'} as const;
type User = keyof typeof PASSWORDS;
const email = (user: User, batch: string) => `${user}.${batch}@example.test`;
const BATCHES = ['grow', 'old', 'bad'];
/** A mailbox big enough to be still copying, through the slow link, when it is removed. */
const BULK = {user: 'bulk', password: 'mem-bulk-pw6', target: 'bulk.run@example.test', messages: 1500} as const;

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let work = '';
let stateDir = '';
let env: Record<string, string> = {};
let slowLink: DelayProxy | undefined;

async function batch(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  const capture = captureIo();
  const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
  return {code, stdout: capture.stdout(), stderr: capture.stderr()};
}

async function csvFor(file: string, batchName: string, users: User[]): Promise<string> {
  return writeMigrationCsv(path.join(work, file), users.map((user) => ({email: email(user, batchName), user, password: PASSWORDS[user]})));
}

async function assertExactCopy(user: User, target: string): Promise<void> {
  const mapFolder = (p: string) => expectedTargetFolder(pair!.source, pair!.target, p);
  const source = await readMailbox(pair!.source, user);
  const copied = await readMailbox(pair!.target, target);
  assert.deepEqual(compareMailboxes(source, copied, {mapFolder}), [], `${target}: source ${folderCounts(source)}\ntarget ${folderCounts(copied)}`);
}

async function counts(user: User, target: string): Promise<[number, number]> {
  return [messageCount(await readMailbox(pair!.source, user)), messageCount(await readMailbox(pair!.target, target))];
}

describe('adding users to a batch and removing mailboxes', {timeout: 240_000}, () => {
  before(async () => {
    const targets = BATCHES.flatMap((name) => (Object.keys(PASSWORDS) as User[]).map((user) => email(user, name)));
    pair = await startDovecotPair({
      source: {users: {...PASSWORDS, [BULK.user]: BULK.password}},
      target: {users: Object.fromEntries([...targets, BULK.target, email('alice', 'run'), 'bulk.plain@example.test', email('bob', 'plain')].map((login) => [login, 'tgt-pw']))},
    });
    slowLink = await startSlowLink(pair.target);
    env = targetAdminEnv(pair);
    Object.assign(process.env, env);
    work = await makeWorkDir('batch-membership');
    stateDir = path.join(work, 'state');
    await Promise.all([
      ...(Object.keys(PASSWORDS) as User[]).map((user, i) => seedMailbox(pair!.source, user, realisticMailbox({seed: 70 + i}))),
      seedMailbox(pair.source, BULK.user, {
        folders: ['INBOX'],
        messages: Array.from({length: BULK.messages}, (_, i) => ({
          folder: 'INBOX',
          raw: buildMessage({subject: `Bulk ${i}`, seed: 90_000 + i, attachmentBytes: 15_000}),
          internalDate: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
        })),
      }),
    ]);
  });

  after(async () => {
    for (const name of Object.keys(env)) delete process.env[name];
    await slowLink?.stop();
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('a user added from another shell to a running start --follow is migrated by that run; rows already in the batch are left alone', async () => {
    const created = await batch(['create', 'grow', '--csv', await csvFor('grow.csv', 'grow', ['alice', 'bob']), ...pairCreateArgs(pair!)]);
    assert.equal(created.code, 0, created.stderr);
    const run = spawnMailferry(['batch', 'start', 'grow', '--follow', '--state-dir', stateDir], {env, timeoutMs: 180_000});
    try {
      await run.waitForLine(/alice\.grow@example\.test Syncing -> Synced/, 90_000);
      await run.waitForLine(/bob\.grow@example\.test Syncing -> Synced/, 90_000);

      // alice again (already in the batch, with the same password) and carol, new.
      const added = await runMailferry(['batch', 'add', 'grow', '--csv', await csvFor('grow-more.csv', 'grow', ['alice', 'carol']), '--state-dir', stateDir], {env, timeoutMs: 90_000});
      assert.equal(added.code, 0, describeResult(added));
      assert.match(added.stdout, /^line 2: alice\.grow@example\.test is already in the batch, left alone$/m);
      assert.match(added.stdout, new RegExp(`added 1 mailbox\\(es\\) to batch "grow" through the running process \\(pid ${run.pid}\\).*carol\\.grow@example\\.test`));
      assert.ok(!added.stdout.includes(PASSWORDS.carol) && !added.stderr.includes(PASSWORDS.carol), 'no password printed');

      await run.waitForLine(/added to the batch as Queued from .*grow-more\.csv: carol\.grow@example\.test/);
      await run.waitForLine(/carol\.grow@example\.test Syncing -> Synced/, 90_000);
      await waitFor('carol Synced on disk', async () => ((await readBatchState(stateDir, 'grow')).mailboxes['carol.grow@example.test']?.status === 'Synced' ? true : undefined), 30_000);
      await assertExactCopy('carol', 'carol.grow@example.test');

      const after = await readBatchState(stateDir, 'grow');
      const stateText = await stateFilesText(stateDir, 'grow');
      assert.ok(!stateText.includes(PASSWORDS.carol), 'the added password is not in the state file');
      assert.equal(after.mailboxes['carol.grow@example.test']!.identity.csvPath, path.join(work, 'grow-more.csv'));
      // The originals: not passed again, alice still read from the batch's own CSV.
      for (const user of ['alice', 'bob'] as const) {
        const key = email(user, 'grow');
        assert.equal(after.mailboxes[key]!.stats.passes, 1, `${key} had its first pass only`);
        assert.equal(after.mailboxes[key]!.identity.csvPath, undefined);
        await assertExactCopy(user, key);
      }

      // Removing a mailbox from the running batch: gone from status, mail untouched on both sides.
      const bobBefore = await counts('bob', 'bob.grow@example.test');
      const removed = await runMailferry(['batch', 'remove', 'grow', '--mailbox', 'bob.grow@example.test', '--yes', '--state-dir', stateDir], {env});
      assert.equal(removed.code, 0, describeResult(removed));
      assert.match(removed.stdout, /removed bob\.grow@example\.test from batch "grow" through the running process.*no mail was touched/);
      await run.waitForLine(/removed from the batch \(state only, no mail touched\): bob\.grow@example\.test/);
      const status = await runMailferry(['batch', 'status', 'grow', '--json', '--state-dir', stateDir]);
      assert.deepEqual((JSON.parse(status.stdout) as {mailboxes: {emailAddress: string}[]}).mailboxes.map((m) => m.emailAddress).sort(), ['alice.grow@example.test', 'carol.grow@example.test']);
      assert.deepEqual(await counts('bob', 'bob.grow@example.test'), bobBefore);

      const unknown = await runMailferry(['batch', 'remove', 'grow', '--mailbox', 'nobody@example.test', '--yes', '--state-dir', stateDir]);
      assert.equal(unknown.code, 1, describeResult(unknown));
      assert.match(unknown.stderr, /batch "grow" has no mailbox nobody@example\.test/);

      const complete = await runMailferry(['batch', 'complete', 'grow', '--state-dir', stateDir], {env});
      assert.equal(complete.code, 0, describeResult(complete));
    } catch (error) {
      run.kill('SIGKILL');
      throw error;
    }
    const result = await run.exited;
    assert.equal(result.code, 0, describeResult(result));
    assert.match(result.stdout, /carol\.grow@example\.test Completing -> Completed/);
    const log = await readFile(path.join(stateDir, 'logs', 'grow.log'), 'utf8');
    assert.match(log, /users added to the batch as Queued/);
    assert.ok(!log.includes(PASSWORDS.carol), 'no password in the log');
  });

  it('a state file from before the change opens and runs; users added with no process running are migrated by the next start', async () => {
    // The shape batch create wrote before mailboxes could be added: no csvPath in any identity.
    const mainCsv = await csvFor('old.csv', 'old', ['alice']);
    const state = newBatchState(pairDefinition(pair!, 'old', mainCsv), [{emailAddress: email('alice', 'old'), userName: 'alice'}]);
    await writeFile(stateFile(stateDir, 'old'), JSON.stringify(state), {mode: 0o600});
    const first = await batch(['start', 'old']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    await assertExactCopy('alice', email('alice', 'old'));

    const addedCsv = await csvFor('old-more.csv', 'old', ['dave', 'erin']);
    const added = await batch(['add', 'old', '--csv', addedCsv, '--json']);
    assert.equal(added.code, 0, added.stderr);
    const record = JSON.parse(added.stdout) as {outcome: string; added: string[]; alreadyInBatch: unknown[]};
    assert.deepEqual([record.outcome, record.added, record.alreadyInBatch], ['applied', [email('dave', 'old'), email('erin', 'old')], []]);
    const queued = await readBatchState(stateDir, 'old');
    assert.deepEqual(Object.values(queued.mailboxes).map((m) => [m.identity.emailAddress, m.status]), [
      [email('alice', 'old'), 'Synced'],
      [email('dave', 'old'), 'Queued'],
      [email('erin', 'old'), 'Queued'],
    ]);

    // Not running: removed from the state directly.
    const erinBefore = await counts('erin', email('erin', 'old'));
    const removed = await batch(['remove', 'old', '--mailbox', email('erin', 'old'), '--yes']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /removed erin\.old@example\.test from batch "old" \(its state only; no mail was touched/);
    const refused = await batch(['remove', 'old', '--mailbox', email('dave', 'old')]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--yes/);

    const second = await batch(['start', 'old']);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    await assertExactCopy('dave', email('dave', 'old'));
    assert.deepEqual(await counts('erin', email('erin', 'old')), erinBefore, 'erin was not migrated after removal, nor touched');
    assert.deepEqual(Object.keys((await readBatchState(stateDir, 'old')).mailboxes).sort(), [email('alice', 'old'), email('dave', 'old')]);

    // Its CSV gone: dave fails with the path in the error; alice (the batch's own CSV) is fine.
    await rename(addedCsv, `${addedCsv}.moved`);
    const third = await batch(['sync-now', 'old']);
    assert.equal(third.code, 1, third.stdout + third.stderr);
    const after = await readBatchState(stateDir, 'old');
    assert.equal(after.mailboxes[email('alice', 'old')]!.status, 'Synced');
    assert.equal(after.mailboxes[email('dave', 'old')]!.status, 'Failed');
    assert.match(after.mailboxes[email('dave', 'old')]!.error!.message, new RegExp(`dave\\.old@example\\.test: its passwords cannot be read: Cannot read the migration CSV ${addedCsv.replace(/[.]/g, '\\.')}`));
  });

  it('a CSV with errors adds nothing and lists every problem with its line', async () => {
    const created = await batch(['create', 'bad', '--csv', await csvFor('bad.csv', 'bad', ['alice']), ...pairCreateArgs(pair!)]);
    assert.equal(created.code, 0, created.stderr);
    const file = path.join(work, 'bad-more.csv');
    await writeFile(
      file,
      ['EmailAddress,UserName,Password', `${email('bob', 'bad')},bob,${PASSWORDS.bob}`, `not-an-address,carol,${PASSWORDS.carol}`, `${email('bob', 'bad')},bob,${PASSWORDS.bob}`, `${email('alice', 'bad')},alice,${PASSWORDS.alice}`].join('\n') + '\n',
      {mode: 0o600},
    );
    const before = await readFile(stateFile(stateDir, 'bad'), 'utf8');
    const result = await batch(['add', 'bad', '--csv', file]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^line 3, column EmailAddress: error: /m);
    assert.match(result.stdout, /^line 4, column EmailAddress: error: .*line 2/m);
    assert.match(result.stdout, /^line 5: alice\.bad@example\.test is already in the batch, left alone$/m);
    assert.match(result.stdout, /the CSV has 2 error\(s\); nothing was added to batch "bad"/);
    assert.ok(!result.stdout.includes(PASSWORDS.carol), 'no password printed');
    assert.equal(await readFile(stateFile(stateDir, 'bad'), 'utf8'), before, 'the state file is unchanged');

    const usage = await batch(['add', 'bad']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /batch add needs --csv FILE/);
  });

  it('an add handed to a process that ends before taking it is applied by batch add itself', async () => {
    // A stand-in "runner": a live process holding the batch's run lock, which never reads the inbox.
    const holder = spawn('sleep', ['60'], {stdio: 'ignore'});
    try {
      const lock = path.join(stateDir, 'batches', 'bad.lock');
      await writeFile(lock, JSON.stringify({pid: holder.pid, hostname: hostname(), startedAt: new Date().toISOString()}));
      const adding = batch(['add', 'bad', '--csv', await csvFor('late.csv', 'bad', ['dave'])]);
      const inbox = `${stateFile(stateDir, 'bad')}.commands`;
      await waitFor('the add command in the inbox', () => (existsSync(inbox) && readdirSync(inbox).some((name) => name.endsWith('.json')) ? true : undefined));
      holder.kill('SIGKILL');
      await once(holder, 'exit');
      const result = await adding;
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /added 1 mailbox\(es\) to batch "bad" as Queued: dave\.bad@example\.test \(the process that ran the batch ended before it took them\)/);
      assert.equal((await readBatchState(stateDir, 'bad')).mailboxes[email('dave', 'bad')]?.status, 'Queued');
      assert.deepEqual(readdirSync(inbox).filter((name) => name.endsWith('.json')), [], 'the command was withdrawn, not left for the next start to apply twice');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a mailbox still copying in a running batch is stopped, then removed; nothing is deleted or copied after', async (t) => {
    const csv = await writeMigrationCsv(path.join(work, 'run.csv'), [
      {email: BULK.target, user: BULK.user, password: BULK.password},
      {email: email('alice', 'run'), user: 'alice', password: PASSWORDS.alice},
    ]);
    const created = await batch(['create', 'run', '--csv', csv, ...pairCreateArgs(withSlowTarget(pair!, slowLink!)), '--append-connections', '1']);
    assert.equal(created.code, 0, created.stderr);
    const run = spawnMailferry(['batch', 'start', 'run', '--follow', '--state-dir', stateDir], {env, timeoutMs: 180_000});
    try {
      await run.waitForLine(/bulk\.run@example\.test Starting -> Syncing/, 90_000);
      const removed = await runMailferry(['batch', 'remove', 'run', '--mailbox', BULK.target, '--yes', '--state-dir', stateDir], {env, timeoutMs: 90_000});
      assert.equal(removed.code, 0, describeResult(removed));
      assert.match(removed.stdout, /removed bulk\.run@example\.test from batch "run" through the running process/);
      assert.match(run.stdout, /bulk\.run@example\.test Syncing -> Stopping/, 'it was still copying when the remove came, and was stopped first');
      assert.match(run.stdout, /bulk\.run@example\.test Stopping -> Stopped/);
      const copiedAtRemoval = (await counts('bulk' as User, BULK.target))[1];
      t.diagnostic(`${copiedAtRemoval} of ${BULK.messages} messages were on the target when the mailbox was removed`);
      await run.waitForLine(/alice\.run@example\.test Syncing -> Synced/, 90_000);
      assert.deepEqual(Object.keys((await readBatchState(stateDir, 'run')).mailboxes), [email('alice', 'run')]);
      const complete = await runMailferry(['batch', 'complete', 'run', '--state-dir', stateDir], {env});
      assert.equal(complete.code, 0, describeResult(complete));
    } catch (error) {
      run.kill('SIGKILL');
      throw error;
    }
    const result = await run.exited;
    assert.equal(result.code, 0, describeResult(result));
    const afterRemoval = result.stdout.slice(result.stdout.indexOf('removed from the batch'));
    assert.ok(afterRemoval.length < result.stdout.length, 'the run printed the removal');
    assert.ok(!afterRemoval.split('\n').slice(1).some((line) => line.includes(BULK.target)), `the removed mailbox had no later pass:\n${afterRemoval}`);
    const [onSource, onTarget] = await counts('bulk' as User, BULK.target);
    assert.equal(onSource, BULK.messages, 'the source is untouched');
    assert.ok(onTarget > 0 && onTarget < BULK.messages, `what was copied stays on the target, and nothing more: ${onTarget}`);
  });

  it('a plain start (no --follow) still copying migrates a user added meanwhile before it ends', async () => {
    const csv = await writeMigrationCsv(path.join(work, 'plain.csv'), [{email: 'bulk.plain@example.test', user: BULK.user, password: BULK.password}]);
    const created = await batch(['create', 'plain', '--csv', csv, ...pairCreateArgs(withSlowTarget(pair!, slowLink!)), '--append-connections', '1']);
    assert.equal(created.code, 0, created.stderr);
    const run = spawnMailferry(['batch', 'start', 'plain', '--state-dir', stateDir], {env, timeoutMs: 180_000});
    try {
      await run.waitForLine(/bulk\.plain@example\.test Starting -> Syncing/, 90_000);
      const added = await runMailferry(['batch', 'add', 'plain', '--csv', await csvFor('plain-more.csv', 'plain', ['bob']), '--json', '--state-dir', stateDir], {env, timeoutMs: 90_000});
      assert.equal(added.code, 0, describeResult(added));
      const record = JSON.parse(added.stdout.trim().split('\n').at(-1)!) as {outcome: string; added: string[]; runningPid: number};
      assert.deepEqual([record.outcome, record.added, record.runningPid], ['added-by-runner', [email('bob', 'plain')], run.pid]);
    } catch (error) {
      run.kill('SIGKILL');
      throw error;
    }
    const result = await run.exited;
    assert.equal(result.code, 0, describeResult(result));
    assert.match(result.stdout, /bob\.plain@example\.test Syncing -> Synced/);
    assert.match(result.stdout, /bulk\.plain@example\.test Syncing -> Synced/);
    await assertExactCopy('bob', email('bob', 'plain'));
  });
});
