// The scale scenario (`npm run bench -- --scale N`, issue 16): N users in a source Dovecot, one
// batch with all of them (--max-concurrent 20), started, killed with SIGKILL once a third are
// Synced, resumed, finished, and completed; then every mailbox is verified on the target. It runs
// twice in one bench run, with today's single-file state (MAILFERRY_STATE_LAYOUT=single) and with
// the default layout, and measures what the issue asks for per layout. See bench/README.md.

import {execFile, spawn, type ChildProcess} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {createInterface} from 'node:readline';
import {promisify} from 'node:util';
import {startDovecot, type DovecotServer} from '../../test/helpers/dovecot-pair.js';
import {MAILFERRY_BIN} from '../runners/mailferry.js';
import {sampleProcess} from './proc-sampler.js';
import {checkMailbox, planMailbox, readMaildir, seedMailbox, type PlannedMailbox} from './scale-mailboxes.js';
import {median, parseStateWrites, parseUiFrames, passEvents, schedulerGaps, summariseWrites, type UiFrames, type WriteSummary} from './scale-stats.js';

const execFileAsync = promisify(execFile);
const BENCH_DIR = join(import.meta.dirname, '..');
export const SCALE_CONCURRENCY = 20;
const BATCH = 'scale';
const TARGET_PASSWORD_ENV = 'MAILFERRY_BENCH_TARGET_PASSWORD';
const TIMED_ROUNDS = 3;

export type LayoutName = 'single' | 'default';

export interface LayoutResult {
  layout: LayoutName;
  /** Set when the run could not finish; the figures measured before are kept. */
  failure?: string;
  writes?: WriteSummary;
  /** Why there are no state-write figures (the stats hook missing). */
  writesNotMeasured?: string;
  procWriteBytesPerSecond?: number;
  resumeToFirstAppendMs?: number;
  schedulerGapsMs: number[];
  statusMs?: number;
  reportMs?: number;
  completeMs?: number;
  peakRssBytes?: number;
  /** First mailbox started to every mailbox Synced, without the time between kill and resume. */
  copySeconds?: number;
  syncedAtKill?: number;
  lost?: number;
  duplicated?: number;
  unexpected?: number;
  verifyProblems: string[];
  wallSeconds: number;
}

export interface ScaleRun {
  mailboxes: number;
  messages: number;
  bytes: number;
  large: number;
  layouts: LayoutResult[];
  ui: UiFrames | {notMeasured: string};
}

type Log = (line: string) => void;

// --- cleanup of whatever a run leaves when the bench dies ----------------------------------

const children = new Set<ChildProcess>();

export function killScaleChildren(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

let exitHookInstalled = false;

function track(child: ChildProcess): ChildProcess {
  // bench/run.ts's signal handlers end with process.exit(), which runs 'exit' listeners only.
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killScaleChildren);
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

// --- the loopback relay in front of the target ----------------------------------------------

interface Tap {
  port: number;
  /** Resolves with the epoch ms of the next APPEND once armed. */
  arm(): Promise<{append: Promise<number>}>;
  stop(): void;
}

async function startTap(upstreamPort: number): Promise<Tap> {
  const child = track(spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(import.meta.dirname, 'append-tap.ts'), '--upstream-port', String(upstreamPort)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  }));
  const waiters: Array<{pattern: RegExp; resolve: (match: RegExpExecArray) => void}> = [];
  createInterface({input: child.stdout!}).on('line', (line) => {
    const index = waiters.findIndex((w) => w.pattern.test(line));
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(/^(\w+)(?: (\d+))?/.exec(line)!);
  });
  const next = (pattern: RegExp) => new Promise<RegExpExecArray>((resolve) => waiters.push({pattern, resolve}));
  const port = Number((await next(/^LISTENING /))[2]);
  return {
    port,
    async arm() {
      const armed = next(/^ARMED/);
      const append = next(/^APPEND /).then((m) => Number(m[2]));
      child.stdin!.write('arm\n');
      await armed;
      return {append};
    },
    stop() {
      child.stdin!.end();
      child.kill('SIGTERM');
    },
  };
}

// --- mailferry as a subprocess ---------------------------------------------------------------

interface BatchProcess {
  child: ChildProcess;
  startedAt: number;
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null; endedAt: number; peakRssKiB: number; writeBytes: number; tail: string}>;
}

function spawnBatch(args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void, timeoutMs: number): BatchProcess {
  const startedAt = Date.now();
  const child = track(spawn(process.execPath, [MAILFERRY_BIN, 'batch', ...args], {env, stdio: ['ignore', 'pipe', 'pipe']}));
  const sampler = sampleProcess(child.pid!);
  let tail = '';
  const keep = (text: string) => {
    tail = (tail + text).slice(-4096);
  };
  createInterface({input: child.stdout!}).on('line', (line) => {
    keep(`${line}\n`);
    onLine(line);
  });
  child.stderr!.on('data', (chunk: Buffer) => keep(chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<Awaited<BatchProcess['exited']>>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const sample = sampler.stop();
      resolve({code, signal, endedAt: Date.now(), peakRssKiB: sample.peakRssKiB, writeBytes: sample.writeBytes, tail});
    });
  });
  return {child, startedAt, exited};
}

async function timedCommand(args: string[], env: NodeJS.ProcessEnv, label: string): Promise<number> {
  const started = performance.now();
  try {
    await execFileAsync(process.execPath, [MAILFERRY_BIN, 'batch', ...args], {env, timeout: 600_000, maxBuffer: 256 * 1024 * 1024});
  } catch (error) {
    const e = error as {stderr?: string; stdout?: string; message: string};
    throw new Error(`mailferry batch ${label} failed: ${(e.stderr || e.stdout || e.message).trim().slice(-2000)}`);
  }
  return performance.now() - started;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

// --- servers ---------------------------------------------------------------------------------

/** Dovecot settings for thousands of logins in a row and 20 mailboxes at once. */
const SCALE_DOVECOT_CONFIG = [
  // Mail is thrown away after the run; the auth cache spares re-reading 10,000 passwd files twice.
  'auth_cache_size = 16M',
  'auth_cache_ttl = 1 hour',
].join('\n');

async function seedSource(total: number, parentDir: string, log: Log): Promise<{source: DovecotServer; messages: number; bytes: number}> {
  const source = await startDovecot({role: 'source', parentDir, extraConfig: SCALE_DOVECOT_CONFIG});
  const started = performance.now();
  const password = `bench-${randomBytes(12).toString('hex')}`;
  let messages = 0;
  let bytes = 0;
  const owner = statSync(join(source.dir, 'mail'));
  for (let index = 0; index < total; index++) {
    const planned = planMailbox(index, total);
    await source.addUser(planned.login, password);
    const seeded = seedMailbox(source.mailDir(planned.login), planned, owner.uid, owner.gid);
    messages += seeded.messages;
    bytes += seeded.bytes;
  }
  log(`    seeded ${total} source mailboxes (${messages} messages, ${(bytes / 1e6).toFixed(0)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return {source, messages, bytes};
}

async function startTarget(total: number, parentDir: string): Promise<DovecotServer> {
  const target = await startDovecot({role: 'target', parentDir, extraConfig: SCALE_DOVECOT_CONFIG});
  const password = `bench-${randomBytes(12).toString('hex')}`;
  for (let index = 0; index < total; index++) await target.addUser(planMailbox(index, total).login, password);
  return target;
}

// --- one layout ------------------------------------------------------------------------------

function verifyTarget(target: DovecotServer, plans: PlannedMailbox[], result: LayoutResult): void {
  let lost = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (const planned of plans) {
    const check = checkMailbox(planned, readMaildir(target.mailDir(planned.login)));
    lost += check.lost;
    duplicated += check.duplicated;
    unexpected += check.unexpected;
    if (result.verifyProblems.length < 20) result.verifyProblems.push(...check.problems);
  }
  Object.assign(result, {lost, duplicated, unexpected});
}

async function runLayout(layout: LayoutName, total: number, workDir: string, parentDir: string, log: Log): Promise<{result: LayoutResult; messages: number; bytes: number}> {
  const wallStarted = performance.now();
  const result: LayoutResult = {layout, schedulerGapsMs: [], verifyProblems: [], wallSeconds: 0};
  log(`- scale ${total}, state layout ${layout === 'single' ? 'single (today\'s single file, MAILFERRY_STATE_LAYOUT=single)' : 'default (the new layout)'} ...`);
  const {source, messages, bytes} = await seedSource(total, parentDir, log);
  let target: DovecotServer | undefined;
  let tap: Tap | undefined;
  try {
    target = await startTarget(total, parentDir);
    tap = await startTap(target.imapPort);
    const dir = join(workDir, layout);
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir, {recursive: true, mode: 0o700});
    const statsFile = join(dir, 'state-writes.jsonl');
    const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', [TARGET_PASSWORD_ENV]: target.masterPassword, MAILFERRY_STATE_STATS: statsFile};
    delete env['MAILFERRY_STATE_LAYOUT'];
    if (layout === 'single') env['MAILFERRY_STATE_LAYOUT'] = 'single';
    const plans = Array.from({length: total}, (_, index) => planMailbox(index, total));

    const csv = join(dir, 'scale.csv');
    writeFileSync(csv, ['EmailAddress,UserName,Password', ...plans.map((p) => [p.login, `${p.login}*${source.masterUser}`, source.masterPassword].map(csvField).join(','))].join('\n') + '\n', {mode: 0o600});
    const stateFlag = ['--state-dir', stateDir];
    await timedCommand([
      'create', BATCH, '--csv', csv, ...stateFlag,
      '--source-host', source.host, '--source-port', String(source.imapPort), '--source-security', 'none', '--source-auth', 'csv',
      '--target-host', target.host, '--target-port', String(tap.port), '--target-security', 'none',
      '--target-auth', 'login-pattern', '--target-login-pattern', `{email}*${target.masterUser}`, '--target-admin-password-env', TARGET_PASSWORD_ENV,
      '--max-concurrent', String(SCALE_CONCURRENCY),
    ], env, 'create');

    const timeoutMs = 600_000 + total * 500;
    // 1. Start, and SIGKILL once a third are Synced.
    const killAt = Math.max(1, Math.floor(total / 3));
    let synced = 0;
    let killedAt: number | undefined;
    const first = spawnBatch(['start', BATCH, '--json', ...stateFlag], env, (line) => {
      if (killedAt !== undefined || !line.includes('"to":"Synced"')) return;
      if (++synced >= killAt) {
        killedAt = Date.now();
        first.child.kill('SIGKILL');
      }
    }, timeoutMs);
    const firstEnd = await first.exited;
    const killed = killedAt as number | undefined;
    if (killed === undefined) throw new Error(`the first batch start ended (${firstEnd.code ?? firstEnd.signal}) before ${killAt} mailboxes were Synced: ${firstEnd.tail.slice(-1500)}`);
    result.syncedAtKill = synced;
    log(`    killed (SIGKILL) with ${synced} of ${total} Synced after ${((killed - first.startedAt) / 1000).toFixed(1)} s`);

    // 2. Resume: process start -> the first APPEND the target sees.
    const {append: firstAppend} = await tap.arm();
    const second = spawnBatch(['start', BATCH, '--json', ...stateFlag], env, () => {}, timeoutMs);
    const appendOrExit = await Promise.race([firstAppend, second.exited.then(() => undefined)]);
    if (appendOrExit !== undefined) result.resumeToFirstAppendMs = appendOrExit - second.startedAt;
    log(`    resume: first APPEND on the target ${result.resumeToFirstAppendMs ?? '(none)'} ms after the process start`);
    const secondEnd = await second.exited;
    log(`    resumed: ended ${secondEnd.code ?? secondEnd.signal} after ${((secondEnd.endedAt - second.startedAt) / 1000).toFixed(1)} s`);
    if (secondEnd.code !== 0) throw new Error(`the resumed batch start ended ${secondEnd.code ?? secondEnd.signal}: ${secondEnd.tail.slice(-1500)}`);
    result.peakRssBytes = Math.max(firstEnd.peakRssKiB, secondEnd.peakRssKiB) * 1024;
    const lifeSeconds = (killed - first.startedAt + secondEnd.endedAt - second.startedAt) / 1000;
    result.procWriteBytesPerSecond = (firstEnd.writeBytes + secondEnd.writeBytes) / lifeSeconds;

    // 3. The log's pass starts and ends: the copy windows and the scheduler's gaps, per process.
    const logFile = join(stateDir, 'logs', `${BATCH}.log`);
    const events = existsSync(logFile) ? passEvents(readFileSync(logFile, 'utf8')) : [];
    const before = events.filter((e) => e.at <= killed);
    const after = events.filter((e) => e.at >= second.startedAt);
    result.schedulerGapsMs = [...schedulerGaps(before), ...schedulerGaps(after)];
    const firstStart = (list: typeof events) => list.find((e) => e.kind === 'start')?.at;
    const lastEnd = (list: typeof events) => list.filter((e) => e.kind === 'end').pop()?.at;
    const windows: Array<[number, number]> = [];
    const w1 = firstStart(before);
    const w2 = firstStart(after);
    const w2end = lastEnd(after);
    if (w1 !== undefined) windows.push([w1, killed]);
    if (w2 !== undefined && w2end !== undefined) windows.push([w2, w2end]);
    result.copySeconds = windows.reduce((sum, [a, b]) => sum + (b - a), 0) / 1000;
    if (!existsSync(statsFile)) result.writesNotMeasured = 'no MAILFERRY_STATE_STATS lines (this build has no state-write stats hook)';
    else {
      const {writes, malformed} = parseStateWrites(readFileSync(statsFile, 'utf8'));
      result.writes = summariseWrites(writes, windows);
      const layouts = [...new Set(writes.map((w) => w.layout))].join(', ');
      log(`    state writes while copying: ${result.writes.count} (layout ${layouts}${malformed ? `, ${malformed} malformed lines` : ''}), median ${result.writes.medianMs.toFixed(1)} ms, p99 ${result.writes.p99Ms.toFixed(1)} ms, ${(result.writes.bytesPerSecond / 1e6).toFixed(2)} MB/s`);
    }

    // 4. status and report at N mailboxes, then complete.
    const statusTimes: number[] = [];
    const reportTimes: number[] = [];
    const reportDir = join(dir, 'report');
    for (let round = 0; round < TIMED_ROUNDS; round++) statusTimes.push(await timedCommand(['status', BATCH, ...stateFlag], env, 'status'));
    for (let round = 0; round < TIMED_ROUNDS; round++) reportTimes.push(await timedCommand(['report', BATCH, '--out', reportDir, ...stateFlag], env, 'report'));
    result.statusMs = median(statusTimes);
    result.reportMs = median(reportTimes);
    result.completeMs = await timedCommand(['complete', BATCH, ...stateFlag], env, 'complete');
    log(`    batch status ${result.statusMs.toFixed(0)} ms, batch report ${result.reportMs.toFixed(0)} ms (medians of ${TIMED_ROUNDS}), batch complete ${(result.completeMs / 1000).toFixed(1)} s`);

    // 5. Every mailbox, every message, exactly once.
    verifyTarget(target, plans, result);
    log(`    verified ${total} mailboxes: ${result.lost} lost, ${result.duplicated} duplicated, ${result.unexpected} unexpected`);
  } catch (error) {
    result.failure = error instanceof Error ? error.message : String(error);
    log(`    FAILED: ${result.failure}`);
    killScaleChildren();
  } finally {
    tap?.stop();
    await target?.stop();
    await source.stop();
    result.wallSeconds = (performance.now() - wallStarted) / 1000;
  }
  return {result, messages, bytes};
}

// --- the UI frame row --------------------------------------------------------------------------

async function measureUi(total: number, log: Log): Promise<UiFrames | {notMeasured: string}> {
  log(`- UI frames with ${total} rows (bench/ui-frames.tsx --json) ...`);
  try {
    const {stdout} = await execFileAsync(process.execPath, ['--import', import.meta.resolve('tsx'), join(BENCH_DIR, 'ui-frames.tsx'), '--mailboxes', String(total), '--json'], {
      timeout: 900_000, maxBuffer: 64 * 1024 * 1024,
    });
    return parseUiFrames(stdout);
  } catch (error) {
    const e = error as {stderr?: string; message: string; code?: number | string};
    const text = `${e.stderr ?? ''}\n${e.message}`;
    if (/Unknown option '--json'/.test(text)) return {notMeasured: 'bench/ui-frames.tsx in this build has no --json option'};
    const why = text.trim().split('\n').find((line) => /Error:/.test(line)) ?? e.message.split('\n')[0]!;
    return {notMeasured: `bench/ui-frames.tsx --json failed (${e.code ?? 'error'}): ${why.trim().slice(0, 200)}`};
  }
}

export async function runScale(total: number, workDir: string, parentDir: string, log: Log, layouts: readonly LayoutName[] = ['single', 'default']): Promise<ScaleRun> {
  const plans = Array.from({length: total}, (_, index) => planMailbox(index, total));
  const run: ScaleRun = {mailboxes: total, messages: 0, bytes: 0, large: plans.filter((p) => p.large).length, layouts: [], ui: {notMeasured: 'not run'}};
  mkdirSync(workDir, {recursive: true, mode: 0o700});
  for (const layout of layouts) {
    const {result, messages, bytes} = await runLayout(layout, total, workDir, parentDir, log);
    Object.assign(run, {messages, bytes});
    run.layouts.push(result);
  }
  run.ui = await measureUi(total, log);
  return run;
}

