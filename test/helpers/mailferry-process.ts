// Runs the mailferry CLI as a child process, the way an admin's shell or cron does, so tests can
// kill it with SIGKILL, signal it, run a second command beside it and read its exit code.
// The TypeScript runs through tsx, so the tests always exercise the current source (no stale dist/).

import {execFile, spawn, type ChildProcess} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {copyFile, mkdtemp, rm, symlink} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(REPO, 'source', 'cli.tsx');

export interface MailferryResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface MailferryOptions {
  /** Added to the environment (e.g. the target admin password variable). */
  env?: Record<string, string>;
  /** The child is killed with SIGKILL and the promise rejects after this long (default 60 s). */
  timeoutMs?: number;
  /** A compiled cli.js to run instead of the TypeScript source (see buildMailferry). */
  compiledCli?: string;
}

// Children a test forgot (or never reached) to reap must not outlive the test process.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export class MailferryProcess {
  readonly child: ChildProcess;
  readonly args: readonly string[];
  stdout = '';
  stderr = '';
  /** Settles when the child has exited (never rejects; a timeout shows as signal SIGKILL). */
  readonly exited: Promise<MailferryResult>;
  private readonly outputWaiters = new Set<() => void>();
  private timedOut = false;

  constructor(args: readonly string[], options: MailferryOptions = {}) {
    installExitHook();
    this.args = args;
    const entry = options.compiledCli ? [options.compiledCli] : ['--import', 'tsx', CLI];
    this.child = spawn(process.execPath, [...entry, ...args], {
      cwd: REPO,
      env: {...process.env, NO_COLOR: '1', ...options.env},
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this.child);
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        running.delete(this.child);
        this.notify();
        resolve({code, signal, stdout: this.stdout, stderr: this.stderr});
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`mailferry ${this.args.join(' ')}: the process did not start`);
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  get wasTimedOut(): boolean {
    return this.timedOut;
  }

  /** Resolves with the first stdout line matching `pattern`; rejects when the child exits first. */
  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    let line: string | undefined;
    await this.waitForOutput(`a line matching ${pattern}`, (stdout) => (line = stdout.split('\n').find((candidate) => pattern.test(candidate))) !== undefined, timeoutMs);
    return line!;
  }

  /** Resolves once `check(stdout)` holds; rejects when the child exits first or after timeoutMs. */
  async waitForOutput(what: string, check: (stdout: string) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (check(this.stdout)) return;
      if (this.hasExited) {
        throw new Error(`mailferry ${this.args.join(' ')} exited before printing ${what}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`mailferry ${this.args.join(' ')} printed no ${what} within ${timeoutMs} ms\n--- stdout ---\n${this.stdout}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 200));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.outputWaiters.add(done);
      });
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.hasExited) this.child.kill(signal);
  }

  /** Peak resident set size so far in KiB (VmHWM from /proc), or undefined once the process is gone. */
  peakRssKiB(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  private notify(): void {
    for (const waiter of [...this.outputWaiters]) {
      this.outputWaiters.delete(waiter);
      waiter();
    }
  }
}

/** Starts `mailferry ARGS...` and returns at once. */
export function spawnMailferry(args: readonly string[], options: MailferryOptions = {}): MailferryProcess {
  return new MailferryProcess(args, options);
}

/** Runs `mailferry ARGS...` to the end. */
export async function runMailferry(args: readonly string[], options: MailferryOptions = {}): Promise<MailferryResult> {
  const child = spawnMailferry(args, options);
  const result = await child.exited;
  if (child.wasTimedOut) {
    throw new Error(`mailferry ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
  return result;
}

/** A result as text for assertion messages. */
export function describeResult(result: MailferryResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

export interface CompiledMailferry {
  /** Pass as MailferryOptions.compiledCli. */
  cli: string;
  /** What tsc reported (type errors in files being edited do not stop the emit). */
  diagnostics: string;
  remove(): Promise<void>;
}

/**
 * Compiles source/ with tsc into a private temp directory (never the shared dist/, which other
 * people build too). For measurements where the tsx loader's own memory would blur the figure.
 */
export async function buildMailferry(): Promise<CompiledMailferry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-build-'));
  // Imports of npm packages resolve through node_modules next to the compiled files.
  await symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  await copyFile(path.join(REPO, 'package.json'), path.join(dir, 'package.json'));
  let diagnostics = '';
  try {
    await promisify(execFile)(
      process.execPath,
      [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(REPO, 'tsconfig.json'), '--outDir', path.join(dir, 'dist'), '--sourceMap', 'false'],
      {cwd: REPO, maxBuffer: 16 * 1024 * 1024},
    );
  } catch (error) {
    diagnostics = String((error as {stdout?: string}).stdout ?? error);
  }
  const cli = path.join(dir, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    await rm(dir, {recursive: true, force: true});
    throw new Error(`tsc emitted no cli.js:\n${diagnostics}`);
  }
  return {cli, diagnostics, remove: () => rm(dir, {recursive: true, force: true})};
}
