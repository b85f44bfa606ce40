// Two throwaway Dovecot servers on 127.0.0.1 for `mailferry demo`: plain IMAP on free ports,
// users from a passwd-file, mail in a temp dir that is removed again. Nothing is installed: when
// the dovecot binary is missing the caller says which package provides it.

import {spawn, type ChildProcess} from 'node:child_process';
import {closeSync, existsSync, openSync, readFileSync} from 'node:fs';
import {chmod, chown, mkdir, readFile, writeFile} from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface DemoServer {
  readonly role: 'source' | 'target';
  readonly port: number;
  readonly dir: string;
  readonly child: ChildProcess;
}

const STARTUP_TIMEOUT_MS = 15_000;

/** The dovecot binary, or undefined; /usr/sbin is often not on a normal user's PATH. */
export function findDovecot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env['PATH'] ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.filter((dir) => dir.startsWith('/')).map((dir) => path.join(dir, 'dovecot')).find((file) => existsSync(file));
}

/**
 * util-linux `setpriv`, when present: started through it with --pdeathsig, a demo Dovecot gets
 * SIGTERM from the kernel if mailferry dies without cleaning up (SIGKILL, a dropped terminal),
 * so no server outlives the demo.
 */
function findSetpriv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env['PATH'] ?? '').split(path.delimiter), '/usr/bin', '/bin'];
  return dirs.filter((dir) => dir.startsWith('/')).map((dir) => path.join(dir, 'setpriv')).find((file) => existsSync(file));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface MailOwner {
  uid: number;
  gid: number;
  /** Set when not root: every dovecot service runs as this user, which cannot switch users. */
  user?: string;
  group?: string;
}

function mailOwner(): MailOwner {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid !== 0) {
    const group = readFileSync('/etc/group', 'utf8').split('\n').map((line) => line.split(':')).find((fields) => fields[2] === String(gid))?.[0];
    return {uid, gid, user: os.userInfo().username, ...(group ? {group} : {})};
  }
  // Dovecot refuses to touch mail as root; "nobody" owns the demo mail instead.
  const nobody = readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith('nobody:'))?.split(':');
  return {uid: Number(nobody?.[2] ?? 65534), gid: Number(nobody?.[3] ?? 65534)};
}

export function demoDovecotConfig(dir: string, port: number, owner: MailOwner): string {
  const unprivileged = owner.user
    ? [`default_internal_user = ${owner.user}`, `default_login_user = ${owner.user}`, ...(owner.group ? [`default_internal_group = ${owner.group}`] : []), 'first_valid_uid = 1']
    : [];
  return [
    '# mailferry demo server; removed when the demo ends',
    'protocols = imap',
    'listen = 127.0.0.1',
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/dovecot.log`,
    ...unprivileged,
    // Loopback only, so plain IMAP keeps the demo free of certificates.
    'ssl = no',
    'disable_plaintext_auth = no',
    'auth_mechanisms = plain login',
    'auth_failure_delay = 0',
    'mail_max_userip_connections = 200',
    `mail_location = maildir:~/Maildir:LAYOUT=fs`,
    `mail_uid = ${owner.uid}`,
    `mail_gid = ${owner.gid}`,
    'mail_fsync = never',
    'namespace inbox {',
    '  inbox = yes',
    '  separator = /',
    ...['Sent', 'Drafts', 'Trash', 'Junk', 'Archive'].map((name) => `  mailbox ${name} {\n    special_use = \\${name}\n    auto = subscribe\n  }`),
    '}',
    'passdb {',
    '  driver = passwd-file',
    `  args = scheme=PLAIN username_format=%u ${dir}/users.passwd`,
    '}',
    'userdb {',
    '  driver = passwd-file',
    `  args = username_format=%u ${dir}/users.passwd`,
    `  default_fields = uid=${owner.uid} gid=${owner.gid} home=${dir}/mail/%u`,
    '}',
    'service imap-login {',
    '  inet_listener imap {',
    '    address = 127.0.0.1',
    `    port = ${port}`,
    '  }',
    '  inet_listener imaps {',
    '    port = 0',
    '  }',
    ...(owner.user ? ['  chroot ='] : []),
    '}',
    'service anvil {',
    ...(owner.user ? ['  chroot ='] : []),
    '  unix_listener anvil-auth-penalty {',
    '    mode = 0',
    '  }',
    '}',
    '',
  ].join('\n');
}

function greeting(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({host: '127.0.0.1', port});
    let buffer = '';
    const done = (value: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), 1000);
    socket.on('data', (data) => {
      buffer += data.toString('latin1');
      if (buffer.includes('\r\n')) done(buffer.slice(0, buffer.indexOf('\r\n')));
    });
    socket.on('error', () => done(undefined));
  });
}

export async function startDemoServer(options: {binary: string; role: 'source' | 'target'; dir: string; users: Record<string, string>}): Promise<DemoServer> {
  const {dir} = options;
  const owner = mailOwner();
  await mkdir(dir, {recursive: true});
  // The auth process runs as an unprivileged user and must reach the passwd-file.
  await chmod(dir, 0o711);
  for (const sub of ['run', 'state', 'mail']) await mkdir(path.join(dir, sub), {recursive: true});
  await chown(path.join(dir, 'mail'), owner.uid, owner.gid);
  await writeFile(path.join(dir, 'users.passwd'), Object.entries(options.users).map(([login, password]) => `${login}:{PLAIN}${password}::::::\n`).join(''), {mode: 0o644});
  const port = await freePort();
  await writeFile(path.join(dir, 'dovecot.conf'), demoDovecotConfig(dir, port, owner));
  const errors = openSync(path.join(dir, 'stderr.log'), 'a');
  let child: ChildProcess;
  try {
    // -F keeps the master in the foreground as our child; its own process group lets the demo
    // stop it and all its workers with one signal.
    const dovecot = [options.binary, '-F', '-c', path.join(dir, 'dovecot.conf')];
    const setpriv = findSetpriv();
    const [command, ...args] = setpriv ? [setpriv, '--pdeathsig', 'TERM', '--', ...dovecot] : dovecot;
    child = spawn(command!, args, {detached: true, stdio: ['ignore', errors, errors]});
  } finally {
    closeSync(errors);
  }
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      stopDemoServer({role: options.role, port, dir, child});
      const log = await readFile(path.join(dir, 'stderr.log'), 'utf8').catch(() => '');
      throw new Error(`the demo ${options.role} Dovecot did not start (see ${dir}/dovecot.log): ${log.trim().split('\n').slice(-3).join(' ')}`);
    }
    if ((await greeting(port))?.startsWith('* OK')) return {role: options.role, port, dir, child};
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Synchronous, so it also works from a process 'exit' handler. */
export function stopDemoServer(server: DemoServer): void {
  const pid = server.child.pid;
  if (pid === undefined || server.child.exitCode !== null || server.child.signalCode !== null) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    server.child.kill('SIGTERM');
  }
}
