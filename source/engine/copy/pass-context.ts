// What one pass over one mailbox works with: its two control connections, the target append pool,
// the shared budgets, its persisted state and the ways it reports progress.

import type {ImapFlow} from 'imapflow';
import type {EndpointRole, MigrationError} from '../../imap/imap-error.js';
import type {Logger} from '../../log/logger.js';
import type {MailboxState} from '../../store/state-schema.js';
import type {AppendJob, AppendPool, AppendResult} from './append-workers.js';
import type {AsyncSemaphore} from '../scheduler/async-semaphore.js';
import type {BatchSettings, ItemRecord} from '../batch-model.js';
import type {StreamLane} from './stream-copy.js';

export type PassKind = 'initial' | 'incremental' | 'final';

export interface PassReporter {
  /** Counters in `state` changed (messages copied, bytes...). Cheap; called per message. */
  progress(): void;
  currentFolder(path: string | undefined): void;
  skipped(item: ItemRecord): void;
  failed(item: ItemRecord): void;
  /** Copied, but not exactly as the source has it (see imap/nul-bytes.ts). */
  changed(item: ItemRecord): void;
  /** Persist soon (coalesced). */
  markDirty(): void;
  /** Persist now; used before the first APPEND into a folder so a crash leaves a mark. */
  flushNow(): Promise<void>;
}

export interface PassContext {
  readonly kind: PassKind;
  readonly emailAddress: string;
  readonly settings: BatchSettings;
  readonly state: MailboxState;
  /** imapflow's source connection: only after control('source') resolved (throws before). */
  readonly source: ImapFlow;
  /** imapflow's target connection (CREATE/SELECT/STORE, append worker 0): after control('target'). */
  readonly target: ImapFlow;
  /**
   * Logs in imapflow's connection to one side on first use. Passes that copy over stream lanes
   * may never need it; its connection budget is reserved from the start either way.
   */
  control(role: EndpointRole): Promise<ImapFlow>;
  /** Gives the append pool imapflow's target connection, for the buffered path (once). */
  bufferedAppends(): Promise<void>;
  readonly pool: AppendPool;
  /** Where the pool sends each APPEND result, by source folder (one folder copies at a time). */
  readonly appendResults: Map<string, (job: AppendJob, result: AppendResult) => void>;
  readonly bytes: AsyncSemaphore;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly report: PassReporter;
  translate(role: EndpointRole, error: unknown, folder?: string): MigrationError;
  /** Opens more append connections when the budget allows; called when a folder has work. */
  widenPool(): Promise<void>;
  /** Source/target connection pairs for the streamed copy (stream-copy.ts); empty when the
   *  target lacks LITERAL+ or none could be opened: then the buffered path copies. */
  streamLanes(): StreamLane[];
  /** The source cannot stream (see body-stream.ts): close the lanes, copy the buffered way. */
  disableStreaming(): void;
  /**
   * Live copies of a body while it is appended: 1 over raw APPEND connections, 3 over imapflow
   * (it concatenates the command and the trailing CRLF). The body budget is charged that much.
   */
  bodyCopies(): number;
}
