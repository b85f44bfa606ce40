// `mailferry demo`: a real migration in a minute. Starts a source and a target Dovecot on
// 127.0.0.1 (installing nothing: it says which package to install when dovecot is missing),
// fills a few sample mailboxes, writes a migration CSV, and opens the full-screen UI with both
// endpoints and the CSV filled in. Everything it started is stopped, and its files removed, when
// the UI ends (also on Ctrl-C, SIGTERM and SIGHUP).

import {rmSync} from 'node:fs';
import {chmod, mkdtemp, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {closeClient, connectClient} from '../imap/client-factory.js';
import {makeEndpoint} from '../imap/endpoint.js';
import type {UiPrefill} from '../ui/ui-prefill.js';
import {findDovecot, startDemoServer, stopDemoServer, type DemoServer} from './demo-servers.js';

export const DEMO_HELP = `
  Usage
    $ mailferry demo [--keep] [--ascii]

  Starts a local source and target Dovecot (127.0.0.1, free ports), fills six sample
  mailboxes, writes a migration CSV, and opens the full-screen UI with both endpoints and the
  CSV filled in: press Tab to the "Test connection" button, Enter through the steps, and watch
  the batch migrate. One sample user has a wrong password in the CSV on purpose.
  Everything the demo starts is stopped when the UI ends.

  Options
    --keep      keep the demo directory (servers' mail, CSV, batch state) after the demo
    --ascii     draw with ASCII only
    --help, -h  show this help
`;

export const DOVECOT_MISSING =
  'mailferry demo needs Dovecot, and the dovecot binary was not found (looked in PATH, /usr/sbin and /usr/local/sbin).\n' +
  'Install the package that provides it, then run mailferry demo again:\n' +
  '  Debian/Ubuntu:  sudo apt-get install dovecot-imapd\n' +
  '  Fedora/RHEL:    sudo dnf install dovecot\n' +
  'mailferry installs nothing itself. Installing the package may enable a system Dovecot service; the demo does not use it.\n';

interface DemoUser {
  login: string;
  email: string;
  sourcePassword: string;
  targetPassword: string;
  /** What the CSV says; differs from sourcePassword for the user that shows a failed login. */
  csvPassword: string;
  inbox: number;
  sent: number;
  archive: number;
  /** One message above the demo's 1 MB size limit, so the detail view shows a skipped item. */
  large?: boolean;
}

const DOMAIN = 'demo.example';

export const DEMO_USERS: readonly DemoUser[] = [
  ['alice', 620, 180, 140],
  ['bob', 390, 120, 60],
  ['carol', 960, 220, 300],
  ['dave', 220, 40, 0],
  ['erin', 500, 130, 90],
  ['fay', 120, 20, 10],
].map(([login, inbox, sent, archive]) => {
  const name = String(login);
  return {
    login: name,
    email: `${name}@${DOMAIN}`,
    sourcePassword: `demo-${name}-source`,
    targetPassword: `demo-${name}-target`,
    csvPassword: name === 'fay' ? 'not-her-password' : `demo-${name}-source`,
    inbox: Number(inbox),
    sent: Number(sent),
    archive: Number(archive),
    ...(name === 'carol' ? {large: true} : {}),
  };
});

const SUBJECTS = ['Quarterly numbers', 'Lunch on Friday?', 'Re: server move', 'Invoice', 'Meeting notes', 'Holiday plans', 'Re: Re: the printer', 'Build failed', 'Welcome aboard', 'Weekly report'];

/** A small, valid RFC 5322 message; dates spread over two years so the newest-first order shows. */
export function demoMessage(user: DemoUser, folder: string, index: number, bodyBytes = 0): {raw: string; date: Date} {
  const date = new Date(Date.UTC(2026, 0, 1) - index * 7 * 3600 * 1000);
  const subject = `${SUBJECTS[index % SUBJECTS.length]} #${index + 1}`;
  const peer = DEMO_USERS[(index + user.login.length) % DEMO_USERS.length]!.email;
  const [from, to] = folder === 'Sent' ? [user.email, peer] : [peer, user.email];
  const filler = bodyBytes > 0 ? `\r\n${'mailferry demo attachment line 0123456789 abcdefghijklmnopqrstuvwxyz\r\n'.repeat(Math.ceil(bodyBytes / 72))}` : '';
  const raw = [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <demo-${user.login}-${folder.replace(/\W/g, '')}-${index}@${DOMAIN}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hello, this is sample message ${index + 1} in ${user.login}'s ${folder}.`,
    filler,
  ].join('\r\n');
  return {raw, date};
}

async function fillMailbox(server: DemoServer, user: DemoUser): Promise<number> {
  const endpoint = makeEndpoint({host: '127.0.0.1', port: server.port, security: 'none'});
  const client = await connectClient({endpoint, role: 'source', identity: {user: user.login, password: user.sourcePassword}});
  let count = 0;
  try {
    await client.mailboxCreate('Archive/2024').catch(() => undefined);
    for (const [folder, amount] of [['INBOX', user.inbox], ['Sent', user.sent], ['Archive/2024', user.archive]] as const) {
      for (let index = 0; index < amount; index++) {
        const {raw, date} = demoMessage(user, folder, index);
        await client.append(folder, raw, index % 3 === 0 ? [] : ['\\Seen'], date);
        count += 1;
      }
    }
    if (user.large) {
      const {raw, date} = demoMessage(user, 'INBOX', user.inbox, 1_500_000);
      await client.append('INBOX', raw, ['\\Seen', '\\Flagged'], date);
      count += 1;
    }
  } finally {
    await closeClient(client);
  }
  return count;
}

function csvText(users: readonly DemoUser[]): string {
  const lines = ['EmailAddress,UserName,Password,TargetUserName,TargetPassword'];
  for (const user of users) lines.push([user.email, user.login, user.csvPassword, user.login, user.targetPassword].join(','));
  return lines.join('\r\n') + '\r\n';
}

export interface PreparedDemo {
  readonly servers: readonly [DemoServer, DemoServer];
  readonly csvPath: string;
  readonly messages: number;
  readonly prefill: UiPrefill;
}

/**
 * Starts both servers in `dir`, fills the source and writes the CSV. `onServer` is told of each
 * server as soon as it runs, so the caller can stop it even if a later step fails.
 */
export async function prepareDemo(options: {binary: string; dir: string; onServer(server: DemoServer): void; progress?: (line: string) => void}): Promise<PreparedDemo> {
  const {dir} = options;
  const say = options.progress ?? (() => {});
  say(`starting a source and a target Dovecot on 127.0.0.1 (in ${dir})`);
  const users = (role: 'source' | 'target') => Object.fromEntries(DEMO_USERS.map((user) => [user.login, role === 'source' ? user.sourcePassword : user.targetPassword]));
  const started = await Promise.allSettled([
    startDemoServer({binary: options.binary, role: 'source', dir: path.join(dir, 'source'), users: users('source')}),
    startDemoServer({binary: options.binary, role: 'target', dir: path.join(dir, 'target'), users: users('target')}),
  ]);
  for (const result of started) if (result.status === 'fulfilled') options.onServer(result.value);
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  const source = (started[0] as PromiseFulfilledResult<DemoServer>).value;
  const target = (started[1] as PromiseFulfilledResult<DemoServer>).value;
  say(`filling ${DEMO_USERS.length} sample mailboxes on the source (127.0.0.1:${source.port})`);
  const counts = await Promise.all(DEMO_USERS.map((user) => fillMailbox(source, user)));
  const messages = counts.reduce((a, b) => a + b, 0);
  const csvPath = path.join(dir, 'users.csv');
  await writeFile(csvPath, csvText(DEMO_USERS), {mode: 0o600});
  say(`${messages} messages ready; target on 127.0.0.1:${target.port}; CSV ${csvPath}`);
  const alice = DEMO_USERS[0]!;
  return {
    servers: [source, target],
    csvPath,
    messages,
    prefill: {
      startWithSetup: true,
      source: {preset: 'other', host: '127.0.0.1', port: String(source.port), security: 'none', maxConnections: '40', testUser: alice.login, testPassword: alice.sourcePassword},
      target: {preset: 'other', host: '127.0.0.1', port: String(target.port), security: 'none', maxConnections: '40', credentials: 'csv', testUser: alice.login, testPassword: alice.targetPassword},
      csvPath,
      batchName: 'demo',
      // Two mailboxes at a time with one APPEND connection each: slow enough to watch the grid.
      settings: {maxMessageBytes: 1024 * 1024, incrementalIntervalMs: 5 * 60 * 1000, maxConcurrentMigrations: 2, appendConnectionsPerMailbox: 1},
    },
  };
}

export interface DemoIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** The full-screen UI, handed in by the CLI: headless code never loads React or Ink itself. */
export type OpenUi = (options: {stateDir: string; argv: readonly string[]; prefill: UiPrefill}) => Promise<number>;

export async function runDemo(
  argv: string[],
  openUi: OpenUi,
  io: DemoIo = {stdin: process.stdin, stdout: process.stdout, stderr: process.stderr},
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(DEMO_HELP);
    return 0;
  }
  const unknown = argv.filter((arg) => !['--keep', '--ascii'].includes(arg));
  if (unknown.length > 0) {
    io.stderr.write(`mailferry demo: unknown option ${unknown.join(' ')}\n${DEMO_HELP}`);
    return 2;
  }
  if (!io.stdin.isTTY || !io.stdout.isTTY) {
    io.stderr.write('mailferry demo opens the full-screen UI and needs an interactive terminal. For scripts see: mailferry batch --help\n');
    return 2;
  }
  const binary = findDovecot();
  if (!binary) {
    io.stderr.write(DOVECOT_MISSING);
    return 2;
  }
  const keep = argv.includes('--keep');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-demo-'));
  // Dovecot's auth and mail processes run as other users and must pass through (not list) it.
  await chmod(dir, 0o711);
  const servers: DemoServer[] = [];
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const server of servers) stopDemoServer(server);
    if (!keep) rmSync(dir, {recursive: true, force: true});
  };
  // runUi ends the process itself on SIGTERM/SIGHUP (after saving the batch); 'exit' still runs.
  process.on('exit', cleanup);
  // Until the UI takes over the signals, Ctrl-C (or a hangup) while the servers start and fill
  // must still stop them; by default those signals end the process without 'exit' handlers.
  const interrupted = (signal: NodeJS.Signals) => {
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, interrupted);
  try {
    let demo: PreparedDemo;
    try {
      demo = await prepareDemo({binary, dir, onServer: (server) => servers.push(server), progress: (line) => io.stdout.write(`mailferry demo: ${line}\n`)});
    } finally {
      for (const signal of signals) process.off(signal, interrupted);
    }
    const code = await openUi({stateDir: path.join(dir, 'state'), argv, prefill: demo.prefill});
    cleanup();
    io.stdout.write(keep ? `mailferry demo: servers stopped; files kept in ${dir}\n` : 'mailferry demo: servers stopped and demo files removed.\n');
    return code;
  } catch (error) {
    cleanup();
    io.stderr.write(`mailferry demo: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    process.off('exit', cleanup);
  }
}
