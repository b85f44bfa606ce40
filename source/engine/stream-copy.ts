// The fast copy path: bodies flow from a source FETCH straight into APPENDs on the target, piece
// by piece, over raw sessions (see imap/raw-session.ts). No message is ever held whole, so memory
// does not depend on message sizes and there is nothing for the garbage collector to chase; the
// target gets batches of messages per APPEND command (MULTIAPPEND) and commands are pipelined, so
// neither side waits for a round trip while there is work.
//
// A lane is one source and one target connection. Lanes take chunks of the folder's pending UIDs
// (newest first) from a shared cursor; each lane keeps a second FETCH queued behind the running
// one so the source never idles between chunks. A UID becomes done only when the target has
// answered OK for the APPEND command that carried it; anything in flight when a lane fails is
// checked on the target by the next pass (the folder's in-progress mark).
//
// Batches the target refuses with a per-message reason (too large, rejected) are handed back
// for the buffered path to copy one by one, which records the offending message.

import type {MigrationError} from '../imap/imap-error.js';
import {examineFolder, fetchBodies, UidAfterBodyError} from '../imap/body-stream.js';
import {AppendStreamWriter, type AppendBatch} from '../imap/pipelined-appender.js';
import type {RawImapSession} from '../imap/raw-session.js';
import {NulByteScanner} from '../imap/nul-bytes.js';
import {isItemError} from './append-workers.js';

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

/** Messages and bytes per FETCH: small enough to spread a folder over lanes, large enough to
 *  make the per-command cost vanish. */
const CHUNK_MESSAGES = 200;
const MIN_CHUNK_MESSAGES = 10;
const CHUNK_BYTES = 32 * 1024 * 1024;
/** Per APPEND command: Dovecot commits a MULTIAPPEND in one transaction. */
const FIRST_BATCH_MESSAGES = 10;
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 16 * 1024 * 1024;
/** FETCH commands per lane in flight: the running one and the next. */
const FETCH_DEPTH = 2;

/** Copies `input.uids` over `lanes`; resolves with the UIDs the buffered path must retry. */
export async function streamCopy(lanes: StreamLane[], input: StreamCopyInput): Promise<number[]> {
  let cursor = 0;
  // A lane takes its next chunk before it waits for room to write it: until every taken chunk
  // is written, a command written now could run before some of the folder's FETCHes.
  let unwritten = 0;
  let announced = false;
  // Small folders are cut finer, so that every lane gets a share (two chunks each).
  const chunkMessages = Math.min(CHUNK_MESSAGES, Math.max(MIN_CHUNK_MESSAGES, Math.ceil(input.uids.length / (2 * lanes.length))));
  const nextChunk = (): number[] | undefined => {
    if (cursor >= input.uids.length || input.signal.aborted) return undefined;
    const chunk: number[] = [];
    let bytes = 0;
    while (cursor < input.uids.length && chunk.length < chunkMessages && (chunk.length === 0 || bytes < CHUNK_BYTES)) {
      const uid = input.uids[cursor++]!;
      chunk.push(uid);
      bytes += input.sizes.get(uid) ?? 0;
    }
    unwritten++;
    return chunk;
  };
  const afterFetchWritten = () => {
    unwritten--;
    if (announced || unwritten > 0 || cursor < input.uids.length) return;
    announced = true;
    input.onAllFetchesWritten?.();
  };
  const retry: number[] = [];
  const results = await Promise.allSettled(lanes.map((lane) => runLane(lane, input, nextChunk, afterFetchWritten, retry)));
  // Lanes stop taking chunks once the signal fires, and may end without an error: unfinished.
  if (input.signal.aborted) throw input.signal.reason;
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return retry;
}

async function runLane(
  lane: StreamLane,
  input: StreamCopyInput,
  nextChunk: () => number[] | undefined,
  afterFetchWritten: () => void,
  retry: number[],
): Promise<void> {
  const first = nextChunk();
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
    pendingBatches.push(settleBatch(batch, input, retry, unchecked).catch(failLane));
  });
  // Dovecot runs pipelined FETCHes side by side and may answer a later one before an earlier
  // one's tagged OK: which command a body came with is unknown, so arrivals count per lane.
  const requested: number[] = [];
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

  const fetches: Promise<void>[] = [];
  const startFetch = (chunk: number[]) => {
    // One FETCH per message, all written at once: a UID set would come back in ascending order,
    // and the newest mail is what users want to see first.
    const requests: Promise<number[]>[] = [];
    requested.push(...chunk);
    lane.source.corked(() => {
      for (const uid of chunk) requests.push(fetchBodies(lane.source, String(uid), consumer));
    });
    const fetched = Promise.all(requests).then(
      () => {},
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
    fetches.push(fetched);
    afterFetchWritten();
  };

  try {
    startFetch(first);
    for (let chunk = nextChunk(); chunk; chunk = nextChunk()) {
      while (fetches.length >= FETCH_DEPTH) await fetches.shift();
      startFetch(chunk);
    }
    for (const fetched of fetches.splice(0)) await fetched;
    // Every FETCH has answered. A UID whose body did not come this way is most likely expunged,
    // but that is never assumed: the buffered path looks again and copies or drops it.
    for (const uid of requested) if (!arrived.has(uid)) retry.push(uid);
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
async function settleBatch(batch: AppendBatch, input: StreamCopyInput, retry: number[], unchecked: Set<number>): Promise<void> {
  try {
    await batch.result;
  } catch (error) {
    if (batch.withdrawn) {
      // Refused as intended: nothing of it is stored; the buffered path copies it all.
      retry.push(...batch.ids);
      return;
    }
    const translated = input.translate('target', error);
    // A refused MULTIAPPEND stores none of its messages (RFC 3502): the buffered path retries
    // them one by one so only the offending one is recorded as failed.
    if (isItemError(translated)) {
      retry.push(...batch.ids);
      return;
    }
    throw translated;
  }
  input.onAppended(batch.ids);
  if (batch.withdrawn) input.onStoredUnchecked?.(batch.ids.filter((uid) => unchecked.has(uid)));
}
