// Pairing copies appended as literal8, which the target may store larger (RFC 3516 section 4.4).

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {pairByKey} from '../source/engine/copy/message-key.js';

const date = '2024-01-01T10:00:00.000Z';

test('a resized source message pairs with a larger target message of the same key but for the size', () => {
  const source = [
    {uid: 1, headerDigest: 'a', internalDate: date, size: 100},
    {uid: 2, headerDigest: 'b', internalDate: date, size: 200},
  ];
  const target = [
    {uid: 11, headerDigest: 'a', internalDate: date, size: 100},
    {uid: 12, headerDigest: 'b', internalDate: date, size: 260},
  ];
  // On a target known to keep sizes, only a resized (literal8) message may have another size.
  assert.deepEqual([...pairByKey(source, target, undefined, {size: 'kept'})], [[1, 11]], 'by full key only');
  assert.deepEqual([...pairByKey(source, target, (uid) => uid === 2, {size: 'kept'})], [[1, 11], [2, 12]]);
});

test('never with a smaller one, a different key, or one already paired', () => {
  const source = [
    {uid: 1, headerDigest: 'a', internalDate: date, size: 100},
    {uid: 2, headerDigest: 'a', internalDate: date, size: 90},
    {uid: 3, headerDigest: 'c', internalDate: date, size: 50},
  ];
  const target = [
    {uid: 11, headerDigest: 'a', internalDate: date, size: 100},
    {uid: 13, headerDigest: 'c', internalDate: date, size: 40},
    {uid: 14, headerDigest: 'd', internalDate: date, size: 80},
  ];
  // 2 would fit 11 by size, but 11 is 1's copy (full key); 3's only candidate is smaller.
  assert.deepEqual([...pairByKey(source, target, () => true)], [[1, 11]]);
});
