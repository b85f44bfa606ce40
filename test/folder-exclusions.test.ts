import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {
  exclusionProblem,
  matchExclusion,
  parseExclusion,
  parseExclusions,
} from '../source/engine/folders/folder-exclusions.js';
import {planFolders, type FolderPlanInput, type ListedFolder, type NamespaceInfo} from '../source/engine/folders/folder-mapping.js';

const DOVECOT: NamespaceInfo = {prefix: '', delimiter: '/'};
const COURIER: NamespaceInfo = {prefix: 'INBOX.', delimiter: '.'};

function folder(path: string, delimiter = '/', flags: string[] = []): ListedFolder {
  return {path, delimiter, flags, subscribed: true};
}

function plan(source: ListedFolder[], excluded: string[], sourceNs = DOVECOT, userRoot?: string) {
  const planInput: FolderPlanInput = {
    source: {folders: source, namespace: sourceNs},
    target: {
      folders: [folder('INBOX'), folder('Sent', '/', ['\\Sent']), folder('Junk', '/', ['\\Junk']), folder('Trash', '/', ['\\Trash'])],
      namespace: DOVECOT,
    },
    excluded,
  };
  if (userRoot) planInput.userRoot = userRoot;
  return planFolders(planInput);
}

describe('exclusionProblem', () => {
  const rows: [string, RegExp | undefined][] = [
    ['Archive', undefined],
    ['Archive/2019', undefined],
    ['Archive/*', undefined],
    ['Archive/', undefined],
    ['/Archive', undefined],
    ['\\Junk', undefined],
    ['\\trash', undefined],
    ['\\All', undefined],
    ['', /empty/],
    ['   ', /empty/],
    ['\\Spam', /not a special-use kind; use one of \\Sent/],
    ['*', /every folder/],
    ['/', /every folder/],
    ['Arch*', /only understood at the end/],
    ['Archive/*/old', /only understood at the end/],
    ['50%', /only understood at the end/],
  ];
  for (const [pattern, problem] of rows) {
    test(`${JSON.stringify(pattern)} ${problem ? 'is refused' : 'is accepted'}`, () => {
      const found = exclusionProblem(pattern);
      if (problem) assert.match(found ?? '', problem);
      else assert.equal(found, undefined);
      assert.equal(parseExclusion(pattern) === undefined, problem !== undefined);
    });
  }
});

describe('parseExclusion', () => {
  test('names, subtrees and kinds', () => {
    assert.deepEqual(parseExclusion('Archive/2019'), {pattern: 'Archive/2019', kind: 'exact', segments: ['Archive', '2019']});
    assert.deepEqual(parseExclusion('Archive/*'), {pattern: 'Archive/*', kind: 'subtree', segments: ['Archive']});
    assert.deepEqual(parseExclusion('Archive/'), {pattern: 'Archive/', kind: 'subtree', segments: ['Archive']});
    assert.deepEqual(parseExclusion(' /Archive '), {pattern: ' /Archive ', kind: 'exact', segments: ['Archive']});
    assert.deepEqual(parseExclusion('\\junk'), {pattern: '\\junk', kind: 'special-use', use: '\\Junk'});
    assert.deepEqual(parseExclusion('inbox/Work'), {pattern: 'inbox/Work', kind: 'exact', segments: ['INBOX', 'Work']});
  });

  test('on an INBOX.-prefixed source a leading INBOX/ is dropped, but INBOX alone stays INBOX', () => {
    const options = {inboxPrefixedSource: true};
    assert.deepEqual(parseExclusion('INBOX/Archive/*', options), {pattern: 'INBOX/Archive/*', kind: 'subtree', segments: ['Archive']});
    assert.deepEqual(parseExclusion('INBOX', options), {pattern: 'INBOX', kind: 'exact', segments: ['INBOX']});
  });

  test('parseExclusions keeps the usable patterns in order', () => {
    assert.deepEqual(
      parseExclusions(['Archive', '', '\\Nope', '\\Trash']).map((rule) => rule.pattern),
      ['Archive', '\\Trash'],
    );
  });
});

describe('matchExclusion', () => {
  const rules = parseExclusions(['Archive/2019', 'Lists/*', 'Old/', '\\Junk', 'inbox/Receipts']);
  const rows: {folder: string; use?: '\\Junk' | '\\Sent'; expected?: string; children?: boolean}[] = [
    {folder: 'Archive/2019', expected: 'Archive/2019', children: false},
    {folder: 'Archive', expected: undefined},
    {folder: 'Archive/2019/Q1', expected: undefined},
    {folder: 'Archive/2020', expected: undefined},
    {folder: 'archive/2019', expected: undefined},
    {folder: 'Lists', expected: 'Lists/*', children: true},
    {folder: 'Lists/dev/2024', expected: 'Lists/*', children: true},
    {folder: 'Listserv', expected: undefined},
    {folder: 'Old', expected: 'Old/', children: true},
    {folder: 'Old/a', expected: 'Old/', children: true},
    {folder: 'Spam', use: '\\Junk', expected: '\\Junk', children: true},
    {folder: 'Sent', use: '\\Sent', expected: undefined},
    {folder: 'INBOX/Receipts', expected: 'inbox/Receipts', children: false},
    {folder: 'Inbox/Receipts', expected: 'inbox/Receipts', children: false},
  ];
  for (const row of rows) {
    test(`${row.folder}${row.use ? ` (${row.use})` : ''} → ${row.expected ?? 'kept'}`, () => {
      const match = matchExclusion(rules, row.folder.split('/'), row.use);
      assert.equal(match?.rule.pattern, row.expected);
      if (row.expected) assert.equal(match?.coversChildren, row.children);
    });
  }

  test('names compare in Unicode NFC', () => {
    const nfd = parseExclusions(['Entwu\u0308rfe/alt']);
    assert.equal(matchExclusion(nfd, ['Entw\u00fcrfe', 'alt'])?.rule.pattern, 'Entwu\u0308rfe/alt');
  });

  test('the first matching pattern is the one named', () => {
    const ordered = parseExclusions(['Lists/*', 'Lists/dev']);
    assert.equal(matchExclusion(ordered, ['Lists', 'dev'])?.rule.pattern, 'Lists/*');
  });
});

describe('exclusions in the plan', () => {
  const source = [
    folder('INBOX'),
    folder('Archive'),
    folder('Archive/2019'),
    folder('Archive/2019/Q1'),
    folder('Archive/2020'),
    folder('Spam', '/', ['\\Junk']),
    folder('Spam/Old'),
    folder('Work'),
  ];

  test('an exact name excludes that folder only; its parent and children stay', () => {
    const result = plan(source, ['Archive/2019']);
    assert.deepEqual(result.unmigrated, [{source: 'Archive/2019', reason: 'excluded by batch setting "Archive/2019"'}]);
    const entry = result.entries.find((e) => e.source === 'Archive/2019');
    // Kept as an empty parent so that Archive/2019/Q1 has its place on the target.
    assert.deepEqual(entry && {selectable: entry.selectable, createOnTarget: entry.createOnTarget}, {selectable: false, createOnTarget: true});
    assert.ok(result.entries.some((e) => e.source === 'Archive/2019/Q1' && e.selectable));
  });

  test('a subtree excludes the folder and everything below it, each listed', () => {
    for (const pattern of ['Archive/*', 'Archive/']) {
      const result = plan(source, [pattern]);
      assert.deepEqual(
        result.unmigrated.map((u) => u.source),
        ['Archive', 'Archive/2019', 'Archive/2019/Q1', 'Archive/2020'],
      );
      assert.ok(result.unmigrated.every((u) => u.reason === `excluded by batch setting "${pattern}"`));
      assert.ok(!result.entries.some((e) => e.source.startsWith('Archive')));
    }
  });

  test('a special-use kind excludes that folder and its children', () => {
    const result = plan(source, ['\\Junk']);
    assert.deepEqual(
      result.unmigrated.map((u) => u.source),
      ['Spam', 'Spam/Old'],
    );
    assert.deepEqual(
      result.entries.map((e) => e.source),
      ['INBOX', 'Archive', 'Archive/2019', 'Archive/2019/Q1', 'Archive/2020', 'Work'],
    );
  });

  test('a kind also excludes folders recognised by name', () => {
    const result = plan([folder('INBOX'), folder('Deleted Items'), folder('Papierkorb'), folder('Work')], ['\\Trash']);
    assert.deepEqual(
      result.unmigrated.map((u) => u.source),
      ['Deleted Items', 'Papierkorb'],
    );
  });

  test('excluding the mapped special folder does not promote another one', () => {
    const result = plan([folder('INBOX'), folder('Spam', '/', ['\\Junk']), folder('Junk mail')], ['Spam']);
    assert.deepEqual(
      result.entries.map((e) => [e.source, e.target]),
      [
        ['INBOX', 'INBOX'],
        ['Junk mail', 'Junk mail'],
      ],
    );
  });

  test('patterns are case-sensitive except for INBOX', () => {
    const result = plan([folder('INBOX'), folder('INBOX/Receipts'), folder('work')], ['Work', 'inbox/Receipts']);
    assert.deepEqual(result.unmigrated.map((u) => u.source), ['INBOX/Receipts']);
  });

  test('on a Courier source, INBOX/Archive and Archive both name INBOX.Archive', () => {
    const courier = [folder('INBOX', '.'), folder('INBOX.Archive', '.'), folder('INBOX.Archive.2019', '.'), folder('INBOX.Work', '.')];
    for (const pattern of ['INBOX/Archive/*', 'Archive/*']) {
      const result = plan(courier, [pattern], COURIER);
      assert.deepEqual(result.unmigrated.map((u) => u.source), ['INBOX.Archive', 'INBOX.Archive.2019']);
    }
  });

  test('under a UserRoot, patterns name folders relative to the root', () => {
    const courier = [
      folder('INBOX.users.t', '.'),
      folder('INBOX.users.t.Archive', '.'),
      folder('INBOX.users.t.Archive.2019', '.'),
      folder('INBOX.users.t.Work', '.'),
    ];
    const result = plan(courier, ['Archive/*'], COURIER, '/users/t');
    assert.deepEqual(result.unmigrated.map((u) => u.source), ['INBOX.users.t.Archive', 'INBOX.users.t.Archive.2019']);
    assert.deepEqual(
      result.entries.map((e) => [e.source, e.target]),
      [
        ['INBOX.users.t', 'INBOX'],
        ['INBOX.users.t.Work', 'Work'],
      ],
    );
  });

  test('an unusable pattern excludes nothing', () => {
    const result = plan(source, ['\\Spam', '*']);
    assert.deepEqual(result.unmigrated, []);
  });
});
