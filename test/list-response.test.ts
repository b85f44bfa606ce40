// Untagged LIST / LSUB / STATUS / NAMESPACE responses as a raw session hands them over (literals
// inline after "{n}\r\n"), including the forms Dovecot, Cyrus, Courier and Exchange send.

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {parseImapValues, parseListResponse, parseNamespaceResponse, parseStatusResponse} from '../source/imap/list-response.js';

describe('parseListResponse', () => {
  const rows: [line: string, expected: ReturnType<typeof parseListResponse>][] = [
    ['* LIST (\\HasNoChildren) "/" INBOX', {flags: ['\\HasNoChildren'], delimiter: '/', name: 'INBOX'}],
    ['* LIST (\\Subscribed \\HasNoChildren \\UnMarked \\Sent) "/" Sent', {flags: ['\\Subscribed', '\\HasNoChildren', '\\UnMarked', '\\Sent'], delimiter: '/', name: 'Sent'}],
    ['* LIST () "." "INBOX.Sent Items"', {flags: [], delimiter: '.', name: 'INBOX.Sent Items'}],
    ['* list (\\Noselect) "/" "Clients &- Partners"', {flags: ['\\Noselect'], delimiter: '/', name: 'Clients &- Partners'}],
    ['* LIST (\\HasChildren) "/" &BBIERQQ+BDQETwRJBDgENQ-/&BBIEMAQ2BD0EPgQ1-', {flags: ['\\HasChildren'], delimiter: '/', name: '&BBIERQQ+BDQETwRJBDgENQ-/&BBIEMAQ2BD0EPgQ1-'}],
    ['* LIST (\\NonExistent) NIL "flat"', {flags: ['\\NonExistent'], delimiter: '', name: 'flat'}],
    ['* LIST () "\\\\" "a\\\\b \\"q\\""', {flags: [], delimiter: '\\', name: 'a\\b "q"'}],
    ['* LIST () "/" {10}\r\nwith "q" )', {flags: [], delimiter: '/', name: 'with "q" )'}],
    ['* LIST (\\Subscribed) "/" "Archive" ("CHILDINFO" ("SUBSCRIBED"))', {flags: ['\\Subscribed'], delimiter: '/', name: 'Archive'}],
    ['* STATUS INBOX (MESSAGES 1)', undefined],
  ];
  for (const [line, expected] of rows) {
    test(JSON.stringify(line), () => assert.deepEqual(parseListResponse(line), expected));
  }

  test('LSUB lines when asked for them', () => {
    assert.deepEqual(parseListResponse('* LSUB () "/" "Archive/2023"', 'LSUB'), {flags: [], delimiter: '/', name: 'Archive/2023'});
    assert.equal(parseListResponse('* LSUB () "/" "Archive/2023"'), undefined);
  });

  test('a line that does not parse is an error, not a folder', () => {
    for (const line of ['* LIST (\\HasNoChildren "/" INBOX', '* LIST () "/" {20}\r\nshort', '* LIST () "/" "open', '* LIST () "/"']) {
      assert.throws(() => parseListResponse(line), /unreadable/, JSON.stringify(line));
    }
  });
});

describe('parseStatusResponse', () => {
  const rows: [line: string, expected: ReturnType<typeof parseStatusResponse>][] = [
    [
      '* STATUS Sent (UIDNEXT 5 UIDVALIDITY 1795301891 HIGHESTMODSEQ 12)',
      {name: 'Sent', items: {UIDNEXT: '5', UIDVALIDITY: '1795301891', HIGHESTMODSEQ: '12'}},
    ],
    ['* STATUS "Clients &- Partners" (messages 0 uidnext 1)', {name: 'Clients &- Partners', items: {MESSAGES: '0', UIDNEXT: '1'}}],
    ['* STATUS {5}\r\nR&-D  (MESSAGES 2)', {name: 'R&-D ', items: {MESSAGES: '2'}}],
    ['* STATUS INBOX ()', {name: 'INBOX', items: {}}],
    ['* LIST () "/" INBOX', undefined],
  ];
  for (const [line, expected] of rows) {
    test(JSON.stringify(line), () => assert.deepEqual(parseStatusResponse(line), expected));
  }
});

describe('parseNamespaceResponse', () => {
  const rows: [line: string, expected: ReturnType<typeof parseNamespaceResponse>][] = [
    ['* NAMESPACE (("" "/")) NIL NIL', [{prefix: '', delimiter: '/'}]],
    ['* NAMESPACE (("INBOX." ".")) (("user." ".")) (("shared." "."))', [{prefix: 'INBOX.', delimiter: '.'}]],
    ['* NAMESPACE (("INBOX" ".")) NIL NIL', [{prefix: 'INBOX.', delimiter: '.'}]],
    ['* NAMESPACE (("" NIL)) NIL NIL', [{prefix: '', delimiter: ''}]],
    ['* NAMESPACE (("" "/" "X-PARAM" ("x"))) NIL NIL', [{prefix: '', delimiter: '/'}]],
    ['* NAMESPACE NIL NIL NIL', []],
    ['* LIST () "/" INBOX', undefined],
  ];
  for (const [line, expected] of rows) {
    test(JSON.stringify(line), () => assert.deepEqual(parseNamespaceResponse(line), expected));
  }
});

describe('parseImapValues', () => {
  test('nested lists, NIL, atoms, strings and literals counted in bytes', () => {
    assert.deepEqual(parseImapValues('(a (b NIL) "c d") {3}\r\näb x'), [['a', ['b', null], 'c d'], 'äb', 'x']);
  });
});
