import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {
  carryCreatedSpecialUse,
  fallbackFolderName,
  planFolders,
  retargetChildren,
  specialUseByName,
  type FolderPlan,
  type FolderPlanInput,
  type ListedFolder,
  type NamespaceInfo,
  type SpecialUse,
} from '../source/engine/folders/folder-mapping.js';
import {knownSpecialUseNames} from '../source/engine/folders/special-use-names.js';

const DOVECOT: NamespaceInfo = {prefix: '', delimiter: '/'};
const DOVECOT_DOT: NamespaceInfo = {prefix: '', delimiter: '.'};
const COURIER: NamespaceInfo = {prefix: 'INBOX.', delimiter: '.'};

function folder(path: string, delimiter = '/', flags: string[] = [], subscribed = true): ListedFolder {
  return {path, delimiter, flags, subscribed};
}
function many(delimiter: string, ...paths: string[]): ListedFolder[] {
  return paths.map((path) => folder(path, delimiter));
}
/** A target as Dovecot sets one up with special-use flags on its system folders. */
function flaggedDovecot(): ListedFolder[] {
  return [
    folder('INBOX'),
    folder('Sent', '/', ['\\Sent']),
    folder('Drafts', '/', ['\\Drafts']),
    folder('Trash', '/', ['\\Trash']),
    folder('Junk', '/', ['\\Junk']),
    folder('Archive', '/', ['\\Archive']),
  ];
}

function input(partial: {
  source: ListedFolder[];
  sourceNs?: NamespaceInfo;
  target?: ListedFolder[];
  targetNs?: NamespaceInfo;
  caseInsensitive?: boolean;
  createSpecialUse?: boolean;
  userRoot?: string;
  excluded?: string[];
  otherNamespaces?: NamespaceInfo[];
  /** the source advertises X-GM-EXT-1 */
  gmail?: boolean;
}): FolderPlanInput {
  const targetNs = partial.targetNs ?? DOVECOT;
  const result: FolderPlanInput = {
    source: {folders: partial.source, namespace: partial.sourceNs ?? DOVECOT},
    target: {
      folders: partial.target ?? [folder('INBOX', targetNs.delimiter)],
      namespace: targetNs,
      caseInsensitive: partial.caseInsensitive ?? false,
      supportsCreateSpecialUse: partial.createSpecialUse ?? false,
    },
    excluded: partial.excluded ?? [],
  };
  if (partial.userRoot !== undefined) result.userRoot = partial.userRoot;
  if (partial.otherNamespaces) result.source.otherNamespaces = partial.otherNamespaces;
  if (partial.gmail) result.sourceIsGmail = true;
  return result;
}

/** source → target of every entry, in plan order. */
function mapping(plan: FolderPlan): [string, string][] {
  return plan.entries.map((entry) => [entry.source, entry.target]);
}
function entryFor(plan: FolderPlan, source: string) {
  const entry = plan.entries.find((e) => e.source === source);
  assert.ok(entry, `no plan entry for source "${source}" in ${JSON.stringify(mapping(plan))}`);
  return entry;
}

/** The target as it is after the sync carried out `plan` (folders created, USE flags granted). */
function targetAfter(plan: FolderPlan, before: FolderPlanInput): ListedFolder[] {
  const delimiter = before.target.namespace.delimiter;
  const folders = before.target.folders.map((f) => ({...f, flags: [...f.flags]}));
  for (const entry of plan.entries) {
    if (!entry.createOnTarget) continue;
    const flags = entry.createSpecialUse && before.target.supportsCreateSpecialUse ? [entry.createSpecialUse] : [];
    const present = folders.find((f) => f.path === entry.target);
    if (present) present.flags = present.flags.filter((flag) => flag !== '\\Noselect');
    else folders.push(folder(entry.target, delimiter, flags));
  }
  return folders;
}

function secondRun(first: FolderPlanInput): {plan1: FolderPlan; plan2: FolderPlan} {
  const plan1 = planFolders(first);
  const plan2 = planFolders({...first, target: {...first.target, folders: targetAfter(plan1, first)}});
  return {plan1, plan2};
}

function assertParentsFirst(plan: FolderPlan, planInput: FolderPlanInput): void {
  const delimiter = planInput.target.namespace.delimiter || '/';
  const known = new Set(planInput.target.folders.map((f) => f.path));
  known.add('INBOX');
  for (const entry of plan.entries) {
    const cut = entry.target.lastIndexOf(delimiter);
    const parent = cut > 0 ? entry.target.slice(0, cut) : undefined;
    if (parent !== undefined && parent + delimiter !== planInput.target.namespace.prefix) {
      assert.ok(known.has(parent), `parent "${parent}" of "${entry.target}" is neither on the target nor earlier in the plan`);
    }
    known.add(entry.target);
  }
}

describe('logical names across namespaces and delimiters (rule 1)', () => {
  const cases: {
    name: string;
    sourceNs: NamespaceInfo;
    source: ListedFolder[];
    targetNs: NamespaceInfo;
    expected: [string, string][];
  }[] = [
    {
      name: 'Dovecot "/" to Courier "INBOX."',
      sourceNs: DOVECOT,
      source: many('/', 'INBOX', 'Work', 'Work/Project', 'Work/Project/2024', 'Receipts'),
      targetNs: COURIER,
      expected: [
        ['INBOX', 'INBOX'],
        ['Receipts', 'INBOX.Receipts'],
        ['Work', 'INBOX.Work'],
        ['Work/Project', 'INBOX.Work.Project'],
        ['Work/Project/2024', 'INBOX.Work.Project.2024'],
      ],
    },
    {
      name: 'Courier "INBOX." to Dovecot "/"',
      sourceNs: COURIER,
      source: many('.', 'INBOX', 'INBOX.Work', 'INBOX.Work.Project', 'INBOX.Receipts'),
      targetNs: DOVECOT,
      expected: [
        ['INBOX', 'INBOX'],
        ['INBOX.Receipts', 'Receipts'],
        ['INBOX.Work', 'Work'],
        ['INBOX.Work.Project', 'Work/Project'],
      ],
    },
    {
      name: 'unprefixed "." to unprefixed "/"',
      sourceNs: DOVECOT_DOT,
      source: many('.', 'INBOX', 'Work', 'Work.Project'),
      targetNs: DOVECOT,
      expected: [
        ['INBOX', 'INBOX'],
        ['Work', 'Work'],
        ['Work.Project', 'Work/Project'],
      ],
    },
    {
      name: 'unprefixed "/" to unprefixed "."',
      sourceNs: DOVECOT,
      source: many('/', 'INBOX', 'Work', 'Work/Project'),
      targetNs: DOVECOT_DOT,
      expected: [
        ['INBOX', 'INBOX'],
        ['Work', 'Work'],
        ['Work/Project', 'Work.Project'],
      ],
    },
    {
      name: 'Courier to Courier keeps the prefix',
      sourceNs: COURIER,
      source: many('.', 'INBOX', 'INBOX.Work', 'INBOX.Work.Project'),
      targetNs: COURIER,
      expected: [
        ['INBOX', 'INBOX'],
        ['INBOX.Work', 'INBOX.Work'],
        ['INBOX.Work.Project', 'INBOX.Work.Project'],
      ],
    },
    {
      name: 'international names pass through unchanged',
      sourceNs: COURIER,
      source: many('.', 'INBOX', 'INBOX.Почта', 'INBOX.Почта.Входящие', 'INBOX.日本語', 'INBOX.日本語.プロジェクト', 'INBOX.Bücher'),
      targetNs: DOVECOT,
      expected: [
        ['INBOX', 'INBOX'],
        ['INBOX.Bücher', 'Bücher'],
        ['INBOX.Почта', 'Почта'],
        ['INBOX.Почта.Входящие', 'Почта/Входящие'],
        ['INBOX.日本語', '日本語'],
        ['INBOX.日本語.プロジェクト', '日本語/プロジェクト'],
      ],
    },
    {
      name: 'INBOX children on an unprefixed source stay INBOX children on a prefixed target',
      sourceNs: DOVECOT,
      source: many('/', 'INBOX', 'INBOX/Sub', 'INBOX/Sub/Deeper'),
      targetNs: COURIER,
      expected: [
        ['INBOX', 'INBOX'],
        ['INBOX/Sub', 'INBOX.Sub'],
        ['INBOX/Sub/Deeper', 'INBOX.Sub.Deeper'],
      ],
    },
    {
      name: 'INBOX children between unprefixed servers keep INBOX as parent',
      sourceNs: DOVECOT,
      source: many('/', 'INBOX', 'INBOX/Sub'),
      targetNs: DOVECOT_DOT,
      expected: [
        ['INBOX', 'INBOX'],
        ['INBOX/Sub', 'INBOX.Sub'],
      ],
    },
    {
      name: 'INBOX spelled in other cases is INBOX',
      sourceNs: DOVECOT,
      source: many('/', 'Inbox', 'inbox/Sub'),
      targetNs: DOVECOT,
      expected: [
        ['Inbox', 'INBOX'],
        ['inbox/Sub', 'INBOX/Sub'],
      ],
    },
    {
      name: 'a flat target (no delimiter) gets "/" inside names',
      sourceNs: DOVECOT,
      source: many('/', 'INBOX', 'Work', 'Work/Project'),
      targetNs: {prefix: '', delimiter: ''},
      expected: [
        ['INBOX', 'INBOX'],
        ['Work', 'Work'],
        ['Work/Project', 'Work/Project'],
      ],
    },
    {
      name: 'a namespace prefix that is not INBOX',
      sourceNs: {prefix: 'Mail/', delimiter: '/'},
      source: [folder('INBOX'), folder('Mail', '/', ['\\Noselect']), folder('Mail/Work'), folder('Mail/Work/Project')],
      targetNs: COURIER,
      expected: [
        ['INBOX', 'INBOX'],
        ['Mail/Work', 'INBOX.Work'],
        ['Mail/Work/Project', 'INBOX.Work.Project'],
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const planInput = input({source: c.source, sourceNs: c.sourceNs, targetNs: c.targetNs, target: [folder('INBOX', c.targetNs.delimiter)]});
      const plan = planFolders(planInput);
      assert.deepEqual(mapping(plan), c.expected);
      assert.deepEqual(plan.unmigrated, []);
      assert.deepEqual(plan.renamed, []);
      assertParentsFirst(plan, planInput);
    });
  }

  test('folders outside the personal namespace are listed as unmigrated', () => {
    const plan = planFolders(
      input({
        sourceNs: COURIER,
        source: many('.', 'INBOX', 'INBOX.Work', 'shared.Announcements', 'user.bob.Sent'),
        target: [folder('INBOX')],
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['INBOX.Work', 'Work'],
    ]);
    assert.deepEqual(
      plan.unmigrated.map((u) => u.source),
      ['shared.Announcements', 'user.bob.Sent'],
    );
    assert.match(plan.unmigrated[0]!.reason, /outside the personal namespace "INBOX\."/);
  });

  test('folders in a shared namespace given as otherNamespaces are listed as unmigrated', () => {
    const plan = planFolders(
      input({
        source: [folder('INBOX'), folder('Work'), folder('shared', '/', ['\\Noselect']), folder('shared/bob/Sent')],
        otherNamespaces: [{prefix: 'shared/', delimiter: '/'}],
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Work', 'Work'],
    ]);
    assert.deepEqual(
      plan.unmigrated.map((u) => u.source),
      ['shared', 'shared/bob/Sent'],
    );
    assert.match(plan.unmigrated[1]!.reason, /"shared\/" namespace/);
  });
});

describe('special-use by flag (rule 3)', () => {
  test('flagged folders land in the target folders of the same kind, whatever their names', () => {
    const plan = planFolders(
      input({
        source: [
          folder('INBOX'),
          folder('Sent Items', '/', ['\\Sent']),
          folder('Entwürfe', '/', ['\\Drafts']),
          folder('Deleted Items', '/', ['\\Trash']),
          folder('Junk E-mail', '/', ['\\Junk']),
          folder('Archives', '/', ['\\Archive']),
        ],
        target: flaggedDovecot(),
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Archives', 'Archive'],
      ['Deleted Items', 'Trash'],
      ['Entwürfe', 'Drafts'],
      ['Junk E-mail', 'Junk'],
      ['Sent Items', 'Sent'],
    ]);
    assert.ok(plan.entries.every((e) => !e.createOnTarget));
    assert.equal(entryFor(plan, 'Sent Items').specialUse, '\\Sent');
  });

  test('a flag wins over a name anywhere in the tree', () => {
    const plan = planFolders(
      input({
        source: [folder('INBOX'), folder('Sent'), folder('Mail/Outgoing', '/', ['\\Sent']), folder('Mail', '/', ['\\Noselect'])],
        target: flaggedDovecot(),
      }),
    );
    assert.equal(entryFor(plan, 'Mail/Outgoing').target, 'Sent');
    // The unflagged "Sent" keeps its name, which the designated folder took: rule 6 renames it.
    assert.equal(entryFor(plan, 'Sent').target, 'Sent (2)');
    assert.equal(entryFor(plan, 'Sent').specialUse, undefined);
    assert.deepEqual(plan.renamed.map((r) => [r.source, r.target]), [['Sent', 'Sent (2)']]);
    assert.match(plan.renamed[0]!.reason, /"Mail\/Outgoing" already goes to "Sent"/);
  });

  test('children of a special folder move with it', () => {
    const plan = planFolders(
      input({
        source: [
          folder('INBOX'),
          folder('Sent Items', '/', ['\\Sent']),
          folder('Sent Items/2019'),
          folder('Sent Items/2019/Q1'),
          folder('Deleted Items', '/', ['\\Trash']),
          folder('Deleted Items/Old project'),
        ],
        target: flaggedDovecot(),
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Deleted Items', 'Trash'],
      ['Deleted Items/Old project', 'Trash/Old project'],
      ['Sent Items', 'Sent'],
      ['Sent Items/2019', 'Sent/2019'],
      ['Sent Items/2019/Q1', 'Sent/2019/Q1'],
    ]);
    assert.equal(entryFor(plan, 'Sent Items/2019').specialUse, undefined);
  });

  test('only one flagged folder per kind is mapped; the best-named wins and the others keep their names', () => {
    const plan = planFolders(
      input({
        source: [folder('INBOX'), folder('Sent Messages', '/', ['\\Sent']), folder('Sent', '/', ['\\Sent'])],
        target: [folder('INBOX'), folder('Gesendet', '/', ['\\Sent'])],
      }),
    );
    assert.equal(entryFor(plan, 'Sent').target, 'Gesendet');
    assert.equal(entryFor(plan, 'Sent Messages').target, 'Sent Messages');
    assert.equal(entryFor(plan, 'Sent Messages').specialUse, '\\Sent');
  });

  test('a specialUse from the server or a user hint counts as a flag; imapflow name guesses do not', () => {
    const source: ListedFolder[] = [
      folder('INBOX'),
      {path: 'Outbox copies', delimiter: '/', flags: [], specialUse: '\\Sent', specialUseSource: 'extension', subscribed: true},
      {path: 'Gesendet', delimiter: '/', flags: [], specialUse: '\\Sent', specialUseSource: 'name', subscribed: true},
      {path: 'Kept', delimiter: '/', flags: [], specialUse: '\\Archive', specialUseSource: 'user', subscribed: true},
    ];
    const plan = planFolders(input({source, target: flaggedDovecot()}));
    assert.equal(entryFor(plan, 'Outbox copies').target, 'Sent');
    // \Sent is flagged on the source, so names no longer decide that kind.
    assert.equal(entryFor(plan, 'Gesendet').target, 'Gesendet');
    assert.equal(entryFor(plan, 'Kept').target, 'Archive');
  });

  test('flags are matched without regard to case', () => {
    const plan = planFolders(input({source: [folder('INBOX'), folder('Outgoing', '/', ['\\SENT'])], target: flaggedDovecot()}));
    assert.equal(entryFor(plan, 'Outgoing').target, 'Sent');
  });

  test('a kind nobody flags on the source is still recognised by name', () => {
    const plan = planFolders(
      input({
        source: [folder('INBOX'), folder('Sent', '/', ['\\Sent']), folder('Spam'), folder('Papierkorb')],
        target: flaggedDovecot(),
      }),
    );
    assert.equal(entryFor(plan, 'Spam').target, 'Junk');
    assert.equal(entryFor(plan, 'Papierkorb').target, 'Trash');
  });

  test('with no folder of the kind on the target, the name is kept and CREATE-SPECIAL-USE asks for the flag', () => {
    const source = [folder('INBOX'), folder('Sent Items', '/', ['\\Sent']), folder('Spam', '/', ['\\Junk'])];
    const target = [folder('INBOX'), folder('Spam')];
    const withUse = planFolders(input({source, target, createSpecialUse: true}));
    assert.deepEqual(entryFor(withUse, 'Sent Items'), {
      source: 'Sent Items',
      target: 'Sent Items',
      specialUse: '\\Sent',
      createOnTarget: true,
      createSpecialUse: '\\Sent',
      subscribe: true,
      selectable: true,
      sourceListed: true,
    });
    // The target's unflagged "Spam" is the designated folder's own name: reused, nothing to ask.
    assert.equal(entryFor(withUse, 'Spam').createOnTarget, false);
    assert.equal(entryFor(withUse, 'Spam').createSpecialUse, undefined);
    assert.deepEqual(withUse.renamed, []);
    // Without CREATE-SPECIAL-USE the kind's conventional name, which the target may know.
    const withoutUse = planFolders(input({source, target, createSpecialUse: false}));
    assert.equal(entryFor(withoutUse, 'Sent Items').target, 'Sent');
    assert.equal(entryFor(withoutUse, 'Sent Items').createOnTarget, true);
    assert.equal(entryFor(withoutUse, 'Sent Items').createSpecialUse, undefined);
    assert.deepEqual(withoutUse.renamed.map((r) => [r.source, r.target, r.specialUse]), [['Sent Items', 'Sent', '\\Sent']]);
    assert.match(withoutUse.renamed[0]!.reason, /^created "Sent" for this \\Sent folder: .*no CREATE-SPECIAL-USE.*conventional name/);
  });

  test('a target without SPECIAL-USE has its special folders found by name', () => {
    const plan = planFolders(
      input({
        source: [folder('INBOX'), folder('Sent Items', '/', ['\\Sent']), folder('Deleted Items', '/', ['\\Trash'])],
        target: many('.', 'INBOX', 'INBOX.Sent', 'INBOX.Trash'),
        targetNs: COURIER,
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Deleted Items', 'INBOX.Trash'],
      ['Sent Items', 'INBOX.Sent'],
    ]);
  });

  test('a name-matched target folder that another source folder lands on by name is not taken', () => {
    const plan = planFolders(
      input({
        source: [folder('INBOX'), folder('Sent Items', '/', ['\\Sent']), folder('Sent')],
        target: many('.', 'INBOX', 'INBOX.Sent'),
        targetNs: COURIER,
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Sent', 'INBOX.Sent'],
      ['Sent Items', 'INBOX.Sent Items'],
    ]);
    assert.deepEqual(plan.renamed, []);
  });
});

describe('special-use by localized name (rule 3)', () => {
  const TARGET_FOR: Record<string, string> = {
    '\\Sent': 'Sent',
    '\\Drafts': 'Drafts',
    '\\Trash': 'Trash',
    '\\Junk': 'Junk',
    '\\Archive': 'Archive',
  };
  const rows: [string, SpecialUse][] = [
    ['Sent', '\\Sent'],
    ['Sent Items', '\\Sent'],
    ['Sent Messages', '\\Sent'],
    ['Sent Mail', '\\Sent'],
    ['[Gmail]/Sent Mail', '\\Sent'],
    ['Gesendet', '\\Sent'],
    ['Gesendete Elemente', '\\Sent'],
    ['Elementi inviati', '\\Sent'],
    ['Posta inviata', '\\Sent'],
    ['Envoyés', '\\Sent'],
    ['Éléments envoyés', '\\Sent'],
    ['Enviados', '\\Sent'],
    ['Elementos enviados', '\\Sent'],
    ['Wysłane', '\\Sent'],
    ['Elementy wysłane', '\\Sent'],
    ['Απεσταλμένα', '\\Sent'],
    ['Sendt', '\\Sent'],
    ['Sendte elementer', '\\Sent'],
    ['Verzonden items', '\\Sent'],
    ['Отправленные', '\\Sent'],
    ['Drafts', '\\Drafts'],
    ['Entwürfe', '\\Drafts'],
    ['Bozze', '\\Drafts'],
    ['Brouillons', '\\Drafts'],
    ['Borradores', '\\Drafts'],
    ['Kopie robocze', '\\Drafts'],
    ['Πρόχειρα', '\\Drafts'],
    ['Kladder', '\\Drafts'],
    ['Concepten', '\\Drafts'],
    ['Черновики', '\\Drafts'],
    ['[Gmail]/Drafts', '\\Drafts'],
    ['Trash', '\\Trash'],
    ['Deleted Items', '\\Trash'],
    ['Deleted Messages', '\\Trash'],
    ['Bin', '\\Trash'],
    ['Papierkorb', '\\Trash'],
    ['Gelöschte Elemente', '\\Trash'],
    ['Cestino', '\\Trash'],
    ['Corbeille', '\\Trash'],
    ['Papelera', '\\Trash'],
    ['Kosz', '\\Trash'],
    ['Κάδος απορριμμάτων', '\\Trash'],
    ['Papirkurv', '\\Trash'],
    ['Slettet post', '\\Trash'],
    ['Prullenbak', '\\Trash'],
    ['Корзина', '\\Trash'],
    ['[Gmail]/Trash', '\\Trash'],
    ['[Google Mail]/Bin', '\\Trash'],
    ['Junk', '\\Junk'],
    ['Spam', '\\Junk'],
    ['Junk E-mail', '\\Junk'],
    ['Bulk Mail', '\\Junk'],
    ['Junk-E-Mail', '\\Junk'],
    ['Posta indesiderata', '\\Junk'],
    ['Courrier indésirable', '\\Junk'],
    ['Correo no deseado', '\\Junk'],
    ['Wiadomości-śmieci', '\\Junk'],
    ['Ανεπιθύμητα', '\\Junk'],
    ['Uønsket e-mail', '\\Junk'],
    ['Нежелательная почта', '\\Junk'],
    ['[Gmail]/Spam', '\\Junk'],
    ['Archive', '\\Archive'],
    ['Archives', '\\Archive'],
    ['Archiv', '\\Archive'],
    ['Archivio', '\\Archive'],
    ['Archiwum', '\\Archive'],
    ['Αρχειοθέτηση', '\\Archive'],
    ['Arkiv', '\\Archive'],
  ];
  for (const [name, use] of rows) {
    test(`"${name}" is ${use} and lands in the target's ${TARGET_FOR[use]}`, () => {
      const parent = name.includes('/') ? [folder(name.split('/')[0]!, '/', ['\\Noselect'])] : [];
      const gmail = name.startsWith('[');
      const plan = planFolders(input({source: [folder('INBOX'), ...parent, folder(name)], target: flaggedDovecot(), gmail}));
      assert.equal(entryFor(plan, name).specialUse, use);
      assert.equal(entryFor(plan, name).target, TARGET_FOR[use]);
      assert.equal(entryFor(plan, name).createOnTarget, false);
      assert.equal(specialUseByName(name, '/', gmail), use);
    });
  }

  test('names are matched regardless of case and Unicode composition', () => {
    assert.equal(specialUseByName('SENT ITEMS', '/'), '\\Sent');
    assert.equal(specialUseByName('Entwu\u0308rfe', '/'), '\\Drafts');
    assert.equal(specialUseByName(' Papierkorb ', '/'), '\\Trash');
  });

  test('names count at top level, directly under INBOX and directly under [Gmail] only', () => {
    assert.equal(specialUseByName('INBOX.Sent', '.'), '\\Sent');
    assert.equal(specialUseByName('INBOX/Drafts', '/'), '\\Drafts');
    assert.equal(specialUseByName('Projects/Sent', '/'), undefined);
    assert.equal(specialUseByName('INBOX/Projects/Trash', '/'), undefined);
    assert.equal(specialUseByName('Newsletters', '/'), undefined);
    assert.equal(specialUseByName('INBOX', '/'), undefined);
  });

  test("Gmail's virtual names mean something only under [Gmail], and only on Gmail", () => {
    assert.equal(specialUseByName('[Gmail]/All Mail', '/', true), '\\All');
    assert.equal(specialUseByName('[Google Mail]/Markiert', '/', true), '\\Flagged');
    assert.equal(specialUseByName('[Gmail]/Important', '/', true), '\\Important');
    assert.equal(specialUseByName('Important', '/', true), undefined);
    assert.equal(specialUseByName('Starred', '/', true), undefined);
    assert.equal(specialUseByName('[Gmail]/All Mail', '/'), undefined);
    assert.equal(specialUseByName('[Gmail]/Sent Mail', '/'), undefined);
  });

  test('the name table gives every name exactly one kind', () => {
    const seen = new Map<string, SpecialUse>();
    for (const {name, use} of knownSpecialUseNames()) {
      const key = name.normalize('NFC').toLowerCase();
      assert.ok(!seen.has(key), `"${name}" is listed for ${seen.get(key)} and ${use}`);
      seen.set(key, use);
      assert.equal(name, name.normalize('NFC'), `"${name}" is not stored in NFC`);
    }
  });

  test('of several folders named like one kind, the shallower and better-named one is mapped', () => {
    const plan = planFolders(
      input({
        source: [folder('INBOX'), folder('INBOX/Sent'), folder('Sent Items'), folder('Sent Messages')],
        target: flaggedDovecot(),
      }),
    );
    assert.equal(entryFor(plan, 'Sent Items').target, 'Sent');
    assert.equal(entryFor(plan, 'Sent Messages').target, 'Sent Messages');
    assert.equal(entryFor(plan, 'INBOX/Sent').target, 'INBOX/Sent');
  });

  test('a folder named like a kind deeper in the tree is an ordinary folder', () => {
    const plan = planFolders(input({source: [folder('INBOX'), folder('Projects'), folder('Projects/Archive')], target: flaggedDovecot()}));
    assert.equal(entryFor(plan, 'Projects/Archive').target, 'Projects/Archive');
    assert.equal(entryFor(plan, 'Projects/Archive').specialUse, undefined);
  });
});

describe('Gmail (rules 3, 4, 7)', () => {
  const gmail: ListedFolder[] = [
    folder('INBOX'),
    folder('[Gmail]', '/', ['\\Noselect', '\\HasChildren']),
    folder('[Gmail]/All Mail', '/', ['\\All']),
    folder('[Gmail]/Drafts', '/', ['\\Drafts']),
    folder('[Gmail]/Important', '/', ['\\Important']),
    folder('[Gmail]/Sent Mail', '/', ['\\Sent']),
    folder('[Gmail]/Spam', '/', ['\\Junk']),
    folder('[Gmail]/Starred', '/', ['\\Flagged']),
    folder('[Gmail]/Trash', '/', ['\\Trash']),
    folder('Work'),
    folder('Work/Clients'),
  ];

  test('a Gmail tree goes to a plain server: system folders mapped, virtual ones skipped with reasons', () => {
    const plan = planFolders(input({source: gmail, target: flaggedDovecot(), gmail: true}));
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Work', 'Work'],
      ['Work/Clients', 'Work/Clients'],
      ['[Gmail]/Drafts', 'Drafts'],
      ['[Gmail]/Sent Mail', 'Sent'],
      ['[Gmail]/Spam', 'Junk'],
      ['[Gmail]/Trash', 'Trash'],
    ]);
    assert.deepEqual(
      plan.unmigrated.map((u) => u.source),
      ['[Gmail]', '[Gmail]/All Mail', '[Gmail]/Important', '[Gmail]/Starred'],
    );
    assert.match(plan.unmigrated[0]!.reason, /Gmail's container.*not created on the target/);
    assert.match(plan.unmigrated[1]!.reason, /virtual folder \(\\All\).*duplicate/);
    assert.match(plan.unmigrated[2]!.reason, /virtual folder \(\\Important\)/);
    assert.match(plan.unmigrated[3]!.reason, /virtual folder \(\\Flagged/);
  });

  test('to a target without special folders, Gmail system folders go to the top level', () => {
    const plan = planFolders(input({source: gmail, target: [folder('INBOX')], createSpecialUse: true, gmail: true}));
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Work', 'Work'],
      ['Work/Clients', 'Work/Clients'],
      ['[Gmail]/Drafts', 'Drafts'],
      ['[Gmail]/Sent Mail', 'Sent Mail'],
      ['[Gmail]/Spam', 'Spam'],
      ['[Gmail]/Trash', 'Trash'],
    ]);
    assert.equal(entryFor(plan, '[Gmail]/Sent Mail').createSpecialUse, '\\Sent');
    assert.equal(entryFor(plan, '[Gmail]/Spam').createSpecialUse, '\\Junk');
  });

  test('a Gmail source without SPECIAL-USE flags is recognised by its names', () => {
    const unflagged = gmail.map((f) => ({...f, flags: f.flags.filter((flag) => flag === '\\Noselect')}));
    const plan = planFolders(input({source: unflagged, target: flaggedDovecot(), gmail: true}));
    assert.equal(entryFor(plan, '[Gmail]/Sent Mail').target, 'Sent');
    assert.equal(entryFor(plan, '[Gmail]/Trash').target, 'Trash');
    assert.deepEqual(
      plan.unmigrated.map((u) => u.source),
      ['[Gmail]', '[Gmail]/All Mail', '[Gmail]/Important', '[Gmail]/Starred'],
    );
  });

  test('without CREATE-SPECIAL-USE, Gmail system folders the target lacks take the conventional names', () => {
    const plan = planFolders(input({source: gmail, target: [folder('INBOX')], gmail: true}));
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Work', 'Work'],
      ['Work/Clients', 'Work/Clients'],
      ['[Gmail]/Drafts', 'Drafts'],
      ['[Gmail]/Sent Mail', 'Sent'],
      ['[Gmail]/Spam', 'Junk'],
      ['[Gmail]/Trash', 'Trash'],
    ]);
    assert.deepEqual(plan.renamed.map((r) => [r.source, r.target, r.specialUse]), [
      ['[Gmail]/Drafts', 'Drafts', '\\Drafts'],
      ['[Gmail]/Sent Mail', 'Sent', '\\Sent'],
      ['[Gmail]/Spam', 'Junk', '\\Junk'],
      ['[Gmail]/Trash', 'Trash', '\\Trash'],
    ]);
  });

  test('a selectable namespace root is listed as unmigrated, a \\Noselect one is just hierarchy', () => {
    const sourceNs = {prefix: 'Mail/', delimiter: '/'};
    const selectable = planFolders(input({sourceNs, source: [folder('INBOX'), folder('Mail'), folder('Mail/Work')], target: [folder('INBOX')]}));
    assert.deepEqual(mapping(selectable), [['INBOX', 'INBOX'], ['Mail/Work', 'Work']]);
    assert.deepEqual(selectable.unmigrated.map((u) => u.source), ['Mail']);
    assert.match(selectable.unmigrated[0]!.reason, /root of the personal namespace "Mail\/"/);
    const hierarchy = planFolders(input({sourceNs, source: [folder('INBOX'), folder('Mail', '/', ['\\Noselect']), folder('Mail/Work')], target: [folder('INBOX')]}));
    assert.deepEqual(hierarchy.unmigrated, []);
  });

  // Issue 12: a plain Dovecot source with a \Noselect "[Gmail]" and children of Gmail's names.
  test('on a source that is not Gmail, [Gmail] and the names below it are ordinary folders', () => {
    const source = [
      folder('INBOX'),
      folder('[Gmail]', '/', ['\\Noselect', '\\HasChildren']),
      folder('[Gmail]/All Mail'),
      folder('[Gmail]/Important'),
      folder('[Gmail]/Sent Mail'),
      folder('[Gmail]/Starred'),
    ];
    const plan = planFolders(input({source, target: flaggedDovecot()}));
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['[Gmail]', '[Gmail]'],
      ['[Gmail]/All Mail', '[Gmail]/All Mail'],
      ['[Gmail]/Important', '[Gmail]/Important'],
      ['[Gmail]/Sent Mail', '[Gmail]/Sent Mail'],
      ['[Gmail]/Starred', '[Gmail]/Starred'],
    ]);
    assert.equal(entryFor(plan, '[Gmail]').selectable, false);
    assert.equal(entryFor(plan, '[Gmail]/All Mail').specialUse, undefined);
    assert.deepEqual(plan.unmigrated, []);
    assert.deepEqual(plan.renamed, []);
    // The server's own attribute still makes a folder virtual, wherever it is and whatever its name.
    const flagged = planFolders(input({source: [folder('INBOX'), folder('Everything', '/', ['\\All']), folder('Stars', '/', ['\\Flagged'])], target: flaggedDovecot()}));
    assert.deepEqual(mapping(flagged), [['INBOX', 'INBOX']]);
    assert.deepEqual(flagged.unmigrated.map((u) => u.source), ['Everything', 'Stars']);
    assert.match(flagged.unmigrated[0]!.reason, /virtual folder \(\\All\)/);
  });
});

describe('UserRoot (rule 2)', () => {
  // A Courier admin login sees every user's folders under its own namespace.
  const courierAdmin: ListedFolder[] = [
    folder('INBOX', '.'),
    folder('INBOX.Sent', '.', [], true),
    folder('INBOX.users', '.', ['\\Noselect']),
    folder('INBOX.users.terry.adams', '.'),
    folder('INBOX.users.terry.adams.Sent', '.'),
    folder('INBOX.users.terry.adams.Drafts', '.'),
    folder('INBOX.users.terry.adams.Projects', '.'),
    folder('INBOX.users.terry.adams.Projects.2024', '.', [], false),
    folder('INBOX.users.terry.adamson.Sent', '.'),
    folder('INBOX.users.bob.Sent', '.'),
  ];

  test('the seed: /users/terry.adams on a Courier admin login', () => {
    const planInput = input({sourceNs: COURIER, source: courierAdmin, target: flaggedDovecot(), userRoot: '/users/terry.adams'});
    const plan = planFolders(planInput);
    assert.deepEqual(mapping(plan), [
      ['INBOX.users.terry.adams', 'INBOX'],
      ['INBOX.users.terry.adams.Drafts', 'Drafts'],
      ['INBOX.users.terry.adams.Projects', 'Projects'],
      ['INBOX.users.terry.adams.Projects.2024', 'Projects/2024'],
      ['INBOX.users.terry.adams.Sent', 'Sent'],
    ]);
    assert.deepEqual(plan.unmigrated, []);
    assert.deepEqual(plan.renamed, []);
    assert.equal(entryFor(plan, 'INBOX.users.terry.adams.Projects.2024').subscribe, false);
  });

  test('the root matches with or without the namespace prefix and with a trailing "/"', () => {
    const withPrefix = planFolders(
      input({sourceNs: COURIER, source: courierAdmin, target: flaggedDovecot(), userRoot: '/INBOX/users/terry.adams/'}),
    );
    const withoutPrefix = planFolders(
      input({sourceNs: COURIER, source: courierAdmin, target: flaggedDovecot(), userRoot: 'users/terry.adams'}),
    );
    assert.deepEqual(mapping(withPrefix), mapping(withoutPrefix));
    assert.equal(withPrefix.entries.length, 5);
  });

  test('on a "/" source the root is matched with "/"', () => {
    const plan = planFolders(
      input({
        source: many('/', 'INBOX', 'users/terry.adams/Sent', 'users/terry.adams/Notes', 'users/bob/Notes'),
        target: flaggedDovecot(),
        userRoot: '/users/terry.adams',
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['users/terry.adams/Notes', 'Notes'],
      ['users/terry.adams/Sent', 'Sent'],
    ]);
  });

  test('folders named like special folders are recognised inside the root, not by the admin\'s own flags', () => {
    const plan = planFolders(
      input({
        sourceNs: COURIER,
        source: [folder('INBOX', '.'), folder('INBOX.Sent', '.', ['\\Sent']), folder('INBOX.users.t.Gesendet', '.')],
        target: flaggedDovecot(),
        userRoot: '/users/t',
      }),
    );
    assert.deepEqual(mapping(plan), [['INBOX.users.t.Gesendet', 'Sent']]);
  });

  test('a child named INBOX is the inbox; the root holding messages then goes to a folder named after it', () => {
    const plan = planFolders(
      input({
        sourceNs: COURIER,
        source: many('.', 'INBOX.users.terry.adams', 'INBOX.users.terry.adams.INBOX', 'INBOX.users.terry.adams.Notes'),
        target: [folder('INBOX', '.')],
        targetNs: COURIER,
        userRoot: '/users/terry.adams',
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX.users.terry.adams.INBOX', 'INBOX'],
      ['INBOX.users.terry.adams.Notes', 'INBOX.Notes'],
      ['INBOX.users.terry.adams', 'INBOX.terry_adams'],
    ]);
    assert.equal(plan.renamed.length, 1);
    assert.match(plan.renamed[0]!.reason, /UserRoot folder holds messages/);
    assert.match(plan.renamed[0]!.reason, /hierarchy delimiter/);
  });

  test('a root named INBOX is the inbox and its children are top-level folders', () => {
    const plan = planFolders(
      input({
        source: many('/', 'users/t/INBOX', 'users/t/INBOX/Notes'),
        target: [folder('INBOX')],
        userRoot: '/users/t/INBOX',
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['users/t/INBOX', 'INBOX'],
      ['users/t/INBOX/Notes', 'Notes'],
    ]);
  });

  test('a root that is not a folder contributes nothing itself', () => {
    const plan = planFolders(
      input({
        source: [folder('users/t', '/', ['\\Noselect']), folder('users/t/Notes')],
        target: [folder('INBOX')],
        userRoot: '/users/t',
      }),
    );
    assert.deepEqual(mapping(plan), [['users/t/Notes', 'Notes']]);
  });
});

describe('names that cannot be created as they are (rule 6)', () => {
  test('a target delimiter inside a name is replaced and reported; children follow silently', () => {
    const plan = planFolders(
      input({source: many('/', 'INBOX', 'v1.2 release', 'v1.2 release/notes'), target: [folder('INBOX', '.')], targetNs: COURIER}),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['v1.2 release', 'INBOX.v1_2 release'],
      ['v1.2 release/notes', 'INBOX.v1_2 release.notes'],
    ]);
    assert.deepEqual(plan.renamed, [
      {source: 'v1.2 release', target: 'INBOX.v1_2 release', reason: `the name contains ".", the target's hierarchy delimiter; replaced by "_"`},
    ]);
  });

  test('a "/" inside a Courier name is replaced on a "/" target', () => {
    const plan = planFolders(input({sourceNs: COURIER, source: many('.', 'INBOX', 'INBOX.Q1/Q2'), target: [folder('INBOX')]}));
    assert.equal(entryFor(plan, 'INBOX.Q1/Q2').target, 'Q1_Q2');
    assert.equal(plan.renamed.length, 1);
  });

  test('on a "_" delimiter the substitute is "-"', () => {
    const plan = planFolders(
      input({source: many('/', 'INBOX', 'a_b'), target: [folder('INBOX', '_')], targetNs: {prefix: '', delimiter: '_'}}),
    );
    assert.equal(entryFor(plan, 'a_b').target, 'a-b');
  });

  test('an empty segment becomes "_"', () => {
    const plan = planFolders(input({source: many('/', 'INBOX', 'a', 'a//b'), target: [folder('INBOX')]}));
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['a', 'a'],
      ['a/', 'a/_'],
      ['a//b', 'a/_/b'],
    ]);
    assert.deepEqual(plan.renamed.map((r) => r.target), ['a/_']);
    assert.equal(entryFor(plan, 'a/').sourceListed, false);
  });

  test('names differing only in case clash on a case-insensitive target; children follow', () => {
    const plan = planFolders(
      input({source: many('/', 'INBOX', 'Projects', 'projects', 'projects/x'), target: [folder('INBOX')], caseInsensitive: true}),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Projects', 'Projects'],
      ['projects', 'projects (2)'],
      ['projects/x', 'projects (2)/x'],
    ]);
    assert.deepEqual(plan.renamed.map((r) => [r.source, r.target]), [['projects', 'projects (2)']]);
    assert.match(plan.renamed[0]!.reason, /"Projects" already goes to "Projects" \(the target ignores case\)/);
  });

  test('the same names do not clash on a case-sensitive target', () => {
    const plan = planFolders(input({source: many('/', 'INBOX', 'Projects', 'projects'), target: [folder('INBOX')]}));
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Projects', 'Projects'],
      ['projects', 'projects'],
    ]);
  });

  test('suffixes skip names other folders take', () => {
    const plan = planFolders(
      input({source: many('/', 'INBOX', 'Foo', 'foo', 'foo (2)'), target: [folder('INBOX')], caseInsensitive: true}),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Foo', 'Foo'],
      ['foo', 'foo (3)'],
      ['foo (2)', 'foo (2)'],
    ]);
  });

  test('a folder that would land on INBOX is renamed, on any target', () => {
    const plan = planFolders(input({sourceNs: COURIER, source: many('.', 'INBOX', 'INBOX.inbox', 'INBOX.INBOX'), target: [folder('INBOX')]}));
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['INBOX.INBOX', 'INBOX (2)'],
      ['INBOX.inbox', 'inbox (2)'],
    ]);
    assert.match(plan.renamed[0]!.reason, /would be INBOX on the target/);
    assert.match(plan.renamed[1]!.reason, /would be INBOX on the target/);
    // Ignoring case, "inbox (2)" is taken as well.
    const insensitive = planFolders(
      input({sourceNs: COURIER, source: many('.', 'INBOX', 'INBOX.inbox', 'INBOX.INBOX'), target: [folder('INBOX')], caseInsensitive: true}),
    );
    assert.equal(entryFor(insensitive, 'INBOX.inbox').target, 'inbox (3)');
  });

  test('INBOX/Sub and Sub meet on an "INBOX." target: INBOX\'s child keeps the name', () => {
    const plan = planFolders(input({source: many('/', 'INBOX', 'INBOX/Sub', 'Sub'), target: [folder('INBOX', '.')], targetNs: COURIER}));
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['INBOX/Sub', 'INBOX.Sub'],
      ['Sub', 'INBOX.Sub (2)'],
    ]);
  });

  test('leading and trailing spaces are kept', () => {
    const plan = planFolders(input({source: many('/', 'INBOX', ' Notes '), target: [folder('INBOX')]}));
    assert.equal(entryFor(plan, ' Notes ').target, ' Notes ');
    assert.deepEqual(plan.renamed, []);
  });
});

describe('parents, subscriptions and reuse (rules 7, 8, 9)', () => {
  test('parents the source did not list are planned as hierarchy-only entries', () => {
    const plan = planFolders(input({source: [folder('INBOX'), folder('A/B/C', '/', [], true)], target: [folder('INBOX')]}));
    assert.deepEqual(plan.entries, [
      {source: 'INBOX', target: 'INBOX', createOnTarget: false, subscribe: true, selectable: true, sourceListed: true},
      {source: 'A', target: 'A', createOnTarget: true, subscribe: false, selectable: false, sourceListed: false},
      {source: 'A/B', target: 'A/B', createOnTarget: true, subscribe: false, selectable: false, sourceListed: false},
      {source: 'A/B/C', target: 'A/B/C', createOnTarget: true, subscribe: true, selectable: true, sourceListed: true},
    ]);
  });

  test('missing parents that the target already has need no entry', () => {
    const plan = planFolders(input({source: [folder('INBOX'), folder('A/B/C')], target: many('/', 'INBOX', 'A', 'A/B')}));
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['A/B/C', 'A/B/C'],
    ]);
  });

  test('a \\Noselect folder is created for its children and dropped without them', () => {
    const plan = planFolders(
      input({
        source: [folder('INBOX'), folder('Lists', '/', ['\\Noselect']), folder('Lists/dev'), folder('Empty', '/', ['\\Noselect'])],
        target: [folder('INBOX')],
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Lists', 'Lists'],
      ['Lists/dev', 'Lists/dev'],
    ]);
    assert.equal(entryFor(plan, 'Lists').selectable, false);
    assert.equal(entryFor(plan, 'Lists').sourceListed, true);
    // Dropped, but said: every folder is copied or listed with its reason.
    assert.deepEqual(plan.unmigrated.map((u) => u.source), ['Empty']);
    assert.match(plan.unmigrated[0]!.reason, /container without messages.*\\Noselect.*not created on the target/);
  });

  test('\\NonExistent folders are unmigrated; one with children still holds them on the target', () => {
    const plan = planFolders(
      input({
        source: [folder('INBOX'), folder('Gone', '/', ['\\NonExistent', '\\Noselect']), folder('Ghost', '/', ['\\NonExistent']), folder('Ghost/Kid')],
        target: [folder('INBOX')],
      }),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Ghost', 'Ghost'],
      ['Ghost/Kid', 'Ghost/Kid'],
    ]);
    assert.equal(entryFor(plan, 'Ghost').selectable, false);
    assert.deepEqual(plan.unmigrated.map((u) => u.source), ['Ghost', 'Gone']);
    assert.match(plan.unmigrated[0]!.reason, /\\NonExistent/);
  });

  test('subscriptions mirror the source, INBOX included', () => {
    const plan = planFolders(
      input({source: [folder('INBOX', '/', [], false), folder('Read', '/', [], true), folder('Unread', '/', [], false)], target: [folder('INBOX')]}),
    );
    assert.deepEqual(
      plan.entries.map((e) => [e.source, e.subscribe]),
      [
        ['INBOX', false],
        ['Read', true],
        ['Unread', false],
      ],
    );
    const subscribedInbox = planFolders(input({source: [folder('INBOX', '/', [], true)], target: [folder('INBOX', '/', [], false)]}));
    assert.equal(entryFor(subscribedInbox, 'INBOX').subscribe, true);
  });

  test('a case-insensitive target reuses its own spelling of an existing folder', () => {
    const plan = planFolders(
      input({source: many('/', 'INBOX', 'Projects', 'Projects/2024'), target: many('/', 'INBOX', 'PROJECTS'), caseInsensitive: true}),
    );
    assert.deepEqual(mapping(plan), [
      ['INBOX', 'INBOX'],
      ['Projects', 'PROJECTS'],
      ['Projects/2024', 'PROJECTS/2024'],
    ]);
    assert.equal(entryFor(plan, 'Projects').createOnTarget, false);
    assert.equal(entryFor(plan, 'Projects/2024').createOnTarget, true);
    assert.deepEqual(plan.renamed, []);
  });

  test('a case-sensitive target does not reuse a folder spelled differently', () => {
    const plan = planFolders(input({source: many('/', 'INBOX', 'Projects'), target: many('/', 'INBOX', 'PROJECTS')}));
    assert.equal(entryFor(plan, 'Projects').target, 'Projects');
    assert.equal(entryFor(plan, 'Projects').createOnTarget, true);
  });

  test('a target folder that is only \\Noselect is created when messages go into it', () => {
    const plan = planFolders(input({source: many('/', 'INBOX', 'Lists'), target: [folder('INBOX'), folder('Lists', '/', ['\\Noselect'])]}));
    assert.equal(entryFor(plan, 'Lists').createOnTarget, true);
  });
});

describe('idempotence and determinism (rules 9, 10)', () => {
  const scenarios: {name: string; planInput: FolderPlanInput}[] = [
    {
      name: 'Courier to a flagged Dovecot',
      planInput: input({
        sourceNs: COURIER,
        source: [
          ...many('.', 'INBOX', 'INBOX.Sent', 'INBOX.Drafts', 'INBOX.Trash', 'INBOX.Work', 'INBOX.Work.2024', 'INBOX.Entwürfe alt'),
          folder('INBOX.a/b', '.'),
        ],
        target: flaggedDovecot(),
      }),
    },
    {
      name: 'Gmail to an empty target with CREATE-SPECIAL-USE',
      planInput: input({
        source: [
          folder('INBOX'),
          folder('[Gmail]', '/', ['\\Noselect']),
          folder('[Gmail]/All Mail', '/', ['\\All']),
          folder('[Gmail]/Sent Mail', '/', ['\\Sent']),
          folder('[Gmail]/Spam', '/', ['\\Junk']),
          folder('Spam'),
        ],
        target: [folder('INBOX')],
        createSpecialUse: true,
        gmail: true,
      }),
    },
    {
      name: 'localized special-use folders to a target without them or CREATE-SPECIAL-USE',
      planInput: input({
        source: [
          folder('INBOX'),
          folder('Gesendete Elemente', '/', ['\\Sent']),
          folder('Entwürfe', '/', ['\\Drafts']),
          folder('Gelöschte Elemente', '/', ['\\Trash']),
          folder('Junk-E-Mail', '/', ['\\Junk']),
          folder('Archiv', '/', ['\\Archive']),
          folder('Archiv/2019'),
        ],
        target: [folder('INBOX')],
      }),
    },
    {
      name: 'flagged Junk plus a plain "Junk" to a target without SPECIAL-USE',
      planInput: input({
        source: [folder('INBOX'), folder('Spam', '/', ['\\Junk']), folder('Junk'), folder('Sent Items'), folder('Sent')],
        target: [folder('INBOX', '.')],
        targetNs: COURIER,
      }),
    },
    {
      name: 'case clashes and delimiters on an Exchange-like target',
      planInput: input({
        source: many('/', 'INBOX', 'Foo', 'foo', 'foo/bar', 'x.y', 'Inbox/Sub', 'Sub'),
        target: [folder('INBOX', '.')],
        targetNs: COURIER,
        caseInsensitive: true,
      }),
    },
  ];
  for (const {name, planInput} of scenarios) {
    test(`a second run creates nothing and maps the same way: ${name}`, () => {
      const {plan1, plan2} = secondRun(planInput);
      assert.ok(plan1.entries.some((e) => e.createOnTarget), 'the first run should have something to create');
      assert.deepEqual(mapping(plan2), mapping(plan1));
      assert.deepEqual(plan2.entries.filter((e) => e.createOnTarget), []);
      assertParentsFirst(plan1, planInput);
    });
  }

  test('localized special-use folders get the conventional names; the notes survive the second run', () => {
    const first = input({
      source: [
        folder('INBOX'),
        folder('Gesendete Elemente', '/', ['\\Sent']),
        folder('Entwürfe', '/', ['\\Drafts']),
        folder('Gelöschte Elemente', '/', ['\\Trash']),
        folder('Junk-E-Mail', '/', ['\\Junk']),
        folder('Archiv', '/', ['\\Archive']),
        folder('Archiv/2019'),
      ],
      target: [folder('INBOX')],
    });
    const plan1 = planFolders(first);
    assert.deepEqual(mapping(plan1), [
      ['INBOX', 'INBOX'],
      ['Archiv', 'Archive'],
      ['Archiv/2019', 'Archive/2019'],
      ['Entwürfe', 'Drafts'],
      ['Gelöschte Elemente', 'Trash'],
      ['Gesendete Elemente', 'Sent'],
      ['Junk-E-Mail', 'Junk'],
    ]);
    assert.deepEqual(plan1.renamed.map((r) => [r.source, r.target, r.specialUse]), [
      ['Archiv', 'Archive', '\\Archive'],
      ['Entwürfe', 'Drafts', '\\Drafts'],
      ['Gelöschte Elemente', 'Trash', '\\Trash'],
      ['Gesendete Elemente', 'Sent', '\\Sent'],
      ['Junk-E-Mail', 'Junk', '\\Junk'],
    ]);
    // A target like Dovecot with `special_use` blocks marks the folders once they exist.
    const kinds: Record<string, string> = {Sent: '\\Sent', Drafts: '\\Drafts', Trash: '\\Trash', Junk: '\\Junk', Archive: '\\Archive'};
    for (const marked of [true, false]) {
      const after = targetAfter(plan1, first).map((f) => (marked && kinds[f.path] ? {...f, flags: [kinds[f.path]!]} : f));
      const plan2 = planFolders({...first, target: {...first.target, folders: after}});
      assert.deepEqual(mapping(plan2), mapping(plan1));
      assert.deepEqual(plan2.entries.filter((e) => e.createOnTarget), []);
      assert.deepEqual(plan2.renamed, []);
      assert.deepEqual(carryCreatedSpecialUse(plan1.renamed, plan2), plan1.renamed);
    }
    // A note is dropped once its folder goes elsewhere.
    const moved = planFolders({...first, source: {...first.source, folders: first.source.folders.filter((f) => f.path !== 'Gesendete Elemente')}});
    assert.equal(carryCreatedSpecialUse(plan1.renamed, moved).some((r) => r.source === 'Gesendete Elemente'), false);
  });

  test('the conventional name is not taken when another source folder lands on it by name', () => {
    const plan = planFolders(input({source: [folder('INBOX'), folder('Gesendete Elemente', '/', ['\\Sent']), folder('Sent', '/', ['\\Archive'])], target: [folder('INBOX')]}));
    assert.equal(entryFor(plan, 'Gesendete Elemente').target, 'Gesendete Elemente');
    assert.equal(entryFor(plan, 'Sent').target, 'Archive');
  });

  test('the plan does not depend on the order of the listings', () => {
    for (const {planInput} of scenarios) {
      const reversed: FolderPlanInput = {
        ...planInput,
        source: {...planInput.source, folders: [...planInput.source.folders].reverse()},
        target: {...planInput.target, folders: [...planInput.target.folders].reverse()},
      };
      assert.deepEqual(planFolders(reversed), planFolders(planInput));
    }
  });

  test('an unchanged mailbox already on the target needs no creates at all', () => {
    const source = [
      folder('INBOX'),
      folder('Sent', '/', ['\\Sent']),
      folder('Drafts', '/', ['\\Drafts']),
      folder('Work'),
      folder('Work/2024'),
      folder('Почта'),
      folder('Почта/Входящие'),
    ];
    const target = [...flaggedDovecot(), ...many('/', 'Work', 'Work/2024', 'Почта', 'Почта/Входящие')];
    const plan = planFolders(input({source, target}));
    assert.deepEqual(plan.entries.filter((e) => e.createOnTarget), []);
    assert.deepEqual(
      plan.entries.map((e) => e.target),
      ['INBOX', 'Drafts', 'Sent', 'Work', 'Work/2024', 'Почта', 'Почта/Входящие'],
    );
  });
});

describe('fallbackFolderName', () => {
  test('attempt 1 keeps the parent and a conservative version of the last name', () => {
    assert.equal(fallbackFolderName('INBOX.Entwürfe*neu', '.', 1), 'INBOX.Entwurfe_neu');
    assert.equal(fallbackFolderName('Work/a:b?c', '/', 1), 'Work/a_b_c');
  });

  test('attempt 2 also shortens the name; repeats are skipped', () => {
    const long = `Work/${'Quarterly report '.repeat(6)}#1`;
    const first = fallbackFolderName(long, '/', 1)!;
    const second = fallbackFolderName(long, '/', 2)!;
    assert.ok(first.startsWith('Work/Quarterly report Quarterly'));
    assert.ok(second.length <= 'Work/'.length + 40);
    assert.notEqual(first, second);
    assert.equal(fallbackFolderName(long, '/', 3), undefined);
    // A short name with a bad character has one candidate only.
    assert.equal(fallbackFolderName('Work/a*b', '/', 2), undefined);
  });

  test('a name with nothing conservative left gets a stable distinct stand-in', () => {
    const a = fallbackFolderName('Почта/Входящие', '/', 1)!;
    const b = fallbackFolderName('Почта/Исходящие', '/', 1)!;
    assert.match(a, /^Почта\/Folder [0-9a-f]{6}$/);
    assert.notEqual(a, b);
    assert.equal(fallbackFolderName('Почта/Входящие', '/', 1), a);
  });

  test('a name that is already conservative and short has nothing else to try', () => {
    assert.equal(fallbackFolderName('Work/Plain name', '/', 1), undefined);
    assert.equal(fallbackFolderName('Work/a*b', '/', 0), undefined);
  });

  test('retargetChildren moves a folder created under another name together with its children', () => {
    const plan = planFolders(input({source: many('/', 'INBOX', 'a*b', 'a*b/c', 'a*bc'), target: [folder('INBOX')]}));
    const moved = retargetChildren(plan.entries, 'a*b', 'a_b', '/');
    assert.deepEqual(
      moved.map((e) => e.target),
      ['INBOX', 'a*b'.replace('*', '_'), 'a_b/c', 'a*bc'],
    );
  });
});
