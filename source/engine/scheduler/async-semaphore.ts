// A counting semaphore with weighted, FIFO acquisition. Both budgets of the engine are built on it:
// bytes of message bodies in flight (memory) and connections per endpoint (server limits).
// FIFO matters: a large request must not starve behind a stream of small ones.

interface Waiter {
  amount: number;
  resolve: () => void;
  reject: (error: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class AsyncSemaphore {
  private available: number;
  private readonly waiters: Waiter[] = [];

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`semaphore capacity must be positive, got ${capacity}`);
    this.available = capacity;
  }

  get inUse(): number {
    return this.capacity - this.available;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Requests larger than the capacity are clamped to it, so one huge item still gets through alone. */
  clamp(amount: number): number {
    return Math.min(Math.max(amount, 0), this.capacity);
  }

  tryAcquire(amount = 1): boolean {
    const want = this.clamp(amount);
    if (this.waiters.length === 0 && this.available >= want) {
      this.available -= want;
      return true;
    }
    return false;
  }

  acquire(amount = 1, signal?: AbortSignal): Promise<void> {
    const want = this.clamp(amount);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.tryAcquire(want)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {amount: want, resolve, reject};
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(abortError(signal));
          this.drain();
        };
        signal.addEventListener('abort', waiter.onAbort, {once: true});
      }
      this.waiters.push(waiter);
    });
  }

  release(amount = 1): void {
    this.available = Math.min(this.capacity, this.available + this.clamp(amount));
    this.drain();
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.available >= this.waiters[0]!.amount) {
      const waiter = this.waiters.shift()!;
      this.available -= waiter.amount;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
  }
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error(typeof reason === 'string' ? reason : 'aborted');
  error.name = 'AbortError';
  return error;
}
