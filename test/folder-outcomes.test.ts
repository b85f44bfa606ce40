// Where the folders that are not migrated as they are show up besides the log: the report (JSON
// rows and the folders CSV), the mailbox detail view, and the RFC 6154 commands that create a
// special-use folder (Dovecot has no CREATE-SPECIAL-USE, so those strings are checked here).

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import type {MailboxDetail} from '../source/engine/scheduler/batch-snapshot.js';
import {FOLDER_COLUMNS, buildReport, toCsv} from '../source/headless/batch-report.js';
import {createSpecialUseCommand, listOneCommand} from '../source/imap/folder-commands.js';
import {newMailboxState, type BatchState} from '../source/store/state-schema.js';
import {ASCII_GLYPHS} from '../source/ui/glyphs.js';
import {detailDocument} from '../source/ui/view-state/detail-lines.js';

const UNMIGRATED = [
  {source: '[Gmail]/All Mail', reason: 'virtual folder (\\All): it shows every message of the other folders'},
  {source: 'Broken', reason: 'the target refused to create "Broken" (server said: NO [CANNOT] nope); create it by hand or exclude it'},
];
const RENAMED = [
  {source: 'a.b', target: 'a_b', reason: 'the name contains ".", the target\'s hierarchy delimiter; replaced by "_"'},
  {
    source: 'Gesendete Elemente',
    target: 'Sent',
    reason: 'created "Sent" for this \\Sent folder: the target had no \\Sent folder and no CREATE-SPECIAL-USE (RFC 6154 section 3) to create one under the source\'s name, so the kind\'s conventional name is used; the target marks it \\Sent',
    specialUse: '\\Sent',
  },
];

describe('the report lists every folder not migrated as it is', () => {
  const mailbox = newMailboxState({emailAddress: 'erika@example.test', userName: 'erika'});
  mailbox.unmigratedFolders = structuredClone(UNMIGRATED);
  mailbox.renamedFolders = structuredClone(RENAMED);
  const state = {batch: {name: 'spring'}, mailboxes: {'erika@example.test': mailbox}} as unknown as BatchState;

  test('as JSON rows', () => {
    const report = buildReport(state);
    assert.deepEqual(
      report.folders.map((row) => [row.outcome, row.source, row.target, row.specialUse]),
      [
        ['not-migrated', '[Gmail]/All Mail', '', ''],
        ['not-migrated', 'Broken', '', ''],
        ['renamed', 'a.b', 'a_b', ''],
        ['special-use', 'Gesendete Elemente', 'Sent', '\\Sent'],
      ],
    );
    assert.ok(report.folders.every((row) => row.emailAddress === 'erika@example.test' && row.reason.length > 0));
  });

  test('as the folders CSV', () => {
    const csv = toCsv(buildReport(state).folders, FOLDER_COLUMNS).split('\r\n');
    assert.equal(csv[0], 'emailAddress,outcome,source,target,specialUse,reason');
    assert.match(csv[4]!, /^erika@example\.test,special-use,Gesendete Elemente,Sent,\\Sent,"?created "*Sent"* for this \\Sent folder/);
    assert.equal(csv.length, 6);
  });
});

describe('the mailbox detail shows them', () => {
  const detail: MailboxDetail = {
    emailAddress: 'erika@example.test',
    folders: [],
    skipped: [],
    failed: [],
    changed: [],
    errors: [],
    unmigratedFolders: UNMIGRATED,
    renamedFolders: RENAMED,
    droppedKeywords: [],
  };

  test('with the reason, wrapped rather than cut at the screen width', () => {
    const document = detailDocument(undefined, detail, {width: 80, glyphs: ASCII_GLYPHS, now: new Date()});
    const text = document.lines.map((line) => line.text);
    const notMigrated = text.indexOf('Folders not migrated (2)');
    assert.ok(notMigrated >= 0, text.join('\n'));
    assert.match(text[notMigrated + 1]!, /^ {2}\[Gmail\]\/All Mail: virtual folder \(\\All\)/);
    assert.ok(text.some((line) => line.includes('Broken: the target refused to create "Broken"')));
    const renamed = text.indexOf('Renamed and special-use folders (2)');
    assert.ok(renamed >= 0, text.join('\n'));
    const special = text.slice(renamed).join(' ');
    assert.match(special, /Gesendete Elemente -> Sent: created "Sent" for this \\Sent folder/);
    assert.match(special, /the target marks it\s+\\Sent/);
    assert.ok(text.every((line) => line.length <= 80));
    assert.equal(document.lines[notMigrated + 1]!.tone, 'warn');
  });
});

describe('RFC 6154 commands', () => {
  test('CREATE with USE, section 3 (create-param "USE" SP "(" use-attr ")")', () => {
    assert.equal(createSpecialUseCommand('Gesendete Elemente', '\\Sent'), 'CREATE "Gesendete Elemente" (USE (\\Sent))');
    assert.equal(createSpecialUseCommand('Entwürfe', '\\Drafts'), 'CREATE "Entw&APw-rfe" (USE (\\Drafts))');
    assert.throws(() => createSpecialUseCommand('x', 'Sent) (X'), /not a special-use attribute/);
  });

  test('LIST of one folder asks for its subscription and attribute', () => {
    assert.equal(listOneCommand('INBOX', true, true), 'LIST "" "INBOX" RETURN (SUBSCRIBED SPECIAL-USE)');
    assert.equal(listOneCommand('Sent', true, false), 'LIST "" "Sent" RETURN (SUBSCRIBED)');
    assert.equal(listOneCommand('Sent', false, true), 'LIST "" "Sent"');
  });
});
