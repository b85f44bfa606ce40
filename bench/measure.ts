// Wall time, peak RSS and CPU seconds of one child process, with a hard timeout.
// GNU time (/usr/bin/time, Debian package `time`, installed by bench/bootstrap.sh) reports the
// child's own rusage when it is reaped, which is exact where polling /proc would race the exit.
// Its ru_maxrss is the peak of the largest process in the tree; every tool we measure does its
// work in one process, so that is the tool's peak.

import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';

export const GNU_TIME = '/usr/bin/time';

export interface Measured {
  label: string;
  wallSeconds: number;
  peakRssBytes: number;
  cpuSeconds: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Last few KB of stdout and stderr, for error messages. */
  outputTail: string;
}

export interface MeasureOptions {
  label: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with each chunk of the child's stdout/stderr (e.g. to watch progress). */
  onOutput?: (text: string) => void;
}

const TAIL_BYTES = 8192;
const running = new Map<number, string>();

/** Kills every measured child still running (Ctrl-C, or the bench failing half-way). */
export function killAllMeasured(): void {
  for (const [pid, statsDir] of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(statsDir, {recursive: true, force: true});
  }
  running.clear();
}

export function runMeasured(command: string, args: string[], options: MeasureOptions): Promise<Measured> {
  const statsDir = mkdtempSync(join(tmpdir(), 'mailferry-bench-time-'));
  const statsFile = join(statsDir, 'rusage');
  const started = performance.now();
  // Own process group, so a timeout kills the tool and anything it started, not just `time`.
  const child = spawn(GNU_TIME, ['-o', statsFile, '-f', '%M %U %S', '--', command, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  if (child.pid) running.set(child.pid, statsDir);
  let tail = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    options.onOutput?.(text);
    tail = (tail + text).slice(-TAIL_BYTES);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }, options.timeoutMs);

  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      rmSync(statsDir, {recursive: true, force: true});
      reject(new Error(`${options.label}: could not start ${GNU_TIME} (${error.message}); run bench/bootstrap.sh`));
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      if (child.pid) running.delete(child.pid);
      const wallSeconds = (performance.now() - started) / 1000;
      let peakRssBytes = 0;
      let cpuSeconds = 0;
      try {
        // When the tool dies of a signal, time writes "Command terminated by signal N" first.
        const lines = readFileSync(statsFile, 'utf8').trim().split('\n');
        const [maxRssKb, user, system] = lines[lines.length - 1]!.trim().split(/\s+/).map(Number);
        peakRssBytes = (maxRssKb ?? 0) * 1024;
        cpuSeconds = (user ?? 0) + (system ?? 0);
      } catch {
        // time itself was killed (timeout): no rusage, the run is reported as failed anyway.
      }
      rmSync(statsDir, {recursive: true, force: true});
      resolve({label: options.label, wallSeconds, peakRssBytes, cpuSeconds, exitCode, signal, timedOut, outputTail: tail});
    });
  });
}

/** Describes a failed run in words for the table's notes and the console. */
export function describeFailure(measured: Measured): string | undefined {
  if (measured.timedOut) return `${measured.label}: timed out after ${measured.wallSeconds.toFixed(0)} s and was killed`;
  if (measured.exitCode !== 0) {
    const why = measured.signal ? `signal ${measured.signal}` : `exit code ${measured.exitCode}`;
    const lastLines = measured.outputTail.trim().split('\n').slice(-6).join('\n    ');
    return `${measured.label}: ${why}\n    ${lastLines}`;
  }
  return undefined;
}

/** Several measured children count as one run. The caller gives the wall time (first start to
 *  last end). CPU is summed. Peak RSS is the sum of the `concurrency` largest peaks: at most that
 *  many ran at once, so this bounds the simultaneous peak from above (concurrency 1 = one after
 *  another = the largest single peak). */
export function combineMeasured(label: string, results: Measured[], wallSeconds: number, concurrency: number): Measured {
  const failed = results.find((r) => r.exitCode !== 0 || r.timedOut);
  const peaks = results.map((r) => r.peakRssBytes).sort((a, b) => b - a);
  return {
    label,
    wallSeconds,
    peakRssBytes: peaks.slice(0, Math.max(1, concurrency)).reduce((sum, p) => sum + p, 0),
    cpuSeconds: results.reduce((sum, r) => sum + r.cpuSeconds, 0),
    exitCode: failed ? failed.exitCode : 0,
    signal: failed?.signal ?? null,
    timedOut: results.some((r) => r.timedOut),
    outputTail: failed?.outputTail ?? '',
  };
}

/** The run of median wall time, standing for several runs of the same thing; a failed run, if
 *  any, stands instead, so a failure cannot hide behind the median. */
export function medianMeasured(results: Measured[]): Measured {
  const failed = results.find((r) => r.exitCode !== 0 || r.timedOut);
  if (failed) return failed;
  const sorted = [...results].sort((a, b) => a.wallSeconds - b.wallSeconds);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
