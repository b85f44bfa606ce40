// `mailferry demo` prepares what it promises: two loopback Dovecots, filled sample mailboxes and a
// CSV whose logins work (except the one that is wrong on purpose), and it refuses politely
// where it cannot run.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {chmod, mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {PassThrough} from 'node:stream';
import {checkUserLogins} from '../../source/engine/login-check.js';
import {loadMigrationCsv} from '../../source/engine/csv/migration-csv.js';
import {DEMO_USERS, demoMessage, prepareDemo, runDemo, type PreparedDemo} from '../../source/headless/demo-command.js';
import {findDovecot, stopDemoServer, type DemoServer} from '../../source/headless/demo-servers.js';
import {closeClient, connectClient} from '../../source/imap/client-factory.js';
import {makeEndpoint} from '../../source/imap/endpoint.js';

function stream(isTTY: boolean): {stream: NodeJS.ReadStream & NodeJS.WriteStream; text(): string} {
  let written = '';
  const pass = Object.assign(new PassThrough(), {isTTY}) as unknown as NodeJS.ReadStream & NodeJS.WriteStream;
  pass.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return {stream: pass, text: () => written};
}

describe('mailferry demo', () => {
  let dir = '';
  let demo: PreparedDemo | undefined;
  const servers: DemoServer[] = [];

  before(async () => {
    const binary = findDovecot();
    assert.ok(binary, 'dovecot must be installed for this test (apt-get install dovecot-imapd)');
    dir = await mkdtemp(path.join(tmpdir(), 'mailferry-demo-test-'));
    await chmod(dir, 0o711);
    demo = await prepareDemo({binary, dir, onServer: (server) => servers.push(server)});
  });

  after(async () => {
    for (const server of servers) stopDemoServer(server);
    await rm(dir, {recursive: true, force: true});
  });

  it('writes a usable CSV whose logins work, except the one meant to fail', async () => {
    const csv = await loadMigrationCsv(demo!.csvPath);
    assert.equal(csv.usable, true);
    assert.equal(csv.rows.length, DEMO_USERS.length);
    assert.equal(csv.hasTargetCredentials, true);
    const [source, target] = demo!.servers;
    const definition = {
      source: makeEndpoint({host: '127.0.0.1', port: source.port, security: 'none'}),
      target: makeEndpoint({host: '127.0.0.1', port: target.port, security: 'none'}),
      sourceCredentials: {kind: 'csv' as const},
      targetCredentials: {kind: 'csv' as const},
    };
    const results = await Promise.all(csv.rows.map((row) => checkUserLogins(definition, row, {})));
    const failing = results.filter((result) => !result.source.ok).map((result) => result.emailAddress);
    assert.deepEqual(failing, ['fay@demo.example']);
    assert.equal(results.find((result) => result.emailAddress === 'fay@demo.example')?.source.error?.kind, 'auth');
    assert.ok(results.every((result) => result.target.ok));
  });

  it('fills the source mailboxes and prefills the UI with both endpoints and the CSV', async () => {
    const [source, target] = demo!.servers;
    const alice = DEMO_USERS[0]!;
    const client = await connectClient({endpoint: makeEndpoint({host: '127.0.0.1', port: source.port, security: 'none'}), role: 'source', identity: {user: alice.login, password: alice.sourcePassword}});
    try {
      const count = async (folder: string) => {
        const status = await client.status(folder, {messages: true});
        return status === false ? undefined : status.messages;
      };
      assert.equal(await count('INBOX'), alice.inbox);
      assert.equal(await count('Archive/2024'), alice.archive);
    } finally {
      await closeClient(client);
    }
    const expected = DEMO_USERS.reduce((total, user) => total + user.inbox + user.sent + user.archive + (user.large ? 1 : 0), 0);
    assert.equal(demo!.messages, expected);
    assert.equal(demo!.prefill.source?.port, String(source.port));
    assert.equal(demo!.prefill.target?.port, String(target.port));
    assert.equal(demo!.prefill.csvPath, demo!.csvPath);
    assert.equal(demo!.prefill.startWithSetup, true);
  });

  it('builds valid sample messages, one above the demo size limit', () => {
    const {raw} = demoMessage(DEMO_USERS[2]!, 'INBOX', 3, 1_500_000);
    assert.ok(raw.length > 1024 * 1024);
    assert.match(raw, /^From: .+\r\nTo: .+\r\nSubject: .+\r\nDate: .+\r\nMessage-ID: <demo-carol-INBOX-3@demo\.example>\r\n/);
  });

  it('refuses without a terminal, and on unknown options', async () => {
    const refuse = async () => {
      throw new Error('the UI must not open');
    };
    const out = stream(false);
    const err = stream(false);
    assert.equal(await runDemo([], refuse, {stdin: out.stream, stdout: out.stream, stderr: err.stream}), 2);
    assert.match(err.text(), /needs an interactive terminal/);
    const err2 = stream(false);
    assert.equal(await runDemo(['--bogus'], refuse, {stdin: out.stream, stdout: out.stream, stderr: err2.stream}), 2);
    assert.match(err2.text(), /unknown option --bogus/);
  });
});
