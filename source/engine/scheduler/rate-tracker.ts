// Throughput over a sliding window, from cumulative counters sampled at snapshot time.
// A window (rather than "since start") makes a stalled mailbox show 0/s quickly and a
// resumed one show its real speed instead of an average diluted by the pause.

export class RateTracker {
  private readonly samples: {t: number; items: number; bytes: number}[] = [];

  constructor(private readonly windowMs = 10_000) {}

  sample(now: number, items: number, bytes: number): void {
    this.samples.push({t: now, items, bytes});
    while (this.samples.length > 2 && now - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }

  reset(): void {
    this.samples.length = 0;
  }

  get itemsPerSecond(): number {
    return this.rate('items');
  }

  get bytesPerSecond(): number {
    return this.rate('bytes');
  }

  private rate(field: 'items' | 'bytes'): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const seconds = (last.t - first.t) / 1000;
    if (seconds <= 0) return 0;
    return Math.max(0, (last[field] - first[field]) / seconds);
  }
}
