// Opening and listing folders over a raw session (source/imap/folder-open.ts): the parser on
// recorded responses, then EXAMINE/SELECT and the UID/size listing against real Dovecot,
// compared with what imapflow reports for the same folders.

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, openClient, seedMailbox} from './helpers/seed-mailbox.js';
import {makeEndpoint} from '../source/imap/endpoint.js';
import {listUidSizes, openFolder, parseSelectResponse} from '../source/imap/folder-open.js';
import {RawImapSession} from '../source/imap/raw-session.js';

describe('parseSelectResponse', () => {
  const examine = [
    '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)',
    '* OK [PERMANENTFLAGS ()] Read-only mailbox.',
    '* 1000 EXISTS',
    '* 0 RECENT',
    '* OK [UNSEEN 3] First unseen.',
    '* OK [UIDVALIDITY 1795306987] UIDs valid',
    '* OK [UIDNEXT 1001] Predicted next UID',
    '* OK [HIGHESTMODSEQ 2042] Highest',
  ];

  test('reads EXISTS, UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ', () => {
    assert.deepEqual(parseSelectResponse('INBOX', examine), {
      path: 'INBOX',
      openedBy: 'raw',
      exists: 1000,
      uidValidity: 1795306987n,
      uidNext: 1001,
      highestModseq: 2042n,
      noModseq: false,
      permanentFlags: new Set(),
    });
  });

  test('PERMANENTFLAGS of a read-write SELECT, including \\*', () => {
    const lines = [...examine.slice(0, 1), '* OK [PERMANENTFLAGS (\\Answered \\Seen $Forwarded \\*)] Flags permitted.', ...examine.slice(2)];
    assert.deepEqual(parseSelectResponse('INBOX', lines)?.permanentFlags, new Set(['\\Answered', '\\Seen', '$Forwarded', '\\*']));
  });

  test('NOMODSEQ: no mod-sequence even if a HIGHESTMODSEQ came too', () => {
    const opened = parseSelectResponse('Sent', [...examine, '* OK [NOMODSEQ] No permanent modsequences']);
    assert.equal(opened?.noModseq, true);
    assert.equal(opened?.highestModseq, undefined);
  });

  test('an empty folder has 0 messages; a missing UIDNEXT or UIDVALIDITY gives undefined (never guessed)', () => {
    assert.equal(parseSelectResponse('x', ['* 0 EXISTS', '* OK [UIDVALIDITY 7] ok', '* OK [UIDNEXT 1] ok'])?.exists, 0);
    assert.equal(parseSelectResponse('x', examine.filter((line) => !line.includes('UIDNEXT'))), undefined);
    assert.equal(parseSelectResponse('x', examine.filter((line) => !line.includes('UIDVALIDITY'))), undefined);
  });
});

describe('openFolder and listUidSizes against Dovecot', {timeout: 120_000}, () => {
  let server: DovecotServer;
  const sessions: RawImapSession[] = [];
  const sizes = [1_200, 35_000, 420_000, 2_000];

  before(async () => {
    server = await startDovecot({role: 'source', users: {alice: 'pw-alice'}});
    await seedMailbox(server, 'alice', {
      folders: ['Projekte/Überprüfung', 'Empty'],
      messages: sizes.map((size, index) => ({folder: 'Projekte/Überprüfung', raw: buildMessage({subject: `m${index}`, bodyBytes: size}), flags: index === 0 ? ['\\Seen'] : []})),
    });
  });
  after(async () => {
    for (const session of sessions) session.close();
    await server?.stop();
  });

  async function open(): Promise<RawImapSession> {
    const session = await RawImapSession.open(makeEndpoint({host: '127.0.0.1', port: server.imapPort, security: 'none'}), {user: 'alice', password: 'pw-alice'});
    sessions.push(session);
    return session;
  }

  test('EXAMINE and SELECT report what imapflow reports for the same folder', async () => {
    const session = await open();
    const examined = await openFolder(session, 'Projekte/Überprüfung', 'EXAMINE');
    const client = await openClient(server, 'alice');
    try {
      const box = await client.mailboxOpen('Projekte/Überprüfung', {readOnly: true});
      assert.ok(examined);
      assert.equal(examined.exists, 4);
      assert.equal(examined.uidValidity, box.uidValidity);
      assert.equal(examined.uidNext, box.uidNext);
      assert.equal(examined.highestModseq, box.highestModseq, 'CONDSTORE asked for on EXAMINE');
      const selected = await openFolder(session, 'Projekte/Überprüfung', 'SELECT');
      const writable = await client.mailboxOpen('Projekte/Überprüfung');
      assert.deepEqual(selected?.permanentFlags, writable.permanentFlags);
      assert.ok(selected?.permanentFlags?.has('\\*'), 'Dovecot lets any keyword be stored');
    } finally {
      await client.logout();
    }
  });

  test('lists every UID with its RFC822.SIZE; UIDNEXT:* brings the highest message, as RFC 3501 says', async () => {
    const session = await open();
    const opened = await openFolder(session, 'Projekte/Überprüfung', 'EXAMINE');
    const listed: Array<[number, number]> = [];
    await listUidSizes(session, '1:*', (uid, size) => listed.push([uid, size]));
    assert.deepEqual(listed.map(([uid]) => uid), [1, 2, 3, 4]);
    const client = await openClient(server, 'alice');
    try {
      await client.mailboxOpen('Projekte/Überprüfung', {readOnly: true});
      const expected: Array<[number, number]> = [];
      for await (const message of client.fetch('1:*', {uid: true, size: true}, {uid: true})) expected.push([message.uid, message.size!]);
      assert.deepEqual(listed, expected);
    } finally {
      await client.logout();
    }
    const after: number[] = [];
    await listUidSizes(session, `${opened!.uidNext}:*`, (uid) => after.push(uid));
    assert.deepEqual(after, [4]);
  });

  test('an empty folder lists nothing; a missing folder is refused with the server\'s words', async () => {
    const session = await open();
    assert.equal((await openFolder(session, 'Empty', 'EXAMINE'))?.exists, 0);
    await assert.rejects(openFolder(session, 'Nowhere', 'EXAMINE'), (error: {responseText?: string; serverResponseCode?: string}) => {
      assert.match(`${error.serverResponseCode ?? ''} ${error.responseText ?? ''}`, /NONEXISTENT|doesn't exist/i);
      return true;
    });
  });
});
