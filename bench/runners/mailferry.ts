// mailferry, through its real headless command (`node bin/mailferry.js batch ...`, what
// `npx mailferry` runs): one batch per scenario, created from a CSV whose UserName is the Dovecot
// master login `user*admin`, target via the login pattern `{email}*admin`. Sequential mode is
// --max-concurrent 1, parallel mode --max-concurrent N, both one process. The no-change pass is
// timed two ways: `batch sync-now` with no batch running (a new process: Node's start and module
// loading included), and the way mailferry runs incremental passes, inside the `batch start
// --follow` process that keeps a batch in sync, asked for a pass by the same command file that
// `batch sync-now` from another shell writes.

import {execFile} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {performance} from 'node:perf_hooks';
import {promisify} from 'node:util';
import {BatchStore} from '../../source/store/batch-store.js';
import {postCommand} from '../../source/store/command-inbox.js';
import type {BatchState} from '../../source/store/state-schema.js';
import {spawnMailferry} from '../../test/helpers/mailferry-process.js';
import {runMeasured, type Measured} from '../measure.js';
import {processCpu} from '../process-cpu.js';
import type {RunSpec, ToolRunner} from './tool-runner.js';

const execFileAsync = promisify(execFile);

const REPO = resolve(import.meta.dirname, '..', '..');
export const MAILFERRY_BIN = join(REPO, 'bin', 'mailferry.js');
/** What bin/mailferry.js loads: the build `npm run bench` made first. */
const COMPILED_CLI = join(REPO, 'dist', 'cli.js');
const BATCH = 'bench';
const TARGET_PASSWORD_ENV = 'MAILFERRY_BENCH_TARGET_PASSWORD';

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function environment(spec: RunSpec): NodeJS.ProcessEnv {
  return {...process.env, [TARGET_PASSWORD_ENV]: spec.targetServer.masterPassword, NO_COLOR: '1'};
}

function stateDir(spec: RunSpec): string {
  return join(spec.workDir, 'mailferry-state');
}

async function createBatch(spec: RunSpec): Promise<void> {
  const s = spec.sourceServer;
  const csv = join(spec.workDir, 'mailferry.csv');
  const rows = spec.mailboxes.map((m) => [m.login, `${m.login}${s.masterSeparator}${s.masterUser}`, s.masterPassword].map(csvField).join(','));
  // The source password lives only in this 0600 file (as an admin's migration CSV would).
  writeFileSync(csv, ['EmailAddress,UserName,Password', ...rows].join('\n') + '\n', {mode: 0o600});
  const t = spec.targetServer;
  const args = [
    MAILFERRY_BIN, 'batch', 'create', BATCH, '--csv', csv, '--state-dir', stateDir(spec),
    '--source-host', spec.source.host, '--source-port', String(spec.source.port), '--source-security', 'none',
    '--target-host', spec.target.host, '--target-port', String(spec.target.port), '--target-security', 'none',
    '--source-auth', 'csv',
    '--target-auth', 'login-pattern', '--target-login-pattern', `{email}${t.masterSeparator}${t.masterUser}`,
    '--target-admin-password-env', TARGET_PASSWORD_ENV,
    '--max-concurrent', String(spec.mode === 'parallel' ? spec.concurrency : 1),
  ];
  try {
    await execFileAsync(process.execPath, args, {env: environment(spec), timeout: 60_000});
  } catch (error) {
    const e = error as {stderr?: string; stdout?: string; message: string};
    throw new Error(`mailferry batch create failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

function run(spec: RunSpec, action: 'start' | 'sync-now', label: string): Promise<Measured> {
  const profile = spec.profileDir ? ['--cpu-prof', '--cpu-prof-dir', spec.profileDir, '--cpu-prof-name', `${action}.cpuprofile`] : [];
  return runMeasured(process.execPath, [...profile, MAILFERRY_BIN, 'batch', action, BATCH, '--state-dir', stateDir(spec)], {
    label,
    timeoutMs: spec.timeoutMs,
    env: environment(spec),
  });
}

/** CPU seconds of the running mailferry process itself. */
function processCpuSeconds(pid: number): number {
  const cpu = processCpu(pid);
  return cpu.user + cpu.system;
}

const ROUND_TIMEOUT_MS = 60_000;

/**
 * Starts `batch start --follow` on the batch the full pass left (every mailbox Synced), then asks
 * it `rounds` times for a pass. Each pass is timed from writing the sync-now command to the state
 * file on disk showing every mailbox Synced again with a newer lastSyncedAt (what `batch status`
 * reads), so the state write is inside the time, as mbsync's state files are inside its run.
 */
async function noChangeInRunningProcess(spec: RunSpec, rounds: number): Promise<Measured[]> {
  const dir = stateDir(spec);
  const stateFile = BatchStore.fileFor(dir, BATCH);
  const label = 'mailferry (no change, running batch)';
  const running = spawnMailferry(['batch', 'start', BATCH, '--follow', '--state-dir', dir], {
    compiledCli: COMPILED_CLI,
    env: {[TARGET_PASSWORD_ENV]: spec.targetServer.masterPassword},
    timeoutMs: (rounds + 1) * ROUND_TIMEOUT_MS,
  });
  const results: Measured[] = [];
  try {
    await running.waitForLine(/following batch/, ROUND_TIMEOUT_MS);
    // Let start-up settle (first state write, the command directory watch) before timing.
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
    const expected = spec.mailboxes.length;
    for (let round = 0; round < rounds; round++) {
      const mark = running.stdout.length;
      const cpuBefore = processCpuSeconds(running.pid);
      const postedAt = Date.now();
      const started = performance.now();
      await postCommand(stateFile, {action: 'sync-now'});
      const ended = (stdout: string) => (stdout.slice(mark).match(/ IncrementalSyncing -> (Synced|Failed)/g) ?? []).length >= expected;
      await running.waitForOutput('the end of every pass', ended, ROUND_TIMEOUT_MS);
      if (/ IncrementalSyncing -> Failed/.test(running.stdout.slice(mark))) throw new Error(`${label}: a pass failed`);
      for (;;) {
        const state = JSON.parse(readFileSync(stateFile, 'utf8')) as BatchState;
        const mailboxes = Object.values(state.mailboxes);
        if (mailboxes.every((m) => m.status === 'Synced' && Date.parse(m.stats.lastSyncedAt ?? '') >= postedAt)) break;
        if (performance.now() - started > ROUND_TIMEOUT_MS) throw new Error(`${label}: the state file did not record the pass`);
        await new Promise((resolveWait) => setTimeout(resolveWait, 1));
      }
      const wallSeconds = (performance.now() - started) / 1000;
      const passes = running.stdout.slice(mark).match(/ incremental pass done: .*/g) ?? [];
      const changed = passes.filter((line) => !/: 0 copied, 0 flag updates,/.test(line));
      if (passes.length !== expected || changed.length > 0) throw new Error(`${label}: expected ${expected} passes that change nothing, got:\n${passes.join('\n')}`);
      results.push({
        label, wallSeconds, peakRssBytes: (running.peakRssKiB() ?? 0) * 1024, cpuSeconds: processCpuSeconds(running.pid) - cpuBefore,
        exitCode: 0, signal: null, timedOut: false, outputTail: '',
      });
      await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    }
  } catch (error) {
    results.push({
      label, wallSeconds: 0, peakRssBytes: 0, cpuSeconds: 0, exitCode: 1, signal: null, timedOut: false,
      outputTail: `${error instanceof Error ? error.message : String(error)}\n${(running.stdout + running.stderr).slice(-4096)}`,
    });
  } finally {
    running.kill('SIGTERM');
    const killer = setTimeout(() => running.kill('SIGKILL'), 30_000);
    await running.exited;
    clearTimeout(killer);
  }
  return results;
}

export const mailferryRunner: ToolRunner = {
  name: 'mailferry',
  async version() {
    const {stdout} = await execFileAsync(process.execPath, [MAILFERRY_BIN, '--version']);
    let sha = 'unknown';
    try {
      sha = (await execFileAsync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])).stdout.trim();
      const dirty = (await execFileAsync('git', ['-C', REPO, 'status', '--porcelain', '--', 'source'])).stdout.trim();
      if (dirty) sha += ' + uncommitted changes in source/';
    } catch {
      // not a git checkout
    }
    return `mailferry ${stdout.trim()} (git ${sha})`;
  },
  async fullSync(spec) {
    await createBatch(spec);
    return run(spec, 'start', 'mailferry');
  },
  noChangeSync: (spec) => run(spec, 'sync-now', 'mailferry (no change)'),
  noChangeInRunningProcess,
};
