// The fast copy path: bodies flow from a source FETCH straight into APPENDs on the target, piece
// by piece, over raw sessions (see imap/raw-session.ts). No message is ever held whole, so memory
// does not depend on message sizes and there is nothing for the garbage collector to chase; the
// target gets batches of messages per APPEND command (MULTIAPPEND) and commands are pipelined, so
// neither side waits for a round trip while there is work.
//
// A lane is one source and one target connection. Lanes take the folder's pending UIDs (newest
// first) from a shared cursor, a few at a time, and keep up to LANE_ORDER_WINDOW one-UID FETCHes
// in flight so the source never idles between them. A UID becomes done only when the target has
// answered OK for the APPEND command that carried it; anything in flight when a lane fails is
// checked on the target by the next pass (the folder's in-progress mark).
//
// Newest first, and how strictly: a lane appends bodies in the order they arrive, and RFC 3501
// (5.5) lets a server answer pipelined commands in any order. Dovecot 2.3 does so under load: it
// runs up to 4 pipelined commands at once, and when its output buffer is full the newest waiting
// command goes first (client_output_commands() walks a queue it prepends to), so an older FETCH
// can be overtaken again and again. Strict order would cost a round trip per message. Instead a
// lane writes the FETCH for its n-th UID only once the FETCHes for its UIDs up to n - window have
// answered: within a lane, a message is never appended after one LANE_ORDER_WINDOW or more
// positions older. With several lanes on a folder, FolderOrderWindow bounds how far lanes run
// ahead of the oldest message not yet stored (FOLDER_ORDER_WINDOW_PER_LANE per lane).
//
// Batches the target refuses with a per-message reason (too large, rejected), and UIDs whose
// FETCH brought no body, are handed back for the buffered path to copy one by one, which records
// the offending message; they are the exception to the order above, stored after the lanes.

import type {MigrationError} from '../../imap/imap-error.js';
import {examineFolder, fetchBodies, UidAfterBodyError} from '../../imap/body-stream.js';
import {AppendStreamWriter, type AppendBatch} from '../../imap/pipelined-appender.js';
import type {RawImapSession} from '../../imap/raw-session.js';
import {NulByteScanner} from '../../imap/nul-bytes.js';
import {isItemError} from './append-workers.js';
import {FolderOrderWindow} from './folder-order-window.js';

export interface StreamLane {
  source: RawImapSession;
  target: RawImapSession;
}

export interface StreamCopyInput {
  folder: string;
  targetPath: string;
  /** UIDs to copy, newest first. */
  uids: number[];
  /** Listed sizes, to cut the UIDs into FETCH chunks of similar weight. */
  sizes: Map<number, number>;
  /** The flags the target gets for a message's source flags (drops what it cannot store). */
  targetFlags(flags: string[]): string[];
  /** Resolves once the folder's in-progress mark is on disk; no APPEND may start before. */
  marked: Promise<void>;
  signal: AbortSignal;
  translate(role: 'source' | 'target', error: unknown): MigrationError;
  /** The target stored these messages (one APPEND command). */
  onAppended(uids: number[]): void;
  /** A message's source INTERNALDATE as it arrives (internal-date-check.ts reads future ones back). */
  onMessageDate?(uid: number, internalDate: string): void;
  /**
   * The target stored these messages although mailferry withdrew their APPEND (a server that
   * ignores the syntax error): their bodies may hold 0x80 where the source has NUL bytes.
   */
  onStoredUnchecked?(uids: number[]): void;
  /**
   * Every chunk of the folder is taken and every FETCH written (called once, and never if a lane
   * fails first): commands written to a lane from now on run after its FETCHes, e.g. the next
   * folder's EXAMINE, since the server finishes the commands that use the selected folder before
   * it changes it.
   */
  onAllFetchesWritten?(): void;
}

/** Messages and bytes a lane takes at once: small enough to spread a folder over lanes. */
const CHUNK_MESSAGES = 200;
const MIN_CHUNK_MESSAGES = 10;
const CHUNK_BYTES = 32 * 1024 * 1024;
/** Per APPEND command: Dovecot commits a MULTIAPPEND in one transaction. */
const FIRST_BATCH_MESSAGES = 10;
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 16 * 1024 * 1024;
/**
 * One-UID FETCHes a lane keeps in flight, counted from its oldest unanswered one. Enough to
 * cover a WAN round trip (32 messages of 20 KB are 640 KB per 25 ms round trip, 25 MB/s), few
 * enough that "newest first" means something to a user: it is also the bound on reordering.
 */
export const LANE_ORDER_WINDOW = 32;
/** Room a lane waits for before it writes more FETCHes. */
const REFILL_MESSAGES = 8;
/**
 * Positions per lane that lanes may run ahead of the folder's oldest message not yet stored.
 * Each lane holds up to LANE_ORDER_WINDOW messages in flight plus an open batch of up to
 * BATCH_MESSAGES before the target stores any of them; more than twice that keeps lanes from
 * waiting on each other while none is held up.
 */
export const FOLDER_ORDER_WINDOW_PER_LANE = 300;

/** Copies `input.uids` over `lanes`; resolves with the UIDs the buffered path must retry, newest first. */
export async function streamCopy(lanes: StreamLane[], input: StreamCopyInput): Promise<number[]> {
  // One lane keeps its own order (LANE_ORDER_WINDOW); the folder window is for several.
  const order = new FolderOrderWindow(input.uids, lanes.length > 1 ? lanes.length * FOLDER_ORDER_WINDOW_PER_LANE : Infinity);
  const onAbort = () => order.release();
  input.signal.addEventListener('abort', onAbort, {once: true});
  // A lane may take UIDs before it waits to write them (its first ones, before the folder is
  // marked): until every taken UID is written, a command written now could run before some of
  // the folder's FETCHes.
  let unwritten = 0;
  let announced = false;
  // Small folders are cut finer, so that every lane gets a share (two takes each).
  const chunkMessages = Math.min(CHUNK_MESSAGES, Math.max(MIN_CHUNK_MESSAGES, Math.ceil(input.uids.length / (2 * lanes.length))));
  const take = (room: number): number[] | undefined => {
    if (input.signal.aborted) return undefined;
    const chunk: number[] = [];
    let bytes = 0;
    while (chunk.length < Math.min(room, chunkMessages) && (chunk.length === 0 || bytes < CHUNK_BYTES)) {
      const uid = order.next();
      if (uid === undefined) break;
      chunk.push(uid);
      bytes += input.sizes.get(uid) ?? 0;
    }
    if (chunk.length === 0) return undefined;
    unwritten++;
    return chunk;
  };
  const afterFetchWritten = () => {
    unwritten--;
    if (announced || unwritten > 0 || !order.exhausted) return;
    announced = true;
    input.onAllFetchesWritten?.();
  };
  const retry: number[] = [];
  const handBack = (uids: number[]) => {
    retry.push(...uids);
    order.settle(uids);
  };
  const results = await Promise.allSettled(
    lanes.map((lane) =>
      runLane(lane, input, order, take, afterFetchWritten, handBack).catch((error: unknown) => {
        // What this lane held will not be stored now: the others must not wait for it.
        order.release();
        throw error;
      }),
    ),
  );
  input.signal.removeEventListener('abort', onAbort);
  // Lanes stop taking UIDs once the signal fires, and may end without an error: unfinished.
  if (input.signal.aborted) throw input.signal.reason;
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return retry.sort((a, b) => b - a);
}

async function runLane(
  lane: StreamLane,
  input: StreamCopyInput,
  order: FolderOrderWindow,
  take: (room: number) => number[] | undefined,
  afterFetchWritten: () => void,
  handBack: (uids: number[]) => void,
): Promise<void> {
  const first = take(LANE_ORDER_WINDOW);
  if (!first) return;
  await input.marked;
  // Every lane selects the folder itself, also the one that opened and listed it: what its
  // FETCHes read must not depend on what else was sent on the session before (see openAhead).
  // Not awaited: the FETCHes go right behind it (one round trip per folder instead of two). If
  // the server refuses the folder, they fail too, and this is the error that explains why.
  const examined = examineFolder(lane.source, input.folder).catch((error: unknown) => {
    throw input.signal.aborted ? input.signal.reason : input.translate('source', error);
  });
  examined.catch(() => {});

  const pendingBatches: Promise<void>[] = [];
  let laneError: MigrationError | undefined;
  const failLane = (error: MigrationError) => {
    laneError ??= error;
    // Nothing more may reach the target: half a command would be stored as a broken message.
    lane.target.close();
    lane.source.close();
  };
  /** UIDs whose bodies were withdrawn (see the consumer below). */
  const unchecked = new Set<number>();
  const writer = new AppendStreamWriter(lane.target, input.targetPath, {firstMessages: FIRST_BATCH_MESSAGES, maxMessages: BATCH_MESSAGES, maxBytes: BATCH_BYTES}, (batch) => {
    pendingBatches.push(settleBatch(batch, input, order, handBack, unchecked).catch(failLane));
  });
  // Dovecot runs pipelined FETCHes side by side and may answer a later one before an earlier
  // one's tagged OK: which command a body came with is unknown, so arrivals count per lane.
  const arrived = new Set<number>();
  // A body that may hold a NUL the source sent as 0x80, or holds NULs as they are, must not be
  // stored from these bytes: its APPEND is withdrawn and the buffered path copies it (it checks
  // with BINARY, RFC 3516, and appends NULs as literal8). Without BINARY on the source a 0x80
  // tells nothing, so it goes as it is. Only such messages cost more: the others are not held.
  const sourceBinary = lane.source.capabilities.has('BINARY');
  const scanner = new NulByteScanner();
  let current = 0;
  const consumer = {
    begin: (uid: number, size: number, flags: string[], internalDate: string) => {
      arrived.add(uid);
      input.onMessageDate?.(uid, internalDate);
      current = uid;
      scanner.reset();
      writer.startMessage(uid, size, input.targetFlags(flags), internalDate);
    },
    data: (chunk: Buffer) => {
      scanner.scan(chunk);
      return writer.data(chunk);
    },
    end: () => {
      if (scanner.nul || (sourceBinary && scanner.stray80)) {
        unchecked.add(current);
        writer.withdrawMessage();
      } else {
        writer.endMessage();
      }
    },
  };

  // In the order written; the head is the oldest FETCH not yet known to be answered.
  const inFlight: Promise<void>[] = [];
  const startFetch = (chunk: number[]) => {
    // One FETCH per message, all written at once: a UID set would come back in ascending order,
    // and the newest mail is what users want to see first.
    lane.source.corked(() => {
      for (const uid of chunk) {
        const fetched = fetchBodies(lane.source, String(uid), consumer).then(
          () => {
            // The body of a UID comes before its FETCH's tagged OK, so it did not come. Most
            // likely expunged, but that is never assumed: the buffered path looks again.
            if (!arrived.has(uid)) handBack([uid]);
          },
          (error: unknown) => {
            // Kept as it is: the engine copies this folder the buffered way instead.
            if (error instanceof UidAfterBodyError) {
              lane.target.close();
              throw error;
            }
            const translated = input.translate('source', error);
            failLane(translated);
            throw translated;
          },
        );
        fetched.catch(() => {});
        inFlight.push(fetched);
      }
    });
    afterFetchWritten();
  };

  try {
    startFetch(first);
    for (;;) {
      // Refilled a few at a time: one write (and one wake-up of the server) for several FETCHes.
      while (inFlight.length > LANE_ORDER_WINDOW - REFILL_MESSAGES) await inFlight.shift();
      const chunk = take(LANE_ORDER_WINDOW - inFlight.length);
      if (chunk) {
        startFetch(chunk);
        continue;
      }
      if (!order.blocked) break;
      // Other lanes wait for older messages; this lane's own may be among them, in flight or
      // in its open batch: let them all reach the target before waiting.
      for (const fetched of inFlight.splice(0)) await fetched;
      writer.flush();
      if (order.blocked) await order.changed();
    }
    for (const fetched of inFlight.splice(0)) await fetched;
    writer.flush();
    await Promise.all(pendingBatches);
  } catch (error) {
    if (input.signal.aborted) throw input.signal.reason;
    await examined;
    throw laneError ?? error;
  }
  if (laneError) throw input.signal.aborted ? input.signal.reason : laneError;
}

/** Waits for the target's answer to one APPEND command and accounts for its messages. */
async function settleBatch(
  batch: AppendBatch,
  input: StreamCopyInput,
  order: FolderOrderWindow,
  handBack: (uids: number[]) => void,
  unchecked: Set<number>,
): Promise<void> {
  try {
    await batch.result;
  } catch (error) {
    if (batch.withdrawn) {
      // Refused as intended: nothing of it is stored; the buffered path copies it all.
      handBack(batch.ids);
      return;
    }
    const translated = input.translate('target', error);
    // A refused MULTIAPPEND stores none of its messages (RFC 3502): the buffered path retries
    // them one by one so only the offending one is recorded as failed.
    if (isItemError(translated)) {
      handBack(batch.ids);
      return;
    }
    throw translated;
  }
  input.onAppended(batch.ids);
  order.settle(batch.ids);
  if (batch.withdrawn) input.onStoredUnchecked?.(batch.ids.filter((uid) => unchecked.has(uid)));
}
