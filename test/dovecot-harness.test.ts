// The test servers every IMAP test relies on: if these pass, a failing IMAP test is about
// mailferry, not about the harness.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { dovecotAvailable, startDovecot, startDovecotPair, type DovecotServer } from './helpers/dovecot-pair.js';
import {
  buildMessage,
  EMPTY_FOLDER,
  openClient,
  readMailbox,
  realisticMailbox,
  seedMailbox,
  serverFolderName,
  type SeedSpec,
} from './helpers/seed-mailbox.js';

const execFileAsync = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** connects, lists folders and logs out; returns what a test needs to know about the session */
async function session(server: DovecotServer, options: Partial<ImapFlowOptions> & Pick<ImapFlowOptions, 'auth'>) {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: server.imapPort,
    secure: false,
    doSTARTTLS: false,
    logger: false,
    disableAutoIdle: true,
    ...options,
  });
  await client.connect();
  try {
    const folders = await client.list();
    const inbox = await client.status('INBOX', { messages: true });
    const subjects: string[] = [];
    if (inbox && inbox.messages) {
      await client.mailboxOpen('INBOX', { readOnly: true });
      for await (const m of client.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
    }
    return { secure: client.secureConnection, folders, subjects };
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function loginError(server: DovecotServer, auth: NonNullable<ImapFlowOptions['auth']>): Promise<{ authenticationFailed?: boolean }> {
  const client = new ImapFlow({ host: '127.0.0.1', port: server.imapPort, secure: false, doSTARTTLS: false, logger: false, auth });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    return error as { authenticationFailed?: boolean };
  }
  await client.logout();
  assert.fail(`login as ${auth.user} was accepted but should have been refused`);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** what readMailbox should return for a seed spec, per server folder name */
function expectedContents(server: DovecotServer, spec: SeedSpec) {
  const expected = new Map<string, { flags: string[]; internalDate: string; size: number; sha256: string }[]>();
  for (const folder of spec.folders) expected.set(serverFolderName(server, folder), []);
  for (const m of spec.messages) {
    const name = serverFolderName(server, m.folder);
    if (!expected.has(name)) expected.set(name, []);
    expected.get(name)!.push({
      flags: [...(m.flags ?? [])].sort(),
      internalDate: m.internalDate!.toISOString(),
      size: m.raw.length,
      sha256: sha256(m.raw),
    });
  }
  return expected;
}

async function assertRoundTrip(server: DovecotServer, login: string, spec: SeedSpec): Promise<void> {
  await seedMailbox(server, login, spec);
  const stored = await readMailbox(server, login);
  const expected = expectedContents(server, spec);
  for (const folder of expected.keys()) assert.ok(stored.has(folder), `${folder} exists`);
  for (const [folder, messages] of stored) {
    // Folders the spec does not name (INBOX, auto-created special-use ones, parents) stay empty.
    if (!expected.has(folder)) assert.deepEqual(messages, [], `${folder} is empty`);
  }
  for (const [folder, messages] of expected) {
    // APPEND order is UID order, so the n-th seeded message is the n-th stored one.
    const actual = stored.get(folder)!.map(({ uid: _uid, ...rest }) => rest);
    assert.deepEqual(actual, messages, `contents of ${folder}`);
  }
}

test('dovecot is installed (apt-get install dovecot-imapd, or run .ci/run)', () => {
  assert.equal(dovecotAvailable(), true);
});

describe('a source/target pair', () => {
  let pair: Awaited<ReturnType<typeof startDovecotPair>>;
  before(async () => {
    pair = await startDovecotPair({
      source: { users: { alice: 'pw-alice', bob: 'pw-bob' } },
      target: { users: { 'alice@example.test': 'pw-target' } },
    });
    // A marker only alice has, so every login below can prove whose mailbox it landed in.
    const client = await openClient(pair.source, 'alice', { asMaster: false });
    await client.append('INBOX', buildMessage({ subject: 'marker for alice', seed: 42 }));
    await client.logout();
  });
  after(() => pair?.stop());

  test('the two instances are independent', () => {
    const { source, target } = pair;
    assert.equal(source.role, 'source');
    assert.equal(target.role, 'target');
    assert.notEqual(source.dir, target.dir);
    assert.equal(new Set([source.imapPort, source.imapsPort, target.imapPort, target.imapsPort]).size, 4);
    assert.deepEqual(Object.keys(target.users), ['alice@example.test']);
  });

  test('plain IMAP login without TLS', async () => {
    const result = await session(pair.source, { auth: { user: 'alice', pass: 'pw-alice' } });
    assert.equal(result.secure, false);
    assert.deepEqual(result.subjects, ['marker for alice']);
  });

  test('STARTTLS on the plain port, certificate trusted explicitly', async () => {
    const result = await session(pair.source, {
      doSTARTTLS: true,
      tls: { ca: readFileSync(pair.source.caCertPath) },
      auth: { user: 'alice', pass: 'pw-alice' },
    });
    assert.equal(result.secure, true);
  });

  test('implicit TLS on the imaps port with an untrusted certificate accepted', async () => {
    const result = await session(pair.source, {
      port: pair.source.imapsPort,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'pw-alice' },
    });
    assert.equal(result.secure, true);
    assert.deepEqual(result.subjects, ['marker for alice']);
  });

  test('the self-signed certificate is refused when nobody trusts it', async () => {
    const client = new ImapFlow({
      host: '127.0.0.1', port: pair.source.imapsPort, secure: true, logger: false,
      auth: { user: 'alice', pass: 'pw-alice' },
    });
    client.on('error', () => undefined);
    await assert.rejects(client.connect(), (error: { code?: string }) => error.code === 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  test('alice*admin with the master password lands in alice\'s mailbox', async () => {
    const { source } = pair;
    const result = await session(source, { auth: { user: `alice*${source.masterUser}`, pass: source.masterPassword } });
    assert.deepEqual(result.subjects, ['marker for alice']);
    const bob = await session(source, { auth: { user: `bob*${source.masterUser}`, pass: source.masterPassword } });
    assert.deepEqual(bob.subjects, []);
  });

  test('SASL PLAIN with authzid=alice as the master user lands in alice\'s mailbox', async () => {
    const { source } = pair;
    const result = await session(source, {
      auth: { user: source.masterUser, pass: source.masterPassword, authzid: 'alice', loginMethod: 'AUTH=PLAIN' },
    });
    assert.deepEqual(result.subjects, ['marker for alice']);
  });

  test('wrong passwords and unknown users are refused', async () => {
    const { source } = pair;
    assert.equal((await loginError(source, { user: 'alice', pass: 'wrong' })).authenticationFailed, true);
    assert.equal((await loginError(source, { user: 'alice*admin', pass: 'wrong' })).authenticationFailed, true);
    assert.equal((await loginError(source, { user: 'nobody-here*admin', pass: source.masterPassword })).authenticationFailed, true);
    assert.equal((await loginError(source, { user: 'admin', pass: source.masterPassword })).authenticationFailed, true);
    // alice's password must not open the target's alice@example.test
    assert.equal((await loginError(pair.target, { user: 'alice@example.test', pass: 'pw-alice' })).authenticationFailed, true);
  });

  test('failed logins are slowed neither by the 2 s failure delay nor by the per-IP penalty', async () => {
    // Checked in the effective config because a timing assertion would be flaky; without these
    // settings every wrong-password test in the suite adds 2 to 15 s to the next login.
    const doveconf = async (key: string) =>
      (await execFileAsync('doveconf', ['-c', path.join(pair.source.dir, 'dovecot.conf'), '-h', key])).stdout.trim();
    assert.equal(await doveconf('auth_failure_delay'), '0');
    assert.equal(Number(await doveconf('service/anvil/unix_listener/anvil-auth-penalty/mode')), 0);
    assert.equal(existsSync(path.join(pair.source.dir, 'run', 'anvil-auth-penalty')), false);
  });

  test('addUser works on a running server', async () => {
    await pair.target.addUser('carol@example.test', 'pw-carol');
    const result = await session(pair.target, { auth: { user: 'carol@example.test', pass: 'pw-carol' } });
    assert.deepEqual(result.subjects, []);
    assert.equal(pair.target.users['carol@example.test'], 'pw-carol');
  });

  test('doveadm runs against the instance and reports failures with stderr', async () => {
    const folders = (await pair.source.doveadm(['mailbox', 'list', '-u', 'alice'])).split('\n');
    assert.ok(folders.includes('INBOX'));
    await assert.rejects(pair.source.doveadm(['mailbox', 'list', '-u', 'no-such-user']), /doveadm mailbox list.*source/);
  });

  test('seed + readMailbox round trip keeps folders, flags, keywords, dates and bytes', async () => {
    const spec = realisticMailbox({ seed: 3 });
    await assertRoundTrip(pair.target, 'alice@example.test', spec);
    assert.equal(existsSync(pair.target.mailDir('alice@example.test')), true);

    const client = await openClient(pair.target, 'alice@example.test');
    try {
      const folders = new Map((await client.list()).map((f) => [f.path, f]));
      for (const name of ['Projects/2024/Q1', 'Entwürfe', 'Почта', '日本語', 'R&D', EMPTY_FOLDER]) {
        assert.ok(folders.has(name), `${name} is listed`);
      }
      for (const [role, name] of Object.entries({ '\\Sent': 'Sent', '\\Drafts': 'Drafts', '\\Trash': 'Trash', '\\Junk': 'Junk', '\\Archive': 'Archive' })) {
        assert.ok(folders.get(name)?.flags.has(role), `${name} carries ${role} in LIST`);
      }
      assert.ok(!folders.get(EMPTY_FOLDER)?.subscribed, 'the empty folder stays unsubscribed');
      assert.equal(folders.get('日本語')?.subscribed, true);
      // The names travel as modified UTF-7 (RFC 3501 5.1.3), imapflow decodes them.
      assert.equal(folders.get('Entwürfe')?.pathAsListed, 'Entw&APw-rfe');
    } finally {
      await client.logout();
    }
  });

  test('the realistic mailbox contains every oddity it promises', () => {
    const spec = realisticMailbox();
    const flags = new Set(spec.messages.flatMap((m) => m.flags ?? []));
    for (const flag of ['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '$Forwarded', '$Label1', 'ProjectX']) assert.ok(flags.has(flag), flag);
    const ids = spec.messages.map((m) => /^Message-ID: (.*)$/im.exec(m.raw.toString('latin1'))?.[1]);
    assert.ok(ids.filter((id) => id === undefined).length >= 2, 'messages without Message-ID');
    const shared = ids.filter((id, i) => id !== undefined && ids.indexOf(id) !== i);
    assert.equal(shared.length, 1, 'exactly one Message-ID is shared');
    const sharing = spec.messages.filter((_, i) => ids[i] === shared[0]);
    assert.notEqual(sha256(sharing[0]!.raw), sha256(sharing[1]!.raw), 'the two sharing messages differ');
    const years = new Set(spec.messages.map((m) => m.internalDate!.getUTCFullYear()));
    assert.ok(years.size >= 8, `internal dates spread over years (${years.size})`);
    const sizes = spec.messages.map((m) => m.raw.length);
    assert.ok(Math.min(...sizes) < 2048 && Math.max(...sizes) > 200_000, 'sizes from about 1 KB to a few hundred KB');
    assert.deepEqual(realisticMailbox({ seed: 5 }).messages.map((m) => sha256(m.raw)), realisticMailbox({ seed: 5 }).messages.map((m) => sha256(m.raw)));
    assert.equal(realisticMailbox({ scale: 'medium' }).messages.length > 5 * spec.messages.length, true);
  });

  test('a large message is seeded at its exact size and read back in slices', async () => {
    const large = 9 * 1024 * 1024 + 17;
    const spec: SeedSpec = {
      folders: ['INBOX/Big'],
      messages: realisticMailbox({ largeMessageBytes: large }).messages.filter((m) => m.raw.length === large).map((m) => ({ ...m, folder: 'INBOX/Big' })),
    };
    assert.equal(spec.messages.length, 1);
    await pair.source.addUser('dora', 'pw-dora');
    await assertRoundTrip(pair.source, 'dora', spec);
  });

  test('restart keeps ports and mail, and clients can log in again', async () => {
    const { source } = pair;
    const ports = [source.imapPort, source.imapsPort];
    const client = await openClient(source, 'alice');
    const closed = new Promise((resolve) => client.once('close', resolve));
    await source.restart();
    await closed;
    assert.deepEqual([source.imapPort, source.imapsPort], ports);
    const result = await session(source, { auth: { user: 'alice', pass: 'pw-alice' } });
    assert.deepEqual(result.subjects, ['marker for alice']);
  });
});

describe('odd server setups', () => {
  test('Courier style: separator ".", prefix "INBOX.", renamed special-use folders', async () => {
    const server = await startDovecot({
      role: 'source',
      users: { alice: 'pw-alice' },
      separator: '.',
      prefix: 'INBOX.',
      specialUse: { '\\Sent': 'Sent Items', '\\Trash': 'Deleted Items', '\\Drafts': 'Drafts', '\\Junk': 'Junk E-mail', '\\Archive': 'Archive' },
    });
    try {
      await assertRoundTrip(server, 'alice', realisticMailbox({ seed: 4 }));
      const client = await openClient(server, 'alice');
      try {
        const folders = new Map((await client.list()).map((f) => [f.path, f]));
        assert.ok(folders.has('INBOX.Projects.2024.Q1'));
        assert.ok(folders.has('INBOX.Почта'));
        assert.ok(folders.get('INBOX.Sent Items')?.flags.has('\\Sent'));
        assert.ok(folders.get('INBOX.Junk E-mail')?.flags.has('\\Junk'));
        assert.deepEqual(client.namespace, { prefix: 'INBOX.', delimiter: '.' });
      } finally {
        await client.logout();
      }
      await assert.rejects(seedMailbox(server, 'alice', { folders: ['v1.2'], messages: [] }), /'\.' is the hierarchy separator/);
    } finally {
      await server.stop();
    }
  });

  test('with separator "/" folder names may contain dots', async () => {
    const server = await startDovecot({ role: 'target', users: { alice: 'pw-alice' } });
    try {
      const spec: SeedSpec = {
        folders: ['Releases/v1.2', 'a.b.c'],
        messages: [{ folder: 'Releases/v1.2', raw: buildMessage({ subject: 'dots', seed: 9 }), flags: ['\\Seen'], internalDate: new Date(Date.UTC(2020, 1, 2)) }],
      };
      await assertRoundTrip(server, 'alice', spec);
    } finally {
      await server.stop();
    }
  });

  test('extraConfig is applied, and a broken config fails with the log tail and leaves nothing behind', async () => {
    const server = await startDovecot({ role: 'source', extraConfig: 'imap_capability = +XMAILFERRY' });
    try {
      const client = new ImapFlow({ host: '127.0.0.1', port: server.imapPort, secure: false, doSTARTTLS: false, logger: false });
      await client.connect().catch(() => undefined); // no auth configured; the greeting is enough
      assert.ok(client.capabilities.has('XMAILFERRY'));
      client.close();
    } finally {
      await server.stop();
    }
    await assert.rejects(
      startDovecot({ role: 'source', extraConfig: 'no_such_setting_anywhere = 1' }),
      (error: Error) => /exited during startup/.test(error.message) && /no_such_setting_anywhere/.test(error.message),
    );
  });
});

describe('teardown', () => {
  test('stop() frees the ports and removes the temp dir, and may be called twice', async () => {
    const server = await startDovecot({ role: 'target' });
    const { dir, imapPort, imapsPort } = server;
    assert.equal(existsSync(dir), true);
    await server.stop();
    assert.equal(existsSync(dir), false);
    assert.equal(await refusesConnections(imapPort), true);
    assert.equal(await refusesConnections(imapsPort), true);
    await server.stop();
  });

  for (const ending of ['exits normally', 'throws']) {
    test(`a test process that ${ending} without stop() leaves no dovecot behind`, async () => {
      const script = [
        `import { startDovecot } from ${JSON.stringify(path.join(here, 'helpers/dovecot-pair.ts'))};`,
        "const s = await startDovecot({ role: 'source' });",
        'console.log(JSON.stringify({ dir: s.dir, port: s.imapPort }));',
        ending === 'throws' ? "throw new Error('test crashed');" : '',
      ].join('\n');
      const child = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: path.join(here, '..') }).catch(
        (error: { stdout: string }) => error,
      );
      const { dir, port } = JSON.parse(child.stdout) as { dir: string; port: number };
      assert.equal(existsSync(dir), false);
      // The exit hook SIGKILLs the process group; give the kernel a moment to close the sockets.
      let refused = false;
      for (let i = 0; i < 100 && !refused; i++) {
        refused = await refusesConnections(port);
        if (!refused) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(refused, true);
    });
  }
});
