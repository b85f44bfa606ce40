// Pairing source and target messages when the target did not keep everything (issue 17): dates
// in the future clamped, sizes changed, headers added; while two distinct messages sharing all
// headers and exact duplicates are each paired at most once.

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {headerDigest, pairMessages, type KeyedMessage} from '../source/engine/copy/message-key.js';

const past = '2024-01-01T10:00:00.000Z';
const future = '2099-06-15T12:00:00.000Z';
const appendTime = new Date().toISOString();

const m = (uid: number, digest: string, internalDate: string, size: number): KeyedMessage => ({uid, headerDigest: digest, internalDate, size});

test('a future date the target replaced pairs by headers and size; a past date must match', () => {
  const source = [m(1, 'a', future, 100), m(2, 'b', past, 100)];
  const target = [m(11, 'a', appendTime, 100), m(12, 'b', '2024-01-02T10:00:00.000Z', 100)];
  const pairing = pairMessages(source, target, {rewrites: {size: 'kept'}});
  assert.deepEqual([...pairing.pairs], [[1, 11]]);
  assert.equal(pairing.basis.get(1), 'dateRewritten');
  assert.deepEqual(pairing.unmatchedTarget.map((t) => t.uid), [12]);
});

test('nothing learned (state lost): another size pairs by headers and date; learned "kept" refuses it', () => {
  const source = [m(1, 'a', past, 100), m(2, 'b', future, 200)];
  const target = [m(11, 'a', past, 126), m(12, 'b', appendTime, 226)];
  const pairing = pairMessages(source, target);
  assert.deepEqual([...pairing.pairs], [[1, 11], [2, 12]]);
  assert.deepEqual([...pairing.basis.values()], ['sizeChanged', 'sizeChanged']);
  assert.equal(pairMessages(source, target, {rewrites: {size: 'kept'}}).pairs.size, 0);
});

test('two distinct messages sharing all headers: the one not on the target stays unpaired', () => {
  // Same headers, same date, other bodies; the target holds only the second one's copy.
  const source = [m(1, 'a', past, 100), m(2, 'a', past, 180)];
  assert.deepEqual([...pairMessages(source, [m(11, 'a', past, 180)]).pairs], [[2, 11]]);
  // The target changed sizes (+26): the closest size wins.
  assert.deepEqual([...pairMessages(source, [m(11, 'a', past, 206)]).pairs], [[2, 11]]);
  // Other dates: a date the target keeps (past) never pairs with another.
  const dated = [m(1, 'a', past, 100), m(2, 'a', '2024-01-01T11:00:00.000Z', 100)];
  assert.deepEqual([...pairMessages(dated, [m(11, 'a', '2024-01-01T11:00:00.000Z', 126)]).pairs], [[2, 11]]);
});

test('exact duplicates count twice: one copy on the target leaves one to copy', () => {
  const source = [m(1, 'a', past, 100), m(2, 'a', past, 100), m(3, 'a', past, 100)];
  const pairing = pairMessages(source, [m(11, 'a', past, 100), m(12, 'a', past, 100)]);
  assert.deepEqual([...pairing.pairs], [[1, 11], [2, 12]]);
  assert.equal(pairing.unmatchedTarget.length, 0);
});

test('messages given first claim their copies first (done before pending)', () => {
  // 5 is done and its copy is 12 (its size was changed); 1 is pending with the same headers.
  const pairing = pairMessages([m(5, 'a', past, 100), m(1, 'a', past, 90)], [m(12, 'a', past, 126)]);
  assert.deepEqual([...pairing.pairs], [[5, 12]]);
});

test('the identity of a message without Message-ID ignores fields servers add, and those learned', () => {
  const original = Buffer.from('From: cron@example.test\r\nTo: root@example.test\r\nSubject: backup\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nX-Cron-Env: <SHELL=/bin/sh>\r\n');
  const stored = Buffer.from('Received: by target\r\nX-Scanned: yes\r\nDate: Mon, 01 Jan 2024 11:00:00 +0100\r\nFrom: cron@example.test\r\nTo: root@example.test\r\nSubject: backup\r\nX-Cron-Env: <SHELL=/bin/sh>\r\nComments: added by a gateway\r\n');
  assert.equal(headerDigest(original), headerDigest(Buffer.from(stored.toString().replace('Comments: added by a gateway\r\n', ''))));
  assert.notEqual(headerDigest(original), headerDigest(stored));
  assert.equal(headerDigest(original, ['comments']), headerDigest(stored, ['comments']));
  // Another subject is another message.
  assert.notEqual(headerDigest(original), headerDigest(Buffer.from(original.toString().replace('backup', 'backup failed'))));
});
