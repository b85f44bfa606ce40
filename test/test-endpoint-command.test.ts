// `mailferry test-endpoint` end to end against real Dovecot: exit codes, line and JSON output,
// usage errors, and that the password shows up nowhere (output, errors, JSON).

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {runTestEndpoint} from '../source/headless/test-endpoint-command.js';
import type {ConnectionTestResult} from '../source/imap/connection-test.js';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const code = await runTestEndpoint(argv, {stdout, stderr, stdin: new PassThrough()});
  return {code, stdout: out, stderr: err};
}

describe('mailferry test-endpoint usage errors (exit 2)', () => {
  const cases: {name: string; argv: string[]; stderr: RegExp}[] = [
    {name: 'no host', argv: ['--security', 'tls'], stderr: /--host is required/},
    {name: 'bad security', argv: ['--host', '127.0.0.1', '--security', 'ssl'], stderr: /--security must be none, starttls or tls/},
    {name: 'bad port', argv: ['--host', '127.0.0.1', '--port', '99999'], stderr: /--port must be a number from 1 to 65535/},
    {name: 'non-numeric port', argv: ['--host', '127.0.0.1', '--port', 'imap'], stderr: /--port/},
    {name: 'a --password flag', argv: ['--host', '127.0.0.1', '--user', 'alice', '--password', 'hunter2'], stderr: /no --password option.*process list/},
    {name: 'user without a password source', argv: ['--host', '127.0.0.1', '--user', 'alice'], stderr: /--user needs a password/},
    {name: 'password source without a user', argv: ['--host', '127.0.0.1', '--password-env', 'X'], stderr: /no --user/},
    {name: 'two password sources', argv: ['--host', '127.0.0.1', '--user', 'a', '--password-env', 'X', '--password-prompt'], stderr: /only one of/},
    {name: 'authzid without a user', argv: ['--host', '127.0.0.1', '--authzid', 'alice'], stderr: /--authzid needs --user/},
    {name: 'unknown option', argv: ['--host', '127.0.0.1', '--colour'], stderr: /unknown option --colour/},
    {name: 'unknown preset', argv: ['--preset', 'aol'], stderr: /--preset must be one of gmail, microsoft365, yahoo, other/},
    {name: 'bad login mechanism', argv: ['--host', 'h', '--login-mechanism', 'CRAM-MD5'], stderr: /--login-mechanism must be auto, LOGIN or PLAIN/},
    {name: 'bad timeout', argv: ['--host', 'h', '--timeout', '0'], stderr: /--timeout must be a positive number/},
    {name: 'stray argument', argv: ['imap.example.test'], stderr: /unexpected argument/},
    {name: 'password file missing', argv: ['--host', '127.0.0.1', '--user', 'alice', '--password-file', '/nonexistent/pw'], stderr: /Cannot read the password of alice from file \/nonexistent\/pw/},
    {name: 'password env unset', argv: ['--host', '127.0.0.1', '--user', 'alice', '--password-env', 'MAILFERRY_TEST_UNSET_VAR'], stderr: /MAILFERRY_TEST_UNSET_VAR is not set/},
    {name: 'prompt without a terminal', argv: ['--host', '127.0.0.1', '--user', 'alice', '--password-prompt'], stderr: /not a terminal/},
  ];
  for (const row of cases) {
    test(row.name, async () => {
      const result = await run(row.argv);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, row.stderr);
      assert.equal(result.stdout, '');
      assert.ok(!result.stderr.includes('hunter2'));
    });
  }

  test('--help prints the options and exits 0', async () => {
    const result = await run(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--password-file FILE/);
    assert.match(result.stdout, /There is no --password option/);
  });
});

describe('mailferry test-endpoint against Dovecot', () => {
  let server: DovecotServer;
  let dir: string;
  let passwordFile: string;
  const secret = 'S3cret-alice-pw';

  before(async () => {
    server = await startDovecot({role: 'target', users: {alice: secret, bob: 'bob-pw'}});
    dir = await mkdtemp(join(tmpdir(), 'mailferry-test-endpoint-'));
    passwordFile = join(dir, 'alice.pw');
    await writeFile(passwordFile, `${secret}\n`, {mode: 0o600});
  });
  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, {recursive: true, force: true});
    delete process.env['MAILFERRY_TEST_PW'];
    delete process.env['MAILFERRY_TEST_MASTER_PW'];
  });

  test('plain output: each step, the capabilities and exit 0, without the password', async () => {
    const result = await run(['--host', server.host, '--port', String(server.imapPort), '--security', 'none', '--user', 'alice', '--password-file', passwordFile]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^Testing 127\.0\.0\.1:\d+ \(security none\)/);
    assert.match(result.stdout, new RegExp(`^ok   TCP connect 127\\.0\\.0\\.1:${server.imapPort}  \\d+ ms`, 'm'));
    assert.match(result.stdout, /^skip TLS handshake .*clear text/m);
    assert.match(result.stdout, /^ok   Login as alice .*logged in as alice/m);
    assert.match(result.stdout, /^ok   Folder list .*6 folders/m);
    assert.match(result.stdout, /Capabilities that matter for migration:/);
    assert.match(result.stdout, /^ {2}yes UIDPLUS +APPEND returns the new UID/m);
    assert.match(result.stdout, /^ {2}no {2}QRESYNC|^ {2}yes QRESYNC/m);
    assert.match(result.stdout, /Result: 127\.0\.0\.1:\d+ passed/);
    assert.ok(!(result.stdout + result.stderr).includes(secret), 'password printed');
  });

  test('--json prints the ConnectionTestResult only', async () => {
    process.env['MAILFERRY_TEST_PW'] = secret;
    const result = await run(['--host', server.host, '--port', String(server.imapsPort), '--security', 'tls', '--accept-untrusted', '--user', 'alice', '--password-env', 'MAILFERRY_TEST_PW', '--json']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const parsed = JSON.parse(result.stdout) as ConnectionTestResult;
    assert.equal(parsed.ok, true);
    assert.deepEqual(parsed.endpoint, {host: '127.0.0.1', port: server.imapsPort, security: 'tls'});
    assert.deepEqual(
      parsed.steps.map((step) => `${step.step}:${step.status}`),
      ['dns:ok', 'tcp:ok', 'tls:ok', 'greeting:ok', 'capability:ok', 'login:ok', 'folders:ok'],
    );
    assert.equal(parsed.folderCount, 6);
    assert.ok(parsed.capabilities.some((cap) => cap.name === 'CONDSTORE' && cap.present));
    assert.ok(!(result.stdout + result.stderr).includes(secret));
  });

  test('a wrong password: exit 1, FAIL at login with the hint, the password nowhere', async () => {
    process.env['MAILFERRY_TEST_PW'] = 'Wr0ng-typed-pw';
    const plain = await run(['--host', server.host, '--port', String(server.imapPort), '--security', 'none', '--user', 'alice', '--password-env', 'MAILFERRY_TEST_PW']);
    assert.equal(plain.code, 1);
    assert.match(plain.stdout, /^FAIL Login as alice/m);
    assert.match(plain.stdout, /refused the login of alice/);
    assert.match(plain.stdout, /server said: \[AUTHENTICATIONFAILED\]/);
    assert.match(plain.stdout, /next: Check the user name and password/);
    assert.match(plain.stdout, /Capabilities that matter for migration \(as listed before login/);
    assert.match(plain.stdout, /Result: FAILED at step login/);
    const json = await run(['--host', server.host, '--port', String(server.imapPort), '--security', 'none', '--user', 'alice', '--password-env', 'MAILFERRY_TEST_PW', '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as ConnectionTestResult).failedStep, 'login');
    for (const output of [plain, json]) assert.ok(!(output.stdout + output.stderr).includes('Wr0ng-typed-pw'), 'password printed');
  });

  test('STARTTLS with the self-signed certificate: exit 1 without --accept-untrusted, 0 with it', async () => {
    const base = ['--host', server.host, '--port', String(server.imapPort), '--security', 'starttls'];
    const strict = await run(base);
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /^FAIL STARTTLS/m);
    assert.match(strict.stdout, /self-signed/);
    assert.match(strict.stdout, /accept-untrusted/);
    const relaxed = await run([...base, '--accept-untrusted']);
    assert.equal(relaxed.code, 0, relaxed.stdout);
    assert.match(relaxed.stdout, /no --user: login and folder list not tested/);
    assert.match(relaxed.stdout, /Capabilities that matter for migration \(as listed before login/);
  });

  test('SASL PLAIN with --authzid logs in as alice', async () => {
    process.env['MAILFERRY_TEST_MASTER_PW'] = server.masterPassword;
    const result = await run([
      '--host', server.host, '--port', String(server.imapPort), '--security', 'none',
      '--user', server.masterUser, '--authzid', 'alice', '--password-env', 'MAILFERRY_TEST_MASTER_PW', '--json',
    ]);
    assert.equal(result.code, 0, result.stdout);
    const parsed = JSON.parse(result.stdout) as ConnectionTestResult;
    assert.match(parsed.steps.find((step) => step.step === 'login')?.detail ?? '', /admin acting as alice/);
    assert.ok(!result.stdout.includes(server.masterPassword));
  });

  test('a preset is named; a closed port fails at the tcp step', async () => {
    const result = await run(['--preset', 'yahoo', '--host', '127.0.0.1', '--port', '1', '--security', 'none', '--timeout', '5']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^Testing 127\.0\.0\.1:1 \(security none, preset Yahoo Mail\)/);
    assert.match(result.stdout, /^FAIL TCP connect 127\.0\.0\.1:1/m);
    assert.match(result.stdout, /Result: FAILED at step tcp/);
  });
});
