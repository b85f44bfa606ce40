// What "newest first" promises when several lanes copy one folder: lanes hand a folder's UIDs out
// newest first from one cursor, but each lane's target connection stores its own MULTIAPPEND
// batches, and the target numbers messages in the order the batches commit. Unchecked, a lane
// held up by a large message would let the others run arbitrarily far ahead, and a user would
// see years-old mail before last week's.
//
// The window keeps that bounded: the message at position p (0 = newest) is handed out only once
// every message at a position up to p - window is settled (stored on the target, or handed back
// for the buffered path). So a message is never stored after one `window` or more positions
// older; the exceptions are the messages handed back, which the buffered path copies afterwards.

export class FolderOrderWindow {
  private cursor = 0;
  /** Positions below this are all settled. */
  private settledBelow = 0;
  private readonly settledAt: Uint8Array;
  private readonly position = new Map<number, number>();
  private released = false;
  private waiters: (() => void)[] = [];

  /** `uids` newest first; `window` positions (Infinity: no limit, e.g. for a single lane). */
  constructor(
    private readonly uids: readonly number[],
    readonly window: number,
  ) {
    this.settledAt = new Uint8Array(uids.length);
    uids.forEach((uid, index) => this.position.set(uid, index));
  }

  /** Every UID has been handed out. */
  get exhausted(): boolean {
    return this.cursor >= this.uids.length;
  }

  /** The next UID may not be handed out before older settlements (see settle()). */
  get blocked(): boolean {
    return !this.released && !this.exhausted && this.cursor - this.settledBelow >= this.window;
  }

  /** Hands out the next UID, or undefined when exhausted or blocked. */
  next(): number | undefined {
    if (this.exhausted || this.blocked) return undefined;
    return this.uids[this.cursor++];
  }

  /** The next UID to hand out (whether or not it may be now), to cut takes by listed size. */
  peek(): number | undefined {
    return this.exhausted ? undefined : this.uids[this.cursor];
  }

  /** These UIDs are stored on the target or handed back for the buffered path. */
  settle(uids: Iterable<number>): void {
    for (const uid of uids) {
      const at = this.position.get(uid);
      if (at !== undefined) this.settledAt[at] = 1;
    }
    const before = this.settledBelow;
    while (this.settledBelow < this.uids.length && this.settledAt[this.settledBelow] === 1) this.settledBelow++;
    if (this.settledBelow !== before) this.wake();
  }

  /**
   * Lifts the limit for good: a lane failed or the copy was stopped, so what it held will not be
   * settled in this pass (the next pass reconciles the folder and copies it then).
   */
  release(): void {
    this.released = true;
    this.wake();
  }

  /** Resolves on the next settlement that moves the window, or on release(). */
  changed(): Promise<void> {
    if (this.released) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
