import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {encodeModifiedUtf7} from '../bench/mutf7.js';

// Expected values are Dovecot's own directory names for these folders (doveadm mailbox path).
describe('bench corpus: modified UTF-7 folder names (RFC 3501 5.1.3)', () => {
  const cases: Array<[string, string]> = [
    ['INBOX', 'INBOX'],
    ['Archive 2023', 'Archive 2023'],
    ['Clients & Partners', 'Clients &- Partners'],
    ['Überprüfung', '&ANw-berpr&APw-fung'],
    ['日本語', '&ZeVnLIqe-'],
    ['日本語のメール', '&ZeVnLIqeMG4w4TD8MOs-'],
    ['Входящие', '&BBIERQQ+BDQETwRJBDgENQ-'],
    ['Важное', '&BBIEMAQ2BD0EPgQ1-'],
    // base64 '/' becomes ',' in modified UTF-7
    ['\u{FFFF}', '&,,8-'],
  ];
  for (const [name, encoded] of cases) {
    it(`${name} -> ${encoded}`, () => assert.equal(encodeModifiedUtf7(name), encoded));
  }
});
