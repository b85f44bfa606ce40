// Every command that runs a pass writes the batch's log (issue 12, item 6): `--log FILE` or the
// default STATE_DIR/logs/NAME.log, with each pass's start and end, each skipped message with its
// reason, and never a password; also when the run ends with SIGTERM.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, seedMailbox} from './helpers/seed-mailbox.js';
import {TARGET_ADMIN_ENV, captureIo, makeWorkDir, pairCreateArgs, removeWorkDir, targetAdminEnv, writeMigrationCsv} from './helpers/batch-fixture.js';
import {spawnMailferry} from './helpers/mailferry-process.js';
import {engineServices} from '../source/ui/engine-services.js';

const PASSWORD = 'src-hana-Qm38zt';
const USER = 'hana';
const BIG_SUBJECT = 'Scanned contract (too large)';

interface LogLine {
  level: string;
  msg: string;
  batch?: string;
  mailbox?: string;
  kind?: string;
  folder?: string;
  uid?: number;
  subject?: string;
  reason?: string;
}

async function readLog(file: string): Promise<LogLine[]> {
  return (await readFile(file, 'utf8')).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogLine);
}

describe('the batch log', {timeout: 120_000}, () => {
  let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
  let work = '';
  let stateDir = '';
  let csvFor: (email: string) => Promise<string>;

  before(async () => {
    pair = await startDovecotPair({
      source: {users: {[USER]: PASSWORD}},
      target: {users: {'one@example.test': 'x-unused-1', 'two@example.test': 'x-unused-2', 'three@example.test': 'x-unused-3', 'four@example.test': 'x-unused-4'}},
    });
    work = await makeWorkDir('batchlog');
    stateDir = path.join(work, 'state');
    process.env[TARGET_ADMIN_ENV] = pair.target.masterPassword;
    const date = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
    await seedMailbox(pair.source, USER, {
      folders: [],
      messages: [
        {folder: 'INBOX', raw: buildMessage({subject: 'small one', date, seed: 1}), flags: ['\\Seen'], internalDate: date},
        {folder: 'INBOX', raw: buildMessage({subject: BIG_SUBJECT, date, seed: 2, totalBytes: 200_000}), internalDate: date},
        {folder: 'INBOX', raw: buildMessage({subject: 'small two', date, seed: 3}), internalDate: date},
      ],
    });
    csvFor = (email) => writeMigrationCsv(path.join(work, `${email}.csv`), [{email, user: USER, password: PASSWORD}]);
  });
  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await pair?.stop();
    await removeWorkDir(work);
  });

  const batch = async (args: string[]) => {
    const capture = captureIo();
    const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
    return {code, out: `${capture.stdout()}${capture.stderr()}`};
  };
  const create = async (name: string, email: string, extra: string[] = []) => {
    const created = await batch(['create', name, '--csv', await csvFor(email), '--max-message-size', '100KB', ...pairCreateArgs(pair!), ...extra]);
    assert.equal(created.code, 0, created.out);
  };
  const assertNoPassword = async (file: string) => {
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(PASSWORD), `${file} holds the source password`);
    assert.ok(!text.includes(pair!.target.masterPassword), `${file} holds the target admin password`);
  };
  const assertPassLogged = (lines: LogLine[], email: string, kind: string) => {
    assert.ok(lines.some((line) => line.msg === 'pass started' && line.mailbox === email && line.kind === kind), `${kind} pass start of ${email} logged:\n${lines.map((line) => line.msg).join('\n')}`);
    assert.ok(lines.some((line) => line.msg === 'pass finished' && line.mailbox === email && line.kind === kind), `${kind} pass end of ${email} logged`);
  };
  const assertSkipLogged = (lines: LogLine[], email: string) => {
    const skipped = lines.filter((line) => line.msg === 'message skipped' && line.mailbox === email);
    assert.equal(skipped.length, 1, JSON.stringify(lines));
    assert.equal(skipped[0]!.folder, 'INBOX');
    assert.equal(skipped[0]!.uid, 2);
    assert.equal(skipped[0]!.subject, BIG_SUBJECT);
    assert.match(skipped[0]!.reason ?? '', /larger than the batch's maximum message size .*--max-message-size/);
  };

  it('create --log and start --log FILE write their files: passes, the skipped message with its reason, no password', async () => {
    const createLog = path.join(work, 'create-one.log');
    const startLog = path.join(work, 'start-one.log');
    await create('one', 'one@example.test', ['--log', createLog]);
    assert.ok((await readLog(createLog)).some((line) => line.msg === 'batch created' && line.batch === 'one'));
    const started = await batch(['start', 'one', '--log', startLog]);
    assert.equal(started.code, 0, started.out);
    const lines = await readLog(startLog);
    assertPassLogged(lines, 'one@example.test', 'initial');
    assertSkipLogged(lines, 'one@example.test');
    assert.equal(lines[0]!.msg, 'batch opened');
    assert.equal(lines.at(-1)!.msg, 'batch closed; state saved');
    await assertNoPassword(createLog);
    await assertNoPassword(startLog);
    assert.ok(!existsSync(path.join(stateDir, 'logs', 'one.log')), 'with --log nothing goes to the default file');

    // A start that cannot even open its batch says so in the log too.
    const failedLog = path.join(work, 'failed.log');
    assert.equal((await batch(['start', 'no-such-batch', '--log', failedLog])).code, 1);
    const failed = await readLog(failedLog);
    assert.equal(failed[0]?.msg, 'could not open the batch', JSON.stringify(failed));
  });

  it('start, sync-now and complete write STATE_DIR/logs/NAME.log by default', async () => {
    await create('two', 'two@example.test');
    const file = path.join(stateDir, 'logs', 'two.log');
    assert.ok((await readLog(file)).some((line) => line.msg === 'batch created'));
    assert.equal((await batch(['start', 'two'])).code, 0);
    assertSkipLogged(await readLog(file), 'two@example.test');
    assertPassLogged(await readLog(file), 'two@example.test', 'initial');
    assert.equal((await batch(['sync-now', 'two'])).code, 0);
    assertPassLogged(await readLog(file), 'two@example.test', 'incremental');
    assert.equal((await batch(['complete', 'two'])).code, 0);
    assertPassLogged(await readLog(file), 'two@example.test', 'final');
    await assertNoPassword(file);
  });

  it('a batch the UI runs logs to STATE_DIR/logs/NAME.log like the headless commands', async () => {
    await create('four', 'four@example.test');
    // The UI's own engine services (what run-ui gives the App), with the admin password as typed.
    const opened = await engineServices().openBatch({stateDir, name: 'four', secrets: {targetAdminPassword: pair!.target.masterPassword}});
    try {
      await opened.start();
      await opened.whenIdle();
    } finally {
      await opened.close();
    }
    const file = path.join(stateDir, 'logs', 'four.log');
    const lines = await readLog(file);
    assertPassLogged(lines, 'four@example.test', 'initial');
    assertSkipLogged(lines, 'four@example.test');
    assert.equal(lines.at(-1)!.msg, 'batch closed; state saved');
    await assertNoPassword(file);
  });

  it('start --follow ended by SIGTERM leaves its log, up to the signal and the close', async () => {
    await create('three', 'three@example.test');
    const file = path.join(work, 'follow.log');
    const child = spawnMailferry(['batch', 'start', 'three', '--follow', '--state-dir', stateDir, '--log', file], {env: targetAdminEnv(pair!)});
    await child.waitForLine(/following batch three/);
    await child.waitForLine(/three@example.test initial pass done/);
    child.kill('SIGTERM');
    const result = await child.exited;
    assert.equal(result.code, 3, result.stdout + result.stderr);
    const lines = await readLog(file);
    assertPassLogged(lines, 'three@example.test', 'initial');
    assertSkipLogged(lines, 'three@example.test');
    assert.ok(lines.some((line) => line.msg === 'received SIGTERM; stopping mailboxes and saving state'), JSON.stringify(lines));
    assert.equal(lines.at(-1)!.msg, 'batch closed; state saved');
    await assertNoPassword(file);
  });
});
