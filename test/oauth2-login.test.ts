// OAuth2 logins against real Dovecot (passdb oauth2 + the introspection stand-in): raw sessions
// with XOAUTH2 and OAUTHBEARER, imapflow clients, a refused token fetched again, and the
// `auth` error that names the token command when even a new token is refused.

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {chmod, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import {startIntrospectionServer, type IntrospectionServer} from './helpers/oauth-introspection-server.js';
import {RawImapSession} from '../source/imap/raw-session.js';
import {closeClient, connectClient, loginMechanismUsed} from '../source/imap/client-factory.js';
import {makeEndpoint, type EndpointConfig, type OAuthMechanism} from '../source/imap/endpoint.js';
import {MigrationError} from '../source/imap/imap-error.js';
import {oauthIdentity} from '../source/engine/credentials/oauth-identity.js';
import {oauthPayload} from '../source/imap/oauth-login.js';
import {runTestEndpoint} from '../source/headless/test-endpoint-command.js';
import {checkUserLogins} from '../source/engine/login-check.js';
import type {Logger} from '../source/log/logger.js';

let server: DovecotServer;
let introspection: IntrospectionServer;
let dir: string;
let tokenScript: string;

/** Prints `tok-<pid>-<email>` (a new token each run) and logs each token it printed. */
async function writeTokenScript(where: string): Promise<string> {
  const path = join(where, 'get-token.sh');
  await writeFile(path, `#!/bin/sh\nt="tok-$$-$1"\necho "$t" >> "${where}/issued"\necho "$t"\n`);
  await chmod(path, 0o755);
  return path;
}

async function issued(): Promise<string[]> {
  return (await readFile(join(dir, 'issued'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

function endpoint(mechanism: OAuthMechanism, command = `${tokenScript} {email}`): EndpointConfig {
  return makeEndpoint({host: '127.0.0.1', port: server.imapPort, security: 'none', tokenCommand: command, oauthMechanism: mechanism});
}

before(async () => {
  introspection = await startIntrospectionServer();
  dir = await mkdtemp(join(tmpdir(), 'mailferry-oauth2-test-'));
  tokenScript = await writeTokenScript(dir);
  server = await startDovecot({role: 'source', users: {'alice@example.test': 'unused-pw-1', 'bob@example.test': 'unused-pw-2'}, extraConfig: await introspection.dovecotConfig()});
});

after(async () => {
  await server?.stop();
  await introspection?.stop();
  await rm(dir, {recursive: true, force: true});
});

describe('OAuth2 logins against Dovecot', {timeout: 60_000}, () => {
  for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
    test(`raw session: AUTHENTICATE ${mechanism} with a token from the command`, async () => {
      introspection.acceptRule((token) => /^tok-\d+-(.+)$/.exec(token)?.[1]);
      const identity = oauthIdentity({kind: 'oauth2'}, {role: 'source', endpoint: endpoint(mechanism), row: {emailAddress: 'alice@example.test'}, login: 'alice@example.test'});
      const session = await RawImapSession.open(endpoint(mechanism), identity, 'source');
      try {
        const result = await session.command('SELECT INBOX');
        assert.match(result.text, /SELECT completed|READ-WRITE/i);
      } finally {
        session.close();
      }
      const log = await readFile(join(server.dir, 'log', 'dovecot.log'), 'utf8');
      assert.match(log, new RegExp(`imap-login: Info: Login: user=<alice@example.test>, method=${mechanism},`));
    });
  }

  test('raw session: a refused token is fetched again once; a second refusal names the token command', async () => {
    const before = (await issued()).length;
    // Every token is good for one login only: the first open works, then each open needs a new one.
    introspection.acceptRule((token) => /^tok-\d+-(.+)$/.exec(token)?.[1], 1);
    const config = endpoint('auto');
    const identity = oauthIdentity({kind: 'oauth2'}, {role: 'source', endpoint: config, row: {emailAddress: 'bob@example.test'}, login: 'bob@example.test'});
    (await RawImapSession.open(config, identity, 'source')).close();
    // The same identity moments later reuses the token, which the server now refuses: fetched again.
    (await RawImapSession.open(config, identity, 'source')).close();
    assert.equal((await issued()).length - before, 2, 'one token per login, the second fetched after the refusal');

    introspection.acceptRule(() => undefined);
    for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
      // The refusal comes as a "+" challenge with the server's JSON first; answered, then the NO.
      const refusedConfig = endpoint(mechanism);
      const refusedIdentity = oauthIdentity({kind: 'oauth2'}, {role: 'source', endpoint: refusedConfig, row: {emailAddress: 'bob@example.test'}, login: 'bob@example.test'});
      const error = await RawImapSession.open(refusedConfig, refusedIdentity, 'source').catch((e: unknown) => e);
      assert.ok(error instanceof MigrationError, String(error));
      assert.equal(error.kind, 'auth');
      assert.equal(error.endpoint, 'source');
      assert.ok(error.message.includes(`token command \`${tokenScript} {email}\``), error.message);
      assert.match(error.serverText ?? '', /AUTHENTICATIONFAILED|Authentication failed/);
      assert.match(error.serverText ?? '', /"status"/, 'the server\'s OAuth2 error is kept');
      for (const token of await issued()) assert.ok(!JSON.stringify(error).includes(token), 'the token is not in the error');
    }
  });

  test('imapflow client: OAUTHBEARER by default, XOAUTH2 when set, a refused token fetched again', async () => {
    const logged: string[] = [];
    const record = (message: string, fields?: Record<string, unknown>) => logged.push(`${message} ${JSON.stringify(fields ?? {})}`);
    const capture: Logger = {debug: record, info: record, warn: record, error: record, child: () => capture};
    introspection.acceptRule((token) => /^tok-\d+-(.+)$/.exec(token)?.[1], 1);
    for (const [mechanism, expected] of [['auto', 'AUTH=OAUTHBEARER'], ['XOAUTH2', 'AUTH=XOAUTH2']] as const) {
      const config = endpoint(mechanism);
      const identity = oauthIdentity({kind: 'oauth2'}, {role: 'target', endpoint: config, row: {emailAddress: 'alice@example.test'}, login: 'alice@example.test'});
      for (let i = 0; i < 2; i++) {
        const client = await connectClient({endpoint: config, role: 'target', identity, mailbox: 'alice@example.test', logger: capture});
        assert.equal(loginMechanismUsed(client), expected);
        await closeClient(client);
      }
    }
    // imapflow's own protocol log (debug level, off in the log file by default) masks the token too.
    assert.ok(logged.some((line) => line.includes('AUTHENTICATE')), 'the capture saw the login');
    for (const token of await issued()) assert.ok(!logged.some((line) => line.includes(token)), 'no token in the debug log');
  });

  test('a server offering no token mechanism gets a clear error', async () => {
    const plainOnly = await startDovecot({role: 'target', users: {'carol@example.test': 'pw-carol'}});
    try {
      const config = makeEndpoint({host: '127.0.0.1', port: plainOnly.imapPort, security: 'none', tokenCommand: `${tokenScript} {email}`});
      const identity = oauthIdentity({kind: 'oauth2'}, {role: 'target', endpoint: config, row: {emailAddress: 'carol@example.test'}, login: 'carol@example.test'});
      for (const open of [() => RawImapSession.open(config, identity, 'target'), () => connectClient({endpoint: config, role: 'target', identity})]) {
        const error = await open().catch((e: unknown) => e);
        assert.ok(error instanceof MigrationError, String(error));
        assert.match(error.message, /offers neither OAUTHBEARER nor XOAUTH2.*\(it offers PLAIN, LOGIN\)/);
      }
    } finally {
      await plainOnly.stop();
    }
  });

  test('admin identity against a server that lets the admin token act for every user', async () => {
    const adminServer = await startDovecot({
      role: 'target',
      users: {'carol@example.test': 'pw-carol', 'dave@example.test': 'pw-dave'},
      extraConfig: await introspection.dovecotConfig({usernameFormat: '%d'}),
    });
    try {
      // Only the admin's tokens count here: a user's own would be refused.
      introspection.acceptRule((token) => (/^tok-\d+-admin@example\.test$/.test(token) ? 'admin@example.test' : undefined));
      for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
        const config = makeEndpoint({host: '127.0.0.1', port: adminServer.imapPort, security: 'none', tokenCommand: `${tokenScript} {email}`, oauthMechanism: mechanism});
        for (const mailbox of ['carol@example.test', 'dave@example.test']) {
          const identity = oauthIdentity({kind: 'oauth2-admin', adminUser: 'admin@example.test'}, {role: 'target', endpoint: config, row: {emailAddress: mailbox}, login: mailbox});
          const session = await RawImapSession.open(config, identity, 'target');
          session.close();
          const client = await connectClient({endpoint: config, role: 'target', identity});
          await closeClient(client);
        }
      }
      const log = await readFile(join(adminServer.dir, 'log', 'dovecot.log'), 'utf8');
      for (const mailbox of ['carol@example.test', 'dave@example.test'])
        for (const mechanism of ['XOAUTH2', 'OAUTHBEARER']) assert.match(log, new RegExp(`Login: user=<${mailbox}>, method=${mechanism},`));
    } finally {
      await adminServer.stop();
    }
  });

  test('raw session: without SASL-IR the token goes after the first "+", and a refusal is still answered', async () => {
    // Dovecot advertises SASL-IR unless imap_capability replaces the list.
    const noSaslIr = await startDovecot({
      role: 'target',
      users: {'erin@example.test': 'pw-erin'},
      extraConfig: `${await introspection.dovecotConfig()}\nimap_capability = IMAP4rev1 LITERAL+ ID ENABLE IDLE UIDPLUS\n`,
    });
    try {
      for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
        const config = makeEndpoint({host: '127.0.0.1', port: noSaslIr.imapPort, security: 'none', tokenCommand: `${tokenScript} {email}`, oauthMechanism: mechanism});
        const identity = () => oauthIdentity({kind: 'oauth2'}, {role: 'target', endpoint: config, row: {emailAddress: 'erin@example.test'}, login: 'erin@example.test'});
        introspection.acceptRule((token) => /^tok-\d+-(.+)$/.exec(token)?.[1]);
        const session = await RawImapSession.open(config, identity(), 'target');
        assert.ok(!session.capabilities.has('SASL-IR'));
        session.close();
        introspection.acceptRule(() => undefined);
        const error = await RawImapSession.open(config, identity(), 'target').catch((e: unknown) => e);
        assert.ok(error instanceof MigrationError && error.kind === 'auth' && /token command/.test(error.message), String(error));
      }
      const log = await readFile(join(noSaslIr.dir, 'log', 'dovecot.log'), 'utf8');
      for (const mechanism of ['XOAUTH2', 'OAUTHBEARER']) assert.match(log, new RegExp(`Login: user=<erin@example.test>, method=${mechanism},`));
    } finally {
      await noSaslIr.stop();
    }
  });

  test("the users' login check logs in with OAuth2 on both ends", async () => {
    introspection.acceptRule((token) => /^tok-\d+-(.+)$/.exec(token)?.[1]);
    const config = endpoint('auto');
    const row = {line: 2, emailAddress: 'alice@example.test', userName: 'alice@example.test', password: '-'};
    const result = await checkUserLogins({source: config, target: config, sourceCredentials: {kind: 'oauth2'}, targetCredentials: {kind: 'oauth2'}}, row, {});
    assert.equal(result.source.ok, true, JSON.stringify(result.source.error));
    assert.equal(result.target.ok, true, JSON.stringify(result.target.error));
    introspection.acceptRule(() => undefined);
    const refused = await checkUserLogins({source: config, target: config, sourceCredentials: {kind: 'oauth2'}, targetCredentials: {kind: 'oauth2'}}, row, {});
    assert.equal(refused.source.error?.kind, 'auth');
    assert.match(refused.source.error?.message ?? '', /token command/);
  });

  test('admin identity: the payload logs in as the user with the admin token (XOAUTH2 user=, OAUTHBEARER a=)', () => {
    const at = {host: 'imap.example.test', port: 993};
    assert.equal(oauthPayload('XOAUTH2', 'u@x.test', 'T0K', at), 'user=u@x.test\x01auth=Bearer T0K\x01\x01');
    assert.equal(oauthPayload('OAUTHBEARER', 'a,b=c@x.test', 'T0K', at), 'n,a=a=2Cb=3Dc@x.test,\x01host=imap.example.test\x01port=993\x01auth=Bearer T0K\x01\x01');
  });
});

describe('mailferry test-endpoint with OAuth2', {timeout: 60_000}, () => {
  async function run(argv: string[]) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    const code = await runTestEndpoint(argv, {stdout, stderr, stdin: new PassThrough()});
    return {code, stdout: out, stderr: err};
  }
  const base = () => ['--host', '127.0.0.1', '--port', String(server.imapPort), '--security', 'none', '--user', 'alice@example.test'];

  test('passes with a token from the command', async () => {
    introspection.acceptRule((token) => /^tok-\d+-(.+)$/.exec(token)?.[1]);
    const result = await run([...base(), '--token-command', `${tokenScript} {email}`]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /logged in as alice@example\.test \(AUTH=OAUTHBEARER\)/);
    for (const token of await issued()) assert.ok(!result.stdout.includes(token));
  });

  test('a refused token fails the login step naming the token command', async () => {
    introspection.acceptRule(() => undefined);
    const result = await run([...base(), '--token-command', `${tokenScript} {email}`, '--oauth-mechanism', 'XOAUTH2']);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /FAIL Login/i);
    assert.ok(result.stdout.includes(`refused the access token printed by the token command \`${tokenScript} {email}\` for alice@example.test`), result.stdout);
  });

  test('usage errors of the OAuth2 options', async () => {
    const cases: [string[], RegExp][] = [
      [['--host', 'h', '--token-command', 'get-token {email}'], /--token-command needs --user/],
      [['--host', 'h', '--user', 'a', '--token-command', 'get-token {email}', '--password-env', 'X'], /leave out the password/],
      [['--host', 'h', '--user', 'a', '--oauth-admin', 'admin'], /need --token-command/],
      [['--host', 'h', '--user', 'a', '--token-command', 'get-token {mail}'], /--token-command: .*\{mail\}/],
      [['--host', 'h', '--user', 'a', '--token-command', 't', '--oauth-mechanism', 'PLAIN'], /--oauth-mechanism must be auto, XOAUTH2 or OAUTHBEARER/],
      [['--host', 'h', '--user', 'a', '--token-command', 't', '--token-timeout', '0'], /--token-timeout must be a positive number/],
    ];
    for (const [argv, pattern] of cases) {
      const result = await run(argv);
      assert.equal(result.code, 2, argv.join(' '));
      assert.match(result.stderr, pattern);
    }
  });

  test('a failing token command is shown with its stderr', async () => {
    const failing = join(dir, 'fail.sh');
    await writeFile(failing, '#!/bin/sh\necho "no cached refresh token for $1" >&2\nexit 2\n');
    await chmod(failing, 0o755);
    const result = await run([...base(), '--token-command', `${failing} {email}`]);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /exited with status 2 for alice@example\.test; it said: no cached refresh token for alice@example\.test/);
  });
});
