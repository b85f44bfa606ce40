// Real Dovecot servers for tests: each instance lives in its own temp dir with its own config,
// passwd-files, certificate and free 127.0.0.1 ports, and is torn down (also when a test file
// throws) so several test files can run their own pairs side by side.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  defaultSpecialUse,
  dovecotPaths,
  renderDovecotConfig,
  type SpecialUseRole,
} from './dovecot-config.js';

const execFileAsync = promisify(execFile);

export interface DovecotOptions {
  role: 'source' | 'target';
  /** login name -> password, e.g. {'alice': 'pw-alice'} or {'alice@example.test': 'x'}; more can be added later */
  users?: Record<string, string>;
  /** hierarchy separator of the personal namespace: '/' (default) or '.' */
  separator?: '/' | '.';
  /** personal namespace prefix: '' (default) or 'INBOX.' (Courier style; requires separator '.') */
  prefix?: '' | 'INBOX.';
  /** special-use folders the server advertises (RFC 6154) and auto-creates. Default: Sent, Drafts, Trash, Junk, Archive with those plain names. */
  specialUse?: Partial<Record<SpecialUseRole, string>>;
  /** Dovecot's `auto` for the special-use folders (see DovecotConfigInput); default 'subscribe' */
  specialUseAuto?: 'subscribe' | 'create' | 'no';
  /** extra dovecot.conf lines appended at the end (for tests of odd server setups) */
  extraConfig?: string;
  /** where the server's temp dir (config, logs, mail) goes; default os.tmpdir() */
  parentDir?: string;
  /**
   * TZ of the server processes (e.g. 'America/St_Johns'): Dovecot's default import_environment
   * passes TZ on, so INTERNALDATE answers carry that offset. Default: this process's TZ.
   */
  timeZone?: string;
}

export interface DovecotServer {
  readonly role: 'source' | 'target';
  readonly host: '127.0.0.1';
  readonly imapPort: number;
  readonly imapsPort: number;
  readonly dir: string;
  readonly caCertPath: string;
  readonly masterUser: string;
  readonly masterPassword: string;
  readonly masterSeparator: '*';
  readonly users: Readonly<Record<string, string>>;
  /** hierarchy separator of the personal namespace */
  readonly separator: '/' | '.';
  /** personal namespace prefix ('' or 'INBOX.') */
  readonly prefix: '' | 'INBOX.';
  /** special-use role -> folder name without the namespace prefix, as configured */
  readonly specialUse: Readonly<Partial<Record<SpecialUseRole, string>>>;
  addUser(login: string, password: string): Promise<void>;
  /** the dovecot master process (its children's CPU time adds up in /proc/PID/stat) */
  readonly pid: number | undefined;
  /** run doveadm against this instance, returns stdout; throws with stderr on failure */
  doveadm(args: string[]): Promise<string>;
  /** the user's mail directory (Maildir root) on disk */
  mailDir(login: string): string;
  /** SIGKILL-free restart (used to test reconnects): stop and start on the same ports */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const MASTER_USER = 'admin';
const STARTUP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

let dovecotBinary: string | null | undefined;

function findDovecot(): string | null {
  if (dovecotBinary !== undefined) return dovecotBinary;
  // /usr/sbin is often missing from a non-root PATH, so look there explicitly too.
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  dovecotBinary = dirs.filter((d) => d.startsWith('/')).map((d) => path.join(d, 'dovecot')).find((p) => existsSync(p)) ?? null;
  return dovecotBinary;
}

/** true when the dovecot binary is present; tests that need it should fail loudly (not skip) in CI when it is missing */
export function dovecotAvailable(): boolean {
  return findDovecot() !== null;
}

// --- cleanup of instances a test forgot (or never reached) to stop ---------------------------

const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function killAllNow(): void {
  for (const [child, dir] of running) {
    try {
      signalGroup(child, 'SIGKILL');
    } catch {
      // already gone
    }
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort while the process is exiting
    }
  }
  running.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllNow);
  // 'exit' does not run on signals; the test runner sends SIGTERM on timeouts.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllNow();
      process.kill(process.pid, signal);
    });
  }
}

// --- small helpers ------------------------------------------------------------------------

/**
 * Signals the master and all its children at once (the master leads its own process group).
 * Signalling only the master makes it wait about a second for its children on every stop.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

async function freePorts(count: number): Promise<number[]> {
  // All servers stay open until every port is known, so the ports differ from each other.
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<net.Server>((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** The tagged status of AUTHENTICATE PLAIN (RFC 4616, initial response per RFC 4959) as login. */
function plainLoginAnswer(port: number, login: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let seen = '';
    let sent = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      seen += chunk;
      if (!sent && seen.includes('\r\n')) {
        sent = true;
        socket.write(`p1 AUTHENTICATE PLAIN ${Buffer.from(`\0${login}\0${password}`, 'utf8').toString('base64')}\r\n`);
      }
      const answer = /^p1 (\w+)/m.exec(seen);
      if (answer) {
        socket.end('p2 LOGOUT\r\n');
        resolve(answer[1]!);
      }
    });
    socket.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the first line the server sends, or null when nothing answers. */
function readGreeting(port: number, timeoutMs = 1000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buffer = '';
    const done = (value: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('data', (data) => {
      buffer += data.toString('latin1');
      const end = buffer.indexOf('\r\n');
      if (end >= 0) done(buffer.slice(0, end));
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
  });
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function tail(file: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function passwdLine(login: string, password: string): string {
  // passwd-file is colon separated, one entry per line, and each user has a file named after
  // the login; anything else would silently corrupt it.
  if (!login || login.startsWith('.') || /[:/%\n\r\s]/.test(login)) {
    throw new Error(`dovecot test user: login ${JSON.stringify(login)} must not be empty, start with '.' or contain ':', '/', '%' or whitespace`);
  }
  if (/[:\n\r]/.test(password)) throw new Error(`dovecot test user ${login}: password must not contain ':' or line breaks`);
  return `${login}:{PLAIN}${password}::::::\n`;
}

function randomPassword(): string {
  return `master-${Math.random().toString(36).slice(2, 12)}`;
}

interface MailOwner {
  uid: number;
  gid: number;
  unprivilegedUser?: string;
  unprivilegedGroup?: string;
}

function groupName(gid: number): string | undefined {
  try {
    return readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(gid))?.[0];
  } catch {
    return undefined;
  }
}

function mailOwner(): MailOwner {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    // Not root: every dovecot process runs as this user (dovecot cannot switch users anyway).
    return { uid, gid: process.getgid?.() ?? uid, unprivilegedUser: os.userInfo().username, unprivilegedGroup: groupName(process.getgid?.() ?? uid) };
  }
  // Dovecot refuses to access mail as root, so mail belongs to "nobody" (a valid uid >= 500).
  try {
    const entry = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'));
    const [, , u, g] = entry?.split(':') ?? [];
    if (u && g) return { uid: Number(u), gid: Number(g) };
  } catch {
    // fall through to the Debian default
  }
  return { uid: 65534, gid: 65534 };
}

async function makeCertificate(certPath: string, keyPath: string): Promise<void> {
  // An EC key takes milliseconds to make, an RSA key noticeably longer; startup speed matters.
  await execFileAsync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '7', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
}

// --- one instance --------------------------------------------------------------------------

class DovecotInstance implements DovecotServer {
  readonly host = '127.0.0.1' as const;
  readonly masterUser = MASTER_USER;
  readonly masterSeparator = '*' as const;
  readonly caCertPath: string;
  readonly users: Record<string, string> = {};
  private child: ChildProcess | null = null;
  private stopped = false;

  get pid(): number | undefined {
    return this.child?.pid;
  }
  private readonly paths: ReturnType<typeof dovecotPaths>;

  constructor(
    readonly role: 'source' | 'target',
    readonly dir: string,
    readonly imapPort: number,
    readonly imapsPort: number,
    readonly separator: '/' | '.',
    readonly prefix: '' | 'INBOX.',
    readonly specialUse: Readonly<Partial<Record<SpecialUseRole, string>>>,
    readonly masterPassword: string,
    private readonly timeZone?: string,
  ) {
    this.paths = dovecotPaths(dir);
    this.caCertPath = this.paths.cert;
  }

  async addUser(login: string, password: string): Promise<void> {
    const file = path.join(this.paths.usersDir, login);
    const known = login in this.users;
    await writeFile(file, passwdLine(login, password), { mode: 0o644 });
    this.users[login] = password;
    // A new user's file is read on first lookup, but dovecot checks a file it already read for
    // changes at most once per second: wait until the server takes the new password.
    if (known && this.child) {
      const deadline = Date.now() + 10_000;
      while ((await plainLoginAnswer(this.imapPort, login, password)) !== 'OK') {
        if (Date.now() > deadline) throw new Error(`dovecot ${this.role}: the new password of ${login} was not accepted within 10 s`);
        await sleep(50);
      }
    }
  }

  async doveadm(args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync('doveadm', ['-c', this.paths.config, ...args], { maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      // doveadm puts some failures ("user doesn't exist") on stdout.
      const e = error as { stderr?: string; stdout?: string; message: string };
      throw new Error(`doveadm ${args.join(' ')} failed on the ${this.role} test server: ${e.stderr?.trim() || e.stdout?.trim() || e.message}`);
    }
  }

  mailDir(login: string): string {
    return path.join(this.paths.mailRoot, login, 'Maildir');
  }

  async launch(): Promise<void> {
    const binary = findDovecot();
    if (!binary) throw new Error('dovecot is not installed: apt-get install dovecot-imapd (or run .ci/run)');
    const stderrFd = openSync(this.paths.stderrLog, 'a');
    let child: ChildProcess;
    try {
      // -F keeps the master in the foreground as our child, so we always know its pid; detached
      // gives it its own process group, so stop() can signal every dovecot process at once.
      const env = this.timeZone === undefined ? process.env : { ...process.env, TZ: this.timeZone };
      child = spawn(binary, ['-F', '-c', this.paths.config], { detached: true, env, stdio: ['ignore', stderrFd, stderrFd] });
    } finally {
      closeSync(stderrFd);
    }
    // A test that forgets stop() must not hang its test file; the exit hook still kills it.
    child.unref();
    this.child = child;
    running.set(child, this.dir);
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        running.delete(child);
        throw new Error(await this.startupFailure(`dovecot exited during startup (${child.exitCode ?? child.signalCode})`));
      }
      const greeting = await readGreeting(this.imapPort);
      if (greeting?.startsWith('* OK')) return;
      if (Date.now() > deadline) {
        await this.kill('SIGKILL');
        throw new Error(await this.startupFailure(`no IMAP greeting on 127.0.0.1:${this.imapPort} within ${STARTUP_TIMEOUT_MS / 1000} s`));
      }
      await sleep(15);
    }
  }

  private async startupFailure(what: string): Promise<string> {
    return `${this.role} test dovecot in ${this.dir}: ${what}.\n--- stderr ---\n${await tail(this.paths.stderrLog)}\n--- dovecot.log ---\n${await tail(this.paths.log)}`;
  }

  private async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup(child, signal);
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (child.exitCode === null && child.signalCode === null) {
        if (Date.now() > deadline) {
          signalGroup(child, 'SIGKILL');
          break;
        }
        await sleep(10);
      }
    }
    running.delete(child);
    this.child = null;
    // The master is gone, but its login processes notice that a moment later; wait until the
    // ports are really closed so a restart or the next test sees a clean state.
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while ((await portAcceptsConnections(this.imapPort)) || (await portAcceptsConnections(this.imapsPort))) {
      if (Date.now() > deadline) throw new Error(`${this.role} test dovecot in ${this.dir}: ports still open after stop`);
      await sleep(10);
    }
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`${this.role} test dovecot was stopped; start a new one`);
    await this.kill('SIGTERM');
    await this.launch();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.kill('SIGTERM');
    await rm(this.dir, { recursive: true, force: true });
  }
}

export async function startDovecot(options: DovecotOptions): Promise<DovecotServer> {
  if (!dovecotAvailable()) throw new Error('dovecot is not installed: apt-get install dovecot-imapd (or run .ci/run)');
  const separator = options.separator ?? '/';
  const prefix = options.prefix ?? '';
  if (prefix === 'INBOX.' && separator !== '.') throw new Error("startDovecot: prefix 'INBOX.' needs separator '.'");
  const specialUse = options.specialUse ?? defaultSpecialUse;
  installExitHook();

  const owner = mailOwner();
  const dir = await mkdtemp(path.join(options.parentDir ?? os.tmpdir(), `mailferry-dovecot-${options.role}-`));
  const paths = dovecotPaths(dir);
  try {
    // The auth process runs as the unprivileged "dovecot" user and must read the passwd-files.
    await chmod(dir, 0o755);
    await Promise.all([paths.baseDir, paths.stateDir, paths.logDir, paths.mailRoot].map((d) => mkdir(d)));
    await chown(paths.mailRoot, owner.uid, owner.gid);
    const masterPassword = randomPassword();
    await Promise.all([
      makeCertificate(paths.cert, paths.key),
      writeFile(paths.mastersFile, passwdLine(MASTER_USER, masterPassword), { mode: 0o644 }),
      mkdir(paths.usersDir, { mode: 0o755 }),
    ]);

    // Two instances started at the same moment could be handed the same free port; retry then.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const [imapPort, imapsPort] = await freePorts(2);
      await writeFile(
        paths.config,
        renderDovecotConfig({
          dir, imapPort: imapPort!, imapsPort: imapsPort!, separator, prefix, specialUse,
          mailUid: owner.uid, mailGid: owner.gid, unprivilegedUser: owner.unprivilegedUser, unprivilegedGroup: owner.unprivilegedGroup,
          extraConfig: options.extraConfig,
          ...(options.specialUseAuto ? { specialUseAuto: options.specialUseAuto } : {}),
        }),
      );
      const instance = new DovecotInstance(options.role, dir, imapPort!, imapsPort!, separator, prefix, specialUse, masterPassword, options.timeZone);
      for (const [login, password] of Object.entries(options.users ?? {})) await instance.addUser(login, password);
      try {
        await instance.launch();
        return instance;
      } catch (error) {
        lastError = error;
        if (!/Address already in use/i.test(String(error))) break;
      }
    }
    throw lastError;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function startDovecotPair(options?: {
  source?: Partial<DovecotOptions>;
  target?: Partial<DovecotOptions>;
}): Promise<{ source: DovecotServer; target: DovecotServer; stop(): Promise<void> }> {
  const [source, target] = await Promise.allSettled([
    startDovecot({ ...options?.source, role: 'source' }),
    startDovecot({ ...options?.target, role: 'target' }),
  ]);
  if (source.status === 'rejected' || target.status === 'rejected') {
    await Promise.all([source, target].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw source.status === 'rejected' ? source.reason : (target as PromiseRejectedResult).reason;
  }
  return {
    source: source.value,
    target: target.value,
    stop: async () => {
      await Promise.all([source.value.stop(), target.value.stop()]);
    },
  };
}
