// mailferry, through its real headless command (`node bin/mailferry.js batch ...`, what
// `npx mailferry` runs): one batch per scenario, created from a CSV whose UserName is the Dovecot
// master login `user*admin`, target via the login pattern `{email}*admin`. Sequential mode is
// --max-concurrent 1, parallel mode --max-concurrent N, both one process. The no-change pass is
// `batch sync-now`, the incremental pass an admin runs before completing a batch.

import {execFile} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {promisify} from 'node:util';
import {runMeasured, type Measured} from '../measure.js';
import type {RunSpec, ToolRunner} from './tool-runner.js';

const execFileAsync = promisify(execFile);

const REPO = resolve(import.meta.dirname, '..', '..');
export const MAILFERRY_BIN = join(REPO, 'bin', 'mailferry.js');
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
};
