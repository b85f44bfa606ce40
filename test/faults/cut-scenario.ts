// Cut rounds: `mailferry batch start` copies three mailboxes through fault proxies in front of the
// source and the target while the proxies cut connections at seeded byte offsets mid-FETCH (the
// source's answers, or the command) and mid-APPEND (the literal on its way, or the answers),
// with FIN or RST, and now and then stall a connection, slow it, or refuse new connections for a
// moment. A round picks (by its seed) a target with LITERAL+ (stream lanes) or one with only
// LITERAL- (the buffered path). One `batch start` must end with every mailbox Synced: mailferry
// reconnects and resumes by itself. Then the exact check.

import {SeededRandom} from '../../bench/seeded-random.js';
import type {ClientView} from '../helpers/client-view.js';
import {startDovecot, type DovecotServer} from '../helpers/dovecot-pair.js';
import {realisticMailbox, seedMailbox} from '../helpers/seed-mailbox.js';
import {removeWorkDir, through} from '../helpers/batch-fixture.js';
import {spawnMailferry} from '../helpers/mailferry-process.js';
import {createRoundBatch, roundVerdict, type SourceMailbox} from './campaign-batch.js';
import {startFaultProxy, type ConnectionFault, type FaultProxy} from './fault-proxy.js';
import {processListSnapshot} from './secret-scan.js';
import {roundSeed, type RoundResult, type Scenario} from './round-result.js';

const SOURCES = [
  {login: 'cora', password: 'cut-cora-Pw81', seed: 51, largeMessageBytes: 3_000_000},
  {login: 'cyril', password: 'cut-cyril-Pw82', seed: 52, largeMessageBytes: 0},
  {login: 'cleo', password: 'cut-cleo-Pw83', seed: 53, largeMessageBytes: 1_200_000},
];

type Side = 'source' | 'target';

/** Three mailboxes at a time, endless lines among the faults: memory must stay well under this. */
const PEAK_RSS_LIMIT_KIB = 400 * 1024;

/** One seeded fault for a connection to `side`. */
function drawFault(random: SeededRandom, side: Side): ConnectionFault {
  const armOn = side === 'source' ? 'BODY.PEEK[' : 'APPEND ';
  const during = side === 'source' ? 'mid-FETCH' : 'mid-APPEND';
  if (random.chance(0.05)) {
    // The answer to a FETCH or an APPEND is a line without end: the session must give up at its
    // line limit, in bounded memory, and the mailbox carry on over a new one.
    return {label: `endless line ${side}->client ${during}`, action: 'endless', direction: 'to-client', armOn, afterBytes: 0};
  }
  const pick = random.next();
  const action: ConnectionFault['action'] = pick < 0.4 ? 'rst' : pick < 0.8 ? 'fin' : pick < 0.9 ? 'stall' : 'slow';
  // The source's bodies flow to the client, the target's to the server; the other direction
  // (a FETCH command, an APPEND's tagged answers) is cut less often.
  const main = side === 'source' ? 'to-client' : 'to-server';
  const direction = random.chance(0.8) ? main : main === 'to-client' ? 'to-server' : 'to-client';
  const arrow = direction === 'to-client' ? `${side}->client` : `client->${side}`;
  return {
    label: `${action === 'stall' || action === 'slow' ? action : `cut ${action}`} ${arrow} ${during}`,
    action,
    direction,
    armOn,
    afterBytes: random.logUniform(8, direction === main ? 4_000_000 : 4_000),
    stallMs: random.int(500, 4_000),
    bytesPerSecond: random.int(100_000, 1_000_000),
  };
}

/** A plan that gives connections faults until `budget` of them have fired on `proxy`. */
function budgetPlan(random: SeededRandom, side: Side, budget: number, proxy: () => FaultProxy | undefined) {
  return () => {
    const fired = Object.values(proxy()?.stats().fired ?? {}).reduce((a, b) => a + b, 0);
    return fired < budget ? drawFault(random, side) : undefined;
  };
}

async function startServers(): Promise<{source: DovecotServer; lanes: DovecotServer; buffered: DovecotServer; stop(): Promise<void>}> {
  const users = Object.fromEntries(SOURCES.map((s) => [s.login, s.password]));
  const [source, lanes, buffered] = await Promise.all([
    startDovecot({role: 'source', users}),
    startDovecot({role: 'target', separator: '.', prefix: 'INBOX.'}),
    startDovecot({role: 'target', extraConfig: 'imap_literal_minus = yes'}),
  ]);
  return {source, lanes, buffered, stop: async () => void (await Promise.all([source.stop(), lanes.stop(), buffered.stop()]))};
}

export const runCutScenario: Scenario = async ({rounds, seed, report}) => {
  const servers = await startServers();
  const results: RoundResult[] = [];
  try {
    const sources: SourceMailbox[] = [];
    const sourceViews = new Map<string, ClientView>();
    for (const spec of SOURCES) {
      const mailbox = realisticMailbox({seed: spec.seed, largeMessageBytes: spec.largeMessageBytes});
      await seedMailbox(servers.source, spec.login, mailbox);
      sources.push({login: spec.login, password: spec.password, messages: mailbox.messages.length});
    }
    for (let round = 0; round < rounds; round++) {
      const started = Date.now();
      const thisSeed = roundSeed(seed, round);
      const random = new SeededRandom(thisSeed);
      const buffered = random.chance(0.5);
      const target = buffered ? servers.buffered : servers.lanes;
      const pair = {source: servers.source, target};
      const sides = random.pick<Side[]>([['source'], ['target'], ['source', 'target']]);
      let sourceProxy: FaultProxy | undefined;
      let targetProxy: FaultProxy | undefined;
      const budget = (side: Side) => (sides.includes(side) ? random.int(1, 3) : 0);
      sourceProxy = await startFaultProxy({upstreamPort: servers.source.imapPort, plan: budgetPlan(random, 'source', budget('source'), () => sourceProxy)});
      targetProxy = await startFaultProxy({upstreamPort: target.imapPort, plan: budgetPlan(random, 'target', budget('target'), () => targetProxy)});
      const reach = {source: through(servers.source, sourceProxy.port), target: through(target, targetProxy.port)};
      const batch = await createRoundBatch(pair, reach, sources, `cut${round}`);
      const problems: string[] = [];
      let output = '';
      try {
        const child = spawnMailferry(batch.startArgs, {env: batch.env, timeoutMs: 300_000});
        // The process list while the batch runs: the secret scan reads it with the output.
        const processes = child.waitForLine(/Syncing|Synced/, 120_000).then(processListSnapshot, () => '');
        // A refusal now and then, as from a server that restarts: new connections fail for a while.
        const refusals: Promise<void>[] = [];
        if (random.chance(0.25)) {
          const proxy = random.chance(0.5) ? sourceProxy : targetProxy;
          const side = proxy === sourceProxy ? 'source' : 'target';
          const at = random.int(200, 2_500);
          const length = random.int(300, 2_500);
          // Half of them also reset the open connections: the server restarted.
          const dropOpen = random.chance(0.5);
          const label = dropOpen ? `restart ${side} (reset all, refuse new)` : `refuse new ${side} connections`;
          refusals.push(new Promise((resolve) => setTimeout(resolve, at)).then(() => proxy.refuse(length, label, {dropOpen})));
        }
        // VmHWM is a high-water mark: the last reading before the exit is the run's peak.
        let peakKiB = 0;
        const watch = setInterval(() => (peakKiB = Math.max(peakKiB, child.peakRssKiB() ?? 0)), 100);
        const ended = await child.exited;
        clearInterval(watch);
        if (peakKiB > PEAK_RSS_LIMIT_KIB) problems.push(`batch start peaked at ${Math.round(peakKiB / 1024)} MB of memory, over ${PEAK_RSS_LIMIT_KIB / 1024} MB`);
        await Promise.all(refusals);
        output = `${ended.stdout}${ended.stderr}\n${await processes}`;
        if (ended.code !== 0) problems.push(`batch start exited ${ended.code ?? ended.signal}; its last lines:\n${ended.stdout.split('\n').slice(-8).join('\n')}\n${ended.stderr.slice(-2000)}`);
      } finally {
        await sourceProxy.stop();
        await targetProxy.stop();
      }
      const faults: Record<string, number> = {};
      for (const proxy of [sourceProxy, targetProxy]) for (const [kind, count] of Object.entries(proxy.stats().fired)) faults[kind] = (faults[kind] ?? 0) + count;
      const result = await roundVerdict(pair, batch, {scenario: buffered ? 'cut (buffered path)' : 'cut (lanes)', round, seed: thisSeed, started, faults, problems, output, sourceViews});
      results.push(result);
      report(`${result.scenario} round ${round} seed ${thisSeed}: ${result.problems.length || result.lost || result.duplicated ? 'FAILED' : 'ok'}, faults ${JSON.stringify(faults)}, ${result.seconds.toFixed(1)} s`);
      if (result.problems.length === 0 && result.lost === 0 && result.duplicated === 0) await removeWorkDir(batch.work);
      else report(`  kept ${batch.work} for a look`);
    }
  } finally {
    await servers.stop();
  }
  return results;
};
