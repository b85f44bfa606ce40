// What the restart and disk-full rounds share: seeded mailboxes on a Dovecot pair, one batch
// created through the CLI, `batch start` run again as an admin would after a failed run, and the
// state read back as the round's Failed mailboxes and problems.

import {readdirSync, statSync} from 'node:fs';
import path from 'node:path';
import {SeededRandom} from '../../bench/seeded-random.js';
import {formatError} from '../../source/imap/imap-error.js';
import {makeWorkDir, pairCreateArgs, readBatchState, targetAdminEnv, writeMigrationCsv, type CsvRow, type PairLike} from '../helpers/batch-fixture.js';
import type {DovecotServer} from '../helpers/dovecot-pair.js';
import {describeResult, runMailferry, type MailferryResult} from '../helpers/mailferry-process.js';
import {buildMessage, EMPTY_FOLDER, realisticMailbox, type SeedMessage, type SeedSpec} from '../helpers/seed-mailbox.js';
import {findSecrets} from './secret-scan.js';
import type {FailedMailbox} from './round-result.js';

export interface RoundMailbox extends CsvRow {
  /** The seeded mail, to size a round's fault moment or a quota. */
  spec: SeedSpec;
}

/** A message of 1-5 MB (a base64 attachment) in one of `folders`. */
export function largeMessage(random: SeededRandom, folders: readonly string[]): SeedMessage {
  const serial = random.int(1, 1_000_000_000);
  const total = random.int(1_000_000, 5_000_000);
  return {
    folder: random.pick(folders),
    // base64 grows the attachment by 4/3 plus line ends; totalBytes pads the rest exactly.
    raw: buildMessage({subject: `Large attachment ${serial}`, seed: serial, attachmentBytes: Math.floor(((total - 4096) * 3) / 4 / 78 * 76), totalBytes: total}),
    flags: random.chance(0.5) ? ['\\Seen'] : [],
    internalDate: new Date(Date.UTC(2020, 0, 1) + random.int(0, 5 * 365) * 86_400_000),
  };
}

/** New mail for an incremental pass: a few small messages and a large one, in existing folders. */
export function newMail(random: SeededRandom, folders: readonly string[]): SeedMessage[] {
  const messages: SeedMessage[] = [];
  for (let i = random.int(5, 20); i > 0; i--) {
    const serial = random.int(1, 1_000_000_000);
    messages.push({
      folder: random.pick(folders),
      raw: buildMessage({subject: `Arrived after the first pass ${serial}`, seed: serial, bodyBytes: random.logUniform(300, 60_000)}),
      flags: random.chance(0.5) ? ['\\Seen'] : [],
      internalDate: new Date(Date.UTC(2025, 6, 1) + random.int(0, 100) * 86_400_000),
    });
  }
  messages.push(largeMessage(random, folders));
  return messages;
}

/** One realistic mailbox plus `large` messages of 1-5 MB spread over its folders. */
export function seededSpec(random: SeededRandom, large: number): SeedSpec {
  const spec = realisticMailbox({seed: random.int(1, 1_000_000)});
  const folders = spec.folders.filter((folder) => folder !== EMPTY_FOLDER);
  for (let i = 0; i < large; i++) spec.messages.push(largeMessage(random, folders));
  return spec;
}

/** `count` mailboxes: source login `PREFIXn`, target `PREFIXn@example.test`, seeded passwords. */
export function roundMailboxes(random: SeededRandom, prefix: string, count: number, large: () => number): RoundMailbox[] {
  return Array.from({length: count}, (_, i) => ({
    email: `${prefix}${i}@example.test`,
    user: `${prefix}${i}`,
    password: `pw-${prefix}${i}-${random.int(100_000, 999_999)}`,
    spec: seededSpec(random, large()),
  }));
}

/** Every directory of a user's Maildir (either layout) with the given name: cur, new or tmp. */
export function maildirSubdirs(server: DovecotServer, login: string, names: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, {withFileTypes: true});
    } catch {
      return; // not created yet
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const sub = path.join(dir, entry.name);
      if (names.includes(entry.name)) found.push(sub);
      else if (!['cur', 'new', 'tmp'].includes(entry.name)) walk(sub);
    }
  };
  walk(server.mailDir(login));
  return found;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // removed while we looked
  }
}

/** Messages stored in a user's Maildir (either layout), counted on disk: cheap enough to poll while a copy runs. */
export function maildirMessageCount(server: DovecotServer, login: string): number {
  return maildirSubdirs(server, login, ['cur', 'new']).reduce((sum, dir) => sum + safeList(dir).length, 0);
}

/** The largest message Dovecot is still receiving for a user (its file in a tmp/ directory), in bytes. */
export function largestPartialAppend(server: DovecotServer, login: string): number {
  let largest = 0;
  for (const dir of maildirSubdirs(server, login, ['tmp'])) {
    for (const name of safeList(dir)) {
      try {
        largest = Math.max(largest, statSync(path.join(dir, name)).size);
      } catch {
        // renamed into new/ while we looked
      }
    }
  }
  return largest;
}

export interface RoundBatch {
  name: string;
  work: string;
  stateDir: string;
  env: Record<string, string>;
  startArgs: string[];
}

/** `batch create` for the pair and the mailboxes, in a new work directory. */
export async function createRoundBatch(pair: PairLike, label: string, mailboxes: readonly CsvRow[], extraArgs: string[] = []): Promise<RoundBatch> {
  const work = await makeWorkDir(label);
  const stateDir = path.join(work, 'state');
  const name = label;
  const env = targetAdminEnv(pair);
  const csv = await writeMigrationCsv(path.join(work, `${label}.csv`), mailboxes);
  const created = await runMailferry(['batch', 'create', name, '--csv', csv, '--state-dir', stateDir, ...pairCreateArgs(pair), ...extraArgs], {env});
  if (created.code !== 0) throw new Error(`batch create failed:\n${describeResult(created)}`);
  return {name, work, stateDir, env, startArgs: ['batch', 'start', name, '--state-dir', stateDir]};
}

/** Runs the command (`batch start` unless told) again after a run that did not exit 0, as an admin would, at most `reruns` more times. */
export async function rerunUntilDone(batch: RoundBatch, first: MailferryResult, reruns: number, timeoutMs: number, args: readonly string[] = batch.startArgs): Promise<MailferryResult[]> {
  const runs = [first];
  while (runs.at(-1)!.code !== 0 && runs.length <= reruns) runs.push(await runMailferry(args, {env: batch.env, timeoutMs}));
  return runs;
}

export interface MailboxOutcomes {
  failed: FailedMailbox[];
  problems: string[];
}

/**
 * Each mailbox's end as the state on disk has it: Failed ones with mailferry's reason (expected
 * when `expectFailed` says so), any other status than `wanted` and any message listed as failed
 * as problems.
 */
export async function mailboxOutcomes(batch: RoundBatch, wanted: string, expectFailed: (email: string) => boolean = () => false): Promise<MailboxOutcomes> {
  const state = await readBatchState(batch.stateDir, batch.name);
  const outcomes: MailboxOutcomes = {failed: [], problems: []};
  for (const mailbox of Object.values(state.mailboxes)) {
    const email = mailbox.identity.emailAddress;
    if (mailbox.status === 'Failed') {
      const reason = mailbox.error ? `${mailbox.error.kind}: ${formatError(mailbox.error)}` : 'Failed without an error in the state';
      outcomes.failed.push({mailbox: email, reason, expected: expectFailed(email)});
    } else if (mailbox.status !== wanted) {
      outcomes.problems.push(`${email} ended ${mailbox.status}, not ${wanted}`);
    }
    for (const item of mailbox.failed) outcomes.problems.push(`${email}: ${item.folder} UID ${item.uid} listed as failed: ${item.reason}`);
  }
  return outcomes;
}

/** The round's passwords anywhere in the state directory (state, log) or in what the runs printed. */
export async function leakedPasswords(batch: RoundBatch, pair: PairLike, mailboxes: readonly CsvRow[], runs: readonly MailferryResult[]): Promise<string[]> {
  const secrets: Record<string, string> = {'the target admin password': pair.target.masterPassword};
  for (const mailbox of mailboxes) secrets[`${mailbox.user}'s source password`] = mailbox.password;
  const texts: Record<string, string> = {};
  runs.forEach((run, i) => {
    texts[`run ${i + 1} stdout`] = run.stdout;
    texts[`run ${i + 1} stderr`] = run.stderr;
  });
  return (await findSecrets(secrets, {dirs: [batch.stateDir], texts})).map((found) => `password leaked: ${found}`);
}

/** "exit 1, exit 0": how the runs of `batch start` ended. */
export function exitsText(runs: readonly MailferryResult[]): string {
  return runs.map((run) => `exit ${run.code ?? run.signal}`).join(', ');
}
