// The decision of the no-change check (compareWithCheckpoints), one row per thing that must send a
// mailbox to the full pass, from listings as the raw LIST gives them and checkpoints as the full
// pass leaves them. test/unchanged-check.test.ts runs the same against real Dovecot.

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import type {BatchDefinition} from '../source/engine/batch-model.js';
import {newCheckpoint} from '../source/engine/copy/folder-copy.js';
import type {ListedFolder} from '../source/engine/folders/folder-mapping.js';
import {compareWithCheckpoints} from '../source/engine/copy/unchanged-check.js';
import type {FolderListing} from '../source/engine/folders/raw-folder-listing.js';
import {newMailboxState, type MailboxState} from '../source/store/state-schema.js';
import {fakeDefinition} from './helpers/fake-batch-control.js';

const FOLDERS: ListedFolder[] = [
  {path: 'INBOX', delimiter: '/', flags: ['\\HasNoChildren'], subscribed: true},
  {path: 'Sent Items', delimiter: '/', flags: ['\\HasNoChildren', '\\Sent'], subscribed: true},
  {path: 'Archive', delimiter: '/', flags: ['\\HasChildren'], subscribed: true},
  {path: 'Archive/2023', delimiter: '/', flags: ['\\HasNoChildren'], subscribed: true},
];
/** Where the full pass puts each source folder (Sent Items onto the target's \Sent folder). */
const TARGETS: Record<string, string> = {'INBOX': 'INBOX', 'Sent Items': 'Sent', 'Archive': 'Archive', 'Archive/2023': 'Archive/2023'};

function batch(excludedFolders: string[] = []): BatchDefinition {
  const definition = fakeDefinition('verdict');
  return {...definition, settings: {...definition.settings, excludedFolders}};
}

interface World {
  source: FolderListing;
  target: FolderListing;
  state: MailboxState;
  batch: BatchDefinition;
}

/** A mailbox whose last pass left every folder complete, and listings that match it. */
function unchangedWorld(): World {
  const source: FolderListing = {folders: structuredClone(FOLDERS), namespace: {prefix: '', delimiter: '/'}, status: new Map(), capabilities: new Set()};
  const target: FolderListing = {
    folders: Object.values(TARGETS).map((path) => ({path, delimiter: '/', flags: path === 'Sent' ? ['\\Sent'] : [], subscribed: true})),
    namespace: {prefix: '', delimiter: '/'},
    status: new Map(),
    capabilities: new Set(),
  };
  const state = newMailboxState({emailAddress: 'ivan@example.test', userName: 'ivan'});
  Object.entries(TARGETS).forEach(([folder, targetPath], index) => {
    const checkpoint = newCheckpoint(targetPath, String(1000 + index));
    Object.assign(checkpoint, {uidNext: 10 + index, highestModseq: String(50 + index), targetUidValidity: String(2000 + index), lastPassAt: '2026-01-02T00:00:00.000Z'});
    state.folders[folder] = checkpoint;
    source.status.set(folder, {uidValidity: BigInt(1000 + index), uidNext: 10 + index, highestModseq: BigInt(50 + index)});
    target.status.set(targetPath, {uidValidity: BigInt(2000 + index)});
  });
  return {source, target, state, batch: batch()};
}

function verdictOf(world: World) {
  return compareWithCheckpoints(world.state, world.batch, world.source, world.target);
}

describe('compareWithCheckpoints', () => {
  test('an unchanged mailbox: every folder the full pass would sync, nothing else to do', () => {
    const world = unchangedWorld();
    const verdict = verdictOf(world);
    assert.equal(verdict.unchanged, true);
    const covered = verdict.unchanged ? verdict.checkpoints.map((checkpoint) => checkpoint.target).sort() : [];
    assert.deepEqual(covered, Object.values(TARGETS).sort());
  });

  test('a target that does not report UIDVALIDITY (no LIST-STATUS) is not a change', () => {
    const world = unchangedWorld();
    world.target.status.clear();
    assert.equal(verdictOf(world).unchanged, true);
  });

  const changes: {name: string; change: (world: World) => void; reason: RegExp; stale?: string}[] = [
    {name: 'new mail (UIDNEXT)', change: (w) => (w.source.status.get('Archive')!.uidNext = 11), reason: /folder "Archive" changed/},
    {name: 'changed flags (HIGHESTMODSEQ)', change: (w) => (w.source.status.get('INBOX')!.highestModseq = 51n), reason: /folder "INBOX" changed/},
    {name: 'a source folder recreated (UIDVALIDITY)', change: (w) => (w.source.status.get('Sent Items')!.uidValidity = 7n), reason: /folder "Sent Items" changed/},
    {name: 'no STATUS for a folder', change: (w) => w.source.status.delete('Archive/2023'), reason: /folder "Archive\/2023" changed/},
    {name: 'a checkpoint left in progress', change: (w) => (w.state.folders['INBOX']!.inProgress = true), reason: /folder "INBOX" changed/},
    {
      name: 'a folder new on the source',
      change: (w) => w.source.folders.push({path: 'Neu', delimiter: '/', flags: [], subscribed: true}),
      reason: /target folder "Neu" is missing/,
    },
    {
      name: 'a source folder new on both ends without a checkpoint',
      change: (w) => {
        w.source.folders.push({path: 'Neu', delimiter: '/', flags: [], subscribed: true});
        w.target.folders.push({path: 'Neu', delimiter: '/', flags: [], subscribed: true});
      },
      reason: /folder "Neu" is new/,
    },
    {
      name: 'a target folder deleted',
      change: (w) => (w.target.folders = w.target.folders.filter((folder) => folder.path !== 'Archive/2023')),
      reason: /target folder "Archive\/2023" is missing/,
      stale: 'Archive/2023',
    },
    {
      name: 'a target folder recreated (its UIDVALIDITY)',
      change: (w) => (w.target.status.get('Sent')!.uidValidity = 9n),
      reason: /target folder "Sent" was recreated/,
      stale: 'Sent Items',
    },
    {
      name: 'a subscription missing on the target',
      change: (w) => delete w.target.folders.find((folder) => folder.path === 'Archive')!.subscribed,
      reason: /"Archive" is not subscribed/,
    },
    {
      // Issue 12: the target's INBOX was never subscribed although the source's is.
      name: "INBOX subscribed on the source but not on the target",
      change: (w) => delete w.target.folders.find((folder) => folder.path === 'INBOX')!.subscribed,
      reason: /"INBOX" is not subscribed/,
    },
    {name: 'a folder mapped elsewhere than its checkpoint says', change: (w) => (w.state.folders['Sent Items']!.target = 'Sent Items'), reason: /now maps to "Sent"/},
    {name: 'a newly excluded folder', change: (w) => (w.batch = batch(['Archive/2023'])), reason: /not migrated changed/},
    {
      name: 'a folder renamed by the plan that was not before',
      change: (w) => w.source.folders.push({path: 'A//B', delimiter: '/', flags: [], subscribed: false}),
      reason: /renamed folders changed/,
    },
  ];
  test('a note on how a special-use folder was created does not count as a change', () => {
    const world = unchangedWorld();
    world.state.renamedFolders.push({source: 'Sent Items', target: 'Sent', reason: 'created "Sent" for this \\Sent folder: ...', specialUse: '\\Sent'});
    assert.equal(verdictOf(world).unchanged, true);
    // ... unless the folder now goes elsewhere.
    world.state.renamedFolders[0]!.target = 'Gesendet';
    assert.equal(verdictOf(world).unchanged, false);
  });

  for (const row of changes) {
    test(`sends the mailbox to the full pass: ${row.name}`, () => {
      const world = unchangedWorld();
      row.change(world);
      const verdict = verdictOf(world);
      assert.equal(verdict.unchanged, false);
      if (verdict.unchanged) return;
      assert.ok(verdict.reasons.some((reason) => row.reason.test(reason)), verdict.reasons.join('; '));
      assert.deepEqual(verdict.staleTargets, row.stale ? [world.state.folders[row.stale]] : []);
    });
  }
});
