// The mailbox detail lists how a folder compared with an already-filled target matched, and each
// target message nothing matched (issue 17).

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {detailDocument} from '../../source/ui/view-state/detail-lines.js';
import {pickGlyphs} from '../../source/ui/glyphs.js';
import type {MailboxDetail} from '../../source/engine/scheduler/batch-snapshot.js';

test('reconciled folders: counts by basis and the unmatched target messages', () => {
  const detail: MailboxDetail = {
    emailAddress: 'a@example.test',
    folders: [],
    skipped: [],
    failed: [],
    changed: [],
    errors: [],
    unmigratedFolders: [],
    renamedFolders: [],
    droppedKeywords: [],
    reconciled: [{
      folder: 'INBOX', target: 'INBOX', at: '2026-03-01T12:00:00Z', matched: 7, exact: 5, dateRewritten: 1, sizeChanged: 1,
      alreadyPresent: 7, unmatched: 1, unmatchedListed: [{uid: 12, messageId: '<foreign@example.test>', size: 345}],
    }],
  };
  const text = detailDocument(undefined, detail, {width: 160, glyphs: pickGlyphs({}, ['--ascii']), now: new Date('2026-03-01T12:00:00Z')}).lines.map((line) => line.text);
  assert.ok(text.includes('Reconciled with the target (1 folders)'), text.join('\n'));
  assert.ok(text.some((line) => line.includes('INBOX: 7 target messages matched (headers+date+size 5, date rewritten 1, size changed 1), 1 unmatched')), text.join('\n'));
  assert.ok(text.some((line) => line.includes('unmatched UID 12 <foreign@example.test> 345 bytes')), text.join('\n'));
});
