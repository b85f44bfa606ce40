// The `v` key: the grid sends a verification of the selected (or marked) mailboxes to the engine,
// the row says "Verifying" while it runs, the status line gives the outcome, and the detail view
// shows the result (score, counts, the first listed differences). `v` in the detail verifies that
// mailbox. The fake stands in for the engine only.

import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import {cleanup} from 'ink-testing-library';
import {BatchScreen} from '../../source/ui/panels/BatchScreen.js';
import {UidSet} from '../../source/engine/copy/uid-set.js';
import {compareFolder} from '../../source/engine/verify/folder-comparison.js';
import {consistencyScore, isConsistent, totalsOf} from '../../source/engine/verify/consistency-score.js';
import type {ListedMessage} from '../../source/engine/verify/verify-listing.js';
import type {MailboxDetail} from '../../source/engine/scheduler/batch-snapshot.js';
import type {MailboxVerification} from '../../source/store/verification-records.js';
import {FakeBatchControl, fakeMailbox, fakeSnapshot} from '../helpers/fake-batch-control.js';
import {renderUi} from './ui-harness.js';

afterEach(() => cleanup());

function verificationOf(emailAddress: string): MailboxVerification {
  const message = (uid: number, flags = ''): ListedMessage => ({uid, size: 2000 + uid, headerDigest: `d${uid}`, messageId: `<m${uid}@example.test>`, flags, internalDate: new Date('2024-01-01T00:00:00Z')});
  const source = Array.from({length: 10}, (_, index) => message(index + 1, index === 4 ? '\\Seen' : ''));
  // On the target: 3, 6 and 9 deleted, 5 without \Seen.
  const target = source.filter((m) => ![3, 6, 9].includes(m.uid)).map((m) => ({...m, uid: m.uid + 100, flags: m.uid === 5 ? '' : m.flags}));
  const {verification: folder} = compareFolder({
    source: 'INBOX', target: 'INBOX', sourceMessages: source, targetMessages: target, done: UidSet.fromUids(source.map((m) => m.uid)), uidNext: 11,
    resized: new UidSet(), droppedKeywords: new Set(), apart: [],
  });
  const totals = totalsOf([folder]);
  return {
    emailAddress, startedAt: '2026-03-01T11:59:00.000Z', finishedAt: '2026-03-01T11:59:30.000Z', deep: false, folders: [folder], apartListed: [], apartUnlisted: 0,
    unmigratedFolders: [], notYetSyncedFolders: [], totals, score: consistencyScore(totals), consistent: isConsistent(totals, [folder]),
  };
}

function emptyDetail(emailAddress: string, verification?: MailboxVerification): MailboxDetail {
  return {emailAddress, folders: [], skipped: [], failed: [], changed: [], errors: [], unmigratedFolders: [], renamedFolders: [], droppedKeywords: [], ...(verification ? {verification} : {})};
}

describe('verify key', () => {
  it('v verifies the selected mailbox; the row says Verifying, the status line and the detail show the result', async () => {
    const mailboxes = ['a@example.test', 'b@example.test', 'c@example.test'].map((email) => fakeMailbox(email, {status: 'Synced', itemsDone: 10, itemsTotal: 10}));
    const control = new FakeBatchControl(fakeSnapshot(mailboxes));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    control.onVerify = async (emails) => {
      control.update((mailbox) => (emails.includes(mailbox.emailAddress) ? {...mailbox, verifying: 'INBOX (1/1)'} : mailbox));
      await released;
      for (const email of emails) control.details.set(email, emptyDetail(email, verificationOf(email)));
      control.update(({verifying: _verifying, ...mailbox}) => mailbox);
    };
    const ui = renderUi(<BatchScreen control={control} />, {columns: 120, rows: 30});
    await ui.waitFor((text) => text.includes('b@example.test'));
    await ui.press('j', 'v');
    assert.deepEqual(control.commands.at(-1), {command: 'verify', emails: ['b@example.test'], deep: false});
    const running = await ui.waitFor((text) => /b@example\.test\s+Verifying/.test(text), 'the row shows the verification');
    assert.doesNotMatch(running, /a@example\.test\s+Verifying/);
    release();
    await ui.waitFor((text) => text.includes('b@example.test: 60 %, NOT consistent (3 missing, 1 flag differences)'), 'the outcome in the status line');
    await ui.press('enter');
    const detail = await ui.waitFor((text) => text.includes('Last verification'), 'the detail view');
    assert.match(detail, /Last verification .*: 60 %, NOT consistent/);
    assert.match(detail, /1 folder\(s\) checked; source 10 message\(s\)/);
    assert.match(detail, /missing on target: INBOX UID 3, 2003 bytes, Message-ID <m3@example\.test>/);
    assert.match(detail, /missing on target: INBOX UID 9, 2009 bytes/);
    assert.match(detail, /flag difference: INBOX UID 5 \(target UID 105\) <m5@example\.test>: target lacks \\Seen/);
    // v in the detail verifies this mailbox again.
    await ui.press('v');
    assert.deepEqual(control.commands.at(-1), {command: 'verify', emails: ['b@example.test'], deep: false});
  });

  it('v acts on the marked mailboxes when some are marked', async () => {
    const mailboxes = ['a@example.test', 'b@example.test', 'c@example.test'].map((email) => fakeMailbox(email, {status: 'Synced'}));
    const control = new FakeBatchControl(fakeSnapshot(mailboxes));
    control.onVerify = (emails) => {
      for (const email of emails) control.details.set(email, emptyDetail(email, verificationOf(email)));
    };
    const ui = renderUi(<BatchScreen control={control} />, {columns: 120, rows: 30});
    await ui.waitFor((text) => text.includes('c@example.test'));
    await ui.press('space', 'j', 'j', 'space', 'v');
    assert.deepEqual(control.commands.at(-1), {command: 'verify', emails: ['a@example.test', 'c@example.test'], deep: false});
    await ui.waitFor((text) => text.includes('Verified 2 mailboxes: 0 consistent'), 'the outcome of both');
  });
});
