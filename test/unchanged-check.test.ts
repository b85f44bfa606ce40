// The no-change shortcut of incremental passes (source/engine/copy/unchanged-check.ts) against real
// Dovecot: an unchanged mailbox ends its pass after one login and one LIST per side, and each kind
// of change still gets the full pass (new mail, changed flags, a new source folder, a source
// folder recreated with a new UIDVALIDITY, a target folder deleted or recreated), after which the
// shortcut applies again. The login lines of each Dovecot's log tell which of the two ran: the
// check logs in once per side; the full pass (imapflow) logs in again on top.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import type {BatchState} from '../source/store/state-schema.js';
import {dovecotPaths} from './helpers/dovecot-config.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {loginLogSettled} from './helpers/dovecot-log.js';
import {buildMessage, openClient, readMailbox, realisticMailbox, seedMailbox, serverFolderName} from './helpers/seed-mailbox.js';
import {compareMailboxes, expectedTargetFolder, folderCounts} from './helpers/compare-mailboxes.js';
import {
  TARGET_ADMIN_ENV,
  captureIo,
  folderMessageCount,
  makeWorkDir,
  pairCreateArgs,
  passFinishedLines,
  readBatchState,
  removeWorkDir,
  waitFor,
  writeMigrationCsv,
} from './helpers/batch-fixture.js';

type Pair = {source: DovecotServer; target: DovecotServer; stop(): Promise<void>};

function loginCount(server: DovecotServer): number {
  try {
    return readFileSync(dovecotPaths(server.dir).log, 'latin1').match(/imap-login: (?:Info: )?Login: /g)?.length ?? 0;
  } catch {
    return 0;
  }
}

/** The logins so far, once the login process's lines have all reached the log (a sentinel login). */
async function settledLoginCount(server: DovecotServer): Promise<number> {
  await loginLogSettled(server);
  return loginCount(server);
}

interface Pass {
  copied: number;
  flagUpdates: number;
  sourceLogins: number;
  targetLogins: number;
  state: BatchState;
}

/** Runs `batch sync-now` in this process and says what it did. */
async function syncNow(pair: Pair, stateDir: string, name: string): Promise<Pass> {
  const sourceBefore = await settledLoginCount(pair.source);
  const targetBefore = await settledLoginCount(pair.target);
  const capture = captureIo();
  const code = await runBatchCommand(['sync-now', name, '--state-dir', stateDir], capture.io);
  assert.equal(code, 0, `${capture.stdout()}\n${capture.stderr()}`);
  const passes = passFinishedLines(capture.stdout());
  assert.equal(passes.length, 1, capture.stdout());
  return {
    copied: passes[0]!.copied,
    flagUpdates: passes[0]!.flagUpdates,
    sourceLogins: (await settledLoginCount(pair.source)) - sourceBefore,
    targetLogins: (await settledLoginCount(pair.target)) - targetBefore,
    state: await readBatchState(stateDir, name),
  };
}

function assertShortcut(pass: Pass): void {
  assert.deepEqual(
    {copied: pass.copied, flagUpdates: pass.flagUpdates, sourceLogins: pass.sourceLogins, targetLogins: pass.targetLogins},
    {copied: 0, flagUpdates: 0, sourceLogins: 1, targetLogins: 1},
    'an unchanged mailbox: one login per side (the LIST of the check), nothing copied',
  );
}

/** The check logs in once per side, the full pass at least once more (more when it copies). */
function assertFullPass(pass: Pass): void {
  assert.ok(pass.sourceLogins >= 2, `the check, then the full pass, log in on the source (${pass.sourceLogins})`);
  assert.ok(pass.targetLogins >= 2, `the check, then the full pass, log in on the target (${pass.targetLogins})`);
}

describe('no-change shortcut of incremental passes against real Dovecot', {timeout: 180_000}, () => {
  const USER = 'grace';
  const PASSWORD = 'nochange-grace-pw7';
  const TARGET = 'grace@example.test';
  let pair: Pair | undefined;
  let work: string | undefined;
  let stateDir = '';

  const mapFolder = (sourcePath: string) => expectedTargetFolder(pair!.source, pair!.target, sourcePath);
  const assertExactCopy = async () => {
    const source = await readMailbox(pair!.source, USER);
    const target = await readMailbox(pair!.target, TARGET);
    assert.deepEqual(compareMailboxes(source, target, {mapFolder}), [], `source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
  };
  const pass = () => syncNow(pair!, stateDir, 'quick');

  before(async () => {
    pair = await startDovecotPair({source: {users: {[USER]: PASSWORD}}, target: {users: {[TARGET]: 'tgt-grace'}}});
    process.env[TARGET_ADMIN_ENV] = pair.target.masterPassword;
    work = await makeWorkDir('unchanged');
    stateDir = path.join(work, 'state');
    await seedMailbox(pair.source, USER, realisticMailbox({seed: 41}));
    const csv = await writeMigrationCsv(path.join(work, 'quick.csv'), [{email: TARGET, user: USER, password: PASSWORD}]);
    const capture = captureIo();
    assert.equal(await runBatchCommand(['create', 'quick', '--csv', csv, ...pairCreateArgs(pair), '--state-dir', stateDir], capture.io), 0, capture.stderr());
    assert.equal(await runBatchCommand(['start', 'quick', '--state-dir', stateDir], capture.io), 0, `${capture.stdout()}\n${capture.stderr()}`);
    await assertExactCopy();
  });

  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('ends the pass of an unchanged mailbox after one LIST per side, with the state a full pass leaves', async () => {
    const before = await readBatchState(stateDir, 'quick');
    const mailboxBefore = Object.values(before.mailboxes)[0]!;
    // So that the new time stamps differ from the old ones.
    await waitFor('a later millisecond', () => (Date.now() > Date.parse(mailboxBefore.stats.lastSyncedAt!) ? true : undefined), 5_000, 1);
    const result = await pass();
    assertShortcut(result);
    const mailbox = Object.values(result.state.mailboxes)[0]!;
    assert.equal(mailbox.status, 'Synced');
    assert.equal(mailbox.stats.passes, mailboxBefore.stats.passes + 1);
    assert.ok(mailbox.stats.lastSyncedAt! > mailboxBefore.stats.lastSyncedAt!, 'lastSyncedAt moved on');
    assert.equal(result.state.lastSyncedAt, mailbox.stats.lastSyncedAt, 'the batch was synced when its only mailbox was');
    const folders = Object.entries(mailbox.folders);
    assert.ok(folders.length >= 10, `checkpoints for the realistic mailbox's folders (${folders.length})`);
    for (const [folder, checkpoint] of folders) {
      assert.ok(checkpoint.lastPassAt! > mailboxBefore.folders[folder]!.lastPassAt!, `lastPassAt of ${folder} moved on`);
      assert.deepEqual({...checkpoint, lastPassAt: ''}, {...mailboxBefore.folders[folder]!, lastPassAt: ''}, `nothing else changed in ${folder}`);
    }
    assert.deepEqual(mailbox.unmigratedFolders, mailboxBefore.unmigratedFolders);
    assert.deepEqual(mailbox.renamedFolders, mailboxBefore.renamedFolders);
  });

  it('runs the full pass for new mail, then takes the shortcut again', async () => {
    await seedMailbox(pair!.source, USER, {folders: [], messages: [{folder: 'Projects/2024', raw: buildMessage({subject: 'Arrived later', seed: 9101}), flags: ['\\Seen']}]});
    const result = await pass();
    assertFullPass(result);
    assert.equal(result.copied, 1);
    await assertExactCopy();
    assertShortcut(await pass());
  });

  it('runs the full pass for changed flags (HIGHESTMODSEQ)', async () => {
    const client = await openClient(pair!.source, USER);
    try {
      await client.mailboxOpen('INBOX');
      await client.messageFlagsAdd('1', ['\\Flagged', 'Urgent'], {uid: true});
    } finally {
      await client.logout().catch(() => client.close());
    }
    const result = await pass();
    assertFullPass(result);
    assert.equal(result.flagUpdates, 1);
    await assertExactCopy();
    assertShortcut(await pass());
  });

  it('runs the full pass for a folder new on the source, with or without mail', async () => {
    await seedMailbox(pair!.source, USER, {
      folders: ['Leer', 'Neu'],
      messages: [{folder: 'Neu', raw: buildMessage({subject: 'In a new folder', seed: 9102})}],
    });
    const result = await pass();
    assertFullPass(result);
    assert.equal(result.copied, 1);
    await assertExactCopy();
    assert.ok((await readMailbox(pair!.target, TARGET)).has(mapFolder('Leer')), 'the empty new folder exists on the target');
    assertShortcut(await pass());
  });

  it('runs the full pass for a source folder recreated with a new UIDVALIDITY', async () => {
    const folder = serverFolderName(pair!.source, 'R&D');
    const before = Object.values((await readBatchState(stateDir, 'quick')).mailboxes)[0]!.folders[folder]!;
    await pair!.source.doveadm(['mailbox', 'delete', '-u', USER, folder]);
    await seedMailbox(pair!.source, USER, {folders: [], messages: [{folder: 'R&D', raw: buildMessage({subject: 'After the folder was recreated', seed: 9103})}]});
    const result = await pass();
    assertFullPass(result);
    assert.equal(result.copied, 1, 'the message of the recreated folder');
    const after = Object.values(result.state.mailboxes)[0]!.folders[folder]!;
    assert.notEqual(after.sourceUidValidity, before.sourceUidValidity);
    assertShortcut(await pass());
  });

  it('runs the full pass for a deleted target folder, and fills the folder again', async () => {
    const source = serverFolderName(pair!.source, 'Projects/2024/Q1');
    const target = mapFolder(source);
    const expected = await folderMessageCount(pair!.source, USER, source);
    assert.ok(expected > 0, 'the folder holds mail');
    await pair!.target.doveadm(['mailbox', 'delete', '-u', TARGET, target]);
    const result = await pass();
    assertFullPass(result);
    assert.equal(result.copied, expected);
    assert.equal(await folderMessageCount(pair!.target, TARGET, target), expected);
    assertShortcut(await pass());
  });

  it('runs the full pass for a target folder recreated empty (new UIDVALIDITY), and fills it again', async () => {
    const source = serverFolderName(pair!.source, 'Почта');
    const target = mapFolder(source);
    const expected = await folderMessageCount(pair!.source, USER, source);
    assert.ok(expected > 0, 'the folder holds mail');
    await pair!.target.doveadm(['mailbox', 'delete', '-u', TARGET, target]);
    await pair!.target.doveadm(['mailbox', 'create', '-s', '-u', TARGET, target]);
    const result = await pass();
    assertFullPass(result);
    assert.equal(result.copied, expected);
    assert.equal(await folderMessageCount(pair!.target, TARGET, target), expected);
    assertShortcut(await pass());
  });

  it('fails the mailbox with the login error when the check cannot log in, as the full pass would', async () => {
    const wrong = 'not-the-password-5';
    const csv = await writeMigrationCsv(path.join(work!, 'wrong.csv'), [{email: TARGET, user: USER, password: wrong}]);
    const capture = captureIo();
    const code = await runBatchCommand(['sync-now', 'quick', '--state-dir', stateDir, '--csv', csv], capture.io);
    assert.equal(code, 1, capture.stdout());
    const mailbox = Object.values((await readBatchState(stateDir, 'quick')).mailboxes)[0]!;
    assert.equal(mailbox.status, 'Failed');
    assert.equal(mailbox.error?.kind, 'auth');
    assert.equal(mailbox.error?.endpoint, 'source');
    assert.equal(mailbox.error?.mailbox, TARGET);
    assert.ok(!JSON.stringify(mailbox.error).includes(wrong) && !capture.stdout().includes(wrong), 'the password is in neither the state nor the output');
  });
});

describe('no-change shortcut with a Courier-style source (INBOX. prefix, "." separator)', {timeout: 120_000}, () => {
  const USER = 'heidi';
  const PASSWORD = 'nochange-heidi-pw8';
  const TARGET = 'heidi@example.test';
  let pair: Pair | undefined;
  let work: string | undefined;

  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('plans the folders as the full pass does, so an unchanged mailbox takes the shortcut', async () => {
    pair = await startDovecotPair({source: {users: {[USER]: PASSWORD}, separator: '.', prefix: 'INBOX.'}, target: {users: {[TARGET]: 'tgt-heidi'}}});
    process.env[TARGET_ADMIN_ENV] = pair.target.masterPassword;
    work = await makeWorkDir('unchanged-courier');
    const stateDir = path.join(work, 'state');
    await seedMailbox(pair.source, USER, realisticMailbox({seed: 42}));
    const csv = await writeMigrationCsv(path.join(work, 'courier.csv'), [{email: TARGET, user: USER, password: PASSWORD}]);
    const capture = captureIo();
    assert.equal(await runBatchCommand(['create', 'courier', '--csv', csv, ...pairCreateArgs(pair), '--state-dir', stateDir], capture.io), 0, capture.stderr());
    assert.equal(await runBatchCommand(['start', 'courier', '--state-dir', stateDir], capture.io), 0, `${capture.stdout()}\n${capture.stderr()}`);
    assertShortcut(await syncNow(pair, stateDir, 'courier'));
  });
});
