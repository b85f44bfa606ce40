// Kill rounds: `mailferry batch start` copies four mailboxes (several folders each, messages up
// to 30 MB) and is killed with SIGKILL at a seeded moment of the run, once or twice, and started
// again after each kill as a supervisor would. A moment is a share of the bytes the target
// stores for the batch, counted on disk as they arrive (Dovecot's tmp/ files grow while a
// message's literal streams in, so a share can fall inside the 30 MB message); the total comes
// from a clean run the scenario makes first (checked like a round, but not counted as one).
// Some kills land in start-up instead, before the first byte: at a seeded time after the spawn.
// After the final run: every mailbox Synced, `batch report` counts every message once, and the
// exact check finds nothing lost, duplicated or changed.

import {SeededRandom} from '../../bench/seeded-random.js';
import {startDovecotPair} from '../helpers/dovecot-pair.js';
import {realisticMailbox, seedMailbox} from '../helpers/seed-mailbox.js';
import {readdir, stat} from 'node:fs/promises';
import path from 'node:path';
import type {ClientView} from '../helpers/client-view.js';
import type {DovecotServer} from '../helpers/dovecot-pair.js';
import {removeWorkDir, sleep} from '../helpers/batch-fixture.js';
import {runMailferry, spawnMailferry} from '../helpers/mailferry-process.js';
import {createRoundBatch, roundVerdict, type SourceMailbox} from './campaign-batch.js';
import {maildirSubdirs} from './batch-round.js';
import {roundSeed, type RoundResult, type Scenario} from './round-result.js';

const SOURCES = [
  {login: 'kira', password: 'kill-kira-Pw91', seed: 61, scale: 'medium' as const, largeMessageBytes: 30_000_000},
  {login: 'kent', password: 'kill-kent-Pw92', seed: 62, scale: 'medium' as const, largeMessageBytes: 8_000_000},
  {login: 'kato', password: 'kill-kato-Pw93', seed: 63, scale: 'small' as const, largeMessageBytes: 2_000_000},
  {login: 'kyla', password: 'kill-kyla-Pw94', seed: 64, scale: 'small' as const, largeMessageBytes: 0},
];

/** Runs after the last kill before the round counts as not finishing (each a full `batch start`). */
const FINISHING_RUNS = 3;

/** Bytes of the message files (cur/, new/ and the partial ones in tmp/) of `logins` on `server`. */
async function storedBytes(server: DovecotServer, logins: readonly string[]): Promise<number> {
  let total = 0;
  for (const login of logins) {
    for (const dir of maildirSubdirs(server, login, ['cur', 'new', 'tmp'])) {
      for (const name of await readdir(dir).catch(() => [] as string[])) total += (await stat(path.join(dir, name)).catch(() => ({size: 0}))).size;
    }
  }
  return total;
}

export const runKillScenario: Scenario = async ({rounds, seed, report}) => {
  const users = Object.fromEntries(SOURCES.map((s) => [s.login, s.password]));
  const pair = await startDovecotPair({source: {users}, target: {separator: '.', prefix: 'INBOX.'}});
  const results: RoundResult[] = [];
  try {
    const sources: SourceMailbox[] = [];
    for (const spec of SOURCES) {
      const mailbox = realisticMailbox({seed: spec.seed, scale: spec.scale, largeMessageBytes: spec.largeMessageBytes});
      await seedMailbox(pair.source, spec.login, mailbox);
      sources.push({login: spec.login, password: spec.password, messages: mailbox.messages.length});
    }

    // The clean run that tells how many bytes a batch stores on the target.
    const sourceViews = new Map<string, ClientView>();
    const calibration = await createRoundBatch(pair, pair, sources, 'killcal');
    const calibrationStarted = Date.now();
    const clean = await runMailferry(calibration.startArgs, {env: calibration.env, timeoutMs: 300_000});
    const cleanMs = Date.now() - calibrationStarted;
    const totalBytes = await storedBytes(pair.target, calibration.mailboxes.map((m) => m.email));
    const cleanResult = await roundVerdict(pair, calibration, {
      scenario: 'kill', round: -1, seed, started: calibrationStarted, faults: {}, output: clean.stdout + clean.stderr, sourceViews,
      problems: clean.code === 0 ? [] : [`the clean run exited ${clean.code}: ${clean.stderr.slice(-2000)}`],
    });
    if (cleanResult.problems.length || cleanResult.lost || cleanResult.duplicated) {
      throw new Error(`the kill scenario's clean run already fails, so no kill round would mean anything:\n${cleanResult.problems.join('\n')}`);
    }
    await removeWorkDir(calibration.work);
    report(`kill: a clean run stores ${cleanResult.messages} messages, ${(totalBytes / 1e6).toFixed(1)} MB, in ${(cleanMs / 1000).toFixed(1)} s`);

    for (let round = 0; round < rounds; round++) {
      const started = Date.now();
      const thisSeed = roundSeed(seed, round);
      const random = new SeededRandom(thisSeed);
      const kills = random.chance(0.3) ? 2 : 1;
      const batch = await createRoundBatch(pair, pair, sources, `kill${round}`);
      const problems: string[] = [];
      const faults: Record<string, number> = {};
      let output = '';
      const moments: string[] = [];
      const emails = batch.mailboxes.map((m) => m.email);
      let share = 0;
      for (let kill = 0; kill < kills; kill++) {
        const child = spawnMailferry(batch.startArgs, {env: batch.env, timeoutMs: 300_000});
        let moment: string;
        if (random.chance(0.15)) {
          const at = random.int(100, 1_500);
          await Promise.race([sleep(at), child.exited]);
          moment = `${at} ms after the start`;
        } else {
          // A later kill lands further on: the resumed run starts where the first one stopped.
          share = share + random.next() * (1 - share);
          const bytes = Math.round(share * totalBytes);
          while (!child.hasExited && (await storedBytes(pair.target, emails)) < bytes) await sleep(5);
          moment = `${(share * 100).toFixed(1)} % of the bytes stored`;
        }
        if (child.hasExited) {
          moments.push(`${moment} (it finished first)`);
        } else {
          child.kill('SIGKILL');
          faults['kill -9'] = (faults['kill -9'] ?? 0) + 1;
          moments.push(moment);
        }
        const ended = await child.exited;
        output += ended.stdout + ended.stderr;
      }
      let finished = false;
      for (let run = 0; run < FINISHING_RUNS && !finished; run++) {
        const ended = await runMailferry(batch.startArgs, {env: batch.env, timeoutMs: 300_000});
        output += ended.stdout + ended.stderr;
        finished = ended.code === 0;
        if (!finished) problems.push(`batch start after the kill exited ${ended.code ?? ended.signal}: ${ended.stderr.slice(-1500) || ended.stdout.split('\n').slice(-6).join('\n')}`);
      }
      const result = await roundVerdict(pair, batch, {scenario: 'kill', round, seed: thisSeed, started, faults, problems, output, sourceViews});
      results.push(result);
      const verdict = result.problems.length || result.lost || result.duplicated ? 'FAILED' : 'ok';
      report(`kill round ${round} seed ${thisSeed}: ${verdict}, killed at ${moments.join(', ')}, ${result.seconds.toFixed(1)} s`);
      if (verdict === 'ok') await removeWorkDir(batch.work);
      else report(`  kept ${batch.work} for a look`);
    }
  } finally {
    await pair.stop();
  }
  return results;
};
