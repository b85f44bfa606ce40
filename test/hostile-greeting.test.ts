// A port that greets with garbage or with an endless line (fault campaign, bad-input): each of
// mailferry's three ways of talking IMAP (the connection test's raw steps, imapflow through the
// client factory, the copy path's RawImapSession) must give up with a clear greeting error, not
// wait for the socket timeout or buffer the line until the heap runs out.

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {testConnection} from '../source/imap/connection-test.js';
import {connectClient} from '../source/imap/client-factory.js';
import {makeEndpoint, type EndpointConfig} from '../source/imap/endpoint.js';
import {MigrationError} from '../source/imap/imap-error.js';
import {RawImapSession} from '../source/imap/raw-session.js';
import {translateError} from '../source/imap/error-translation.js';
import {startHostileServer, type HostileServer} from './faults/hostile-server.js';

const identity = {user: 'alice', password: 'not-sent-anywhere-1'};

/** Timeouts far longer than the test's own: passing means the failure came from the bytes, not a timer. */
function endpointOf(server: HostileServer): EndpointConfig {
  const endpoint = makeEndpoint({host: '127.0.0.1', port: server.port, security: 'none'});
  return {...endpoint, timeouts: {connectMs: 600_000, greetingMs: 600_000, socketMs: 600_000}};
}

describe('a server that greets with garbage', {timeout: 30_000}, () => {
  let server: HostileServer;
  before(async () => {
    // Seed 7: binary bytes with CRLFs among them, then silence.
    server = await startHostileServer('garbage', 7);
  });
  after(() => server.stop());

  test('imapflow (client factory) gives up at the first unreadable greeting, as a greeting error', async () => {
    const error = await connectClient({endpoint: endpointOf(server), role: 'source', identity}).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof MigrationError, String(error));
    assert.equal(error.kind, 'greeting');
    assert.match(error.message, /does not answer like an IMAP server/);
  });

  test('RawImapSession refuses a greeting that is not "* OK", "* PREAUTH" or "* BYE"', async () => {
    const error = await RawImapSession.open(endpointOf(server), identity).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.equal((error as {code?: string}).code, 'InvalidResponse', String(error));
    assert.equal(translateError(error, {role: 'source', endpoint: endpointOf(server), phase: 'connect'}).kind, 'greeting');
  });

  test('the connection test prints no control characters of the garbage', async () => {
    const result = await testConnection(endpointOf(server));
    assert.equal(result.failedStep, 'greeting');
    const shown = result.steps.map((entry) => `${entry.detail ?? ''}${entry.diagnosis ?? ''}${entry.serverText ?? ''}`).join('');
    assert.doesNotMatch(shown, /[\x00-\x1f\x7f-\x9f]/);
  });
});

describe('a server that greets with "* OK " and a line that never ends', {timeout: 60_000}, () => {
  let server: HostileServer;
  before(async () => {
    server = await startHostileServer('endless line', 1);
  });
  after(() => server.stop());

  test('the connection test fails at the greeting, having read about 64 KiB', async () => {
    const result = await testConnection(endpointOf(server));
    assert.equal(result.failedStep, 'greeting');
    const greeting = result.steps.find((entry) => entry.step === 'greeting')!;
    assert.match(greeting.diagnosis ?? '', /greeting line longer than 64 KiB without an end of line/);
  });

  test('imapflow stops at its line limit (not at 1 GB) with a greeting error', async () => {
    const error = await connectClient({endpoint: endpointOf(server), role: 'target', identity}).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof MigrationError, String(error));
    assert.equal(error.kind, 'greeting');
    assert.match(error.message, /does not answer like an IMAP server \(it sent a line of many megabytes/);
  });

  test('RawImapSession stops at 64 KiB of greeting', async () => {
    const before = server.sent();
    const error = await RawImapSession.open(endpointOf(server), identity).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.equal((error as {code?: string}).code, 'LineTooLarge', String(error));
    // The server writes only as fast as mailferry reads; the kernel's buffers hold a few MB more.
    assert.ok(server.sent() - before < 32 * 1024 * 1024, `${server.sent() - before} bytes were sent before the session gave up`);
  });
});

describe('a server that greets well and answers the login with a line that never ends', {timeout: 60_000}, () => {
  let server: HostileServer;
  before(async () => {
    server = await startHostileServer('endless answer', 3);
  });
  after(() => server.stop());

  test('the error is a protocol error, not "refused the login" (the password was never judged)', async () => {
    const error = await connectClient({endpoint: endpointOf(server), role: 'source', identity}).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof MigrationError, String(error));
    assert.equal(error.kind, 'protocol', error.message);
    assert.match(error.message, /could not read \(LineTooLarge\)/);
  });

  test('RawImapSession, whose login errors count as auth failures, too', async () => {
    const error = await RawImapSession.open(endpointOf(server), identity).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.equal((error as {code?: string}).code, 'LineTooLarge', String(error));
    assert.equal(translateError(error, {role: 'source', endpoint: endpointOf(server), phase: 'login'}).kind, 'protocol');
  });
});
