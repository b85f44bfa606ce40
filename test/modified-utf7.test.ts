// Modified UTF-7 mailbox names (RFC 3501 section 5.1.3) as the pipelined appender sends them.
// Expected values are the RFC's own examples and what imapflow (iconv-lite 'utf-7-imap') and
// Dovecot produce for the same names; every encoding is also decoded back with imapflow's
// decoder, the one that reads the names the server lists.

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
// imapflow exports its dist files as 'imapflow/lib/*.js'; decodePath is what LIST results go through.
import {decodePath, encodePath} from 'imapflow/lib/tools.js';
import {decodeModifiedUtf7, encodeModifiedUtf7} from '../source/imap/modified-utf7.js';

// A connection that has not enabled UTF8=ACCEPT or IMAP4rev2, so imapflow uses modified UTF-7.
// decodePath/encodePath read only these two fields of the ImapFlow instance they are given.
const rev1Connection = {enabled: new Set<string>(), capabilities: new Set<string>(['IMAP4rev1'])} as unknown as Parameters<typeof decodePath>[0];
const imapflowDecode = (encoded: string): string => decodePath(rev1Connection, encoded);
const imapflowEncode = (name: string): string => encodePath(rev1Connection, name);

const table: Array<[name: string, encoded: string, why: string]> = [
  ['INBOX', 'INBOX', 'plain ASCII stays as is'],
  ['Sent Items', 'Sent Items', 'spaces are printable ASCII'],
  ['Projects/2024.Q1', 'Projects/2024.Q1', 'separators and dots are not touched'],
  ['~!"#$%\'()*+,-./:;<=>?@[\\]^_`{|}', '~!"#$%\'()*+,-./:;<=>?@[\\]^_`{|}', 'every printable ASCII character but & represents itself'],
  ['&', '&-', '& alone'],
  ['A&B', 'A&-B', '& inside a name'],
  ['&&', '&-&-', 'each & separately'],
  ['Clients & Partners', 'Clients &- Partners', '& between spaces'],
  ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-', 'RFC 3501 example; base64 "/" becomes ","'],
  ['台北日本語', '&U,BTF2XlZyyKng-', 'adjacent non-ASCII characters share one base64 run (RFC: "&U,BTFw-&ZeVnLIqe-" is illegal)'],
  ['Entwürfe', 'Entw&APw-rfe', 'one umlaut inside ASCII'],
  ['Gelöschte Elemente', 'Gel&APY-schte Elemente', 'umlaut then ASCII with a space'],
  ['Ärger/Übersicht', '&AMQ-rger/&ANw-bersicht', 'non-ASCII at the start of each level'],
  ['Почта', '&BB8EPgRHBEIEMA-', 'Cyrillic'],
  ['Входящие', '&BBIERQQ+BDQETwRJBDgENQ-', 'base64 "+" stays "+"'],
  ['ä-ö', '&AOQ--&APY-', 'a literal "-" right after a base64 run'],
  ['\u{FFFF}', '&,,8-', 'all-ones bits: "/" in base64 twice'],
  ['😀', '&2D3eAA-', 'emoji: a UTF-16 surrogate pair in one run'],
  ['a😀b', 'a&2D3eAA-b', 'surrogate pair between ASCII'],
  ['📁 Ablage 🗂️', '&2D3cwQ- Ablage &2D3dwv4P-', 'emoji followed by a variation selector share a run'],
  ['Tab\there', 'Tab&AAk-here', 'control characters are not printable ASCII'],
  ['del\x7f', 'del&AH8-', 'DEL is not printable ASCII'],
  ['', '', 'empty name'],
];

describe('encodeModifiedUtf7', () => {
  for (const [name, encoded, why] of table) {
    test(`${JSON.stringify(name)} -> ${encoded} (${why})`, () => {
      assert.equal(encodeModifiedUtf7(name), encoded);
    });
  }

  test('the output is printable ASCII only and every "&" is "&-" or opens a shift without "=" padding', () => {
    for (const [name] of table) {
      const encoded = encodeModifiedUtf7(name);
      assert.match(encoded, /^[\x20-\x7e]*$/, name);
      // Inside a shift only the modified base64 alphabet (no "/", no "=").
      assert.match(encoded, /^(?:[\x20-\x25\x27-\x7e]|&-|&[A-Za-z0-9+,]+-)*$/, name);
    }
  });
});

describe('round trip through imapflow\'s decoder', () => {
  for (const [name] of table) {
    test(`${JSON.stringify(name)} decodes back unchanged`, () => {
      assert.equal(imapflowDecode(encodeModifiedUtf7(name)), name);
    });
  }

  test('every BMP code unit class and many surrogate pairs decode back (generated names)', () => {
    // Deterministic spread over the interesting ranges: ASCII, Latin-1, CJK, private use,
    // specials and astral planes, mixed with ASCII so shifts open and close often. U+FEFF is left
    // out: iconv-lite drops it as a byte order mark when it opens a shift.
    const samples: string[] = [];
    const codePoints = [0x41, 0x26, 0x2d, 0xe4, 0x391, 0x5d0, 0x627, 0x4e2d, 0xac00, 0xe000, 0xfffd, 0x7e, 0x1f600, 0x1f4e7, 0x10ffff, 0x20000];
    for (let i = 0; i < 200; i++) {
      let name = '';
      for (let j = 0; j < 1 + (i % 7); j++) name += String.fromCodePoint(codePoints[(i * 7 + j * 3) % codePoints.length]!);
      samples.push(name);
    }
    for (const name of samples) assert.equal(imapflowDecode(encodeModifiedUtf7(name)), name, JSON.stringify(name));
  });

  test('imapflow encodes every name it encodes at all exactly the same way', () => {
    // imapflow (iconv-lite) leaves names without "&" or non-ASCII untouched, including those with
    // tab or DEL (which the RFC says must be encoded), so only names it does encode are compared.
    for (const [name, encoded] of table) {
      if (/[&\u0080-\uffff]/.test(name)) assert.equal(imapflowEncode(name), encoded, JSON.stringify(name));
    }
  });
});

describe('decodeModifiedUtf7 (names as a raw LIST returns them)', () => {
  for (const [name, encoded] of table) {
    test(`${encoded} -> ${JSON.stringify(name)}, as imapflow decodes it`, () => {
      assert.equal(decodeModifiedUtf7(encoded), name);
      assert.equal(decodeModifiedUtf7(encoded), imapflowDecode(encoded));
    });
  }

  test('generated names decode back unchanged', () => {
    const codePoints = [0x41, 0x26, 0x2d, 0xe4, 0x391, 0x4e2d, 0xe000, 0xfffd, 0x1f600, 0x10ffff];
    for (let i = 0; i < 100; i++) {
      let name = '';
      for (let j = 0; j < 1 + (i % 5); j++) name += String.fromCodePoint(codePoints[(i * 3 + j * 7) % codePoints.length]!);
      assert.equal(decodeModifiedUtf7(encodeModifiedUtf7(name)), name, JSON.stringify(name));
    }
  });

  test('a malformed run is kept as written', () => {
    for (const bad of ['a&b', 'x&AOQ', '&Jjo!-', '&AOQA-']) assert.equal(decodeModifiedUtf7(bad), bad);
  });
});
