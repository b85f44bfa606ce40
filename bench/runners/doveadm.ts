// Dovecot's own migration path: `doveadm backup -R -u USER imapc:` run against the target's
// configuration, pulling from the source over IMAP with the imapc backend (the method Dovecot
// documents for migrating from another IMAP server). The imapc settings, including the source's
// master password, go into a 0600 config file that includes the target's dovecot.conf, never on
// the command line. Settings follow Dovecot's migration guide (rfc822.size and fetch-headers,
// prefetch of 20); mail_fsync stays at its default like the target server's own.
//
// doveadm writes the target's Maildir directly instead of speaking IMAP to it, so a delay in
// front of the target does not apply to it, and its CPU includes the target's storage work.

import {execFile} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {promisify} from 'node:util';
import {combineMeasured, runMeasured, type Measured} from '../measure.js';
import {eachLimited, type RunSpec, type ToolRunner} from './tool-runner.js';

const execFileAsync = promisify(execFile);

function writeConfig(spec: RunSpec): string {
  const path = join(spec.workDir, 'doveadm-imapc.conf');
  const s = spec.sourceServer;
  writeFileSync(
    path,
    [
      `!include ${join(spec.targetServer.dir, 'dovecot.conf')}`,
      `imapc_host = ${spec.source.host}`,
      `imapc_port = ${spec.source.port}`,
      'imapc_ssl = no',
      'imapc_user = %u',
      `imapc_master_user = ${s.masterUser}`,
      `imapc_password = ${s.masterPassword}`,
      'imapc_features = rfc822.size fetch-headers',
      'mail_prefetch_count = 20',
      '',
    ].join('\n'),
    {mode: 0o600},
  );
  return path;
}

async function run(spec: RunSpec, label: string): Promise<Measured> {
  const config = writeConfig(spec);
  const started = performance.now();
  const results = await eachLimited(spec.mailboxes, spec.mode === 'parallel' ? spec.concurrency : 1, (mailbox) =>
    runMeasured('doveadm', ['-c', config, 'backup', '-R', '-u', mailbox.login, 'imapc:'], {
      label: `${label} ${mailbox.login}`,
      timeoutMs: spec.timeoutMs,
    }),
  );
  return combineMeasured(label, results, (performance.now() - started) / 1000, spec.mode === 'parallel' ? spec.concurrency : 1);
}

export const doveadmRunner: ToolRunner = {
  name: 'doveadm',
  async version() {
    const {stdout} = await execFileAsync('dovecot', ['--version']);
    return `doveadm backup (dovecot ${stdout.trim()})`;
  },
  fullSync: (spec) => run(spec, 'doveadm'),
  noChangeSync: (spec) => run(spec, 'doveadm (no change)'),
  notApplicable: (delayed) =>
    delayed === 'target' ? 'doveadm writes the target storage directly, not over IMAP; a target delay does not apply' : undefined,
};
