// The commands and views the engine offers to its two front ends (TUI and headless CLI).

import type {BatchDefinition} from './batch-model.js';
import type {BatchSnapshot, MailboxDetail} from './scheduler/batch-snapshot.js';
import type {EngineEventName, EngineListener} from './engine-events.js';
import type {AdditionPlan} from './batch-membership.js';

export interface BatchControl {
  readonly definition: BatchDefinition;
  /** Latest published snapshot; the same object until something changes (useSyncExternalStore). */
  getSnapshot(): BatchSnapshot;
  /** Called at most ~5 times a second when the snapshot changed. Returns unsubscribe. */
  subscribe(listener: () => void): () => void;
  on<K extends EngineEventName>(event: K, listener: EngineListener<K>): () => void;
  getMailboxDetail(emailAddress: string): MailboxDetail | undefined;

  /** Begin (or continue after a restart) the batch: queued mailboxes start, synced ones keep syncing. */
  start(): Promise<void>;
  /** Stop the listed mailboxes, or all when none are listed. Resolves when they are Stopped. */
  stop(emailAddresses?: readonly string[]): Promise<void>;
  /** Queue stopped or failed mailboxes again (all such when none listed). */
  resume(emailAddresses?: readonly string[]): void;
  /** Run an incremental pass now on synced mailboxes (all when none listed). */
  syncNow(emailAddresses?: readonly string[]): void;
  /**
   * Compare the listed mailboxes' source and target read-only (engine/verify/), one after another
   * over the batch's own connection budgets; resolves when all are done. The result is in
   * getMailboxDetail(...).verification and in the verification file.
   */
  verify(emailAddresses: readonly string[], options?: {deep?: boolean}): Promise<void>;
  /** Final incremental pass on every mailbox, then no more syncing. */
  complete(): Promise<void>;
  /** Resolves when no mailbox is working and none will start without a command or timer. */
  whenIdle(): Promise<void>;
  /** Stop everything, flush state, close connections. */
  close(): Promise<void>;
  /** Adds a CSV's new rows (validated as check-csv does; a file with errors adds nothing) as Queued mailboxes. */
  addUsersFromCsv?(csvPath: string): Promise<AdditionPlan>;
  /** Takes mailboxes out of the batch (its state only, never mail); a working one is stopped first. */
  removeMailboxes?(emailAddresses: readonly string[]): Promise<string[]>;
}
