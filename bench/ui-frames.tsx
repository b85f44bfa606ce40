// Frame times of the progress grid with thousands of mailboxes. Renders the real BatchScreen with
// Ink into an in-memory terminal, publishes snapshots the way the engine does (a slice of the
// mailboxes changes between two snapshots), and reports how long each snapshot takes from
// publication to a finished frame, plus the bytes incremental rendering sends per update.
//
//   node --import tsx bench/ui-frames.tsx [--mailboxes 5000] [--updates 200]
//
// Not a test: nothing here asserts a time. The numbers go into the notes of the UI work.

import {EventEmitter} from 'node:events';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import type {MailboxStatus} from '../source/engine/batch-model.js';
import type {BatchSnapshot, MailboxSnapshot} from '../source/engine/scheduler/batch-snapshot.js';

// The CLI runs React's production build (see cli.tsx); measure that, not the development build,
// which is several times slower. It must be set before React is first loaded, hence the dynamic
// imports below.
process.env['NODE_ENV'] ??= 'production';
const {createElement} = await import('react');
const {render} = await import('ink');
const {AppShellContext} = await import('../source/ui/app-shell.js');
const {DisplayContext} = await import('../source/ui/display-options.js');
const {frameFixStream} = await import('../source/ui/frame-fix-stream.js');
const {UNICODE_GLYPHS} = await import('../source/ui/glyphs.js');
const {BatchScreen} = await import('../source/ui/panels/BatchScreen.js');
const {TerminalSizeContext} = await import('../source/ui/terminal-size.js');
const {FakeBatchControl, fakeMailbox, fakeSnapshot} = await import('../test/helpers/fake-batch-control.js');

const {values} = parseArgs({
  options: {
    mailboxes: {type: 'string', default: '5000'},
    updates: {type: 'string', default: '200'},
    show: {type: 'boolean', default: false},
  },
});
const MAILBOXES = Number(values.mailboxes);
const UPDATES = Number(values.updates);

class MemoryTerminal extends EventEmitter {
  bytes = 0;
  writes = 0;
  last = '';
  readonly isTTY = true;
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write = (chunk: string, callback?: () => void): boolean => {
    this.bytes += Buffer.byteLength(chunk);
    if (chunk.length > 200) this.last = chunk;
    this.writes += 1;
    callback?.();
    return true;
  };
}

class FakeInput extends EventEmitter {
  readonly isTTY = true;
  setRawMode(): void {}
  setEncoding(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read(): null {
    return null;
  }
}

const STATUSES: MailboxStatus[] = ['Syncing', 'Syncing', 'Synced', 'Queued', 'IncrementalSyncing', 'Failed', 'Stopped'];

function initialMailboxes(count: number): MailboxSnapshot[] {
  return Array.from({length: count}, (_, index) =>
    fakeMailbox(`user${String(index).padStart(5, '0')}@example.com`, {
      status: STATUSES[index % STATUSES.length]!,
      currentFolder: index % 3 === 0 ? 'INBOX' : 'Archive/2024',
      itemsDone: (index * 37) % 5000,
      itemsTotal: 5000,
      bytesDone: index * 1_000_000,
      bytesTotal: 9_000_000_000,
      messagesPerSecond: (index % 11) * 1.5,
      bytesPerSecond: (index % 11) * 150_000,
      etaSeconds: 600 + index,
      lastSyncedAt: '2026-03-01T11:00:00Z',
    }),
  );
}

/** Between two snapshots about a tenth of the mailboxes move on, as under a busy engine. */
function step(mailboxes: readonly MailboxSnapshot[], round: number): MailboxSnapshot[] {
  return mailboxes.map((mailbox, index) =>
    index % 10 === round % 10 && mailbox.status === 'Syncing'
      ? {...mailbox, itemsDone: Math.min(mailbox.itemsTotal, mailbox.itemsDone + 25), bytesDone: mailbox.bytesDone + 2_500_000}
      : mailbox,
  );
}

interface Stats {
  avg: number;
  p50: number;
  p95: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {avg: samples.reduce((a, b) => a + b, 0) / samples.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0};
}

const fmt = (value: number) => value.toFixed(2).padStart(7);

async function measure(label: string, options: {columns: number; rows: number; keys?: string[]; incremental: boolean}): Promise<void> {
  let mailboxes = initialMailboxes(MAILBOXES);
  const control = new FakeBatchControl(fakeSnapshot(mailboxes, {throughputHistory: Array.from({length: 40}, (_, i) => 100 + 50 * Math.sin(i / 3))}));
  const terminal = new MemoryTerminal(options.columns, options.rows);
  const input = new FakeInput();
  let rendered: (() => void) | undefined;
  const inkRenderTimes: number[] = [];
  // createElement rather than JSX: the JSX runtime import would load React before NODE_ENV is set.
  const instance = render(
    createElement(
      AppShellContext.Provider,
      {value: {repaint() {}, exit() {}}},
      createElement(
        DisplayContext.Provider,
        {value: {glyphs: UNICODE_GLYPHS, color: true}},
        createElement(TerminalSizeContext.Provider, {value: {columns: options.columns, rows: options.rows}}, createElement(BatchScreen, {control})),
      ),
    ),
    {
      stdout: frameFixStream(terminal as unknown as NodeJS.WriteStream),
      stdin: input as unknown as NodeJS.ReadStream,
      // debug renders every commit at once (no frame throttle), so a time is one snapshot's cost.
      debug: !options.incremental,
      incrementalRendering: options.incremental,
      maxFps: 1000,
      patchConsole: false,
      exitOnCtrlC: false,
      onRender: ({renderTime}) => {
        inkRenderTimes.push(renderTime);
        rendered?.();
      },
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const key of options.keys ?? []) {
    let pending: string | null = key;
    (input as unknown as {read: () => string | null}).read = () => {
      const chunk = pending;
      pending = null;
      return chunk;
    };
    input.emit('readable');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  inkRenderTimes.length = 0;
  // Snapshots are built up front: their cost belongs to the engine, not to the UI.
  const snapshots: BatchSnapshot[] = [];
  for (let round = 0; round < UPDATES; round++) {
    mailboxes = step(mailboxes, round);
    snapshots.push(fakeSnapshot(mailboxes, {at: new Date(Date.parse('2026-03-01T12:00:00Z') + round * 200).toISOString(), throughputHistory: Array.from({length: 40}, (_, i) => 100 + 50 * Math.sin((i + round) / 3))}));
  }
  const frameTimes: number[] = [];
  const bytes: number[] = [];
  // The first updates pay for JIT compilation; they are drawn but not counted.
  const WARMUP = Math.min(20, Math.floor(snapshots.length / 5));
  for (const [index, snapshot] of snapshots.entries()) {
    const before = terminal.bytes;
    const done = new Promise<void>((resolve) => (rendered = resolve));
    const started = performance.now();
    control.publish(snapshot);
    await done;
    const elapsed = performance.now() - started;
    // Let the throttled writer (incremental mode) flush before counting bytes.
    await new Promise((resolve) => setTimeout(resolve, options.incremental ? 3 : 0));
    if (index < WARMUP) {
      inkRenderTimes.length = 0;
      continue;
    }
    frameTimes.push(elapsed);
    bytes.push(terminal.bytes - before);
  }
  instance.unmount();
  // eslint-disable-next-line no-control-regex
  if (values.show) console.log(terminal.last.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, ''));
  const total = stats(frameTimes);
  const ink = stats(inkRenderTimes);
  const sent = stats(bytes);
  console.log(
    `${label.padEnd(44)} frame ms avg ${fmt(total.avg)} p50 ${fmt(total.p50)} p95 ${fmt(total.p95)} max ${fmt(total.max)} | ink output ms avg ${fmt(ink.avg)} | bytes/update avg ${sent.avg.toFixed(0).padStart(5)} max ${String(sent.max).padStart(5)}`,
  );
}

console.log(`progress grid, ${MAILBOXES} mailboxes, ${UPDATES} snapshot updates each, the first ${Math.min(20, Math.floor(UPDATES / 5))} not counted (a tenth of the syncing mailboxes change per update)`);
console.log(`node ${process.version}, ${process.platform} ${process.arch}, NODE_ENV=${process.env['NODE_ENV']}, load average ${(await import('node:os')).loadavg().map((value) => value.toFixed(1)).join(' ')}`);
await measure('80x24, CSV order', {columns: 80, rows: 24, incremental: false});
await measure('80x24, sorted by status', {columns: 80, rows: 24, keys: ['o', 'o'], incremental: false});
await measure('80x24, filtered "sync"', {columns: 80, rows: 24, keys: ['/', 'sync', '\r'], incremental: false});
await measure('200x60, CSV order', {columns: 200, rows: 60, incremental: false});
await measure('80x24, incremental rendering (bytes sent)', {columns: 80, rows: 24, incremental: true});
await measure('200x60, incremental rendering (bytes sent)', {columns: 200, rows: 60, incremental: true});
