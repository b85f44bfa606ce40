// Pure arithmetic of the scale scenario: percentiles, the state-write lines MAILFERRY_STATE_STATS
// writes, the scheduler's gaps from the batch log, and the UI frame bench's JSON line. Kept apart
// from the scenario so it can be unit-tested (test/bench-scale-stats.test.ts) without servers.

/** One state write as MAILFERRY_STATE_STATS records it (one JSON line per write). */
export interface StateWrite {
  /** Epoch milliseconds of the write. */
  at: number;
  ms: number;
  bytes: number;
  files: number;
  layout: string;
}

/** The nearest-rank percentile (p in 0..100) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function epochMs(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Date.parse(value);
  return Number.NaN;
}

/** The state writes in the text of a stats file; lines that are not whole records (the last one
 *  of a process killed mid-write) are counted, not thrown on. */
export function parseStateWrites(text: string): {writes: StateWrite[]; malformed: number} {
  const writes: StateWrite[] = [];
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      const write = {
        at: epochMs(record['at']),
        ms: Number(record['ms']),
        bytes: Number(record['bytes']),
        files: Number(record['files'] ?? 1),
        layout: String(record['layout'] ?? 'unknown'),
      };
      if ([write.at, write.ms, write.bytes].some((n) => !Number.isFinite(n))) malformed++;
      else writes.push(write);
    } catch {
      malformed++;
    }
  }
  return {writes, malformed};
}

export interface WriteSummary {
  count: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  bytes: number;
  bytesPerSecond: number;
  /** Median files touched per write. */
  medianFiles: number;
}

/** The writes inside the windows [from, to] (epoch ms): time per write, and bytes per second of
 *  the windows' total length. */
export function summariseWrites(writes: readonly StateWrite[], windows: ReadonlyArray<readonly [number, number]>): WriteSummary {
  const inside = writes.filter((w) => windows.some(([from, to]) => w.at >= from && w.at <= to));
  const bytes = inside.reduce((sum, w) => sum + w.bytes, 0);
  const seconds = Math.max(0.001, windows.reduce((sum, [from, to]) => sum + Math.max(0, to - from), 0) / 1000);
  const ms = inside.map((w) => w.ms);
  return {
    count: inside.length,
    medianMs: median(ms),
    p99Ms: percentile(ms, 99),
    maxMs: ms.length ? ms.reduce((a, b) => Math.max(a, b)) : Number.NaN,
    bytes,
    bytesPerSecond: bytes / seconds,
    medianFiles: median(inside.map((w) => w.files)),
  };
}

/** A mailbox's initial pass starting or ending, from the batch log. */
export interface PassEvent {
  at: number;
  kind: 'start' | 'end';
  mailbox: string;
}

/** The batch log's lines (JSON, see source/log/engine-event-log.ts) as pass starts and ends. An
 *  end is the mailbox leaving its pass for Synced or Failed; a start is 'pass started' (initial). */
export function passEvents(logText: string): PassEvent[] {
  const events: PassEvent[] = [];
  for (const line of logText.split('\n')) {
    if (!line.startsWith('{')) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const at = Date.parse(String(record['t']));
    const mailbox = String(record['mailbox'] ?? '');
    if (!Number.isFinite(at) || !mailbox) continue;
    if (record['msg'] === 'pass started' && record['kind'] === 'initial') events.push({at, kind: 'start', mailbox});
    else if (record['msg'] === 'mailbox status' && record['to'] === 'Synced') events.push({at, kind: 'end', mailbox});
    else if (record['msg'] === 'mailbox failed') events.push({at, kind: 'end', mailbox});
  }
  return events.sort((a, b) => a.at - b.at);
}

/**
 * Scheduler overhead: for every start that took a slot an earlier end had freed, the time from
 * that end to the start (ms), freed slots taken oldest first. Starts while no freed slot waits are
 * the initial fill and count for nothing; ends that no start follows (the queue was empty)
 * neither. Give it the events of one process: a killed process's ends never free anything for
 * the next one.
 */
export function schedulerGaps(events: readonly PassEvent[]): number[] {
  const gaps: number[] = [];
  const freed: number[] = [];
  for (const event of [...events].sort((a, b) => a.at - b.at)) {
    if (event.kind === 'end') freed.push(event.at);
    else {
      const slot = freed.shift();
      if (slot !== undefined) gaps.push(event.at - slot);
    }
  }
  return gaps;
}

export interface UiFrameScenario {
  medianMs: number;
  p99Ms: number;
}

export interface UiFrames {
  mailboxes: number;
  scenarios: Record<string, UiFrameScenario>;
}

/** The last line of bench/ui-frames.tsx --json output that is its summary, or a reason why not. */
export function parseUiFrames(stdout: string): UiFrames | {notMeasured: string} {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as Partial<UiFrames>;
      if (typeof value.mailboxes === 'number' && value.scenarios && typeof value.scenarios === 'object') {
        const scenarios: Record<string, UiFrameScenario> = {};
        for (const [name, s] of Object.entries(value.scenarios)) {
          if (s && Number.isFinite(s.medianMs) && Number.isFinite(s.p99Ms)) scenarios[name] = {medianMs: s.medianMs, p99Ms: s.p99Ms};
        }
        return {mailboxes: value.mailboxes, scenarios};
      }
    } catch {
      // not the summary line
    }
  }
  return {notMeasured: 'bench/ui-frames.tsx printed no JSON summary line'};
}

/** `text` with the section that starts at the line `heading` (up to the next heading of the same
 *  level, or the end) replaced by `section` (which starts with that heading), or appended. */
export function replaceSection(text: string, heading: string, section: string): string {
  const level = /^#+ /.exec(heading)?.[0] ?? '## ';
  const lines = text.split('\n');
  const start = lines.indexOf(heading);
  const body = section.replace(/\n+$/, '').split('\n');
  if (start < 0) return `${text.replace(/\n*$/, '')}\n\n${body.join('\n')}\n`.replace(/^\n+/, '');
  let end = start + 1;
  while (end < lines.length && !(lines[end]!.startsWith(level) && !lines[end]!.startsWith(`${level.trim()}#`))) end++;
  const after = lines.slice(end);
  return [...lines.slice(0, start), ...body, ...(after.length ? ['', ...after] : [''])].join('\n');
}
