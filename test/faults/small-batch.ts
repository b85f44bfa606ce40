// A small batch for the state-file and bad-input rounds: fresh users on a shared Dovecot pair
// (so rounds never see each other's mail), a few dozen seeded messages each, the CSV and
// `batch create`. Everything random comes from the round's SeededRandom, so a round replays.

import path from 'node:path';
import {SeededRandom} from '../../bench/seeded-random.js';
import type {DovecotServer} from '../helpers/dovecot-pair.js';
import {buildMessage, seedMailbox, type SeedMessage} from '../helpers/seed-mailbox.js';
import {pairCreateArgs, targetAdminEnv, writeMigrationCsv, type CsvRow} from '../helpers/batch-fixture.js';
import {describeResult, runMailferry} from '../helpers/mailferry-process.js';
import {startDovecotPair} from '../helpers/dovecot-pair.js';
import {makeWorkDir, removeWorkDir} from '../helpers/batch-fixture.js';
import type {CheckedMailbox} from './exact-check.js';
import {emptyRound, roundSeed, type RoundResult, type ScenarioOptions} from './round-result.js';

export interface Pair {
  source: DovecotServer;
  target: DovecotServer;
}

export interface SmallBatch {
  name: string;
  stateDir: string;
  csv: string;
  rows: CsvRow[];
  mailboxes: CheckedMailbox[];
  env: Record<string, string>;
  /** The source passwords, labelled for findSecrets. */
  secrets: Record<string, string>;
}

const FOLDERS = ['INBOX', 'Projects', 'Projects/2025', '\\Sent'];

function password(random: SeededRandom, label: string): string {
  return `${label}-${random.int(100_000, 999_999)}-${random.int(100_000, 999_999)}`;
}

/** Users `${prefix}a`, `${prefix}b` on the source and target, seeded, with a created batch. */
export async function createSmallBatch(pair: Pair, work: string, prefix: string, random: SeededRandom, options: {mailboxes?: number} = {}): Promise<SmallBatch> {
  const rows: CsvRow[] = [];
  const mailboxes: CheckedMailbox[] = [];
  const secrets: Record<string, string> = {};
  const count = options.mailboxes ?? 2;
  for (let i = 0; i < count; i++) {
    const login = `${prefix}${String.fromCharCode(97 + i)}`;
    const email = `${login}@example.test`;
    const sourcePassword = password(random, 'src');
    await pair.source.addUser(login, sourcePassword);
    await pair.target.addUser(email, password(random, 'tgt'));
    const messages: SeedMessage[] = [];
    const total = random.int(12, 24);
    for (let m = 0; m < total; m++) {
      const folder = random.pick(FOLDERS);
      const internalDate = new Date(Date.UTC(2020, 0, 1) + random.int(0, 5 * 365 * 86_400) * 1000);
      const flags = random.chance(0.6) ? ['\\Seen'] : random.chance(0.3) ? ['\\Flagged', 'ProjectX'] : [];
      const raw = buildMessage({subject: `${login} message ${m}`, date: internalDate, seed: random.int(1, 1 << 30), bodyBytes: random.logUniform(300, 40_000)});
      messages.push({folder, raw, flags, internalDate});
    }
    await seedMailbox(pair.source, login, {folders: FOLDERS, messages});
    rows.push({email, user: login, password: sourcePassword});
    mailboxes.push({sourceLogin: login, targetLogin: email});
    secrets[`${login}'s source password`] = sourcePassword;
  }
  const stateDir = path.join(work, `${prefix}-state`);
  const csv = await writeMigrationCsv(path.join(work, `${prefix}.csv`), rows);
  const name = `b${prefix}`;
  return {name, stateDir, csv, rows, mailboxes, env: targetAdminEnv(pair), secrets};
}

/** `batch create` for the batch (extra environment e.g. MAILFERRY_STATE_LAYOUT=single); throws if it fails. */
export async function runBatchCreate(pair: Pair, batch: SmallBatch, env: Record<string, string> = {}): Promise<void> {
  const created = await runMailferry(['batch', 'create', batch.name, '--csv', batch.csv, '--state-dir', batch.stateDir, ...pairCreateArgs(pair)], {env: {...batch.env, ...env}});
  if (created.code !== 0) throw new Error(`batch create ${batch.name} failed:\n${describeResult(created)}`);
}

export function startArgs(batch: SmallBatch): string[] {
  return ['batch', 'start', batch.name, '--state-dir', batch.stateDir];
}

export function statusArgs(batch: SmallBatch): string[] {
  return ['batch', 'status', batch.name, '--state-dir', batch.stateDir];
}

/** A round's error as a problem line rather than a crash of the whole campaign. */
export function problemOf(error: unknown): string {
  return `the round itself failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

/** mailferry output that shows a Node stack trace (an uncaught error reached the user). */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+[(:]\S+:\d+:\d+\)?/.test(text) || /node:internal|Uncaught|TypeError:|ReferenceError:/.test(text);
}

export interface PlayedRound {
  pair: Pair;
  work: string;
  round: number;
  random: SeededRandom;
  result: RoundResult;
  note: (line: string) => void;
}

/**
 * The rounds of a scenario that needs one Dovecot pair and one work directory for all of them:
 * `play` fills in each round's result; a round that throws has the error as its problem.
 */
export async function roundsOnOnePair(scenario: string, options: ScenarioOptions, play: (round: PlayedRound) => Promise<void>): Promise<RoundResult[]> {
  const pair = await startDovecotPair({source: {users: {}}, target: {users: {}, separator: '.', prefix: 'INBOX.'}});
  const work = await makeWorkDir(`faults-${scenario}`);
  const results: RoundResult[] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      const started = Date.now();
      const result = emptyRound(scenario, round, roundSeed(options.seed, round));
      try {
        await play({pair, work, round, random: new SeededRandom(result.seed), result, note: (line) => options.report(`${scenario} round ${round}: ${line}`)});
      } catch (error) {
        result.problems.push(problemOf(error));
      }
      result.seconds = (Date.now() - started) / 1000;
      results.push(result);
    }
  } finally {
    await pair.stop();
    await removeWorkDir(work);
  }
  return results;
}
