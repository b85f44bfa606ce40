// The verification's folder comparison and score without a server: multisets of the engine's
// message keys (two identical copies need two on the target), flags judged by the copy's rules,
// items listed apart and messages newer than the last pass kept out of "missing", the score.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {UidSet} from '../source/engine/copy/uid-set.js';
import {batchScore, consistencyScore, isConsistent, totalsOf} from '../source/engine/verify/consistency-score.js';
import {compareFolder, flagDifference, type FolderComparisonInput} from '../source/engine/verify/folder-comparison.js';
import type {ListedMessage} from '../source/engine/verify/verify-listing.js';
import type {MailboxVerification} from '../source/store/verification-records.js';

const DATE = new Date('2024-03-01T10:00:00Z');

function message(uid: number, digest: string, options: Partial<ListedMessage> = {}): ListedMessage {
  return {uid, size: 1000 + digest.length, headerDigest: digest, internalDate: DATE, messageId: `<${digest}@example.test>`, flags: '', ...options};
}

function input(source: ListedMessage[], target: ListedMessage[], extra: Partial<FolderComparisonInput> = {}): FolderComparisonInput {
  return {
    source: 'INBOX',
    target: 'INBOX',
    sourceMessages: source,
    targetMessages: target,
    done: UidSet.fromUids(source.map((m) => m.uid)),
    uidNext: Math.max(0, ...source.map((m) => m.uid)) + 1,
    resized: new UidSet(),
    droppedKeywords: new Set(),
    apart: [],
    ...extra,
  };
}

describe('verification: folder comparison', () => {
  it('counts an identical copy as 100 % and nothing else', () => {
    const source = [message(1, 'a', {flags: '\\Seen'}), message(2, 'b'), message(3, 'c', {flags: '\\Flagged $Label1'})];
    const target = [message(7, 'a', {flags: '\\Seen \\Recent'}), message(8, 'b'), message(9, 'c', {flags: '$Label1 \\Flagged'})];
    const {verification} = compareFolder(input(source, target));
    assert.deepEqual(
      {expected: verification.expected, identical: verification.identical, missing: verification.missing, extra: verification.extra, flags: verification.flagDifferences},
      {expected: 3, identical: 3, missing: 0, extra: 0, flags: 0},
    );
    assert.equal(verification.sourceBytes, verification.targetBytes);
  });

  it('compares duplicates as a multiset: two identical source messages need two copies', () => {
    const source = [message(1, 'same'), message(2, 'same'), message(3, 'other')];
    const target = [message(10, 'same'), message(11, 'other')];
    const {verification} = compareFolder(input(source, target));
    assert.equal(verification.missing, 1);
    assert.equal(verification.missingListed.length, 1);
    assert.equal(verification.missingListed[0]!.messageId, '<same@example.test>');
    // And one more copy on the target than the source has is extra, named by target UID.
    const more = compareFolder(input([message(1, 'same')], [message(10, 'same'), message(11, 'same')])).verification;
    assert.equal(more.missing, 0);
    assert.deepEqual(more.extraListed.map((m) => m.uid), [11]);
  });

  it('names missing messages by source UID, size and Message-ID', () => {
    const source = [message(1, 'a'), message(2, 'b'), message(3, 'c')];
    const {verification} = compareFolder(input(source, [message(5, 'b')]));
    assert.deepEqual(verification.missingListed.map((m) => [m.uid, m.size, m.messageId]), [
      [1, 1001, '<a@example.test>'],
      [3, 1001, '<c@example.test>'],
    ]);
  });

  it('judges flags by what the copy would set: \\Recent and keywords the target cannot store never differ', () => {
    const source = message(1, 'a', {flags: '\\Seen \\Recent NonJunk'});
    assert.equal(flagDifference(source, message(9, 'a', {flags: '\\Seen'}), new Set(['NonJunk'])), undefined);
    assert.deepEqual(flagDifference(source, message(9, 'a', {flags: '\\Seen'}), new Set()), {sourceUid: 1, targetUid: 9, messageId: '<a@example.test>', missingOnTarget: ['NonJunk'], extraOnTarget: []});
    assert.deepEqual(flagDifference(message(1, 'a'), message(9, 'a', {flags: '\\Flagged'}), new Set())?.extraOnTarget, ['\\Flagged']);
    // Servers spell system flags in any case.
    assert.equal(flagDifference(message(1, 'a', {flags: '\\SEEN'}), message(9, 'a', {flags: '\\Seen'}), new Set()), undefined);
  });

  it('keeps items the state lists with a reason apart, not missing', () => {
    const source = [message(1, 'a'), message(2, 'big'), message(3, 'c')];
    const {verification, apartItems} = compareFolder(
      input(source, [message(1, 'a'), message(3, 'c')], {apart: [{folder: 'INBOX', uid: 2, size: 40_000_000, reason: 'larger than the maximum', outcome: 'skipped'}]}),
    );
    assert.equal(verification.missing, 0);
    assert.equal(verification.apart, 1);
    assert.equal(verification.expected, 2);
    assert.deepEqual(apartItems.map((item) => [item.uid, item.outcome, item.onTarget]), [[2, 'skipped', false]]);
  });

  it('attributes a run past the item cap (one record, count N) to that many unpaired UIDs at or below it', () => {
    const source = [message(1, 'a'), message(2, 'b'), message(3, 'c'), message(4, 'd')];
    const {verification} = compareFolder(
      input(source, [message(10, 'd')], {apart: [{folder: 'INBOX', uid: 3, size: 3000, count: 2, reason: 'beyond the limit (UIDs 2-3)', outcome: 'skipped'}]}),
    );
    assert.equal(verification.apart, 2);
    assert.deepEqual(verification.missingListed.map((m) => m.uid), [3]);
  });

  it('reports messages above the last pass’s UIDNEXT as not yet synced, not missing; an unreached UID below it is missing', () => {
    const source = [message(1, 'a'), message(2, 'b'), message(5, 'new')];
    const {verification} = compareFolder(input(source, [message(1, 'a')], {done: UidSet.fromUids([1, 2]), uidNext: 3}));
    assert.equal(verification.notYetSynced, 1);
    assert.deepEqual(verification.notYetSyncedListed.map((m) => m.uid), [5]);
    assert.deepEqual(verification.missingListed.map((m) => m.uid), [2]);
    assert.equal(verification.expected, 2);
    // A folder whose first pass never completed: nothing it has not ended is missing yet.
    const early = compareFolder(input(source, [message(1, 'a')], {done: UidSet.fromUids([1]), uidNext: undefined})).verification;
    assert.equal(early.missing, 0);
    assert.equal(early.notYetSynced, 2);
  });

  it('treats a flag change made on the source after the last pass as not yet synced', () => {
    const source = [message(1, 'a', {flags: '\\Seen', modseq: 20n}), message(2, 'b', {flags: '\\Seen', modseq: 5n})];
    const target = [message(1, 'a'), message(2, 'b')];
    const {verification} = compareFolder(input(source, target, {highestModseq: 10n}));
    assert.equal(verification.flagChangesNotYetSynced, 1);
    assert.equal(verification.flagDifferences, 1);
    assert.deepEqual(verification.flagListed.map((d) => d.sourceUid), [2]);
  });

  it('pairs the way the engine does: a target known to change sizes still holds the copy', () => {
    const source = [message(1, 'a', {size: 1000})];
    const target = [message(1, 'a', {size: 1042})];
    assert.equal(compareFolder(input(source, target, {rewrites: {size: 'changed'}})).verification.identical, 1);
    assert.equal(compareFolder(input(source, target, {rewrites: {size: 'kept'}})).verification.missing, 1);
    // --deep cannot compare bytes of a resized copy: counted apart, not as a body difference.
    assert.equal(compareFolder(input(source, target, {rewrites: {size: 'changed'}})).notComparable, 1);
  });
});

describe('verification: consistency score', () => {
  it('is the share of expected items present and identical, never rounded up to 100', () => {
    assert.equal(consistencyScore({expected: 0, identical: 0}), 100);
    assert.equal(consistencyScore({expected: 4, identical: 3}), 75);
    assert.equal(consistencyScore({expected: 100_000, identical: 99_999}), 99.99);
    assert.equal(consistencyScore({expected: 1_000_000, identical: 999_999}), 99.99);
  });

  it('extra target messages do not make a mailbox inconsistent; missing, flags and problems do', () => {
    const clean = compareFolder(input([message(1, 'a')], [message(1, 'a'), message(2, 'x')])).verification;
    assert.equal(isConsistent(totalsOf([clean]), [clean]), true);
    const missing = compareFolder(input([message(1, 'a')], [])).verification;
    assert.equal(isConsistent(totalsOf([missing]), [missing]), false);
    const problem = {...clean, problem: 'target folder gone'};
    assert.equal(isConsistent(totalsOf([problem]), [problem]), false);
  });

  it('weighs mailboxes by their items in the batch score', () => {
    const mailbox = (expected: number, identical: number, consistent: boolean) => ({totals: {expected, identical}, consistent}) as unknown as MailboxVerification;
    assert.deepEqual(batchScore([mailbox(1000, 1000, true), mailbox(10, 0, false)]), {score: 99.00, consistent: false, mailboxes: 2});
  });
});
