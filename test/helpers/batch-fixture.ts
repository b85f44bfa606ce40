// What the engine tests share around one Dovecot pair: a work directory, a migration CSV, the
// `batch create` options that point at the pair, the state file as JSON, and the engine's
// `pass-finished` lines parsed for throughput figures.

import {readdirSync} from 'node:fs';
import {mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import {PassThrough} from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import type {BatchDefinition, BatchSettings} from '../../source/engine/batch-model.js';
import {DEFAULT_SETTINGS} from '../../source/engine/batch-model.js';
import type {BatchIo} from '../../source/headless/batch-command.js';
import {makeEndpoint} from '../../source/imap/endpoint.js';
import {isShardedHead, mailboxDirFor, parseHead, ShardedStateFiles} from '../../source/store/sharded-state.js';
import type {BatchState} from '../../source/store/state-schema.js';
import type {DovecotServer} from './dovecot-pair.js';

/** The environment variable the tests put the target's master password in. */
export const TARGET_ADMIN_ENV = 'MAILFERRY_TEST_TARGET_ADMIN';

export interface PairLike {
  source: DovecotServer;
  target: DovecotServer;
}

export interface CsvRow {
  email: string;
  user: string;
  password: string;
}

export async function makeWorkDir(label: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `mailferry-${label}-`));
}

export async function removeWorkDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, {recursive: true, force: true});
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export async function writeMigrationCsv(file: string, rows: readonly CsvRow[]): Promise<string> {
  const lines = ['EmailAddress,UserName,Password', ...rows.map((row) => [row.email, row.user, row.password].map(csvField).join(','))];
  await writeFile(file, lines.join('\n') + '\n', {mode: 0o600});
  return file;
}

/** `server` as mailferry sees it when it connects through `port` (a proxy in front of it). */
export function through(server: DovecotServer, port: number): DovecotServer {
  return Object.create(server, {imapPort: {value: port}}) as DovecotServer;
}

/** Environment for a mailferry child process (or this process) that reads the target admin password. */
export function targetAdminEnv(pair: PairLike): Record<string, string> {
  return {[TARGET_ADMIN_ENV]: pair.target.masterPassword};
}

/**
 * `batch create` options for the pair: plain IMAP on 127.0.0.1, source logins from the CSV, target
 * logins as `{email}*admin` (Dovecot master user) with the password from TARGET_ADMIN_ENV.
 */
export function pairCreateArgs(pair: PairLike): string[] {
  return [
    '--source-host', '127.0.0.1', '--source-port', String(pair.source.imapPort), '--source-security', 'none',
    '--target-host', '127.0.0.1', '--target-port', String(pair.target.imapPort), '--target-security', 'none',
    '--target-auth', 'login-pattern', '--target-login-pattern', `{email}${pair.target.masterSeparator}${pair.target.masterUser}`,
    '--target-admin-password-env', TARGET_ADMIN_ENV,
  ];
}

/** The same batch as pairCreateArgs, as a definition for the engine API. */
export function pairDefinition(pair: PairLike, name: string, csvPath: string, settings: Partial<BatchSettings> = {}): BatchDefinition {
  return {
    name,
    createdAt: new Date().toISOString(),
    csvPath,
    source: makeEndpoint({host: '127.0.0.1', port: pair.source.imapPort, security: 'none'}),
    target: makeEndpoint({host: '127.0.0.1', port: pair.target.imapPort, security: 'none'}),
    sourceCredentials: {kind: 'csv'},
    targetCredentials: {
      kind: 'login-pattern',
      pattern: `{email}${pair.target.masterSeparator}${pair.target.masterUser}`,
      adminSecret: {from: 'env', name: TARGET_ADMIN_ENV},
    },
    settings: {...DEFAULT_SETTINGS, ...settings},
  };
}

export function stateFile(stateDir: string, name: string): string {
  return path.join(stateDir, 'batches', `${name}.json`);
}

/** The batch's state as written on disk (not the engine's in-memory copy), in either layout. */
export async function readBatchState(stateDir: string, name: string): Promise<BatchState> {
  const file = stateFile(stateDir, name);
  const raw = JSON.parse(await readFile(file, 'utf8')) as unknown;
  return isShardedHead(raw) ? ShardedStateFiles.readState(file, parseHead(raw, file)) : (raw as BatchState);
}

/** Every file of the batch's state (the head, then each mailbox's file), for checks over all of them. */
export async function stateFiles(stateDir: string, name: string): Promise<string[]> {
  const file = stateFile(stateDir, name);
  const dir = mailboxDirFor(file);
  const names = await readdir(dir).catch(() => [] as string[]);
  return [file, ...names.map((entry) => path.join(dir, entry))];
}

/** The text of all the batch's state files, joined. */
export async function stateFilesText(stateDir: string, name: string): Promise<string> {
  const texts = await Promise.all((await stateFiles(stateDir, name)).map((file) => readFile(file, 'utf8')));
  return texts.join('\n');
}

/** stdout/stderr for runBatchCommand in this process, kept as text. */
export function captureIo(): {io: BatchIo; stdout: () => string; stderr: () => string} {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  err.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return {io: {stdout: out, stderr: err}, stdout: () => stdout, stderr: () => stderr};
}

export interface PassFinishedLine {
  emailAddress: string;
  kind: string;
  copied: number;
  flagUpdates: number;
  seconds: number;
}

/** The `... initial pass done: 56 copied, 0 flag updates, 2.7 s` lines of `batch start` output. */
export function passFinishedLines(stdout: string): PassFinishedLine[] {
  const lines: PassFinishedLine[] = [];
  const pattern = /^\S+ (\S+) (\w+) pass done: (\d+) copied, (\d+) flag updates, ([\d.]+) s$/;
  for (const line of stdout.split('\n')) {
    const match = pattern.exec(line.trim());
    if (match) lines.push({emailAddress: match[1]!, kind: match[2]!, copied: Number(match[3]), flagUpdates: Number(match[4]), seconds: Number(match[5])});
  }
  return lines;
}

/** Messages in one folder of a user, straight from Dovecot's index (no IMAP session). */
export async function folderMessageCount(server: DovecotServer, login: string, folder: string): Promise<number> {
  const output = await server.doveadm(['mailbox', 'status', '-u', login, 'messages', folder]);
  const match = /messages=(\d+)/.exec(output);
  if (!match) throw new Error(`doveadm mailbox status for ${login} ${folder} printed no message count: ${output}`);
  return Number(match[1]);
}

/**
 * Messages in INBOX of a user on a '.'-separator (Maildir++) test server, counted on disk: cheap
 * enough to poll every few milliseconds while a copy runs, unlike a doveadm process per poll.
 */
export function maildirInboxCount(server: DovecotServer, login: string): number {
  if (server.separator !== '.') throw new Error('maildirInboxCount reads the Maildir++ layout of a \'.\'-separator server');
  let count = 0;
  for (const sub of ['cur', 'new']) {
    try {
      count += readdirSync(path.join(server.mailDir(login), sub)).length;
    } catch {
      // not created before the first delivery
    }
  }
  return count;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value other than undefined, or throws after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
