// The stored message pieced together from BODY[] (NUL as 0x80) and BINARY[] (encoded parts
// decoded), in the forms Dovecot 2.3.19 sends (see source/engine/copy/exact-body.ts).

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {onlyNulsDiffer, restoreNuls} from '../source/engine/copy/nul-restore.js';

const PAYLOAD = Buffer.from([0x41, 0x00, 0x80, 0x1b, 0x00, 0x42]);
const HEAD = 'Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="zz"\r\n\r\n';

/** The stored message, and what BODY[] and BINARY[] make of it. */
function forms(payload: Buffer) {
  const stored = Buffer.concat([
    Buffer.from(`${HEAD}--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n`),
    Buffer.from('--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n'),
    Buffer.from('--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
    payload,
    Buffer.from('\r\n--zz--\r\n'),
  ]);
  const body = Buffer.from(stored.map((byte) => (byte === 0 ? 0x80 : byte)));
  const binary = Buffer.concat([
    Buffer.from(`${HEAD}--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\nhello\r\n`),
    Buffer.from('--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\na=b\r\n'),
    Buffer.from('--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
    payload,
    Buffer.from('\r\n--zz--\r\n'),
  ]);
  return {stored, body, binary};
}

test('decoded parts come from BODY[], the others (with their NULs) from BINARY[]', () => {
  const {stored, body, binary} = forms(PAYLOAD);
  assert.ok(!onlyNulsDiffer(body, binary));
  assert.deepEqual(restoreNuls(body, binary), stored);
});

test('a message with nothing decoded is BINARY[] itself', () => {
  const stored = Buffer.concat([Buffer.from('Subject: y\r\n\r\n'), PAYLOAD]);
  const body = Buffer.from(stored.map((byte) => (byte === 0 ? 0x80 : byte)));
  assert.ok(onlyNulsDiffer(body, stored));
  assert.deepEqual(restoreNuls(body, stored), stored);
  // Not a NUL/0x80 difference: not the same message.
  assert.ok(!onlyNulsDiffer(body, Buffer.concat([Buffer.from('Subject: z\r\n\r\n'), PAYLOAD])));
});

test('no answer when the pieces do not pair up or a decoded part holds a stray 0x80', () => {
  const {body, binary} = forms(PAYLOAD);
  // A boundary line inside a decoded part shows up in BINARY[] only.
  const extra = Buffer.from(binary.toString('latin1').replace('hello', 'hel\r\n--zz\r\nlo'), 'latin1');
  assert.equal(restoreNuls(body, extra), undefined);
  // An identity part that differs by more than NUL/0x80.
  const other = Buffer.from(binary.toString('latin1').replace('Subject: x', 'Subject: q'), 'latin1');
  assert.equal(restoreNuls(body, other), undefined);
  // A 0x80 in a base64 part (a NUL there, replaced): it cannot be put back.
  const brokenBody = Buffer.from(body.toString('latin1').replace('aGVsbG8=', 'aGVs\x80bG8='), 'latin1');
  assert.equal(restoreNuls(brokenBody, binary), undefined);
});
