// One folder of one mailbox: decide what is new, check the target when the last run may have
// left copies behind, copy newest first, sync flag changes, and leave a checkpoint.
//
// Crash safety without a state write per message: before the first APPEND into a folder the
// checkpoint is marked `inProgress` and flushed. A folder found in that state (a crash or kill
// during the copy) is reconciled: messages paired with a target message by identity (stable header
// fields) and then internal date and size as far as the target keeps them (message-key.ts), beyond
// those accounted for by UIDs checkpointed as done, are not copied again.
// The same reconciliation runs when UIDVALIDITY changed on either end, or when the target folder
// already held mail before this batch had a checkpoint for it. A folder whose copy was cut off is
// compared only once the target has stopped storing that copy's last commands
// (target-quiet-wait.ts), and checked for messages stored twice after it is copied again
// (duplicate-copy-check.ts).

import type {FetchMessageObject} from 'imapflow';
import {MAX_ITEMS, MAX_UNMATCHED_LISTED, type FolderCheckpoint, type ReconcileRecord} from '../../store/state-schema.js';
import type {FolderPlanEntry} from '../folders/folder-mapping.js';
import {fetchKeys} from './folder-keys.js';
import {syncFlagChanges} from './flag-sync.js';
import {noteBodyReleased} from './large-body-gc.js';
import {headerValue} from './message-headers.js';
import {pairMessages, type KeyedMessage, type Pairing} from './message-key.js';
import {splitFlags} from './message-flags.js';
import type {PassContext} from './pass-context.js';
import {UidSet} from './uid-set.js';
import {folderUnchanged, type FolderStatusHint} from './folder-status.js';
import {checkFutureDates, FutureDates} from './internal-date-check.js';
import {streamCopy, type StreamLane} from './stream-copy.js';
import {QUIET_MAX_MS, QUIET_POLL_MS, QUIET_SETTLE_MS, waitUntilQuiet} from './target-quiet-wait.js';
import {checkDuplicateCopies} from './duplicate-copy-check.js';
import {UidAfterBodyError} from '../../imap/body-stream.js';
import {listUidSizes, openFolder, type OpenedFolder} from '../../imap/folder-open.js';
import {searchDeletedUids} from '../../imap/deleted-search.js';
import type {RawImapSession} from '../../imap/raw-session.js';
import {MigrationError} from '../../imap/imap-error.js';
import {exactBody} from './exact-body.js';
import {learnTargetRewrites} from './target-rewrites.js';
import {openMailbox} from '../../imap/imapflow-open.js';

/** Messages per FETCH of bodies; also bounded by bytes below. */
const CHUNK_MESSAGES = 64;
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Messages larger than this are fetched alone, in slices of this size (one round trip each). */
const SLICE_BYTES = 8 * 1024 * 1024;

export interface FolderTask {
  entry: FolderPlanEntry;
  /** From LIST-STATUS on the source, when the server answered it. */
  sourceStatus?: FolderStatusHint;
  /** Messages already in the target folder (from LIST-STATUS), when known. */
  targetMessages?: number;
}

export interface FolderPassResult {
  copied: number;
  alreadyPresent: number;
  flagsUpdated: number;
}

export function newCheckpoint(target: string, sourceUidValidity: string): FolderCheckpoint {
  return {
    target,
    sourceUidValidity,
    done: '',
    total: 0,
    doneCount: 0,
    skipped: 0,
    failed: 0,
    bytesDone: 0,
    bytesTotal: 0,
  };
}

/** Forget what was copied (the source or target folder is not the one we copied into). */
function resetCheckpoint(checkpoint: FolderCheckpoint, target: string, sourceUidValidity: string): void {
  Object.assign(checkpoint, newCheckpoint(target, sourceUidValidity));
  delete checkpoint.targetUidValidity;
  delete checkpoint.uidNext;
  delete checkpoint.highestModseq;
  delete checkpoint.inProgress;
  delete checkpoint.resized;
}

export function mailboxItemsDone(ctx: PassContext): number {
  let count = 0;
  for (const checkpoint of Object.values(ctx.state.folders)) count += checkpoint.doneCount;
  return count;
}

/**
 * A folder's EXAMINE and listing sent on the first lane's source session ahead of time, right
 * behind the previous folder's last FETCHes: the source answers them as soon as it has sent the
 * last body, instead of one round trip after the copy of that folder ended. Not the target's
 * SELECT: the lane's target session is then in the middle of APPENDs written piece by piece,
 * and nothing may be written into them.
 */
export interface FolderOpening {
  lane: StreamLane;
  folder: string;
  source: Promise<OpenedFolder | undefined>;
  listing: Promise<Array<[number, number]>>;
}

/** Opens `task`'s folder ahead on `lane`, when syncFolder would open it that way (see there). */
export function openAhead(ctx: PassContext, lane: StreamLane, task: FolderTask): FolderOpening | undefined {
  if (ctx.state.folders[task.entry.source]?.uidNext !== undefined || lane.source.isClosed) return undefined;
  const opening: FolderOpening = {
    lane,
    folder: task.entry.source,
    source: openFolder(lane.source, task.entry.source, 'EXAMINE'),
    listing: collectUidSizes(lane.source),
  };
  // Used by the next syncFolder, or not at all (a stop, a failed folder): never unhandled.
  for (const promise of [opening.source, opening.listing]) promise.catch(() => {});
  return opening;
}

export interface FolderAhead {
  /** This folder, opened ahead by the previous one (openAhead). */
  opening?: FolderOpening;
  /** Called once this folder's last FETCH is written: the time to open the next folder ahead. */
  openNext?(): void;
}

export async function syncFolder(ctx: PassContext, task: FolderTask, ahead: FolderAhead = {}): Promise<FolderPassResult> {
  const {entry} = task;
  const folder = entry.source;
  const result: FolderPassResult = {copied: 0, alreadyPresent: 0, flagsUpdated: 0};
  const existing = ctx.state.folders[folder];
  if (ctx.kind !== 'initial' && folderUnchanged(existing, task.sourceStatus)) {
    existing!.lastPassAt = new Date().toISOString();
    return result;
  }
  ctx.report.currentFolder(folder);

  // With lanes (an initial pass opens them before listing folders), the folder is opened and
  // listed over them (folder-open.ts), not over imapflow.
  const lane = ctx.streamLanes()[0];
  // Opened ahead only if on this lane and for this folder, and still listed whole (as below).
  const opening = ahead.opening && ahead.opening.lane === lane && ahead.opening.folder === folder && existing?.uidNext === undefined ? ahead.opening : undefined;
  const sourceOpened = lane
    ? guard(ctx, 'source', folder, async () => (await (opening?.source ?? openFolder(lane.source, folder, 'EXAMINE'))) ?? openOnControl(ctx, 'source', folder))
    : undefined;
  // A folder never finished is listed whole whatever the checks below decide: the listing goes
  // right behind the EXAMINE, one round trip to the source instead of two.
  const earlyListing = lane && existing?.uidNext === undefined ? (opening?.listing ?? collectUidSizes(lane.source)) : undefined;
  earlyListing?.catch(() => {});
  const [box, targetBox] = lane
    ? await Promise.all([
        sourceOpened!,
        guard(ctx, 'target', entry.target, async () => (await openFolder(lane.target, entry.target, 'SELECT')) ?? openOnControl(ctx, 'target', entry.target)),
      ])
    : [
        await guard(ctx, 'source', folder, () => openOnControl(ctx, 'source', folder)),
        await guard(ctx, 'target', entry.target, () => openOnControl(ctx, 'target', entry.target)),
      ];
  // imapflow's connections select the folder only if a path that uses them needs it.
  const selectControl = async () => {
    await selectOnControl(ctx, 'source', folder, box.uidValidity);
    await selectOnControl(ctx, 'target', entry.target, targetBox.uidValidity);
  };
  const sourceUidValidity = box.uidValidity.toString();
  let checkpoint = existing;
  let reconcile = false;
  // A checkpoint made now carries the in-progress mark from the start, so no write can put it on
  // disk without it (see the mark below).
  const firstCheckpoint = !checkpoint;
  // A copy into this folder was cut off: the mark survived a kill, or an earlier pass of this
  // process failed in the middle (a lane closes its target connection mid-APPEND). Without a
  // checkpoint, a target holding mail may be the same: the first APPENDs of a folder do not wait
  // for its mark to reach disk. The target may still be storing that copy's last commands.
  const interrupted = existing?.inProgress === true || (firstCheckpoint && targetBox.exists > 0);
  if (!checkpoint) {
    checkpoint = {...newCheckpoint(entry.target, sourceUidValidity), inProgress: true};
    ctx.state.folders[folder] = checkpoint;
    reconcile = true; // decided below from the target's message count
  } else if (checkpoint.target !== entry.target || checkpoint.sourceUidValidity !== sourceUidValidity) {
    ctx.logger.warn('folder identity changed; checking the target before copying', {
      folder,
      target: entry.target,
      previousTarget: checkpoint.target,
      uidValidity: sourceUidValidity,
      previousUidValidity: checkpoint.sourceUidValidity,
    });
    resetCheckpoint(checkpoint, entry.target, sourceUidValidity);
    reconcile = true;
  } else if (checkpoint.inProgress) {
    reconcile = true;
  }

  const targetUidValidity = targetBox.uidValidity.toString();
  if (checkpoint.targetUidValidity !== undefined && checkpoint.targetUidValidity !== targetUidValidity) {
    ctx.logger.warn('target folder UIDVALIDITY changed (folder recreated?); checking it before copying', {folder, target: entry.target});
    resetCheckpoint(checkpoint, entry.target, sourceUidValidity);
    reconcile = true;
  }
  checkpoint.targetUidValidity = targetUidValidity;
  const targetMessages = interrupted ? await waitForInterruptedRun(ctx, folder, entry.target, selectControl) : targetBox.exists;
  // An empty target folder cannot hold copies, whatever happened before.
  if (targetMessages === 0) reconcile = false;

  const done = UidSet.parse(checkpoint.done);
  const wasComplete = checkpoint.uidNext !== undefined && !reconcile;

  if (ctx.kind !== 'initial' && wasComplete) {
    await selectControl();
    result.flagsUpdated = await guard(ctx, 'target', entry.target, () =>
      syncFlagChanges(ctx, {folder, checkpoint: checkpoint!, done, sourceBox: box, permanentFlags: targetBox.permanentFlags}),
    );
  }

  // List what is not done yet. A complete folder only needs the UIDs above its last UIDNEXT.
  const range = wasComplete ? `${checkpoint.uidNext}:*` : '1:*';
  const pendingUids: number[] = [];
  const sizes = new Map<number, number>();
  let listedTotal = 0;
  let listedBytes = 0;
  const listedUids: number[] = [];
  if (box.exists > 0) {
    const listed = (uid: number, size: number) => {
      // `n:*` always returns the highest message even when its UID is below n.
      if (wasComplete && uid < checkpoint!.uidNext!) return;
      listedTotal++;
      if (!wasComplete) listedUids.push(uid);
      listedBytes += size;
      if (done.has(uid)) return;
      pendingUids.push(uid);
      sizes.set(uid, size);
    };
    await guard(ctx, 'source', folder, async () => {
      // Only valid if that EXAMINE is what opened the folder (not imapflow's fallback) and the
      // range is the whole folder.
      if (earlyListing && range === '1:*' && box.openedBy === 'raw') {
        for (const [uid, size] of await earlyListing) listed(uid, size);
        return;
      }
      if (lane && !lane.source.isClosed && box.openedBy === 'raw') return listUidSizes(lane.source, range, listed);
      await selectOnControl(ctx, 'source', folder, box.uidValidity);
      for await (const message of ctx.source.fetch(range, {uid: true, size: true}, {uid: true})) listed(message.uid, message.size ?? 0);
    });
  }
  if (!wasComplete) {
    // UIDs are never reused under one UIDVALIDITY (RFC 3501 section 2.3.1.1): the gaps below the
    // highest listed UID can never hold a message, so counting them as done keeps the done set
    // one range instead of one range per expunged message.
    for (const [from, to] of gapsBelow(listedUids)) done.addRange(from, to);
    checkpoint.total = listedTotal;
    checkpoint.bytesTotal = listedBytes;
  } else {
    checkpoint.total += pendingUids.length;
    for (const uid of pendingUids) checkpoint.bytesTotal += sizes.get(uid) ?? 0;
  }
  pendingUids.sort((a, b) => b - a);
  ctx.report.progress();

  if (reconcile && pendingUids.length > 0) {
    await selectControl();
    const present = await findAlreadyCopied(ctx, folder, entry.target, done, pendingUids, UidSet.parse(checkpoint.resized ?? ''));
    if (present.size > 0) {
      for (const uid of present) {
        done.add(uid);
        checkpoint.doneCount++;
        checkpoint.bytesDone += sizes.get(uid) ?? 0;
      }
      result.alreadyPresent = present.size;
      ctx.logger.info('messages already on the target were not copied again', {folder, count: present.size});
      for (let i = pendingUids.length - 1; i >= 0; i--) if (present.has(pendingUids[i]!)) pendingUids.splice(i, 1);
    }
  }
  checkpoint.done = done.toString();

  if (pendingUids.length > 0) {
    checkpoint.inProgress = true;
    // A checkpoint already on disk (a complete folder getting new mail, an interrupted one) must
    // carry the mark there before the first APPEND, else a crash would leave it claiming the
    // folder is copied up to its old UIDNEXT, and the next pass would copy again what landed.
    // The write (with its fsyncs) runs while the first bodies are fetched. A checkpoint made in
    // this pass needs no wait: on disk it is either absent (the next pass finds the target's
    // messages and compares, as for any folder without a checkpoint) or marked, since it was made
    // marked. That saved 11 ms per folder in the quick bench (a state write and its fsyncs).
    const marked = firstCheckpoint ? Promise.resolve() : ctx.report.flushNow();
    if (firstCheckpoint) ctx.report.markDirty();
    marked.catch(() => {});
    const deleted = ctx.settings.skipDeletedMessages ? await deletedOnSource(ctx, lane, box, range) : undefined;
    await ctx.widenPool();
    const futureDates = new FutureDates();
    const toCopy = interrupted ? new Set(pendingUids) : undefined;
    result.copied = await copyPending(ctx, {folder, entry, checkpoint, done, pendingUids, sizes, permanentFlags: targetBox.permanentFlags, marked, futureDates, selectSource: () => selectOnControl(ctx, 'source', folder, box.uidValidity), ...(ahead.openNext ? {openNext: ahead.openNext} : {}), ...(deleted ? {deleted} : {})});
    const future = futureDates.copied((uid) => done.has(uid));
    if (future.size > 0 && !ctx.signal.aborted) {
      await guard(ctx, 'target', entry.target, () => checkFutureDates(ctx, {folder, targetPath: entry.target, dates: future, selectControl}));
    }
    if (toCopy && !ctx.signal.aborted) {
      const copied = new Set([...toCopy].filter((uid) => done.has(uid)));
      await guard(ctx, 'target', entry.target, () => checkDuplicateCopies(ctx, {folder, targetPath: entry.target, copied, selectControl}));
    }
    if (result.copied > 0 && !ctx.signal.aborted && !ctx.state.targetRewrites?.learnedAt) {
      // Once per mailbox: what the target changes on APPEND, for later reconciliations.
      const resized = UidSet.parse(checkpoint.resized ?? '');
      try {
        await guard(ctx, 'target', entry.target, () =>
          learnTargetRewrites(ctx, {targetPath: entry.target, targetUidNext: targetBox.uidNext, resized: (uid) => resized.has(uid), selectControl}),
        );
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        // Only the read-back failed, not the copy: reconciling then tolerates the known rewrites.
        ctx.logger.warn('could not read back copies to learn what the target changes on APPEND; reconciling will assume the usual rewrites', {folder, target: entry.target, error: error instanceof Error ? error.message : String(error)});
      }
    }
  }

  // A stop can end the copy early without an error (a lane asks for work after it): the folder
  // must then stay in progress, never be taken for complete.
  if (ctx.signal.aborted) throw ctx.signal.reason;
  checkpoint.done = done.toString();
  delete checkpoint.inProgress;
  checkpoint.uidNext = box.uidNext;
  if (box.highestModseq !== undefined && !box.noModseq) checkpoint.highestModseq = box.highestModseq.toString();
  else delete checkpoint.highestModseq;
  checkpoint.lastPassAt = new Date().toISOString();
  ctx.report.markDirty();
  return result;
}

/**
 * Waits until the target folder's message count has stopped changing (target-quiet-wait.ts) and
 * returns it. Only folders whose copy was interrupted pay for it: about QUIET_SETTLE_MS.
 */
async function waitForInterruptedRun(ctx: PassContext, folder: string, target: string, selectControl: () => Promise<void>): Promise<number> {
  await selectControl();
  const started = Date.now();
  const note = setInterval(() => {
    ctx.logger.info(`waiting for the target to finish storing an interrupted run's messages in ${target}: ${Math.round((Date.now() - started) / 1000)} s`, {folder, target});
  }, 10_000);
  note.unref();
  try {
    const waited = await guard(ctx, 'target', target, () =>
      waitUntilQuiet({
        // NOOP makes the session see what other sessions stored (RFC 3501 section 6.1.2), and
        // Dovecot answers with EXISTS; STATUS on the selected folder may give the session's view.
        read: async () => {
          await ctx.target.noop();
          return ctx.target.mailbox ? ctx.target.mailbox.exists : 0;
        },
        settleMs: QUIET_SETTLE_MS,
        maxMs: QUIET_MAX_MS,
        pollMs: QUIET_POLL_MS,
        signal: ctx.signal,
      }),
    );
    const facts = {folder, target, seconds: Math.round(waited.waitedMs / 100) / 10, messagesBefore: waited.firstMessages, messagesAfter: waited.messages};
    if (waited.quiet) ctx.logger.info(`waited for the target to finish storing an interrupted run's messages in ${target}: ${facts.seconds} s`, facts);
    else ctx.logger.warn(`the target folder ${target} was still changing after ${facts.seconds} s; comparing it now (a message stored twice will be listed)`, facts);
    return waited.messages;
  } finally {
    clearInterval(note);
  }
}

/** Ranges of UIDs in [1, max(uids)] that are not in `uids`. */
export function gapsBelow(uids: number[]): [number, number][] {
  const sorted = [...uids].sort((a, b) => a - b);
  const gaps: [number, number][] = [];
  let next = 1;
  for (const uid of sorted) {
    if (uid > next) gaps.push([next, uid - 1]);
    next = Math.max(next, uid + 1);
  }
  return gaps;
}

interface CopyInput {
  folder: string;
  entry: FolderPlanEntry;
  checkpoint: FolderCheckpoint;
  done: UidSet;
  pendingUids: number[];
  sizes: Map<number, number>;
  permanentFlags: Set<string> | undefined;
  /** Resolves once the folder's in-progress mark is on disk; no APPEND may start before. */
  marked: Promise<void>;
  /** Selects the folder on imapflow's source connection (the buffered path reads from it). */
  selectSource(): Promise<void>;
  /** Copied messages dated in the future, to read back from the target afterwards. */
  futureDates: FutureDates;
  /** See FolderAhead. */
  openNext?(): void;
  /** Source UIDs marked \Deleted, left out and listed as skipped (skipDeletedMessages). */
  deleted?: ReadonlySet<number>;
}

async function copyPending(ctx: PassContext, input: CopyInput): Promise<number> {
  const {folder, entry, checkpoint, done, pendingUids, sizes} = input;
  const {maxMessageBytes, maxItemsPerMailbox} = ctx.settings;
  const appendsBefore = ctx.state.stats.appendCount;
  const chunkBytes = Math.max(1, Math.min(CHUNK_BYTES, Math.floor(ctx.bytes.capacity / 4)));
  const droppedKeywords = new Set<string>();
  const itemsDone = mailboxItemsDone(ctx);

  const endItem = (uid: number) => {
    done.add(uid);
    checkpoint.done = done.toString();
  };
  ctx.appendResults.set(folder, (job, result) => {
    endItem(job.uid);
    if (result.ok) {
      checkpoint.doneCount++;
      checkpoint.bytesDone += job.size;
      ctx.state.stats.appendCount++;
      ctx.report.progress();
      if (job.changedReason) reportChanged(ctx, folder, job.uid, job.size, job.source, job.internalDate, job.changedReason);
      return;
    }
    checkpoint.failed++;
    const subject = headerValue(job.source, 'subject');
    ctx.report.failed({
      folder,
      uid: job.uid,
      size: job.size,
      ...(job.internalDate ? {date: job.internalDate.toISOString()} : {}),
      ...(subject ? {subject} : {}),
      reason: `${result.error.message}${result.error.serverText ? ` (server said: ${result.error.serverText})` : ''}`,
    });
  });

  // Newest first: oversize messages are recorded, not copied; past the item cap, recorded as one run.
  let copyable: number[] = [];
  const oversize: number[] = [];
  const overCap: number[] = [];
  const deleted: number[] = [];
  for (const uid of pendingUids) {
    if (input.deleted?.has(uid)) deleted.push(uid);
    else if ((sizes.get(uid) ?? 0) > maxMessageBytes) oversize.push(uid);
    else if (itemsDone + copyable.length < maxItemsPerMailbox) copyable.push(uid);
    else overCap.push(uid);
  }
  if (oversize.length > 0) {
    await input.selectSource();
    await recordOversize(ctx, folder, checkpoint, oversize, maxMessageBytes, endItem);
  }
  if (deleted.length > 0) {
    await input.selectSource();
    await recordDeleted(ctx, folder, checkpoint, deleted, sizes, endItem);
  }
  if (overCap.length > 0) recordOverCap(ctx, folder, checkpoint, overCap, sizes, maxItemsPerMailbox, endItem);

  if (copyable.length > 0 && ctx.streamLanes().length > 0) {
    copyable = await copyStreamed(ctx, input, copyable, droppedKeywords, endItem);
  }

  // What the lanes handed back (or all of it, without lanes) goes over imapflow.
  if (copyable.length > 0) {
    await input.selectSource();
    await ctx.bufferedAppends();
  }
  let index = 0;
  while (index < copyable.length) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const toFetch: number[] = [];
    let bytes = 0;
    while (index < copyable.length && toFetch.length < CHUNK_MESSAGES) {
      const uid = copyable[index]!;
      const size = sizes.get(uid) ?? 0;
      if (toFetch.length > 0 && (bytes + size > chunkBytes || size > SLICE_BYTES)) break;
      toFetch.push(uid);
      bytes += size;
      index++;
      // A large message travels alone, fetched in slices (see fetchLargeBody).
      if (size > SLICE_BYTES) break;
    }
    await copyChunk(ctx, input, toFetch, bytes, droppedKeywords, endItem);
  }
  await ctx.pool.drain();
  ctx.appendResults.delete(folder);
  if (droppedKeywords.size > 0) noteDroppedKeywords(ctx, entry.target, droppedKeywords);
  return ctx.state.stats.appendCount - appendsBefore;
}

/** Copies over the stream lanes; resolves with the UIDs the buffered path must still copy. */
async function copyStreamed(
  ctx: PassContext,
  input: CopyInput,
  uids: number[],
  droppedKeywords: Set<string>,
  endItem: (uid: number) => void,
): Promise<number[]> {
  const {folder, entry, checkpoint, done, sizes} = input;
  try {
    return await streamCopy(ctx.streamLanes(), {
      folder,
      targetPath: entry.target,
      uids,
      sizes,
      targetFlags: (flags) => {
        const split = splitFlags(flags, input.permanentFlags);
        for (const keyword of split.dropped) droppedKeywords.add(keyword);
        return split.keep;
      },
      marked: input.marked,
      ...(input.openNext ? {onAllFetchesWritten: input.openNext} : {}),
      signal: ctx.signal,
      translate: (role, error) => ctx.translate(role, error, role === 'source' ? folder : entry.target),
      onMessageDate: (uid, internalDate) => input.futureDates.note(uid, internalDate),
      onAppended: (appended) => {
        for (const uid of appended) {
          done.add(uid);
          checkpoint.doneCount++;
          checkpoint.bytesDone += sizes.get(uid) ?? 0;
          ctx.state.stats.appendCount++;
        }
        checkpoint.done = done.toString();
        ctx.report.progress();
      },
      onStoredUnchecked: (uids) => {
        for (const uid of uids) {
          reportChanged(ctx, folder, uid, sizes.get(uid) ?? 0, undefined, undefined, 'holds 0x80 bytes that may be NUL bytes on the source (BODY[] sends NUL as 0x80); the target stored it although mailferry withdrew its APPEND to copy it exactly');
        }
      },
    });
  } catch (error) {
    if (!(error instanceof UidAfterBodyError)) throw error;
    // Detected on the first response, before any APPEND began: nothing is half-copied.
    ctx.logger.warn('the source sends UID after the body; copying the buffered way', {folder});
    ctx.disableStreaming();
    return uids.filter((uid) => !done.has(uid));
  }
}

/**
 * Fetches one chunk of bodies and hands them to the APPEND pool. A function of its own on purpose:
 * a suspended async frame keeps its last values alive (V8 does not clear stale registers), so
 * a loop that awaited the next chunk's budget inside copyPending held the previous chunk's last
 * body, up to 30 MB per mailbox, outside the budget. Returning ends the frame and frees them.
 */
async function copyChunk(
  ctx: PassContext,
  input: CopyInput,
  toFetch: number[],
  bytes: number,
  droppedKeywords: Set<string>,
  endItem: (uid: number) => void,
): Promise<void> {
  const {folder, entry, checkpoint, sizes} = input;
  // Taken as one unit before the FETCH: a mailbox never holds part of the budget while
  // waiting for more of it, so mailboxes cannot deadlock each other.
  const copies = ctx.bodyCopies();
  const budgetTotal = ctx.bytes.clamp(bytes * copies);
  await ctx.bytes.acquire(budgetTotal, ctx.signal);
  const fetched = new Map<number, FetchMessageObject>();
  try {
    await guard(ctx, 'source', folder, async () => {
      if (toFetch.length === 1 && (sizes.get(toFetch[0]!) ?? 0) > SLICE_BYTES) {
        const message = await fetchLargeBody(ctx, toFetch[0]!, sizes.get(toFetch[0]!)!);
        if (message) fetched.set(message.uid, message);
        return;
      }
      for await (const message of ctx.source.fetch(
        toFetch.join(','),
        {uid: true, flags: true, internalDate: true, size: true, source: true},
        {uid: true},
      )) {
        fetched.set(message.uid, message);
      }
    });
  } catch (error) {
    ctx.bytes.release(budgetTotal);
    throw error;
  }

  // The parser's chunk buffers behind these bodies are garbage now; collect them before the
  // APPENDs make their own copies.
  noteBodyReleased(bytes);

  // Hand the budget out per message so each release matches one APPEND result.
  let budgetLeft = budgetTotal;
  for (const uid of toFetch) {
    const share = Math.min(budgetLeft, ctx.bytes.clamp((sizes.get(uid) ?? 0) * copies));
    budgetLeft -= share;
    const message = fetched.get(uid);
    fetched.delete(uid);
    if (!message?.source) {
      // Expunged on the source between listing and fetching: nothing left to copy.
      ctx.bytes.release(share);
      endItem(uid);
      checkpoint.total = Math.max(0, checkpoint.total - 1);
      checkpoint.bytesTotal = Math.max(0, checkpoint.bytesTotal - (sizes.get(uid) ?? 0));
      continue;
    }
    const flags = splitFlags(message.flags ?? [], input.permanentFlags);
    for (const keyword of flags.dropped) droppedKeywords.add(keyword);
    const internalDate = message.internalDate === undefined ? undefined : new Date(message.internalDate);
    input.futureDates.note(uid, internalDate);
    try {
      // NUL bytes: BODY[] may not have brought the message as stored (see exact-body.ts).
      const targetBinary = ctx.target.capabilities.has('BINARY');
      const exact = await guard(ctx, 'source', folder, () => exactBody({
        source: ctx.source,
        uid,
        body: message.source!,
        sourceBinary: ctx.source.capabilities.has('BINARY'),
        targetBinary,
        maxCheckBytes: SLICE_BYTES,
      }));
      await input.marked;
      if (targetBinary && exact.body.includes(0)) {
        // It goes as literal8 and may be stored larger: on disk before the APPEND, so that the
        // next pass pairs it with its copy whatever happens (see pairMessages).
        const resized = UidSet.parse(checkpoint.resized ?? '');
        resized.add(uid);
        checkpoint.resized = resized.toString();
        await ctx.report.flushNow();
      }
      await ctx.pool.push({
        sourceFolder: folder,
        targetPath: entry.target,
        uid,
        size: exact.body.length,
        budgetBytes: share,
        flags: flags.keep,
        source: exact.body,
        ...(internalDate ? {internalDate} : {}),
        ...(exact.changed ? {changedReason: exact.changed} : {}),
      });
    } catch (error) {
      ctx.bytes.release(share + budgetLeft);
      throw error;
    }
  }
  if (budgetLeft > 0) ctx.bytes.release(budgetLeft);
}

/**
 * imapflow collects a fetched literal as a list of socket chunks and then concatenates them, so a
 * 30 MB body briefly costs 60 MB. Fetching it in slices (BODY.PEEK[]<offset.length>) into one
 * buffer of the final size costs the body plus one slice.
 */
async function fetchLargeBody(ctx: PassContext, uid: number, listedSize: number): Promise<FetchMessageObject | undefined> {
  let meta: FetchMessageObject | undefined;
  let body = Buffer.allocUnsafe(listedSize);
  let offset = 0;
  for (;;) {
    let received = 0;
    // The first slice brings the flags and the internal date along: one round trip less.
    const query = offset === 0
      ? {uid: true, flags: true, internalDate: true, size: true, source: {start: 0, maxLength: SLICE_BYTES}}
      : {uid: true, source: {start: offset, maxLength: SLICE_BYTES}};
    for await (const message of ctx.source.fetch(String(uid), query, {uid: true})) {
      if (offset === 0) meta = message;
      const slice = message.source;
      if (!slice || slice.length === 0) continue;
      // RFC822.SIZE is not exact on every server (some report an estimate): grow if needed.
      if (offset + slice.length > body.length) body = Buffer.concat([body.subarray(0, offset), Buffer.allocUnsafe(Math.max(slice.length, body.length - offset))]);
      slice.copy(body, offset);
      offset += slice.length;
      // The slice and imapflow's chunks behind it (twice its size) are garbage from here on.
      noteBodyReleased(slice.length * 2);
      received += slice.length;
    }
    if (!meta) return undefined; // expunged meanwhile
    if (received < SLICE_BYTES) break;
  }
  const {source: _firstSlice, ...rest} = meta;
  return {...rest, source: body.subarray(0, offset)};
}

async function recordOversize(
  ctx: PassContext,
  folder: string,
  checkpoint: FolderCheckpoint,
  uids: number[],
  maxMessageBytes: number,
  endItem: (uid: number) => void,
): Promise<void> {
  const envelopes = new Map<number, FetchMessageObject>();
  await guard(ctx, 'source', folder, async () => {
    for await (const message of ctx.source.fetch(uids.join(','), {uid: true, envelope: true, size: true, internalDate: true}, {uid: true})) {
      envelopes.set(message.uid, message);
    }
  });
  for (const uid of uids) {
    const message = envelopes.get(uid);
    const size = message?.size ?? 0;
    ctx.report.skipped({
      folder,
      uid,
      size,
      ...(message?.internalDate ? {date: new Date(message.internalDate).toISOString()} : {}),
      ...(message?.envelope?.subject ? {subject: message.envelope.subject} : {}),
      reason: `larger than the batch's maximum message size (${formatMegabytes(size)} > ${formatMegabytes(maxMessageBytes)}); raise --max-message-size to copy it`,
    });
    checkpoint.skipped++;
    endItem(uid);
  }
}

/** Why a message is not on the target when the batch leaves out \Deleted ones. */
export const DELETED_SKIP_REASON = 'marked \\Deleted on the source (not expunged); left out by --skip-deleted';

/**
 * UIDs in `range` marked \Deleted on the source, over the lane that opened the folder when there
 * is one (no imapflow login for it), else over imapflow's source connection.
 */
async function deletedOnSource(ctx: PassContext, lane: StreamLane | undefined, box: OpenedFolder, range: string): Promise<Set<number>> {
  return guard(ctx, 'source', box.path, async () => {
    if (lane && !lane.source.isClosed && box.openedBy === 'raw') return searchDeletedUids(lane.source, range);
    await selectOnControl(ctx, 'source', box.path, box.uidValidity);
    return new Set((await ctx.source.search({deleted: true, uid: range}, {uid: true})) || []);
  });
}

/** Envelopes read per FETCH for the skipped list: a folder may hold many thousands marked \Deleted. */
const ENVELOPE_CHUNK = 500;

/** One skipped item per message: the user wants to see each one that was left out. */
async function recordDeleted(
  ctx: PassContext,
  folder: string,
  checkpoint: FolderCheckpoint,
  uids: number[],
  sizes: Map<number, number>,
  endItem: (uid: number) => void,
): Promise<void> {
  for (let start = 0; start < uids.length; start += ENVELOPE_CHUNK) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const chunk = uids.slice(start, start + ENVELOPE_CHUNK);
    const envelopes = new Map<number, FetchMessageObject>();
    await guard(ctx, 'source', folder, async () => {
      for (const range of UidSet.fromUids(chunk).toImapChunks()) {
        for await (const message of ctx.source.fetch(range, {uid: true, envelope: true, internalDate: true}, {uid: true})) envelopes.set(message.uid, message);
      }
    });
    for (const uid of chunk) {
      const message = envelopes.get(uid);
      ctx.report.skipped({
        folder,
        uid,
        size: sizes.get(uid) ?? 0,
        ...(message?.internalDate ? {date: new Date(message.internalDate).toISOString()} : {}),
        ...(message?.envelope?.subject ? {subject: message.envelope.subject} : {}),
        reason: DELETED_SKIP_REASON,
      });
      checkpoint.skipped++;
      endItem(uid);
    }
  }
}

function recordOverCap(
  ctx: PassContext,
  folder: string,
  checkpoint: FolderCheckpoint,
  uids: number[],
  sizes: Map<number, number>,
  cap: number,
  endItem: (uid: number) => void,
): void {
  // One record for the whole run of UIDs: the list of skipped items must not grow per message.
  let bytes = 0;
  for (const uid of uids) {
    bytes += sizes.get(uid) ?? 0;
    endItem(uid);
  }
  checkpoint.skipped += uids.length;
  ctx.report.skipped({
    folder,
    uid: Math.max(...uids),
    size: bytes,
    count: uids.length,
    reason: `beyond the batch's limit of ${cap.toLocaleString('en-US')} items per mailbox (UIDs ${Math.min(...uids)}-${Math.max(...uids)}); raise --max-items to copy them`,
  });
}

function noteDroppedKeywords(ctx: PassContext, target: string, keywords: Set<string>): void {
  const existing = ctx.state.droppedKeywords.find((entry) => entry.folder === target);
  const merged = new Set([...(existing?.keywords ?? []), ...keywords]);
  if (existing) existing.keywords = [...merged].sort();
  else ctx.state.droppedKeywords.push({folder: target, keywords: [...merged].sort()});
  ctx.logger.warn('target cannot store some keywords', {folder: target, keywords: [...keywords]});
}

/**
 * Source UIDs among `pending` whose copy is already on the target: every source message is paired
 * with the target's messages (message-key.ts pairMessages, with what this target was seen to
 * change), those checkpointed as done first, so that a pending message is never taken for copied
 * because of another message's copy. Logs and records how the target's messages were matched and
 * lists those nothing matched.
 */
async function findAlreadyCopied(ctx: PassContext, folder: string, target: string, done: UidSet, pending: number[], resized: UidSet): Promise<Set<number>> {
  const ignored = ctx.state.targetRewrites?.headersAdded ?? [];
  const sourceKeys = await guard(ctx, 'source', folder, () => fetchKeys(ctx.source, '1:*', ignored));
  const targetKeys = await guard(ctx, 'target', target, () => fetchKeys(ctx.target, '1:*', ignored));
  const byUid = (a: KeyedMessage, b: KeyedMessage) => a.uid - b.uid;
  const ordered = [...sourceKeys.filter((m) => done.has(m.uid)).sort(byUid), ...sourceKeys.filter((m) => !done.has(m.uid)).sort(byUid)];
  const pairing = pairMessages(ordered, targetKeys, {rewrites: ctx.state.targetRewrites, resized: (uid) => resized.has(uid)});
  const pendingSet = new Set(pending);
  const present = new Set<number>();
  for (const uid of pairing.pairs.keys()) if (pendingSet.has(uid)) present.add(uid);
  recordReconcile(ctx, folder, target, pairing, present.size);
  return present;
}

function recordReconcile(ctx: PassContext, folder: string, target: string, pairing: Pairing, alreadyPresent: number): void {
  const counts = {exact: 0, dateRewritten: 0, sizeChanged: 0};
  for (const basis of pairing.basis.values()) counts[basis]++;
  const record: ReconcileRecord = {
    folder,
    target,
    at: new Date().toISOString(),
    matched: pairing.pairs.size,
    ...counts,
    alreadyPresent,
    unmatched: pairing.unmatchedTarget.length,
    unmatchedListed: pairing.unmatchedTarget.slice(0, MAX_UNMATCHED_LISTED).map((message) => ({
      uid: message.uid,
      size: message.size ?? 0,
      ...(message.messageId ? {messageId: message.messageId} : {}),
    })),
  };
  const list = (ctx.state.reconciled ??= []);
  const index = list.findIndex((entry) => entry.folder === folder);
  if (index >= 0) list.splice(index, 1);
  list.push(record);
  if (list.length > MAX_ITEMS) list.splice(0, list.length - MAX_ITEMS);
  const message =
    `reconciled ${folder}: ${record.matched} target messages matched (by headers+date+size: ${counts.exact}, ` +
    `by headers+size with the target's date rewrite: ${counts.dateRewritten}, by headers+date with another size: ${counts.sizeChanged}), ` +
    `${record.unmatched} unmatched target messages`;
  const fields = {folder, target, ...counts, matched: record.matched, alreadyPresent, unmatched: record.unmatched, ...(record.unmatched > 0 ? {unmatchedListed: record.unmatchedListed} : {})};
  if (record.unmatched > 0) ctx.logger.warn(message, fields);
  else ctx.logger.info(message, fields);
  ctx.report.markDirty();
}

/** UID and size of every message of the folder just opened on `session`. */
async function collectUidSizes(session: RawImapSession): Promise<Array<[number, number]>> {
  const listed: Array<[number, number]> = [];
  await listUidSizes(session, '1:*', (uid, size) => listed.push([uid, size]));
  return listed;
}

/** Opens `path` on imapflow's connection (no lanes, or the server's SELECT lacked UIDNEXT). */
async function openOnControl(ctx: PassContext, role: 'source' | 'target', path: string): Promise<OpenedFolder> {
  const client = await ctx.control(role);
  const box = await openMailbox(client, path, {readOnly: role === 'source'});
  return {
    path,
    openedBy: 'imapflow',
    exists: box.exists,
    uidValidity: box.uidValidity,
    uidNext: box.uidNext,
    ...(box.highestModseq !== undefined ? {highestModseq: box.highestModseq} : {}),
    noModseq: Boolean(box.noModseq),
    ...(box.permanentFlags ? {permanentFlags: box.permanentFlags} : {}),
  };
}

/**
 * Selects `path` on imapflow's connection unless it is selected there already. The folder was
 * opened (and its UIDs listed) on another connection: if it is not the same folder any more
 * (UIDVALIDITY changed in between), nothing listed applies, so the pass fails and retries.
 */
async function selectOnControl(ctx: PassContext, role: 'source' | 'target', path: string, uidValidity: bigint): Promise<void> {
  const client = await guard(ctx, role, path, () => ctx.control(role));
  if (client.mailbox && client.mailbox.path === path && client.mailbox.uidValidity === uidValidity) return;
  const opened = await guard(ctx, role, path, () => openOnControl(ctx, role, path));
  if (opened.uidValidity === uidValidity) return;
  // Not kind 'folder': that would record the folder as not migrated instead of retrying it.
  throw new MigrationError({
    kind: 'protocol',
    message: `the ${role} folder "${path}" was recreated while it was being copied (UIDVALIDITY ${uidValidity} became ${opened.uidValidity})`,
    hint: 'Nothing is lost: the next pass compares the folder with the target again. If it keeps happening, find what recreates the folder.',
    endpoint: role,
    mailbox: ctx.emailAddress,
    folder: path,
    retryable: true,
  });
}

/** Runs IMAP work, turning whatever it throws into our error kinds with this folder as context. */
export async function guard<T>(ctx: PassContext, role: 'source' | 'target', folder: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw ctx.translate(role, error, folder);
  }
}

/** Lists a copied message as changed in transit, with the reason (the event log writes it to the log). */
function reportChanged(ctx: PassContext, folder: string, uid: number, size: number, body: Buffer | undefined, date: Date | undefined, reason: string): void {
  const subject = body ? headerValue(body, 'subject') : undefined;
  ctx.report.changed({
    folder,
    uid,
    size,
    ...(date ? {date: date.toISOString()} : {}),
    ...(subject ? {subject} : {}),
    reason,
  });
}

function formatMegabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
