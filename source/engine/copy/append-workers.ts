// Target side of the copy path. imapflow keeps one command in flight per connection and an APPEND
// of more than 4 KB waits for the server's continuation (two round trips), so one connection
// would make the target the bottleneck. A pool of target connections drains one bounded queue
// fed by the mailbox's single source FETCH stream.
//
// Outcomes per message: appended, or refused by the target (an item failure recorded with the
// server's words). Anything else (connection lost, timeout, throttling, quota, auth) stops the
// pool: the pass is aborted and retried or failed by the mailbox runner, and the folder's
// in-progress mark makes the retry check the target before copying again.

import type {MigrationError} from '../../imap/imap-error.js';

/** What the pool needs of a target connection: imapflow's client and PipelinedAppender both fit. */
export interface AppendConnection {
  append(path: string, content: Buffer, flags: string[], date?: Date): Promise<{uid?: number | undefined} | false>;
}

export interface AppendJob {
  /** Source folder path: which checkpoint the result belongs to. */
  sourceFolder: string;
  targetPath: string;
  uid: number;
  /** Bytes taken from the shared body budget for this message; released with the result. */
  budgetBytes: number;
  size: number;
  flags: string[];
  internalDate?: Date;
  source: Buffer;
  subject?: string;
  /** Not byte for byte what the source has: listed as changed in transit once appended. */
  changedReason?: string;
}

export type AppendResult = {ok: true; targetUid?: number} | {ok: false; error: MigrationError};

export interface AppendPoolOptions {
  /** Turns whatever the client threw into our error kinds, with mailbox/folder context. */
  translate: (error: unknown, job: AppendJob) => MigrationError;
  /** Called once per job, in completion order. Must not throw. */
  onResult: (job: AppendJob, result: AppendResult) => void;
  /** Jobs waiting beyond those in flight; bounded so bodies do not pile up in memory. */
  queueLimit?: number;
}

/** Errors that belong to one message rather than to the connection or the account. */
export function isItemError(error: MigrationError): boolean {
  return error.kind === 'too-large' || error.kind === 'rejected';
}

export class AppendPool {
  private readonly queue: AppendJob[] = [];
  private lanes = 0;
  private inFlight = 0;
  private fatal: MigrationError | undefined;
  private closed = false;
  private readonly spaceWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly workWaiters: (() => void)[] = [];
  private readonly queueLimit: number;
  private readonly loops: Promise<void>[] = [];

  constructor(private readonly options: AppendPoolOptions) {
    this.queueLimit = options.queueLimit ?? 8;
  }

  /** APPENDs that can be in flight at once over all connections. */
  get laneCount(): number {
    return this.lanes;
  }

  get failure(): MigrationError | undefined {
    return this.fatal;
  }

  /**
   * `lanes` APPENDs may be in flight on this connection at once: 1 for imapflow (one command at a
   * time), more for a pipelining connection.
   */
  addConnection(connection: AppendConnection, lanes = 1): void {
    for (let lane = 0; lane < lanes; lane++) {
      this.lanes++;
      this.loops.push(this.workerLoop(connection));
    }
  }

  /** Waits for queue space; rejects once the pool has failed so the producer stops fetching. */
  async push(job: AppendJob): Promise<void> {
    while (!this.fatal && !this.closed && this.queue.length >= this.queueLimit + this.lanes) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    if (this.fatal) throw this.fatal;
    if (this.closed) throw new Error('append pool closed');
    this.queue.push(job);
    this.wake(this.workWaiters);
  }

  /** Resolves when every pushed job has a result; rejects with the pool's failure. */
  async drain(): Promise<void> {
    while (!this.fatal && (this.queue.length > 0 || this.inFlight > 0)) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    if (this.fatal) throw this.fatal;
  }

  /** Stops the workers; queued jobs are dropped (their UIDs were never checkpointed as done). */
  /**
   * Stops the workers once their APPENDs in flight have answered (close the connections first to
   * make that quick); returns every job that got no result, so the caller can give back its budget.
   */
  async close(): Promise<AppendJob[]> {
    this.closed = true;
    this.wake(this.workWaiters);
    this.wake(this.spaceWaiters);
    this.wake(this.idleWaiters);
    // A worker whose APPEND fails while closing puts its job back; collect after they are done.
    await Promise.allSettled(this.loops);
    return this.queue.splice(0);
  }

  private fail(error: MigrationError): void {
    if (!this.fatal) this.fatal = error;
    this.wake(this.spaceWaiters);
    this.wake(this.idleWaiters);
    this.wake(this.workWaiters);
  }

  private wake(waiters: (() => void)[]): void {
    for (const resolve of waiters.splice(0)) resolve();
  }

  private async workerLoop(client: AppendConnection): Promise<void> {
    while (!this.closed && !this.fatal) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => this.workWaiters.push(resolve));
        continue;
      }
      // The job never lives in this frame: a suspended async frame keeps its stale values, so a
      // lane idling here would otherwise hold its last message body (V8 does not clear them).
      if (!(await this.runNext(client))) return;
    }
  }

  /** Appends the next queued job; false when the pool failed because of it. */
  private async runNext(client: AppendConnection): Promise<boolean> {
    const job = this.queue.shift()!;
    this.inFlight++;
    this.wake(this.spaceWaiters);
    let result: AppendResult;
    try {
      const response = await client.append(job.targetPath, job.source, job.flags, job.internalDate);
      if (response === false) throw new Error('APPEND returned no response (connection closed)');
      result = response.uid === undefined ? {ok: true} : {ok: true, targetUid: response.uid};
    } catch (error) {
      const translated = this.options.translate(error, job);
      if (!isItemError(translated)) {
        this.inFlight--;
        // The message may or may not have reached the target; the caller's folder
        // in-progress mark makes the retry look before copying it again.
        this.queue.unshift(job);
        this.fail(translated);
        return false;
      }
      result = {ok: false, error: translated};
    }
    this.inFlight--;
    this.options.onResult(job, result);
    if (this.queue.length === 0 && this.inFlight === 0) this.wake(this.idleWaiters);
    return true;
  }
}
