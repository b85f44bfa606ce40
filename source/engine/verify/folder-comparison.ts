// One folder's source and target listings compared (no IMAP here, so it is unit-tested alone).
// Messages are paired the way the engine pairs them (message-key.ts pairMessages: header
// identity, then date and size as far as the target keeps them), so each identity is compared as
// a multiset: two identical copies on the source need two on the target.
//
// What each unpaired source message is:
// - listed apart: the state gives its reason (skipped, failed, changed in transit); not missing;
// - not yet synced: its UID is at or above the UIDNEXT of the folder's last completed pass (or
//   the folder never had one) and the engine has not ended it: the next pass copies it;
// - missing: everything else.
// Flags are judged by the engine's own rules (message-flags.ts): what the copy would have set
// (system flags it copies, keywords, less the keywords the target folder cannot store), against
// the target's copyable flags; \Recent never counts. A flag change the source made after the last
// pass (MODSEQ above that pass's HIGHESTMODSEQ) is not yet synced, not a difference.

import type {ItemRecord} from '../../store/batch-records.js';
import type {TargetRewrites} from '../../store/state-schema.js';
import {MAX_LISTED, type ApartItem, type FlagDifference, type FolderVerification, type VerifiedMessage} from '../../store/verification-records.js';
import {splitFlags, syncableFlags} from '../copy/message-flags.js';
import {pairMessages} from '../copy/message-key.js';
import type {UidSet} from '../copy/uid-set.js';
import type {ListedMessage} from './verify-listing.js';

export interface ApartRecord extends ItemRecord {
  outcome: ApartItem['outcome'];
}

export interface FolderComparisonInput {
  source: string;
  target: string;
  sourceMessages: readonly ListedMessage[];
  targetMessages: readonly ListedMessage[];
  /** Source UIDs the engine ended (copied, skipped or failed): checkpoint.done. */
  done: UidSet;
  /** Source UIDNEXT at the end of the last completed pass; absent when none completed. */
  uidNext?: number | undefined;
  /** Source HIGHESTMODSEQ at the end of the last completed pass. */
  highestModseq?: bigint | undefined;
  /** checkpoint.resized: literal8 copies that may be stored larger. */
  resized: UidSet;
  rewrites?: TargetRewrites | undefined;
  /** Keywords the target folder was found unable to store (state.droppedKeywords). */
  droppedKeywords: ReadonlySet<string>;
  /** The state's skipped/failed/changed items of this folder. */
  apart: readonly ApartRecord[];
  /** The folder's UIDVALIDITY changed since the state was written: its UIDs say nothing. */
  uidValidityChanged?: boolean;
  now?: number;
}

export interface FolderComparison {
  verification: FolderVerification;
  apartItems: ApartItem[];
  /** Pairs found identical so far, for --deep: [source UID, target UID]. */
  comparable: Array<[number, number]>;
  /** Pairs --deep cannot compare by bytes (sizes differ, allowed by what the target rewrites). */
  notComparable: number;
}

export function compareFolder(input: FolderComparisonInput): FolderComparison {
  const {done} = input;
  const apartByUid = new Map<number, ApartRecord>();
  // A run (count > 1, past the item cap) names only its highest UID; it covers that many
  // unpaired UIDs at or below it.
  const runs: Array<{record: ApartRecord; left: number}> = [];
  if (!input.uidValidityChanged) {
    for (const record of input.apart) {
      if ((record.count ?? 1) > 1) runs.push({record, left: record.count!});
      else if (!apartByUid.has(record.uid)) apartByUid.set(record.uid, record);
    }
  }
  const doneFirst = [...input.sourceMessages].sort((a, b) => Number(done.has(b.uid)) - Number(done.has(a.uid)) || a.uid - b.uid);
  const pairing = pairMessages(doneFirst, input.targetMessages, {
    rewrites: input.rewrites,
    resized: (uid) => input.resized.has(uid),
    ...(input.now !== undefined ? {now: input.now} : {}),
  });
  const targetByUid = new Map(input.targetMessages.map((message) => [message.uid, message]));

  const verification: FolderVerification = {
    source: input.source,
    target: input.target,
    sourceMessages: input.sourceMessages.length,
    targetMessages: input.targetMessages.length,
    sourceBytes: sum(input.sourceMessages),
    targetBytes: sum(input.targetMessages),
    expected: 0,
    present: 0,
    identical: 0,
    missing: 0,
    missingListed: [],
    extra: pairing.unmatchedTarget.length,
    extraListed: pairing.unmatchedTarget.slice(0, MAX_LISTED).map((message) => named(message as ListedMessage)),
    flagDifferences: 0,
    flagListed: [],
    bodyDifferences: 0,
    bodyListed: [],
    bodiesNotComparable: 0,
    notYetSynced: 0,
    notYetSyncedListed: [],
    flagChangesNotYetSynced: 0,
    apart: 0,
  };
  const apartItems: ApartItem[] = [];
  const comparable: Array<[number, number]> = [];
  let notComparable = 0;
  const sortedSource = [...input.sourceMessages].sort((a, b) => a.uid - b.uid);
  const apartFor = (message: ListedMessage): ApartRecord | undefined => {
    const single = apartByUid.get(message.uid);
    if (single) return single;
    if (pairing.pairs.has(message.uid)) return undefined;
    const run = runs.find((entry) => entry.left > 0 && message.uid <= entry.record.uid && done.has(message.uid));
    if (!run) return undefined;
    run.left--;
    return run.record;
  };
  for (const message of sortedSource) {
    const targetUid = pairing.pairs.get(message.uid);
    const apart = apartFor(message);
    if (apart) {
      verification.apart++;
      apartItems.push({folder: input.source, uid: message.uid, size: message.size, outcome: apart.outcome, reason: apart.reason, onTarget: targetUid !== undefined});
      continue;
    }
    const reached = !input.uidValidityChanged && done.has(message.uid);
    const beyondLastPass = input.uidValidityChanged || input.uidNext === undefined || message.uid >= input.uidNext;
    if (targetUid === undefined) {
      if (!reached && beyondLastPass) {
        verification.notYetSynced++;
        if (verification.notYetSyncedListed.length < MAX_LISTED) verification.notYetSyncedListed.push(named(message));
        continue;
      }
      verification.expected++;
      verification.missing++;
      if (verification.missingListed.length < MAX_LISTED) verification.missingListed.push(named(message));
      continue;
    }
    verification.expected++;
    verification.present++;
    const copy = targetByUid.get(targetUid)!;
    const difference = flagDifference(message, copy, input.droppedKeywords);
    if (difference) {
      const changedSince = input.highestModseq !== undefined && message.modseq !== undefined && message.modseq > input.highestModseq;
      if (changedSince) {
        verification.flagChangesNotYetSynced++;
      } else {
        verification.flagDifferences++;
        if (verification.flagListed.length < MAX_LISTED) verification.flagListed.push(difference);
        continue;
      }
    }
    verification.identical++;
    if (copy.size === message.size) comparable.push([message.uid, targetUid]);
    else notComparable++;
  }
  return {verification, apartItems, comparable, notComparable};
}

/** The flags the copy should carry but lacks, and those it carries but should not; undefined when equal. */
export function flagDifference(source: ListedMessage, copy: ListedMessage, droppedKeywords: ReadonlySet<string>): FlagDifference | undefined {
  const want = new Set(splitFlags(splitList(source.flags), undefined).keep.filter((flag) => !droppedKeywords.has(flag)));
  const have = syncableFlags(splitList(copy.flags));
  // Keywords the target cannot store may still be on it from elsewhere: never a difference.
  for (const flag of droppedKeywords) have.delete(flag);
  const missingOnTarget = [...want].filter((flag) => !have.has(flag)).sort();
  const extraOnTarget = [...have].filter((flag) => !want.has(flag)).sort();
  if (missingOnTarget.length === 0 && extraOnTarget.length === 0) return undefined;
  return {sourceUid: source.uid, targetUid: copy.uid, ...(source.messageId ? {messageId: source.messageId} : {}), missingOnTarget, extraOnTarget};
}

function splitList(flags: string): string[] {
  return flags === '' ? [] : flags.split(' ');
}

function named(message: ListedMessage): VerifiedMessage {
  return {
    uid: message.uid,
    size: message.size,
    ...(message.messageId ? {messageId: message.messageId} : {}),
    ...(message.internalDate && !Number.isNaN(message.internalDate.getTime()) ? {date: message.internalDate.toISOString()} : {}),
  };
}

function sum(messages: readonly ListedMessage[]): number {
  let total = 0;
  for (const message of messages) total += message.size;
  return total;
}
