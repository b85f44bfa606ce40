// Which fetched bodies may hold a NUL the server sent as 0x80 (see source/imap/nul-bytes.ts).

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {NulByteScanner, scanBody} from '../source/imap/nul-bytes.js';

test('plain ASCII and UTF-8 text with 0x80 inside sequences are not suspect', () => {
  assert.deepEqual(scanBody(Buffer.from('Subject: hi\r\n\r\nplain text\r\n')), {nul: false, stray80: false});
  // U+2013 EN DASH is E2 80 93, U+0400 is D0 80, U+10000 is F0 90 80 80.
  assert.deepEqual(scanBody(Buffer.from('a \u2013 b \u0400 \u{10000} \u201cq\u201d\r\n')), {nul: false, stray80: false});
});

test('a 0x80 after ASCII or after a complete sequence is suspect; a NUL is seen as it is', () => {
  assert.equal(scanBody(Buffer.from([0x41, 0x80, 0x42])).stray80, true);
  assert.equal(scanBody(Buffer.concat([Buffer.from('\u00e9'), Buffer.from([0x80])])).stray80, true);
  assert.equal(scanBody(Buffer.from([0x80])).stray80, true);
  assert.deepEqual(scanBody(Buffer.from([0x41, 0x00, 0x42])), {nul: true, stray80: false});
});

test('a UTF-8 sequence cut between chunks is followed across them', () => {
  const dash = Buffer.from('x\u2013y'); // 78 E2 80 93 79
  for (let cut = 1; cut < dash.length; cut++) {
    const scanner = new NulByteScanner();
    scanner.scan(dash.subarray(0, cut));
    scanner.scan(dash.subarray(cut));
    assert.equal(scanner.stray80, false, `cut at ${cut}`);
  }
  // A chunk that ends after a complete sequence: a 0x80 starting the next one is stray.
  const scanner = new NulByteScanner();
  scanner.scan(Buffer.from('x\u2013'));
  scanner.scan(Buffer.from([0x80, 0x41]));
  assert.equal(scanner.stray80, true);
  // Continuation bytes alone in a chunk go on the sequence begun before.
  const split = new NulByteScanner();
  split.scan(Buffer.from([0x41, 0xf0]));
  split.scan(Buffer.from([0x90]));
  split.scan(Buffer.from([0x80, 0x80, 0x41]));
  assert.equal(split.stray80, false);
});
