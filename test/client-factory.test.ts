// The client factory against real Dovecot: security modes, certificate policy, STARTTLS policy,
// master-user and authorization-identity logins (proved by reading alice's own message), error
// translation, the late-error safety net and log routing without secrets.

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import type {ImapFlow} from 'imapflow';
import {buildClient, closeClient, connectClient, isLoopbackHost, loginMechanismUsed} from '../source/imap/client-factory.js';
import {makeEndpoint, type EndpointConfig, type LoginIdentity, type Security} from '../source/imap/endpoint.js';
import {MigrationError} from '../source/imap/imap-error.js';
import type {Logger} from '../source/log/logger.js';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, seedMailbox} from './helpers/seed-mailbox.js';

const ALICE_SUBJECT = 'Only alice has this message';
const BOB_SUBJECT = 'Only bob has this message';

function endpointFor(server: DovecotServer, security: Security, fields: Partial<EndpointConfig> = {}): EndpointConfig {
  return makeEndpoint({host: server.host, port: security === 'tls' ? server.imapsPort : server.imapPort, security, ...fields});
}

interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

function capturingLogger(lines: LogLine[]): Logger {
  const logger: Logger = {
    debug: (message, fields) => lines.push({level: 'debug', message, ...(fields ? {fields} : {})}),
    info: (message, fields) => lines.push({level: 'info', message, ...(fields ? {fields} : {})}),
    warn: (message, fields) => lines.push({level: 'warn', message, ...(fields ? {fields} : {})}),
    error: (message, fields) => lines.push({level: 'error', message, ...(fields ? {fields} : {})}),
    child: () => logger,
  };
  return logger;
}

async function inboxSubjects(client: ImapFlow): Promise<string[]> {
  const lock = await client.getMailboxLock('INBOX');
  try {
    const subjects: string[] = [];
    for await (const message of client.fetch('1:*', {envelope: true})) subjects.push(message.envelope?.subject ?? '');
    return subjects;
  } finally {
    lock.release();
  }
}

async function expectMigrationError(promise: Promise<unknown>): Promise<MigrationError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MigrationError, `expected a MigrationError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the connection to fail');
}

describe('client factory against Dovecot', () => {
  let server: DovecotServer;

  before(async () => {
    server = await startDovecot({role: 'source', users: {alice: 'alice-pw', bob: 'bob-pw'}});
    await seedMailbox(server, 'alice', {folders: [], messages: [{folder: 'INBOX', raw: buildMessage({subject: ALICE_SUBJECT, seed: 1})}]});
    await seedMailbox(server, 'bob', {folders: [], messages: [{folder: 'INBOX', raw: buildMessage({subject: BOB_SUBJECT, seed: 2})}]});
  });
  after(async () => {
    await server?.stop();
  });

  const alice: LoginIdentity = {user: 'alice', password: 'alice-pw'};

  test('security none: plain text, no upgrade even though STARTTLS is offered', async () => {
    const client = await connectClient({endpoint: endpointFor(server, 'none'), role: 'source', identity: alice});
    try {
      assert.equal(client.secureConnection, false);
      assert.ok(!('encrypted' in (client as unknown as {socket: object}).socket), 'socket is not TLS');
      assert.deepEqual(await inboxSubjects(client), [ALICE_SUBJECT]);
    } finally {
      await closeClient(client);
    }
  });

  test('security starttls: upgrades, and accepts the self-signed certificate only with accept-untrusted', async () => {
    const client = await connectClient({endpoint: endpointFor(server, 'starttls', {acceptUntrusted: true}), role: 'source', identity: alice});
    try {
      assert.equal((client as unknown as {socket: {encrypted?: boolean}}).socket.encrypted, true, 'socket upgraded to TLS');
      assert.deepEqual(await inboxSubjects(client), [ALICE_SUBJECT]);
    } finally {
      await closeClient(client);
    }
    const error = await expectMigrationError(connectClient({endpoint: endpointFor(server, 'starttls'), role: 'source', identity: alice}));
    assert.equal(error.kind, 'tls');
    assert.match(error.message, /self-signed/);
    assert.match(error.hint, /accept-untrusted/);
  });

  test('security tls: implicit TLS, certificate checked unless accept-untrusted', async () => {
    const client = await connectClient({endpoint: endpointFor(server, 'tls', {acceptUntrusted: true}), role: 'target', identity: alice});
    try {
      assert.equal(client.secureConnection, true);
      assert.deepEqual(await inboxSubjects(client), [ALICE_SUBJECT]);
    } finally {
      await closeClient(client);
    }
    const error = await expectMigrationError(connectClient({endpoint: endpointFor(server, 'tls'), role: 'target', identity: alice}));
    assert.equal(error.kind, 'tls');
    assert.equal(error.endpoint, 'target');
    assert.equal(error.host, '127.0.0.1');
  });

  test('security tls against the plain-text port: a TLS error that points at the port', async () => {
    const endpoint = makeEndpoint({host: server.host, port: server.imapPort, security: 'tls', acceptUntrusted: true});
    const error = await expectMigrationError(connectClient({endpoint, role: 'source', identity: alice}));
    assert.equal(error.kind, 'tls');
    assert.match(error.hint, /starttls/);
  });

  test('master user login alice*admin lands in alice\'s mailbox', async () => {
    const client = await connectClient({
      endpoint: endpointFor(server, 'none'),
      role: 'source',
      identity: {user: `alice${server.masterSeparator}${server.masterUser}`, password: server.masterPassword},
    });
    try {
      assert.deepEqual(await inboxSubjects(client), [ALICE_SUBJECT]);
    } finally {
      await closeClient(client);
    }
  });

  for (const loginMechanism of ['auto', 'LOGIN', 'PLAIN'] as const) {
    test(`SASL PLAIN with authzid=alice lands in alice's mailbox (endpoint mechanism ${loginMechanism})`, async () => {
      const client = await connectClient({
        endpoint: endpointFor(server, 'none', {loginMechanism}),
        role: 'target',
        identity: {user: server.masterUser, password: server.masterPassword, authzid: 'alice'},
      });
      try {
        assert.deepEqual(await inboxSubjects(client), [ALICE_SUBJECT]);
      } finally {
        await closeClient(client);
      }
    });
  }

  test('login mechanism LOGIN uses the LOGIN command, PLAIN uses AUTHENTICATE PLAIN', async () => {
    for (const [mechanism, expected] of [
      ['LOGIN', 'LOGIN'],
      ['PLAIN', 'AUTH=PLAIN'],
    ] as const) {
      const client = await connectClient({endpoint: endpointFor(server, 'none', {loginMechanism: mechanism}), role: 'source', identity: alice});
      try {
        assert.equal(loginMechanismUsed(client), expected);
      } finally {
        await closeClient(client);
      }
    }
  });

  test('a user who is not a master user cannot act as alice', async () => {
    const error = await expectMigrationError(
      connectClient({endpoint: endpointFor(server, 'none'), role: 'target', identity: {user: 'bob', password: 'bob-pw', authzid: 'alice'}}),
    );
    assert.equal(error.kind, 'auth');
    assert.equal(error.user, 'bob acting as alice');
  });

  test('a wrong password is an auth error with a hint and the server text, never the password', async () => {
    const lines: LogLine[] = [];
    const error = await expectMigrationError(
      connectClient({endpoint: endpointFor(server, 'none'), role: 'source', identity: {user: 'alice', password: 'Wr0ng-Secret-pw'}, logger: capturingLogger(lines), mailbox: 'alice@example.test'}),
    );
    assert.equal(error.kind, 'auth');
    assert.equal(error.retryable, false);
    assert.equal(error.mailbox, 'alice@example.test');
    assert.match(error.hint, /app password/);
    assert.match(error.serverText ?? '', /AUTHENTICATIONFAILED/);
    const everything = JSON.stringify({error: error.toJSON(), message: error.message, stack: error.stack, lines});
    assert.ok(!everything.includes('Wr0ng-Secret-pw'), 'password leaked');
    assert.ok(lines.some((line) => line.level === 'debug' && line.message.startsWith('imap:')), 'imapflow logs routed to our logger');
  });

  test('imapflow log lines never carry the password, also with the LOGIN command', async () => {
    const lines: LogLine[] = [];
    const client = await connectClient({
      endpoint: endpointFor(server, 'none', {loginMechanism: 'LOGIN'}),
      role: 'source',
      identity: {user: 'bob', password: 'bob-pw'},
      logger: capturingLogger(lines),
    });
    await closeClient(client);
    assert.ok(lines.some((line) => /LOGIN/.test(line.message)), 'the LOGIN command was logged');
    assert.ok(!JSON.stringify(lines).includes('bob-pw'), 'password leaked into the log');
  });

  test('security starttls fails when the server does not offer STARTTLS, instead of going on in clear text', async () => {
    const noTls = await startDovecot({
      role: 'target',
      users: {alice: 'alice-pw'},
      extraConfig: 'ssl = no\nservice imap-login {\n  inet_listener imaps {\n    port = 0\n  }\n}\n',
    });
    try {
      const error = await expectMigrationError(
        connectClient({endpoint: makeEndpoint({host: noTls.host, port: noTls.imapPort, security: 'starttls'}), role: 'target', identity: alice}),
      );
      assert.equal(error.kind, 'starttls');
      assert.match(error.message, /does not offer STARTTLS/);
    } finally {
      await noTls.stop();
    }
  });

  test('a closed port is a connect error', async () => {
    const endpoint = makeEndpoint({host: '127.0.0.1', port: 1, security: 'none'});
    const error = await expectMigrationError(connectClient({endpoint, role: 'source', identity: alice}));
    assert.equal(error.kind, 'connect');
  });

  test('a late socket error is logged, not thrown at the process', async () => {
    const lines: LogLine[] = [];
    const client = await connectClient({endpoint: endpointFor(server, 'none'), role: 'source', identity: alice, logger: capturingLogger(lines)});
    const closed = new Promise((resolve) => client.once('close', resolve));
    (client as unknown as {socket: {destroy(error: Error): void}}).socket.destroy(Object.assign(new Error('simulated'), {code: 'EPROTO'}));
    await closed;
    assert.ok(
      lines.some((line) => line.level === 'warn' && line.message.startsWith('imap connection error')),
      `warn logged: ${JSON.stringify(lines.filter((line) => line.level !== 'debug'))}`,
    );
    await closeClient(client);
    await closeClient(client);
  });
});

describe('buildClient options', () => {
  const identity: LoginIdentity = {user: 'alice', password: 'pw-for-options'};

  const rows: {name: string; endpoint: EndpointConfig; identity?: LoginIdentity; expect: Record<string, unknown>}[] = [
    {
      name: 'tls to a host name',
      endpoint: makeEndpoint({host: 'imap.example.test', security: 'tls'}),
      expect: {secure: true, doSTARTTLS: undefined, servername: 'imap.example.test', rejectUnauthorized: true, disableCompression: false, loginMethod: undefined},
    },
    {
      name: 'starttls to loopback with accept-untrusted and LOGIN',
      endpoint: makeEndpoint({host: '127.0.0.1', port: 143, security: 'starttls', acceptUntrusted: true, loginMechanism: 'LOGIN'}),
      expect: {secure: false, doSTARTTLS: true, servername: undefined, rejectUnauthorized: false, disableCompression: true, loginMethod: 'LOGIN'},
    },
    {
      name: 'none with PLAIN',
      endpoint: makeEndpoint({host: 'localhost', port: 143, security: 'none', loginMechanism: 'PLAIN'}),
      expect: {secure: false, doSTARTTLS: false, servername: 'localhost', rejectUnauthorized: true, disableCompression: true, loginMethod: 'AUTH=PLAIN'},
    },
    {
      name: 'authzid always uses SASL PLAIN, even when LOGIN is configured',
      endpoint: makeEndpoint({host: '::1', port: 143, security: 'none', loginMechanism: 'LOGIN'}),
      identity: {user: 'admin', password: 'admin-pw', authzid: 'alice'},
      expect: {secure: false, doSTARTTLS: false, servername: undefined, rejectUnauthorized: true, disableCompression: true, loginMethod: 'AUTH=PLAIN', authzid: 'alice'},
    },
  ];

  for (const row of rows) {
    test(row.name, async () => {
      const client = await buildClient({endpoint: row.endpoint, role: 'source', identity: row.identity ?? identity});
      const options = client.options;
      const actual: Record<string, unknown> = {
        secure: options.secure,
        doSTARTTLS: options.doSTARTTLS,
        servername: options.tls?.servername,
        rejectUnauthorized: options.tls?.rejectUnauthorized,
        disableCompression: options.disableCompression,
        loginMethod: options.auth?.loginMethod,
      };
      if ('authzid' in row.expect) actual['authzid'] = options.auth?.authzid;
      assert.deepEqual(actual, row.expect);
      assert.equal(options.logger, false);
      assert.equal(options.emitLogs, true);
      assert.equal(options.disableAutoIdle, true);
      assert.equal(options.tls?.minVersion, 'TLSv1.2');
      assert.equal(options.connectionTimeout, row.endpoint.timeouts.connectMs);
      assert.equal(options.greetingTimeout, row.endpoint.timeouts.greetingMs);
      assert.equal(options.socketTimeout, row.endpoint.timeouts.socketMs);
      assert.equal(options.clientInfo?.name, 'mailferry');
      client.close();
    });
  }

  test('an access token is passed as OAuth2, without a password', async () => {
    const client = await buildClient({endpoint: makeEndpoint({host: 'imap.example.test'}), role: 'target', identity: {user: 'alice@example.test', accessToken: 'tok-123456'}});
    assert.deepEqual(client.options.auth, {user: 'alice@example.test', accessToken: 'tok-123456'});
    client.close();
  });

  test('loopback detection', () => {
    assert.deepEqual(
      ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '10.0.0.1', 'imap.example.test', '128.0.0.1'].map(isLoopbackHost),
      [true, true, true, true, true, true, false, false, false],
    );
  });
});
