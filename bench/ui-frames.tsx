// Frame times of the batch screen with thousands of mailboxes. Renders the real BatchScreen with
// Ink into an in-memory terminal, publishes snapshots the way the engine does (a slice of the
// mailboxes moves on between two snapshots, a few change status), presses keys the way an admin
// does, and reports how long each trigger (a snapshot or a key) takes to a finished frame.
//
//   node --import tsx bench/ui-frames.tsx [--mailboxes 10000] [--size 80x24] [--json]
//        [--scenarios updates,filter,scroll,sort,detail] [--updates 200] [--debug] [--show]
//
// Scenarios:
//   updates  snapshots arriving, CSV order
//   filter   typing a filter ("fail", then a domain) character by character, and snapshots
//            arriving while it is active
//   scroll   PgDn/PgUp and j/k through the list while snapshots arrive
//   sort     every sort key (o) and its reverse (O), with snapshots arriving under each
//   detail   Enter on a mailbox with thousands of folders, scrolling it and Tab between its
//            sections while snapshots arrive, Esc back to the grid
//
// --json prints, as the last line of stdout, one line
//   {"mailboxes":N,"scenarios":{"updates":{"medianMs":x,"p99Ms":y,"frames":n,...},...}}
// (bench/run.ts's scale bench parses it). A scenario's medianMs/p99Ms cover every frame it
// measured; "key" and "snapshot" split them by trigger where a scenario has both.
//
// Not a test: nothing here asserts a time.

import {EventEmitter} from 'node:events';
import {loadavg} from 'node:os';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import type {MailboxStatus} from '../source/engine/batch-model.js';
import type {BatchSnapshot, MailboxDetail, MailboxSnapshot} from '../source/engine/scheduler/batch-snapshot.js';

// The CLI runs React's production build (see cli.tsx); measure that, not the development build,
// which is several times slower. It must be set before React is first loaded, hence the dynamic
// imports below.
process.env['NODE_ENV'] ??= 'production';
const {createElement} = await import('react');
const {render} = await import('ink');
const {AppShellContext} = await import('../source/ui/app-shell.js');
const {DisplayContext} = await import('../source/ui/display-options.js');
const {frameFixStream} = await import('../source/ui/frame-fix-stream.js');
const {ASCII_GLYPHS, UNICODE_GLYPHS} = await import('../source/ui/glyphs.js');
const {BatchScreen} = await import('../source/ui/panels/BatchScreen.js');
const {TerminalSizeContext} = await import('../source/ui/terminal-size.js');
const {FakeBatchControl, fakeMailbox, fakeSnapshot} = await import('../test/helpers/fake-batch-control.js');

const ALL_SCENARIOS = ['updates', 'filter', 'scroll', 'sort', 'detail'] as const;
type ScenarioName = (typeof ALL_SCENARIOS)[number];

const {values} = parseArgs({
  options: {
    mailboxes: {type: 'string', default: '10000'},
    updates: {type: 'string', default: '200'},
    size: {type: 'string', default: '80x24'},
    scenarios: {type: 'string', default: ALL_SCENARIOS.join(',')},
    json: {type: 'boolean', default: false},
    // Ink's debug mode: every commit drawn in full, no throttle, no line diffing.
    debug: {type: 'boolean', default: false},
    show: {type: 'boolean', default: false},
    // The ASCII glyphs (--ascii in the CLI) instead of the Unicode ones.
    ascii: {type: 'boolean', default: false},
    // Writes a V8 CPU profile of the counted frames only (no start-up, no warm-up) to this file.
    profile: {type: 'string'},
  },
});
const MAILBOXES = Number(values.mailboxes);
const UPDATES = Math.max(10, Number(values.updates));
const [COLUMNS, ROWS] = (values.size.match(/^(\d+)x(\d+)$/)?.slice(1).map(Number) ?? [80, 24]) as [number, number];
const SCENARIOS = values.scenarios.split(',').map((name) => name.trim()).filter((name): name is ScenarioName => (ALL_SCENARIOS as readonly string[]).includes(name));
/** Frames drawn before counting starts in each scenario: the first ones pay for JIT compilation. */
const WARMUP = 15;
/** A trigger that draws nothing (a key at the end of the list) gives up after this long. */
const NO_FRAME_MS = 3000;

const KEYS: Record<string, string> = {enter: '\r', esc: '\u001B', tab: '\t', pageup: '\u001B[5~', pagedown: '\u001B[6~', backspace: '\u007F'};

class MemoryTerminal extends EventEmitter {
  bytes = 0;
  last = '';
  /** Everything written since the last mark (incremental rendering writes changed lines only). */
  written = '';
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
    this.written += chunk;
    callback?.();
    return true;
  };
}

class FakeInput extends EventEmitter {
  readonly isTTY = true;
  private pending: string | null = null;
  setRawMode(): void {}
  setEncoding(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read(): string | null {
    const chunk = this.pending;
    this.pending = null;
    return chunk;
  }
  type(chunk: string): void {
    this.pending = chunk;
    this.emit('readable');
  }
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (text: string) => text.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '');

// ---- the batch the bench shows ---------------------------------------------------------------

const STATUSES: MailboxStatus[] = ['Syncing', 'Syncing', 'Synced', 'Queued', 'IncrementalSyncing', 'Failed', 'Stopped'];
const DOMAINS = 40;
const AT = Date.parse('2026-03-01T12:00:00Z');

function emailOf(index: number): string {
  return `user${String(index).padStart(5, '0')}@d${String(index % DOMAINS).padStart(2, '0')}.example.org`;
}

function failure(round: number): NonNullable<MailboxSnapshot['lastError']> {
  return {kind: 'connection-lost', message: `connection reset while fetching INBOX (round ${round})`, hint: 'the source server dropped the connection; it is retried', retryable: true, at: new Date(AT + round * 200).toISOString(), endpoint: 'source', folder: 'INBOX'};
}

function initialMailboxes(count: number): MailboxSnapshot[] {
  return Array.from({length: count}, (_, index) => {
    const status = STATUSES[index % STATUSES.length]!;
    return fakeMailbox(emailOf(index), {
      status,
      currentFolder: index % 3 === 0 ? 'INBOX' : 'Archive/2024',
      itemsDone: (index * 37) % 5000,
      itemsTotal: 5000,
      bytesDone: index * 1_000_000,
      bytesTotal: 9_000_000_000,
      messagesPerSecond: (index % 11) * 1.5,
      bytesPerSecond: (index % 11) * 150_000,
      etaSeconds: 600 + index,
      errorCount: status === 'Failed' ? 1 + (index % 5) : index % 13 === 0 ? 1 : 0,
      ...(status === 'Failed' ? {lastError: failure(0)} : {}),
      ...(index % 4 === 0 ? {lastSyncedAt: new Date(AT - index * 1000).toISOString()} : {}),
    });
  });
}

/**
 * One engine publication: about a tenth of the syncing mailboxes copy some messages, and a few
 * change status (start, finish, fail, get resumed), so sorted orders change too. Rows that did
 * not change keep their object, as an incremental snapshot builder keeps them.
 */
function step(mailboxes: readonly MailboxSnapshot[], round: number): MailboxSnapshot[] {
  const next = mailboxes.map((mailbox, index) =>
    index % 10 === round % 10 && (mailbox.status === 'Syncing' || mailbox.status === 'IncrementalSyncing')
      ? {...mailbox, itemsDone: Math.min(mailbox.itemsTotal, mailbox.itemsDone + 25), bytesDone: mailbox.bytesDone + 2_500_000, messagesPerSecond: 1 + ((index + round) % 9)}
      : mailbox,
  );
  for (let change = 0; change < 4; change++) {
    const index = (round * 7919 + change * 104_729) % next.length;
    const mailbox = next[index]!;
    const transitions: Partial<Record<MailboxStatus, Partial<MailboxSnapshot>>> = {
      Queued: {status: 'Syncing'},
      Syncing: change % 2 === 0 ? {status: 'Synced', lastSyncedAt: new Date(AT + round * 200).toISOString()} : {status: 'Failed', errorCount: mailbox.errorCount + 1, lastError: failure(round)},
      Failed: {status: 'Queued'},
      Synced: {status: 'IncrementalSyncing'},
      IncrementalSyncing: {status: 'Synced', lastSyncedAt: new Date(AT + round * 200).toISOString()},
      Stopped: {status: 'Queued'},
    };
    const change_ = transitions[mailbox.status];
    if (change_) next[index] = {...mailbox, ...change_};
  }
  return next;
}

/** A mailbox of a big organisation account: thousands of folders, skipped and failed items, errors. */
function bigDetail(emailAddress: string): MailboxDetail {
  const folders = Array.from({length: 3000}, (_, index) => {
    const source = `Projects/${2000 + (index % 25)}/Client ${String(index).padStart(4, '0')}/Correspondence`;
    return {source, target: index % 5 === 0 ? source.replaceAll('/', '.') : source, total: 200 + (index % 300), done: 150 + (index % 300), skipped: index % 17 === 0 ? 2 : 0, failed: index % 29 === 0 ? 1 : 0, bytesDone: index * 12_345};
  });
  return {
    emailAddress,
    folders,
    skipped: Array.from({length: 200}, (_, index) => ({folder: folders[index * 10]!.source, uid: 1000 + index, size: 60 * 1024 * 1024, reason: 'larger than the 35M limit of the target server'})),
    failed: Array.from({length: 100}, (_, index) => ({folder: folders[index * 20]!.source, uid: 2000 + index, size: 1200, reason: 'target said: invalid message (bad header line)', subject: `Quarterly report ${index}`})),
    changed: [],
    errors: Array.from({length: 50}, (_, index) => ({kind: 'connection-lost' as const, message: `connection reset while appending (attempt ${index})`, hint: 'the target dropped the connection; it is retried', retryable: true, at: new Date(AT - index * 60_000).toISOString(), folder: folders[index]!.target})),
    unmigratedFolders: Array.from({length: 20}, (_, index) => ({source: `Public/Shared ${index}`, reason: 'outside the personal namespace'})),
    renamedFolders: [],
    droppedKeywords: [],
  };
}

// ---- measuring -------------------------------------------------------------------------------

interface Stats {
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  frames: number;
  /** CPU time the process spent per frame: on a shared machine, the work without the waiting. */
  cpuMedianMs: number;
  cpuP99Ms: number;
}

interface Sample {
  wall: number;
  cpu: number;
}

function percentiles(values: number[]): {median: number; p99: number; max: number} {
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: the p99 of 100 frames is the 99th, not an interpolation.
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return {median: rank(0.5), p99: rank(0.99), max: sorted.at(-1) ?? 0};
}

function stats(samples: readonly Sample[]): Stats {
  const wall = percentiles(samples.map((sample) => sample.wall));
  const cpu = percentiles(samples.map((sample) => sample.cpu));
  const round = (value: number) => Math.round(value * 100) / 100;
  return {medianMs: round(wall.median), p99Ms: round(wall.p99), maxMs: round(wall.max), frames: samples.length, cpuMedianMs: round(cpu.median), cpuP99Ms: round(cpu.p99)};
}

type Trigger = 'key' | 'snapshot';

class Bench {
  private readonly terminal = new MemoryTerminal(COLUMNS, ROWS);
  private readonly input = new FakeInput();
  private readonly control: InstanceType<typeof FakeBatchControl>;
  private readonly instance: ReturnType<typeof render>;
  private mailboxes: MailboxSnapshot[];
  private round = 0;
  private rendered: (() => void) | undefined;
  private counting = false;
  readonly samples: Record<Trigger, Sample[]> = {key: [], snapshot: []};
  /** Per label (e.g. the sort key) for the breakdown. */
  readonly labelled = new Map<string, Sample[]>();
  missed = 0;

  constructor() {
    this.mailboxes = initialMailboxes(MAILBOXES);
    this.control = new FakeBatchControl(this.snapshotOf(this.mailboxes));
    const debug = values.debug;
    // createElement rather than JSX: the JSX runtime import would load React before NODE_ENV is set.
    this.instance = render(
      createElement(
        AppShellContext.Provider,
        {value: {repaint() {}, exit() {}}},
        createElement(
          DisplayContext.Provider,
          {value: {glyphs: values.ascii ? ASCII_GLYPHS : UNICODE_GLYPHS, color: true}},
          createElement(TerminalSizeContext.Provider, {value: {columns: COLUMNS, rows: ROWS}}, createElement(BatchScreen, {control: this.control})),
        ),
      ),
      {
        stdout: frameFixStream(this.terminal as unknown as NodeJS.WriteStream),
        stdin: this.input as unknown as NodeJS.ReadStream,
        // As the CLI (run-ui.tsx) draws, but with a 1 ms throttle instead of 33 ms, so the time
        // to a frame is the work it costs, not the wait for the throttle.
        debug,
        incrementalRendering: !debug,
        maxFps: 1000,
        patchConsole: false,
        exitOnCtrlC: false,
        // Ink writes the frame right after this callback; the microtask runs after that write.
        onRender: () => queueMicrotask(() => this.rendered?.()),
      },
    );
  }

  private snapshotOf(mailboxes: readonly MailboxSnapshot[]): BatchSnapshot {
    return fakeSnapshot(mailboxes, {
      at: new Date(AT + this.round * 200).toISOString(),
      throughputHistory: Array.from({length: 40}, (_, i) => 100 + 50 * Math.sin((i + this.round) / 3)),
    });
  }

  /** Every mailbox has a big detail, built when asked for (as the engine does), one kept at a time. */
  bigDetails(): void {
    let kept: MailboxDetail | undefined;
    this.control.getMailboxDetail = (emailAddress: string) => {
      if (kept?.emailAddress !== emailAddress) kept = bigDetail(emailAddress);
      // Fresh folder objects and lists each time, the same item records: as BatchRunner builds it.
      return {...kept, folders: kept.folders.map((folder) => ({...folder})), skipped: [...kept.skipped], failed: [...kept.failed], errors: [...kept.errors]};
    };
  }

  /** Time from the trigger to the frame it caused; undefined when it caused none. */
  private async frame(trigger: Trigger, fire: () => void, label?: string): Promise<number | undefined> {
    // Let whatever the previous trigger left (a trailing throttled write, passive effects such as
    // ink-text-input subscribing its newest handler) finish first, as between two real key presses.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setImmediate(resolve));
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<boolean>((resolve) => {
      this.rendered = () => resolve(true);
      timer = setTimeout(() => resolve(false), NO_FRAME_MS);
    });
    this.terminal.written = '';
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    fire();
    const drawn = await done;
    const elapsed = performance.now() - started;
    const cpuUsed = process.cpuUsage(cpuBefore);
    const sample = {wall: elapsed, cpu: (cpuUsed.user + cpuUsed.system) / 1000};
    clearTimeout(timer);
    this.rendered = undefined;
    if (!drawn) {
      this.missed += 1;
      return undefined;
    }
    if (this.counting) {
      this.samples[trigger].push(sample);
      if (label) {
        const list = this.labelled.get(label) ?? [];
        list.push(sample);
        this.labelled.set(label, list);
      }
    }
    return elapsed;
  }

  async ready(): Promise<void> {
    for (let tries = 0; tries < 100 && !stripAnsi(this.terminal.last).includes('Mailbox'); tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    for (let index = 0; index < WARMUP; index++) await this.publish();
    this.counting = true;
  }

  /** The engine's next publication; building it is engine work, done before the clock starts. */
  async publish(label?: string): Promise<void> {
    this.round += 1;
    this.mailboxes = step(this.mailboxes, this.round);
    const snapshot = this.snapshotOf(this.mailboxes);
    await this.frame('snapshot', () => this.control.publish(snapshot), label);
  }

  async press(key: string, label?: string): Promise<void> {
    await this.frame('key', () => this.input.type(KEYS[key] ?? key), label);
  }

  /** What the last trigger's frame wrote, without escape sequences. */
  drawnText(): string {
    return stripAnsi(this.terminal.written);
  }

  get bytes(): number {
    return this.terminal.bytes;
  }

  close(): void {
    if (values.show) console.log(stripAnsi(this.terminal.last));
    this.instance.unmount();
  }
}

// ---- scenarios -------------------------------------------------------------------------------

interface ScenarioResult extends Stats {
  key?: Stats;
  snapshot?: Stats;
  byLabel?: Record<string, Stats>;
  missed?: number;
}

function resultOf(bench: Bench, withLabels = false): ScenarioResult {
  const all = [...bench.samples.key, ...bench.samples.snapshot];
  return {
    ...stats(all),
    ...(bench.samples.key.length > 0 && bench.samples.snapshot.length > 0 ? {key: stats(bench.samples.key), snapshot: stats(bench.samples.snapshot)} : {}),
    ...(withLabels ? {byLabel: Object.fromEntries([...bench.labelled].map(([label, samples]) => [label, stats(samples)]))} : {}),
    ...(bench.missed > 0 ? {missed: bench.missed} : {}),
  };
}

const scenarios: Record<ScenarioName, (bench: Bench) => Promise<ScenarioResult>> = {
  async updates(bench) {
    const before = bench.bytes;
    for (let index = 0; index < UPDATES; index++) await bench.publish();
    return {...resultOf(bench), bytesPerFrame: Math.round((bench.bytes - before) / UPDATES)} as ScenarioResult;
  },

  async filter(bench) {
    const perFilter = Math.max(5, Math.floor(UPDATES / 4));
    for (const needle of ['fail', '@d07.example', 'fail', '@d07.example']) {
      await bench.press('/', 'open');
      for (const char of needle) await bench.press(char, 'type');
      await bench.press('enter', 'apply');
      if (!bench.drawnText().includes(`filter "${needle}"`)) throw new Error(`the filter "${needle}" did not reach the screen:\n${bench.drawnText()}`);
      for (let index = 0; index < perFilter; index++) await bench.publish('active');
      await bench.press('x', 'clear');
    }
    return resultOf(bench, true);
  },

  async scroll(bench) {
    const moves: [string, number][] = [
      ['pagedown', 40],
      ['j', 60],
      ['pageup', 20],
      ['k', 60],
      ['G', 1],
      ['k', 30],
      ['pageup', 20],
      ['g', 1],
    ];
    let pressed = 0;
    for (const [key, times] of moves) {
      for (let index = 0; index < times; index++) {
        await bench.press(key, key);
        // Snapshots keep arriving at their pace: one every few keys of a fast typist.
        if (++pressed % 4 === 0) await bench.publish('snapshot');
      }
    }
    return resultOf(bench, true);
  },

  async sort(bench) {
    // SORT_KEYS in grid-view.ts, in the order `o` cycles through them (back to CSV at the end).
    const keys = ['email', 'status', 'progress', 'rate', 'eta', 'errors', 'lastSynced', 'csv'];
    for (let cycle = 0; cycle < 3; cycle++) {
      for (const sortKey of keys) {
        await bench.press('o', sortKey);
        await bench.publish('snapshot');
        await bench.publish('snapshot');
        await bench.press('O', sortKey);
        await bench.publish('snapshot');
        await bench.press('O', sortKey);
      }
    }
    return resultOf(bench, true);
  },

  async detail(bench) {
    bench.bigDetails();
    for (let round = 0; round < 8; round++) {
      // A different mailbox each time, so the detail is built afresh.
      await bench.press('pagedown', 'grid');
      await bench.press('j', 'grid');
      await bench.press('enter', 'open');
      if (!bench.drawnText().includes('Folders (3000)')) throw new Error(`the detail did not open:\n${bench.drawnText()}`);
      for (let index = 0; index < 3; index++) await bench.publish('snapshot');
      for (let index = 0; index < 4; index++) await bench.press('pagedown', 'scroll');
      await bench.publish('snapshot');
      for (let index = 0; index < 4; index++) await bench.press('j', 'scroll');
      await bench.press('tab', 'section');
      await bench.press('tab', 'section');
      await bench.publish('snapshot');
      await bench.press('esc', 'back');
    }
    return resultOf(bench, true);
  },
};

// ---- main ------------------------------------------------------------------------------------

const fmt = (value: number) => value.toFixed(1).padStart(6);
const line = (label: string, stat: Stats) =>
  `${label.padEnd(26)} median ${fmt(stat.medianMs)} ms  p99 ${fmt(stat.p99Ms)} ms  max ${fmt(stat.maxMs)} ms  | cpu median ${fmt(stat.cpuMedianMs)} p99 ${fmt(stat.cpuP99Ms)} ms  (${stat.frames} frames)`;

console.log(`batch screen ${COLUMNS}x${ROWS}, ${MAILBOXES} mailboxes, ${values.ascii ? 'ASCII' : 'Unicode'} glyphs, ${values.debug ? 'Ink debug mode' : 'incremental rendering'}; first ${WARMUP} frames of each scenario not counted`);
console.log(`node ${process.version}, ${process.platform} ${process.arch}, NODE_ENV=${process.env['NODE_ENV']}, load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
const profiler = values.profile ? new (await import('node:inspector/promises')).Session() : undefined;
profiler?.connect();
await profiler?.post('Profiler.enable');
const results: Partial<Record<ScenarioName, ScenarioResult>> = {};
for (const name of SCENARIOS) {
  const bench = new Bench();
  await bench.ready();
  if (profiler && name === SCENARIOS[0]) await profiler.post('Profiler.start');
  const result = await scenarios[name](bench);
  bench.close();
  results[name] = result;
  console.log(line(name, result));
  if (result.key && result.snapshot) {
    console.log(line('  key → frame', result.key));
    console.log(line('  snapshot → frame', result.snapshot));
  }
  for (const [label, stat] of Object.entries(result.byLabel ?? {})) console.log(line(`    ${label}`, stat));
  if (result.missed) console.log(`  ${result.missed} triggers drew no frame (not counted)`);
}
if (profiler && values.profile) {
  const {profile} = await profiler.post('Profiler.stop');
  (await import('node:fs')).writeFileSync(values.profile, JSON.stringify(profile));
}
if (values.json) console.log(JSON.stringify({mailboxes: MAILBOXES, scenarios: results}));
