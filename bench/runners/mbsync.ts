// mbsync (isync) as the reference IMAP-to-IMAP copier: one Channel per mailbox, Far = source,
// Near = target, `Sync Pull` (one way), `Create Near` for missing folders, `CopyArrivalDate yes`
// so the internal date is kept like mailferry keeps it. Both sides log in as the user through the
// Dovecot master user. Sequential mode is one mbsync running every channel in turn (`-a`);
// parallel mode is one mbsync process per mailbox, N at a time.
// isync 1.4 adds an X-TUID header to each copy and carries only system flags (and $Forwarded),
// not keywords: the spot check tolerates exactly those two differences.

import {execFile} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {promisify} from 'node:util';
import {combineMeasured, runMeasured, type Measured} from '../measure.js';
import {eachLimited, type RunSpec, type ToolRunner} from './tool-runner.js';

const execFileAsync = promisify(execFile);

function channelName(index: number): string {
  return `mb${String(index + 1).padStart(3, '0')}`;
}

function quoted(value: string): string {
  if (/["\\\n]/.test(value)) throw new Error(`mbsync config: cannot quote ${JSON.stringify(value)}`);
  return `"${value}"`;
}

function writeConfig(spec: RunSpec): string {
  const stateDir = join(spec.workDir, 'mbsync-state');
  mkdirSync(stateDir, {recursive: true});
  const account = (name: string, endpoint: RunSpec['source'], user: string, password: string) =>
    [
      `IMAPAccount ${name}`,
      `Host ${endpoint.host}`,
      `Port ${endpoint.port}`,
      `User ${quoted(user)}`,
      `Pass ${quoted(password)}`,
      'SSLType None',
      'AuthMechs LOGIN',
      // Large messages through the delay proxy take a while; the bench has its own overall timeout.
      'Timeout 120',
      '',
      `IMAPStore ${name}`,
      `Account ${name}`,
      '',
    ].join('\n');
  const sections = spec.mailboxes.map((mailbox, i) => {
    const channel = channelName(i);
    const {sourceServer: s, targetServer: t} = spec;
    return [
      account(`${channel}-far`, spec.source, `${mailbox.login}${s.masterSeparator}${s.masterUser}`, s.masterPassword),
      account(`${channel}-near`, spec.target, `${mailbox.login}${t.masterSeparator}${t.masterUser}`, t.masterPassword),
      `Channel ${channel}`,
      `Far :${channel}-far:`,
      `Near :${channel}-near:`,
      'Patterns *',
      'Create Near',
      'Sync Pull',
      'Remove None',
      'Expunge None',
      'CopyArrivalDate yes',
      `SyncState ${join(stateDir, channel)}/`,
      '',
    ].join('\n');
  });
  const path = join(spec.workDir, 'mbsyncrc');
  // The passwords live only in this 0600 file, never on a command line.
  writeFileSync(path, sections.join('\n'), {mode: 0o600});
  return path;
}

async function run(spec: RunSpec, label: string): Promise<Measured> {
  const config = writeConfig(spec);
  const started = performance.now();
  const options = (what: string) => ({label: `${label} ${what}`, timeoutMs: spec.timeoutMs});
  if (spec.mode === 'sequential') {
    return runMeasured('mbsync', ['-q', '-c', config, '-a'], options('(all channels)'));
  }
  const results = await eachLimited(spec.mailboxes, spec.concurrency, (mailbox, i) =>
    runMeasured('mbsync', ['-q', '-c', config, channelName(i)], options(mailbox.login)),
  );
  return combineMeasured(label, results, (performance.now() - started) / 1000, spec.concurrency);
}

export const mbsyncRunner: ToolRunner = {
  name: 'mbsync',
  async version() {
    const {stdout} = await execFileAsync('mbsync', ['--version']);
    return stdout.trim();
  },
  deviations: {addedHeaders: ['X-TUID'], dropsKeywords: true},
  fullSync: (spec) => run(spec, 'mbsync'),
  noChangeSync: (spec) => run(spec, 'mbsync (no change)'),
};
