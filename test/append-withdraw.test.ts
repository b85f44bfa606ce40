// AppendStreamWriter.withdrawMessage() against real Dovecot: a streamed APPEND whose bytes are
// already out can still be made to store nothing, batch and all, and a long run of withdrawn
// commands does not get the connection closed (Dovecot ends it after 20 failed commands in a row).

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import {AppendStreamWriter, type AppendBatch} from '../source/imap/pipelined-appender.js';
import {RawImapSession} from '../source/imap/raw-session.js';
import {makeEndpoint} from '../source/imap/endpoint.js';

describe('withdrawn streamed APPENDs', {timeout: 120_000}, () => {
  let server: DovecotServer | undefined;
  before(async () => {
    server = await startDovecot({role: 'target', users: {wd: 'pw-wd'}});
  });
  after(async () => {
    await server?.stop();
  });

  test('a withdrawn batch stores none of its messages; 30 in a row keep the session open', async () => {
    const endpoint = makeEndpoint({host: '127.0.0.1', port: server!.imapPort, security: 'none', acceptUntrusted: true, loginMechanism: 'auto'});
    const session = await RawImapSession.open(endpoint, {user: 'wd', password: 'pw-wd'});
    try {
      assert.ok(session.capabilities.has('MULTIAPPEND') && session.capabilities.has('LITERAL+'));
      const batches: AppendBatch[] = [];
      const writer = new AppendStreamWriter(session, 'INBOX', {firstMessages: 10, maxMessages: 10, maxBytes: 1 << 20}, (batch) => batches.push(batch));
      const message = (n: number) => Buffer.from(`Subject: m${n}\r\n\r\nbody ${n}\r\n`);
      let id = 0;
      const put = (body: Buffer) => {
        writer.startMessage(++id, body.length, [], undefined);
        void writer.data(body);
      };
      // A batch of three whose last message is withdrawn, then 30 withdrawn ones in a row.
      put(message(1));
      writer.endMessage();
      put(message(2));
      writer.endMessage();
      put(message(3));
      writer.withdrawMessage();
      for (let n = 0; n < 30; n++) {
        put(message(100 + n));
        writer.withdrawMessage();
      }
      put(message(4));
      writer.endMessage();
      writer.flush();
      assert.equal(batches.length, 32);
      const outcomes = await Promise.allSettled(batches.map((batch) => batch.result));
      assert.deepEqual(batches[0]!.ids, [1, 2, 3]);
      for (const [index, batch] of batches.entries()) {
        assert.equal(outcomes[index]!.status, batch.withdrawn ? 'rejected' : 'fulfilled', `batch ${index} (${batch.ids.join(',')})`);
      }
      assert.equal(batches.filter((batch) => batch.withdrawn).length, 31);
      const status = await session.command('STATUS INBOX (MESSAGES)');
      assert.match(status.untagged.join('\n'), /MESSAGES 1\)/, 'only the last message is stored');
    } finally {
      session.close();
    }
  });
});
