// The step-by-step connection test against real Dovecot: every security mode, the certificate
// policy, and each failure landing on the step that really failed, with a diagnosis and a hint.

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {createServer, type Server} from 'node:net';
import {testConnection, type ConnectionTestResult, type StepName, type StepResult} from '../source/imap/connection-test.js';
import {makeEndpoint, type EndpointConfig, type LoginIdentity, type Security} from '../source/imap/endpoint.js';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, seedMailbox} from './helpers/seed-mailbox.js';

function stepStatuses(result: ConnectionTestResult): Record<string, string> {
  return Object.fromEntries(result.steps.map((step) => [step.step, step.status]));
}

function step(result: ConnectionTestResult, name: StepName): StepResult {
  const found = result.steps.find((entry) => entry.step === name);
  assert.ok(found, `step ${name} reported`);
  return found;
}

describe('connection test against Dovecot', () => {
  let server: DovecotServer;
  const alice: LoginIdentity = {user: 'alice', password: 'alice-pw'};

  function endpointFor(security: Security, fields: Partial<EndpointConfig> = {}): EndpointConfig {
    return makeEndpoint({host: server.host, port: security === 'tls' ? server.imapsPort : server.imapPort, security, ...fields});
  }

  before(async () => {
    server = await startDovecot({role: 'source', users: {alice: 'alice-pw', bob: 'bob-pw'}});
    await seedMailbox(server, 'alice', {folders: ['Projects/2024'], messages: [{folder: 'INBOX', raw: buildMessage({subject: 'hello alice', seed: 3})}]});
  });
  after(async () => {
    await server?.stop();
  });

  test('security none without a user: DNS..CAPABILITY pass, TLS skipped with a clear-text note, login skipped', async () => {
    const result = await testConnection(endpointFor('none'));
    assert.equal(result.ok, true, JSON.stringify(result.steps, null, 1));
    assert.deepEqual(
      result.steps.map((entry) => [entry.step, entry.status]),
      [
        ['dns', 'ok'],
        ['tcp', 'ok'],
        ['tls', 'skipped'],
        ['greeting', 'ok'],
        ['capability', 'ok'],
        ['login', 'skipped'],
        ['folders', 'skipped'],
      ],
    );
    assert.match(step(result, 'tls').detail ?? '', /clear text/);
    assert.match(step(result, 'login').detail ?? '', /no user given/);
    assert.match(result.greeting ?? '', /Dovecot/);
    assert.equal(result.failedStep, undefined);
    assert.ok(result.steps.every((entry) => entry.ms >= 0));
    const caps = new Map(result.capabilities.map((cap) => [cap.name, cap.present]));
    assert.equal(caps.get('LITERAL+'), true);
    assert.equal(caps.size, result.capabilities.length);
    assert.equal(result.capabilitiesSeen, 'before-login');
  });

  test('security none with alice: login and folder list, and the post-login capabilities include CONDSTORE, UIDPLUS, SPECIAL-USE', async () => {
    const result = await testConnection(endpointFor('none'), alice);
    assert.equal(result.ok, true, JSON.stringify(result.steps, null, 1));
    assert.equal(step(result, 'login').status, 'ok');
    assert.match(step(result, 'login').detail ?? '', /logged in as alice/);
    assert.equal(step(result, 'folders').status, 'ok');
    // INBOX, Projects, Projects/2024 and the five special-use folders Dovecot creates.
    assert.equal(result.folderCount, 8);
    assert.match(step(result, 'folders').detail ?? '', /\\Sent Sent/);
    const present = result.capabilities.filter((cap) => cap.present).map((cap) => cap.name);
    for (const name of ['CONDSTORE', 'UIDPLUS', 'SPECIAL-USE', 'NAMESPACE']) assert.ok(present.includes(name), `${name} in ${present.join(' ')}`);
    assert.equal(result.capabilitiesSeen, 'after-login');
  });

  test('STARTTLS passes with accept-untrusted and reports the certificate', async () => {
    const result = await testConnection(endpointFor('starttls', {acceptUntrusted: true}), alice);
    assert.equal(result.ok, true, JSON.stringify(result.steps, null, 1));
    assert.deepEqual(
      result.steps.map((entry) => entry.step),
      ['dns', 'tcp', 'greeting', 'tls', 'capability', 'login', 'folders'],
      'STARTTLS comes after the plain-text greeting',
    );
    assert.match(step(result, 'tls').detail ?? '', /TLSv1\.[23].*certificate for localhost.*NOT trusted \(is self-signed\), accepted because accept-untrusted is on/);
  });

  test('STARTTLS without accept-untrusted fails at the tls step with a certificate diagnosis', async () => {
    const result = await testConnection(endpointFor('starttls'), alice);
    assert.equal(result.ok, false);
    assert.equal(result.failedStep, 'tls');
    const tls = step(result, 'tls');
    assert.equal(tls.status, 'failed');
    assert.match(tls.diagnosis ?? '', /self-signed/);
    assert.match(tls.hint ?? '', /accept-untrusted only if you trust this server/);
    assert.deepEqual(stepStatuses(result), {dns: 'ok', tcp: 'ok', greeting: 'ok', tls: 'failed', capability: 'skipped', login: 'skipped', folders: 'skipped'});
  });

  test('implicit TLS passes with accept-untrusted', async () => {
    const result = await testConnection(endpointFor('tls', {acceptUntrusted: true}), alice);
    assert.equal(result.ok, true, JSON.stringify(result.steps, null, 1));
    assert.deepEqual(
      result.steps.map((entry) => entry.step),
      ['dns', 'tcp', 'tls', 'greeting', 'capability', 'login', 'folders'],
    );
    assert.equal(step(result, 'greeting').status, 'ok');
    assert.ok(result.capabilities.find((cap) => cap.name === 'UIDPLUS')?.present);
  });

  test('implicit TLS without accept-untrusted fails at the tls step', async () => {
    const result = await testConnection(endpointFor('tls'));
    assert.equal(result.failedStep, 'tls');
    assert.match(step(result, 'tls').diagnosis ?? '', /certificate of 127\.0\.0\.1 is self-signed/);
    assert.match(step(result, 'tls').detail ?? '', /certificate for localhost/, 'the certificate seen is shown');
  });

  test('a wrong password fails at the login step with a hint', async () => {
    const result = await testConnection(endpointFor('none'), {user: 'alice', password: 'not-alices-password'});
    assert.equal(result.ok, false);
    assert.equal(result.failedStep, 'login');
    const login = step(result, 'login');
    assert.match(login.diagnosis ?? '', /refused the login of alice/);
    assert.match(login.hint ?? '', /check the user name and password/i);
    assert.match(login.serverText ?? '', /AUTHENTICATIONFAILED/);
    assert.equal(step(result, 'capability').status, 'ok');
    assert.equal(step(result, 'folders').status, 'skipped');
    assert.ok(!JSON.stringify(result).includes('not-alices-password'));
  });

  test('a login refused on a preset endpoint adds the provider hints', async () => {
    const result = await testConnection(endpointFor('none', {preset: 'gmail'}), {user: 'alice', password: 'wrong-again'});
    assert.equal(result.failedStep, 'login');
    assert.match(step(result, 'login').hint ?? '', /Gmail \/ Google Workspace: .*app password/);
  });

  test('alice*admin with the master password logs in as alice', async () => {
    const result = await testConnection(endpointFor('none'), {user: `alice*${server.masterUser}`, password: server.masterPassword});
    assert.equal(result.ok, true, JSON.stringify(result.steps, null, 1));
    assert.equal(result.folderCount, 8, 'alice\'s folders, including Projects/2024');
  });

  test('SASL PLAIN with authzid=alice logs in as alice', async () => {
    const result = await testConnection(endpointFor('none'), {user: server.masterUser, password: server.masterPassword, authzid: 'alice'});
    assert.equal(result.ok, true, JSON.stringify(result.steps, null, 1));
    assert.match(step(result, 'login').detail ?? '', /admin acting as alice \(AUTH=PLAIN\)/);
    assert.equal(result.folderCount, 8);
  });

  test('a closed port fails at the tcp step', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const {port} = probe.address() as {port: number};
        probe.close(() => resolve(port));
      });
    });
    const result = await testConnection(makeEndpoint({host: '127.0.0.1', port: closed, security: 'none'}), alice);
    assert.equal(result.failedStep, 'tcp');
    assert.match(step(result, 'tcp').diagnosis ?? '', /refused/);
    assert.match(step(result, 'tcp').hint ?? '', /firewall/);
    assert.deepEqual(stepStatuses(result), {dns: 'ok', tcp: 'failed', tls: 'skipped', greeting: 'skipped', capability: 'skipped', login: 'skipped', folders: 'skipped'});
  });

  test('TLS against the plain-text port fails at the tls step with the wrong-port diagnosis', async () => {
    const result = await testConnection(makeEndpoint({host: server.host, port: server.imapPort, security: 'tls', acceptUntrusted: true}));
    assert.equal(result.failedStep, 'tls');
    assert.match(step(result, 'tls').diagnosis ?? '', /does not seem to speak TLS/);
    assert.match(step(result, 'tls').hint ?? '', /starttls/);
  });

  test('plain text against the implicit-TLS port fails at the greeting step, suggesting tls', async () => {
    const endpoint = makeEndpoint({host: server.host, port: server.imapsPort, security: 'none', timeouts: {connectMs: 5_000, greetingMs: 1_000, socketMs: 5_000}});
    const result = await testConnection(endpoint);
    assert.equal(result.failedStep, 'greeting');
    assert.match(step(result, 'greeting').hint ?? '', /try security tls/);
  });

  test('DNS failure on nonexistent.invalid fails at the dns step', async () => {
    const result = await testConnection(makeEndpoint({host: 'nonexistent.invalid', port: 993, security: 'tls'}));
    assert.equal(result.failedStep, 'dns');
    assert.match(step(result, 'dns').diagnosis ?? '', /nonexistent\.invalid/);
    assert.equal(step(result, 'tcp').status, 'skipped');
  });

  test('STARTTLS fails at the tls step when the server does not offer it', async () => {
    const noTls = await startDovecot({role: 'target', users: {alice: 'alice-pw'}, extraConfig: 'ssl = no\nservice imap-login {\n  inet_listener imaps {\n    port = 0\n  }\n}\n'});
    try {
      const result = await testConnection(makeEndpoint({host: noTls.host, port: noTls.imapPort, security: 'starttls'}), alice);
      assert.equal(result.failedStep, 'tls');
      assert.match(step(result, 'tls').diagnosis ?? '', /does not offer STARTTLS/);
    } finally {
      await noTls.stop();
    }
  });

  test('onStep reports each step running, then its outcome, in order', async () => {
    const seen: string[] = [];
    await testConnection(endpointFor('none'), alice, {onStep: (entry) => seen.push(`${entry.step}:${entry.status}`)});
    assert.deepEqual(seen, [
      'dns:running',
      'dns:ok',
      'tcp:running',
      'tcp:ok',
      'tls:running',
      'tls:skipped',
      'greeting:running',
      'greeting:ok',
      'capability:running',
      'capability:ok',
      'login:running',
      'login:ok',
      'folders:running',
      'folders:ok',
    ]);
  });
});

describe('connection test against a port that is not IMAP', () => {
  // A bare SMTP banner, not an IMAP server: the test is that mailferry recognises foreign services.
  let smtp: Server;
  let port = 0;
  before(async () => {
    smtp = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('220 mail.example.test ESMTP ready\r\n');
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    port = (smtp.address() as {port: number}).port;
  });
  after(async () => {
    await new Promise((resolve) => smtp.close(resolve));
  });

  test('an SMTP banner fails at the greeting step: this port does not speak IMAP', async () => {
    const result = await testConnection(makeEndpoint({host: '127.0.0.1', port, security: 'none'}));
    assert.equal(result.failedStep, 'greeting');
    assert.match(step(result, 'greeting').diagnosis ?? '', /does not speak IMAP \(it looks like SMTP/);
    assert.match(step(result, 'greeting').serverText ?? '', /^220 mail\.example\.test/);
  });
});
