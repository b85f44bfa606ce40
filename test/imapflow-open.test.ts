// openMailbox: imapflow's mailboxOpen resolving without a mailbox (its connection closed during
// SELECT) is a lost connection, which the batch runner retries, not a folder to read `exists` of.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {ImapFlow} from 'imapflow';
import {openMailbox} from '../source/imap/imapflow-open.js';
import {translateError} from '../source/imap/error-translation.js';
import {makeEndpoint} from '../source/imap/endpoint.js';

const clientAnswering = (answer: unknown) => ({mailboxOpen: async () => answer}) as unknown as ImapFlow;

test('a mailbox that opened is returned as it is', async () => {
  const box = {path: 'Sent', exists: 3};
  assert.equal(await openMailbox(clientAnswering(box), 'Sent', {readOnly: true}), box);
});

test('no mailbox in the answer is a lost connection, retried, naming the folder', async () => {
  for (const answer of [undefined, false]) {
    const error = await openMailbox(clientAnswering(answer), 'Sent', {readOnly: true}).then(
      () => assert.fail('resolved'),
      (caught: unknown) => caught,
    );
    const translated = translateError(error, {role: 'source', endpoint: makeEndpoint({host: '127.0.0.1', port: 143, security: 'none'}), phase: 'command', folder: 'Sent'});
    assert.equal(translated.kind, 'connection-lost');
    assert.equal(translated.retryable, true);
    assert.match(translated.message, /Sent/);
  }
});
