// Flag changes on the source since the last pass, carried to the target's copies.
// With CONDSTORE (RFC 7162) only messages whose MODSEQ grew are fetched; without it every
// message's flags are compared (headers only, never bodies). Copies are found by message key
// (see message-key.ts), so no per-message UID map has to be stored.

import type {OpenedFolder} from '../../imap/folder-open.js';
import type {FolderCheckpoint} from '../../store/state-schema.js';
import {fetchKeys, type KeyedFlags} from './folder-keys.js';
import {splitFlags, syncableFlags} from './message-flags.js';
import {pairByKey} from './message-key.js';
import type {PassContext} from './pass-context.js';
import {UidSet} from './uid-set.js';

export interface FlagSyncInput {
  folder: string;
  checkpoint: FolderCheckpoint;
  done: UidSet;
  sourceBox: Pick<OpenedFolder, 'exists' | 'highestModseq' | 'noModseq'>;
  permanentFlags: Set<string> | undefined;
}

/** Returns how many target messages had their flags changed. Target folder must be selected. */
export async function syncFlagChanges(ctx: PassContext, input: FlagSyncInput): Promise<number> {
  const {checkpoint, done, sourceBox} = input;
  const since = checkpoint.highestModseq === undefined ? undefined : BigInt(checkpoint.highestModseq);
  if (since !== undefined && sourceBox.highestModseq !== undefined && sourceBox.highestModseq <= since) return 0;
  if (sourceBox.exists === 0 || done.isEmpty()) return 0;

  // Paired the way reconciling pairs (message-key.ts), with what this target was seen to change.
  const ignored = ctx.state.targetRewrites?.headersAdded ?? [];
  let changed: KeyedFlags[];
  if (since !== undefined && !sourceBox.noModseq) {
    const uids: number[] = [];
    for await (const message of ctx.source.fetch('1:*', {uid: true}, {uid: true, changedSince: since})) {
      if (done.has(message.uid)) uids.push(message.uid);
    }
    if (uids.length === 0) return 0;
    changed = await fetchKeys(ctx.source, uids.join(','), ignored);
  } else {
    changed = (await fetchKeys(ctx.source, '1:*', ignored)).filter((message) => done.has(message.uid));
  }
  if (changed.length === 0) return 0;

  const targetMessages = await fetchKeys(ctx.target, '1:*', ignored);
  const targetByUid = new Map(targetMessages.map((message) => [message.uid, message]));
  const resized = UidSet.parse(checkpoint.resized ?? '');
  const pairs = pairByKey(changed, targetMessages, (uid) => resized.has(uid), ctx.state.targetRewrites);

  // Group STOREs by identical change so a mass "mark all read" costs a few commands.
  const adds = new Map<string, number[]>();
  const removes = new Map<string, number[]>();
  for (const message of changed) {
    const targetUid = pairs.get(message.uid);
    if (targetUid === undefined) continue;
    const want = new Set(splitFlags(message.flags, input.permanentFlags).keep);
    const have = syncableFlags(targetByUid.get(targetUid)!.flags);
    const toAdd = [...want].filter((flag) => !have.has(flag)).sort();
    const toRemove = [...have].filter((flag) => !want.has(flag)).sort();
    if (toAdd.length > 0) push(adds, toAdd.join(' '), targetUid);
    if (toRemove.length > 0) push(removes, toRemove.join(' '), targetUid);
  }
  const touched = new Set<number>();
  for (const [flags, uids] of adds) {
    for (const range of UidSet.fromUids(uids).toImapChunks()) {
      await ctx.target.messageFlagsAdd(range, flags.split(' '), {uid: true, silent: true});
    }
    for (const uid of uids) touched.add(uid);
  }
  for (const [flags, uids] of removes) {
    for (const range of UidSet.fromUids(uids).toImapChunks()) {
      await ctx.target.messageFlagsRemove(range, flags.split(' '), {uid: true, silent: true});
    }
    for (const uid of uids) touched.add(uid);
  }
  return touched.size;
}

function push(map: Map<string, number[]>, key: string, uid: number): void {
  const list = map.get(key);
  if (list) list.push(uid);
  else map.set(key, [uid]);
}
