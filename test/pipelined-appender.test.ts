// The pipelined APPEND connection against real Dovecot: every way of connecting and logging in,
// many APPENDs in flight at once stored byte for byte, and every failure translated by
// translateError() into the same kinds imapflow's errors get.

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {existsSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {inspect} from 'node:util';
import {startDovecot, type DovecotOptions, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, openClient, readMailbox, serverCapabilities, type StoredMessage} from './helpers/seed-mailbox.js';
import {PipelinedAppender, type AppendOutcome} from '../source/imap/pipelined-appender.js';
import {DEFAULT_TIMEOUTS, makeEndpoint, type EndpointConfig, type LoginIdentity, type LoginMechanism, type Security} from '../source/imap/endpoint.js';
import {translateError, type ErrorContext} from '../source/imap/error-translation.js';
import {encodeModifiedUtf7} from '../source/imap/modified-utf7.js';
import {formatError} from '../source/imap/imap-error.js';

// Not timing assertions: a hang (a promise the appender never settles) fails instead of blocking the run.
const SUITE_TIMEOUT_MS = 300_000;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function endpointFor(
  server: DovecotServer,
  security: Security,
  options: {acceptUntrusted?: boolean; loginMechanism?: LoginMechanism} = {},
): EndpointConfig {
  return makeEndpoint({
    host: '127.0.0.1',
    port: security === 'tls' ? server.imapsPort : server.imapPort,
    security,
    acceptUntrusted: options.acceptUntrusted ?? true,
    loginMechanism: options.loginMechanism ?? 'auto',
  });
}

async function connect(endpoint: EndpointConfig, identity: LoginIdentity): Promise<PipelinedAppender> {
  const appender = await PipelinedAppender.connect(endpoint, identity);
  assert.ok(appender, 'Dovecot offers LITERAL+, so connect must give an appender');
  return appender;
}

function translate(error: unknown, endpoint: EndpointConfig, extra: Partial<ErrorContext> = {}) {
  return translateError(error, {role: 'target', endpoint, phase: 'command', ...extra});
}

/** Resolves with the rejection of a promise that must reject. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection, but the promise resolved');
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function message(subject: string, seed: number, totalBytes?: number): Buffer {
  return buildMessage({subject, seed, ...(totalBytes === undefined ? {} : {totalBytes})});
}

/** The messages of one folder, read back through imapflow as the master user. */
async function folderContents(server: DovecotServer, login: string, folder: string): Promise<StoredMessage[]> {
  const stored = await readMailbox(server, login);
  const messages = stored.get(folder);
  assert.ok(messages, `${folder} exists for ${login} (folders: ${[...stored.keys()].join(', ')})`);
  return messages;
}

async function createFolders(server: DovecotServer, login: string, names: string[]): Promise<void> {
  const client = await openClient(server, login);
  try {
    for (const name of names) await client.mailboxCreate(name);
  } finally {
    await client.logout();
  }
}

/** The server's first line, to check what a test server offers before login. */
function greetingOf(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({host: '127.0.0.1', port});
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
    socket.on('error', reject);
  });
}

function assertNoSecret(error: unknown, secret: string): void {
  assert.ok(!inspect(error, {depth: 10}).includes(secret), 'the password is not in the error (with its cause)');
  assert.ok(!JSON.stringify(error).includes(secret), 'the password is not in the error\'s JSON');
}

async function startServer(options: Omit<DovecotOptions, 'role'>): Promise<DovecotServer> {
  return startDovecot({role: 'target', ...options});
}

describe('pipelined appender on a standard Dovecot', {timeout: SUITE_TIMEOUT_MS}, () => {
  let server: DovecotServer;
  before(async () => {
    server = await startServer({users: {alice: 'pw-alice', bob: 'pw-bob', carol: 'pw-carol', dave: 'pw-dave', erin: 'pw-erin', frank: 'pw-frank', ivy: 'pw-ivy'}});
  });
  after(() => server?.stop());

  const modes: Array<{security: Security; loginMechanism: LoginMechanism; what: string}> = [
    {security: 'none', loginMechanism: 'LOGIN', what: 'no TLS, LOGIN command'},
    {security: 'none', loginMechanism: 'PLAIN', what: 'no TLS, SASL PLAIN'},
    {security: 'none', loginMechanism: 'auto', what: 'no TLS, auto (PLAIN when offered)'},
    {security: 'starttls', loginMechanism: 'auto', what: 'STARTTLS with an untrusted certificate accepted'},
    {security: 'starttls', loginMechanism: 'LOGIN', what: 'STARTTLS, LOGIN command'},
    {security: 'tls', loginMechanism: 'PLAIN', what: 'implicit TLS with an untrusted certificate accepted'},
  ];
  for (const [index, mode] of modes.entries()) {
    test(`connects, logs in and appends: ${mode.what}`, async () => {
      const folder = `Mode${index}`;
      await createFolders(server, 'erin', [folder]);
      const endpoint = endpointFor(server, mode.security, {loginMechanism: mode.loginMechanism});
      const appender = await connect(endpoint, {user: 'erin', password: 'pw-erin'});
      const raw = message(`mode ${mode.what}`, 100 + index);
      const date = new Date(Date.UTC(2019, 5, 7, 8, 9, 10));
      let outcome: AppendOutcome;
      try {
        assert.ok(appender.capabilities.has('LITERAL+'));
        outcome = await appender.append(folder, raw, ['\\Seen', '$Forwarded'], date);
      } finally {
        appender.close();
      }
      assert.equal(outcome.uid, 1);
      assert.equal(typeof outcome.uidValidity, 'bigint');
      const stored = await folderContents(server, 'erin', folder);
      assert.deepEqual(stored, [{uid: 1, flags: ['$Forwarded', '\\Seen'], internalDate: date.toISOString(), size: raw.length, sha256: sha256(raw)}]);
    });
  }

  for (const security of ['starttls', 'tls'] as const) {
    test(`${security}: the self-signed certificate is refused unless accept-untrusted is on`, async () => {
      const endpoint = endpointFor(server, security, {acceptUntrusted: false});
      const error = await rejectionOf(PipelinedAppender.connect(endpoint, {user: 'erin', password: 'pw-erin'}));
      const translated = translate(error, endpoint, {phase: 'connect', user: 'erin'});
      assert.equal(translated.kind, 'tls', formatError(translated));
      assert.match(translated.message, /self-signed/);
      assert.equal(translated.retryable, false);
    });
  }

  test('SASL PLAIN with an authorization identity: the admin acts as alice and the message lands in alice\'s mailbox', async () => {
    const endpoint = endpointFor(server, 'none');
    const appender = await connect(endpoint, {user: server.masterUser, password: server.masterPassword, authzid: 'alice'});
    const raw = message('appended by admin as alice', 7);
    try {
      assert.equal((await appender.append('INBOX', raw, [])).uid, 1);
    } finally {
      appender.close();
    }
    // alice's own login (not the master) sees it; bob, the other user, does not.
    const client = await openClient(server, 'alice', {asMaster: false});
    try {
      const mailbox = await client.mailboxOpen('INBOX', {readOnly: true});
      assert.equal(mailbox.exists, 1);
      const fetched = await client.fetchOne('1', {source: true});
      assert.ok(fetched && fetched.source);
      assert.equal(sha256(fetched.source), sha256(raw));
    } finally {
      await client.logout();
    }
    assert.deepEqual(await folderContents(server, 'bob', 'INBOX'), []);
  });

  for (const loginMechanism of ['LOGIN', 'PLAIN'] as const) {
    test(`Dovecot master-user login name "dave*admin" (${loginMechanism}) appends into dave's mailbox`, async () => {
      const folder = `Master${loginMechanism}`;
      await createFolders(server, 'dave', [folder]);
      const endpoint = endpointFor(server, 'none', {loginMechanism});
      const appender = await connect(endpoint, {user: `dave${server.masterSeparator}${server.masterUser}`, password: server.masterPassword});
      const raw = message(`master ${loginMechanism}`, 8);
      try {
        await appender.append(folder, raw, ['\\Flagged']);
      } finally {
        appender.close();
      }
      const stored = await folderContents(server, 'dave', folder);
      assert.deepEqual(stored.map((m) => m.sha256), [sha256(raw)]);
    });
  }

  const oddPasswords: Array<[login: string, password: string, what: string]> = [
    ['gina', 'q"uo\\te {5}', 'a quote, a backslash and a literal-like brace'],
    ['hank', 'pässwört-日本', 'non-ASCII characters'],
  ];
  for (const [login, password, what] of oddPasswords) {
    for (const loginMechanism of ['LOGIN', 'PLAIN'] as const) {
      test(`a password with ${what} logs in (${loginMechanism})`, async () => {
        if (server.users[login] === undefined) await server.addUser(login, password);
        const appender = await connect(endpointFor(server, 'none', {loginMechanism}), {user: login, password});
        appender.close();
      });
    }
  }

  for (const loginMechanism of ['LOGIN', 'PLAIN'] as const) {
    test(`wrong password (${loginMechanism}): an auth error that never contains the password`, async () => {
      const secret = `Wr0ng-${loginMechanism}-s3cret`;
      const endpoint = endpointFor(server, 'none', {loginMechanism});
      const error = await rejectionOf(PipelinedAppender.connect(endpoint, {user: 'erin', password: secret}));
      assertNoSecret(error, secret);
      // The engine translates appender failures with phase 'command'; both must say auth.
      for (const phase of ['login', 'command'] as const) {
        const translated = translate(error, endpoint, {phase, user: 'erin'});
        assert.equal(translated.kind, 'auth', `${phase}: ${formatError(translated)}`);
        assert.equal(translated.retryable, false);
        assert.match(translated.message, /refused the login of erin/);
        assertNoSecret(translated, secret);
        assert.ok(!formatError(translated).includes(secret));
      }
    });
  }

  test('200 APPENDs issued at once, 1 KB to 3 MB, with flags, keywords and dates: increasing UIDs, exact bytes', async () => {
    const folder = 'Pipelined';
    await createFolders(server, 'bob', [folder]);
    const flagSets = [[], ['\\Seen'], ['\\Seen', '\\Flagged'], ['\\Answered', '$Forwarded'], ['\\Draft', 'Projekt-X'], ['$Label1', '$Label2', '\\Seen'], ['NonJunk']];
    const specs = Array.from({length: 200}, (_, i) => {
      const totalBytes = i % 40 === 0 ? 3 * 1024 * 1024 : i % 10 === 5 ? 300 * 1024 + i : 1024 + ((i * 7919) % (40 * 1024));
      return {
        raw: message(`pipelined ${i}`, 1000 + i, totalBytes),
        flags: flagSets[i % flagSets.length]!,
        date: new Date(Date.UTC(1998 + (i % 27), i % 12, 1 + (i % 28), i % 24, (i * 7) % 60, (i * 13) % 60)),
      };
    });
    const endpoint = endpointFor(server, 'starttls');
    const appender = await connect(endpoint, {user: 'bob', password: 'pw-bob'});
    let outcomes: AppendOutcome[];
    try {
      // All 200 are written before the first answer can arrive.
      const promises = specs.map((spec) => appender.append(folder, spec.raw, spec.flags, spec.date));
      outcomes = await Promise.all(promises);
    } finally {
      appender.close();
    }
    const uids = outcomes.map((o) => o.uid);
    for (let i = 1; i < uids.length; i++) assert.ok(uids[i]! > uids[i - 1]!, `UID of APPEND ${i} (${uids[i]}) above that of ${i - 1} (${uids[i - 1]})`);
    assert.equal(new Set(outcomes.map((o) => o.uidValidity)).size, 1, 'one UIDVALIDITY');

    const client = await openClient(server, 'bob');
    try {
      const status = await client.status(folder, {uidValidity: true});
      assert.ok(status);
      assert.equal(status.uidValidity, outcomes[0]!.uidValidity);
    } finally {
      await client.logout();
    }
    const stored = await folderContents(server, 'bob', folder);
    assert.equal(stored.length, specs.length);
    const expected = specs.map((spec, i) => ({
      uid: uids[i],
      flags: [...spec.flags].sort(),
      internalDate: spec.date.toISOString(),
      size: spec.raw.length,
      sha256: sha256(spec.raw),
    }));
    assert.deepEqual(stored, expected);
    assert.ok(specs.some((s) => s.raw.length >= 3 * 1024 * 1024) && specs.some((s) => s.raw.length < 2 * 1024), 'sizes really range from about 1 KB to 3 MB');
  });

  test('a message with NUL bytes goes as a BINARY literal and is stored exactly as imapflow stores it', async () => {
    // Dovecot replaces NUL with 0x80 when storing, so the reference is imapflow's APPEND of the same bytes.
    const raw = Buffer.concat([message('binary body', 9), Buffer.from('he\0llo\0\x01\xff\r\n', 'latin1')]);
    // Both APPENDs name the same internal date: left to the server, each would get its arrival
    // time, which differs when the two land on either side of a second (seen under load in CI).
    const date = new Date('2024-02-03T04:05:06Z');
    await createFolders(server, 'ivy', ['ByAppender', 'ByImapflow']);
    const appender = await connect(endpointFor(server, 'none'), {user: 'ivy', password: 'pw-ivy'});
    try {
      assert.ok(appender.capabilities.has('BINARY'));
      await appender.append('ByAppender', raw, ['\\Seen'], date);
    } finally {
      appender.close();
    }
    const client = await openClient(server, 'ivy');
    try {
      await client.append('ByImapflow', raw, ['\\Seen'], date);
    } finally {
      await client.logout();
    }
    const stored = await readMailbox(server, 'ivy');
    const strip = (messages: StoredMessage[] | undefined) => messages?.map(({uid: _uid, ...rest}) => rest);
    assert.equal(stored.get('ByAppender')?.length, 1);
    assert.deepEqual(strip(stored.get('ByAppender')), strip(stored.get('ByImapflow')));
  });

  test('international folder names created by imapflow receive appends, under the names Dovecot stores', async () => {
    const names = ['Entwürfe', '日本語', 'Почта', 'A & B', 'Projekte/Überblick', '📁 Ablage', 'Say "hi" \\ back'];
    await createFolders(server, 'carol', names);
    const endpoint = endpointFor(server, 'none');
    const appender = await connect(endpoint, {user: 'carol', password: 'pw-carol'});
    const raws = names.map((name, i) => message(`for ${name}`, 300 + i));
    try {
      const outcomes = await Promise.all(names.map((name, i) => appender.append(name, raws[i]!, ['\\Seen'])));
      assert.deepEqual(outcomes.map((o) => o.uid), names.map(() => 1));
    } finally {
      appender.close();
    }
    const stored = await readMailbox(server, 'carol');
    for (const [i, name] of names.entries()) {
      assert.deepEqual(stored.get(name)?.map((m) => m.sha256), [sha256(raws[i]!)], `${name} holds its message`);
      // LAYOUT=fs keeps one directory per folder under its modified UTF-7 name.
      assert.ok(existsSync(path.join(server.mailDir('carol'), encodeModifiedUtf7(name))), `Dovecot's directory for ${name} is ${encodeModifiedUtf7(name)}`);
    }
  });

  test('an APPEND into a missing folder fails as a folder error while those pipelined around it succeed', async () => {
    await createFolders(server, 'frank', ['Real']);
    const endpoint = endpointFor(server, 'none');
    const appender = await connect(endpoint, {user: 'frank', password: 'pw-frank'});
    const raws = [0, 1, 2, 3, 4].map((i) => message(`around a missing folder ${i}`, 400 + i, i === 1 ? 200 * 1024 : undefined));
    let results: PromiseSettledResult<AppendOutcome>[];
    try {
      results = await Promise.allSettled([
        appender.append('Real', raws[0]!, []),
        // A big literal: the server must skip all of it to find the next command.
        appender.append('Missing', raws[1]!, ['\\Seen']),
        appender.append('Real', raws[2]!, []),
        appender.append('Missing/Child', raws[3]!, []),
        appender.append('Real', raws[4]!, []),
      ]);
      // The connection is still usable afterwards.
      assert.equal(appender.isClosed, false);
    } finally {
      appender.close();
    }
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    for (const index of [1, 3]) {
      const error = (results[index] as PromiseRejectedResult).reason;
      const translated = translate(error, endpoint, {user: 'frank', folder: 'Missing'});
      assert.equal(translated.kind, 'folder', formatError(translated));
      assert.equal(translated.retryable, false);
      assert.match(translated.serverText ?? '', /TRYCREATE/);
    }
    const stored = await folderContents(server, 'frank', 'Real');
    assert.deepEqual(stored.map((m) => m.sha256), [raws[0]!, raws[2]!, raws[4]!].map(sha256));
  });

  test('close() is idempotent; pending and later APPENDs reject as a retryable lost connection', async () => {
    const endpoint = endpointFor(server, 'none');
    const appender = await connect(endpoint, {user: 'frank', password: 'pw-frank'});
    const big = message('never finished', 500, 3 * 1024 * 1024);
    const pending = [appender.append('INBOX', big, []), appender.append('INBOX', big, [])];
    appender.close();
    appender.close();
    assert.equal(appender.isClosed, true);
    const later = appender.append('INBOX', big, []);
    for (const result of await Promise.allSettled([...pending, later])) {
      assert.equal(result.status, 'rejected');
      const translated = translate(result.reason, endpoint, {user: 'frank', folder: 'INBOX'});
      assert.equal(translated.kind, 'connection-lost', formatError(translated));
      assert.equal(translated.retryable, true);
    }
    appender.close();
  });

  test('a process that used appenders (idle close, close with APPENDs pending, failed logins, refused certificate) exits by itself', async () => {
    const script = `
      const {PipelinedAppender} = await import(${JSON.stringify(path.join(repoRoot, 'source/imap/pipelined-appender.ts'))});
      const {makeEndpoint} = await import(${JSON.stringify(path.join(repoRoot, 'source/imap/endpoint.ts'))});
      const plain = makeEndpoint({host: '127.0.0.1', port: ${server.imapPort}, security: 'none'});
      const starttls = makeEndpoint({host: '127.0.0.1', port: ${server.imapPort}, security: 'starttls', acceptUntrusted: true});
      const tls = makeEndpoint({host: '127.0.0.1', port: ${server.imapsPort}, security: 'tls', acceptUntrusted: true});
      const identity = {user: 'frank', password: 'pw-frank'};
      const body = Buffer.from('Subject: exit check\\r\\n\\r\\nbody\\r\\n');
      for (const endpoint of [plain, starttls, tls]) {
        const idle = await PipelinedAppender.connect(endpoint, identity);
        await idle.append('INBOX', body, []);
        idle.close();
        idle.close();
        const busy = await PipelinedAppender.connect(endpoint, identity);
        const pending = [busy.append('INBOX', Buffer.alloc(2 * 1024 * 1024, 'x'), []), busy.append('INBOX', body, [])];
        busy.close();
        await Promise.allSettled(pending);
        await PipelinedAppender.connect(endpoint, {user: 'frank', password: 'wrong'}).then(() => { throw new Error('wrong password accepted'); }, () => undefined);
        await PipelinedAppender.connect({...endpoint, acceptUntrusted: false}, identity).then(
          (a) => { if (endpoint.security !== 'none') throw new Error('untrusted certificate accepted'); a.close(); },
          () => undefined,
        );
      }
      process.stdout.write('done\\n');
      // Only runs if something still holds the process open.
      setTimeout(() => process.stderr.write('still open: ' + JSON.stringify(process.getActiveResourcesInfo()) + '\\n'), 8000).unref();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Not a timing assertion: a generous bound so a leaked socket fails the test instead of hanging it.
    const exit = await new Promise<number | string>((resolve) => {
      const guard = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running after 60 s');
      }, 60_000);
      child.on('exit', (code, signal) => {
        clearTimeout(guard);
        resolve(code ?? String(signal));
      });
    });
    assert.equal(exit, 0, `child exit: ${exit}\nstdout: ${stdout}\nstderr: ${stderr}`);
    assert.equal(stdout, 'done\n', stderr);
  });
});

describe('pipelined appender connection failures', {timeout: SUITE_TIMEOUT_MS}, () => {
  let server: DovecotServer;
  before(async () => {
    server = await startServer({users: {alice: 'pw-alice'}, extraConfig: 'mail_max_userip_connections = 1'});
  });
  after(() => server?.stop());

  test('plain text to the implicit-TLS port: no greeting, a retryable timeout', async () => {
    const endpoint = makeEndpoint({host: '127.0.0.1', port: server.imapsPort, security: 'none', timeouts: {...DEFAULT_TIMEOUTS, greetingMs: 1000}});
    const error = await rejectionOf(PipelinedAppender.connect(endpoint, {user: 'alice', password: 'pw-alice'}));
    const translated = translate(error, endpoint, {phase: 'connect', user: 'alice'});
    assert.equal(translated.kind, 'timeout', formatError(translated));
    assert.match(translated.message, /no IMAP greeting/);
  });

  test('implicit TLS to the plain port: a TLS error naming the port mix-up', async () => {
    const endpoint = endpointFor(server, 'tls');
    const wrongPort = {...endpoint, port: server.imapPort};
    const error = await rejectionOf(PipelinedAppender.connect(wrongPort, {user: 'alice', password: 'pw-alice'}));
    const translated = translate(error, wrongPort, {phase: 'connect', user: 'alice'});
    assert.equal(translated.kind, 'tls', formatError(translated));
    assert.match(translated.message, /does not seem to speak TLS/);
  });

  test('the server\'s per-user connection limit is a retryable throttle, not a wrong password', async () => {
    const client = await openClient(server, 'alice', {asMaster: false});
    try {
      const endpoint = endpointFor(server, 'none');
      const error = await rejectionOf(PipelinedAppender.connect(endpoint, {user: 'alice', password: 'pw-alice'}));
      for (const phase of ['login', 'command'] as const) {
        const translated = translate(error, endpoint, {phase, user: 'alice'});
        assert.equal(translated.kind, 'throttled', `${phase}: ${formatError(translated)}`);
        assert.equal(translated.retryable, true);
      }
    } finally {
      await client.logout();
    }
  });
});

describe('pipelined appender on a server without TLS', {timeout: SUITE_TIMEOUT_MS}, () => {
  test('STARTTLS required but not offered: a starttls error, no login attempted in clear text', async () => {
    const server = await startServer({
      users: {alice: 'pw-alice'},
      extraConfig: 'ssl = no\nservice imap-login {\n  inet_listener imaps {\n    port = 0\n  }\n}',
    });
    try {
      assert.doesNotMatch(await greetingOf(server.imapPort), /STARTTLS/);
      const endpoint = endpointFor(server, 'starttls');
      const error = await rejectionOf(PipelinedAppender.connect(endpoint, {user: 'alice', password: 'pw-alice'}));
      const translated = translate(error, endpoint, {phase: 'connect', user: 'alice'});
      assert.equal(translated.kind, 'starttls', formatError(translated));
      const log = await readFile(path.join(server.dir, 'log/dovecot.log'), 'utf8');
      assert.doesNotMatch(log, /imap-login: Login: user=<alice>|auth.*alice/i, 'no login was attempted');
    } finally {
      await server.stop();
    }
  });
});

describe('pipelined appender with OAuth2 access tokens (XOAUTH2)', {timeout: SUITE_TIMEOUT_MS}, () => {
  let server: DovecotServer;
  before(async () => {
    // Dovecot checks an XOAUTH2 token through the passdb like a password, so the user's password
    // serves as a valid token here; on a bad token it sends the RFC 7628 error challenge ("+ <json>")
    // and waits for the client's empty answer before its tagged NO, like Gmail and Microsoft 365.
    server = await startServer({users: {alice: 'token-alice'}, extraConfig: 'auth_mechanisms = plain login xoauth2'});
  });
  after(() => server?.stop());

  test('a valid token logs in and appends', async () => {
    const appender = await connect(endpointFor(server, 'none'), {user: 'alice', accessToken: 'token-alice'});
    const raw = message('via XOAUTH2', 1);
    try {
      await appender.append('INBOX', raw, []);
    } finally {
      appender.close();
    }
    assert.deepEqual((await folderContents(server, 'alice', 'INBOX')).map((m) => m.sha256), [sha256(raw)]);
  });

  test('a refused token is an auth error (the error challenge is answered) without the token', async () => {
    const token = 'ya29.refused-Token-value';
    // A short socket timeout so an unanswered challenge shows up as a timeout error here instead
    // of five minutes later; the assertion is about the kind of error, not about time.
    const endpoint = makeEndpoint({host: '127.0.0.1', port: server.imapPort, security: 'none', timeouts: {...DEFAULT_TIMEOUTS, socketMs: 5000}});
    const error = await rejectionOf(PipelinedAppender.connect(endpoint, {user: 'alice', accessToken: token}));
    assertNoSecret(error, token);
    const translated = translate(error, endpoint, {phase: 'login', user: 'alice'});
    assert.equal(translated.kind, 'auth', formatError(translated));
    assert.equal(translated.retryable, false);
  });
});

describe('pipelined appender on servers without LITERAL+ (synchronizing literals)', {timeout: SUITE_TIMEOUT_MS}, () => {
  const configs: Array<[what: string, extraConfig: string]> = [
    ['an explicit capability list without LITERAL+', 'protocol imap {\n  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE UIDPLUS\n}'],
    ['LITERAL- instead of LITERAL+ (bodies up to 4 KB go without waiting)', 'imap_literal_minus = yes'],
  ];
  for (const [what, extraConfig] of configs) {
    test(`${what}: many APPENDs at once are stored byte for byte and in order; one refused before its "+" leaves the rest alone`, async () => {
      const server = await startServer({users: {alice: 'pw-alice'}, extraConfig});
      try {
        const capabilities = await serverCapabilities(server, 'alice', {asMaster: false});
        assert.ok(!capabilities.includes('LITERAL+'), `the test server really lacks LITERAL+ (${capabilities.join(' ')})`);
        for (const security of ['none', 'starttls'] as const) {
          const folder = `Sync-${security}`;
          await createFolders(server, 'alice', [folder]);
          const appender = await connect(endpointFor(server, security), {user: 'alice', password: 'pw-alice'});
          assert.equal(appender.pipelined, false);
          // Sizes around LITERAL-'s 4 KB limit and far above it, and a folder that does not exist
          // in the middle (Dovecot refuses that APPEND before asking for its body, so the body must
          // not be sent: were it sent, it would be read as commands).
          const raws = [message('tiny', 1, 600), message('at the limit', 2, 4096), message('over the limit', 3, 4097), message('large', 4, 300_000), message('mid', 5, 20_000)];
          const date = new Date(Date.UTC(2020, 1, 3, 4, 5, 6));
          let results: PromiseSettledResult<AppendOutcome>[];
          try {
            results = await Promise.allSettled([
              ...raws.slice(0, 3).map((raw) => appender.append(folder, raw, ['\\Seen'], date)),
              appender.append(`${folder}-missing`, message('nowhere', 9, 50_000), []),
              ...raws.slice(3).map((raw) => appender.append(folder, raw, ['\\Flagged'], date)),
            ]);
          } finally {
            appender.close();
          }
          assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'], security);
          const refused = translate((results[3] as PromiseRejectedResult).reason, endpointFor(server, security), {user: 'alice', folder: `${folder}-missing`});
          assert.equal(refused.kind, 'folder', formatError(refused));
          const uids = results.filter((r): r is PromiseFulfilledResult<AppendOutcome> => r.status === 'fulfilled').map((r) => r.value.uid);
          assert.deepEqual(uids, [1, 2, 3, 4, 5], 'APPENDUID of each, in order');
          const stored = await folderContents(server, 'alice', folder);
          assert.deepEqual(stored.map((m) => m.sha256), raws.map(sha256), security);
          assert.deepEqual(stored.map((m) => m.flags.includes('\\Seen')), [true, true, true, false, false]);
          assert.ok(stored.every((m) => m.internalDate === date.toISOString()), `internal dates kept: ${stored.map((m) => m.internalDate).join(', ')}`);
        }
      } finally {
        await server.stop();
      }
    });
  }
});

describe('pipelined appender on a server without SASL-IR', {timeout: SUITE_TIMEOUT_MS}, () => {
  let server: DovecotServer;
  before(async () => {
    // An explicit list replaces Dovecot's own, so neither SASL-IR nor LITERAL- is added to it.
    server = await startServer({users: {alice: 'pw-alice', bob: 'pw-bob'}, extraConfig: 'imap_capability = IMAP4rev1 LITERAL+ UIDPLUS ID ENABLE'});
  });
  after(() => server?.stop());

  test('the test server offers AUTH=PLAIN but not SASL-IR', async () => {
    const greeting = await greetingOf(server.imapPort);
    assert.match(greeting, /AUTH=PLAIN/);
    assert.doesNotMatch(greeting, /SASL-IR/);
  });

  test('SASL PLAIN waits for the continuation, also with an authorization identity', async () => {
    const endpoint = endpointFor(server, 'starttls', {loginMechanism: 'PLAIN'});
    const raws = [message('no SASL-IR', 1), message('no SASL-IR, as alice', 2)];
    for (const [i, identity] of [{user: 'alice', password: 'pw-alice'}, {user: server.masterUser, password: server.masterPassword, authzid: 'alice'}].entries()) {
      const appender = await connect(endpoint, identity);
      try {
        await appender.append('INBOX', raws[i]!, []);
      } finally {
        appender.close();
      }
    }
    assert.deepEqual((await folderContents(server, 'alice', 'INBOX')).map((m) => m.sha256), raws.map(sha256));
  });

  test('a wrong password over the continuation is an auth error without the password', async () => {
    const secret = 'n0-sasl-ir-Secret';
    const endpoint = endpointFor(server, 'none', {loginMechanism: 'PLAIN'});
    const error = await rejectionOf(PipelinedAppender.connect(endpoint, {user: 'bob', password: secret}));
    assertNoSecret(error, secret);
    const translated = translate(error, endpoint, {phase: 'login', user: 'bob'});
    assert.equal(translated.kind, 'auth', formatError(translated));
    assertNoSecret(translated, secret);
  });
});

describe('pipelined appender against server size limits', {timeout: SUITE_TIMEOUT_MS}, () => {
  let server: DovecotServer;
  before(async () => {
    // The quota plugin is Dovecot 2.3's way to refuse messages over a size (quota_max_mail_size);
    // the storage rule gives an over-quota mailbox as well.
    server = await startServer({
      users: {alice: 'pw-alice', bob: 'pw-bob'},
      extraConfig: [
        'mail_plugins = $mail_plugins quota',
        'plugin {',
        '  quota = count:User quota',
        '  quota_vsizes = yes',
        '  quota_max_mail_size = 1M',
        '  quota_rule = *:storage=3M',
        '}',
      ].join('\n'),
    });
  });
  after(() => server?.stop());

  test('a message over the server\'s size limit is refused as too large; the APPENDs after it succeed', async () => {
    const endpoint = endpointFor(server, 'none');
    const appender = await connect(endpoint, {user: 'alice', password: 'pw-alice'});
    const raws = [message('small 1', 1), message('too large', 2, 2 * 1024 * 1024), message('small 2', 3)];
    let results: PromiseSettledResult<AppendOutcome>[];
    try {
      results = await Promise.allSettled(raws.map((raw) => appender.append('INBOX', raw, [])));
    } finally {
      appender.close();
    }
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    const translated = translate((results[1] as PromiseRejectedResult).reason, endpoint, {user: 'alice', folder: 'INBOX'});
    assert.equal(translated.kind, 'too-large', formatError(translated));
    assert.equal(translated.retryable, false);
    assert.deepEqual((await folderContents(server, 'alice', 'INBOX')).map((m) => m.sha256), [raws[0]!, raws[2]!].map(sha256));
  });

  test('APPENDs past the mailbox quota are refused as over quota', async () => {
    const endpoint = endpointFor(server, 'none');
    const appender = await connect(endpoint, {user: 'bob', password: 'pw-bob'});
    let results: PromiseSettledResult<AppendOutcome>[];
    try {
      // Six of 900 KB cannot fit into 3 MB.
      results = await Promise.allSettled(Array.from({length: 6}, (_, i) => appender.append('INBOX', message(`filler ${i}`, 10 + i, 900 * 1024), [])));
    } finally {
      appender.close();
    }
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.ok(rejected.length >= 2 && results[0]!.status === 'fulfilled', results.map((r) => r.status).join(', '));
    for (const result of rejected) {
      const translated = translate(result.reason, endpoint, {user: 'bob', folder: 'INBOX'});
      assert.equal(translated.kind, 'quota', formatError(translated));
    }
  });
});

describe('pipelined appender when the server goes away', {timeout: SUITE_TIMEOUT_MS}, () => {
  for (const security of ['none', 'starttls', 'tls'] as const) {
    test(`${security}: stopping Dovecot mid-stream rejects every pending APPEND as a retryable lost connection`, async () => {
      const server = await startServer({users: {alice: 'pw-alice'}});
      let stopped = false;
      try {
        const endpoint = endpointFor(server, security);
        const appender = await connect(endpoint, {user: 'alice', password: 'pw-alice'});
        // The stream keeps 16 APPENDs of one shared 1 MB body in flight until the connection
        // dies, so there are always pending ones when it does, however fast the server is.
        const body = message('interrupted', 1, 1024 * 1024);
        const outcomes: Array<Promise<PromiseSettledResult<AppendOutcome>>> = [];
        let inFlight = 0;
        let successes = 0;
        let wake = () => {};
        const issue = () => {
          inFlight++;
          outcomes.push(
            appender
              .append('INBOX', body, [])
              .then(
                (value): PromiseSettledResult<AppendOutcome> => {
                  successes++;
                  return {status: 'fulfilled', value};
                },
                (reason: unknown): PromiseSettledResult<AppendOutcome> => ({status: 'rejected', reason}),
              )
              .finally(() => {
                inFlight--;
                wake();
              }),
          );
        };
        let stopping: Promise<void> | undefined;
        while (!appender.isClosed && outcomes.length < 20_000) {
          while (inFlight < 16 && !appender.isClosed) issue();
          await new Promise<void>((resolve) => (wake = resolve));
          if (successes >= 5 && !stopping) {
            stopping = server.stop();
            stopped = true;
          }
        }
        await stopping;
        const results = await Promise.all(outcomes);
        const firstFailure = results.findIndex((r) => r.status === 'rejected');
        assert.ok(firstFailure >= 5, `${results.length} APPENDs, first failure ${firstFailure}`);
        assert.ok(results.slice(firstFailure).every((r) => r.status === 'rejected'), 'nothing succeeds after the connection is gone');
        const later = await rejectionOf(appender.append('INBOX', body, []));
        for (const error of [...results.slice(firstFailure).map((r) => (r as PromiseRejectedResult).reason), later]) {
          const translated = translate(error, endpoint, {user: 'alice', folder: 'INBOX'});
          assert.equal(translated.kind, 'connection-lost', formatError(translated));
          assert.equal(translated.retryable, true);
        }
        assert.equal(appender.isClosed, true);
        appender.close();
        appender.close();
      } finally {
        if (!stopped) await server.stop();
      }
    });
  }
});
