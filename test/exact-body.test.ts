// exactBody()'s decisions that need no second fetch (the ones that do run against Dovecot in
// engine-binary-messages.test.ts).

import assert from 'node:assert/strict';
import {test} from 'node:test';
import type {ImapFlow} from 'imapflow';
import {exactBody} from '../source/engine/copy/exact-body.js';

/** A source that must not be asked: these cases decide from the body alone. */
const untouched = new Proxy({}, {get: () => assert.fail('the source was asked')}) as unknown as ImapFlow;
const base = {source: untouched, uid: 5, sourceBinary: true, targetBinary: true, maxCheckBytes: 1024};

test('bodies without NUL or stray 0x80 go as they are, unlisted', async () => {
  const body = Buffer.from('Subject: a\r\n\r\ntext \u2013 more\r\n');
  assert.deepEqual(await exactBody({...base, body}), {body});
});

test('raw NULs: as they are to a target with BINARY (literal8), listed for one without', async () => {
  const body = Buffer.from('Subject: a\r\n\r\nx\0y\r\n', 'latin1');
  assert.deepEqual(await exactBody({...base, body}), {body});
  const result = await exactBody({...base, body, targetBinary: false});
  assert.equal(result.body, body);
  assert.match(result.changed ?? '', /holds NUL bytes and the target does not offer BINARY/);
});

test('a stray 0x80 tells nothing without BINARY on the source; above the check size it is listed', async () => {
  const body = Buffer.from('Subject: a\r\n\r\nprice 5 \x80\r\n', 'latin1');
  assert.deepEqual(await exactBody({...base, body, sourceBinary: false}), {body});
  const large = await exactBody({...base, body, maxCheckBytes: 10});
  assert.equal(large.body, body);
  assert.match(large.changed ?? '', /not checked with BINARY/);
});
