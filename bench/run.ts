// `npm run bench`: mailferry, mbsync and doveadm backup copy the same corpus between two loopback
// Dovecot instances, one after another and 4 mailboxes at a time, without and with 25 ms of delay
// each way in front of the target and then the source; plus a no-change rerun per tool, the
// drain/absorb ceiling and a memory run. Every run is verified. See bench/README.md.
//
//   npm run bench -- --preset quick|standard [--only mailferry,mbsync,doveadm,ceiling,memory]
//                    [--seed N] [--repeat N] [--no-latency] [--mode parallel|sequential] [--timeout-s N]
//                    [--keep-work] [--profile]
//   npm run bench -- --scale N   (only the scale scenario: bench/scale/, bench/RESULTS-scale.md)

import {execFileSync, spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {dovecotPaths} from '../test/helpers/dovecot-config.js';
import {startDovecot, type DovecotServer} from '../test/helpers/dovecot-pair.js';
import {summarise} from './cpu-profile-summary.js';
import {PASSWORD_ENV} from './ceiling.js';
import {ensureCorpus, MEMORY_CORPUS, PRESETS, type Corpus, type CorpusMailbox, type PresetName} from './corpus.js';
import {loadCorpus} from './corpus-loader.js';
import {chooseTargetStorage, type TargetStorage} from './target-storage.js';
import {spawnDelayProxy, type DelayProxyProcess} from './delay-proxy.js';
import {loadAverage, machineLines} from './machine-info.js';
import {processCpu} from './process-cpu.js';
import {describeFailure, GNU_TIME, killAllMeasured, medianMeasured, runMeasured, type Measured} from './measure.js';
import {evaluateTargets, NO_CHANGE_RUNNING, renderReport, resultsTable, type CeilingRow, type Latency, type ResultRow} from './results-report.js';
import {doveadmRunner} from './runners/doveadm.js';
import {mailferryRunner, MAILFERRY_BIN} from './runners/mailferry.js';
import {mbsyncRunner} from './runners/mbsync.js';
import {turnOrder, type Mode, type RunSpec, type ToolRunner} from './runners/tool-runner.js';
import {spotCheck, verifyCounts} from './verify.js';
import {scaleMain} from './scale/scale-main.js';

const BENCH_DIR = import.meta.dirname;
const WORK_DIR = join(BENCH_DIR, '.work');
const PARALLEL = 4;
const DELAY_MS = 25;
const MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;
const MEMORY_MODE = '20 at once, 30 MB msgs';
const NO_CHANGE_ROUNDS = 5;
const RUNNERS: ToolRunner[] = [mailferryRunner, mbsyncRunner, doveadmRunner];

interface Options {
  preset: PresetName;
  seed: number;
  only: Set<string>;
  repeat: number;
  latency: boolean;
  timeoutS?: number;
  keepWork: boolean;
  /** Keep target servers on disk even when RAM could hold them (see target-storage.ts). */
  targetOnDisk: boolean;
  /** Run mailferry under --cpu-prof and summarise where its time went (slows it a little). */
  profile: boolean;
  profileRoot: string;
  /** Which of parallel and sequential to run (both unless --mode narrows it). */
  modes: Mode[];
  /** --scale N: run only the scale scenario with N mailboxes. */
  scale?: number;
  /** --scale-layout single|default: only that state layout (both by default). */
  scaleLayouts?: Array<'single' | 'default'>;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    preset: 'quick', seed: 42, only: new Set(), repeat: 1, latency: true, keepWork: false, targetOnDisk: false,
    profile: false, profileRoot: join(WORK_DIR, `profiles-${process.pid}`), modes: ['parallel', 'sequential'],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--preset') {
      const preset = value();
      if (preset !== 'quick' && preset !== 'standard') throw new Error(`--preset must be quick or standard, not ${preset}`);
      options.preset = preset;
    } else if (arg === '--only') {
      for (const name of value().split(',')) {
        if (!['mailferry', 'mbsync', 'doveadm', 'ceiling', 'memory'].includes(name)) {
          throw new Error(`--only takes mailferry, mbsync, doveadm, ceiling, memory (comma separated), not ${name}`);
        }
        options.only.add(name);
      }
    } else if (arg === '--seed') options.seed = Number(value());
    else if (arg === '--repeat') options.repeat = Math.max(1, Number(value()));
    else if (arg === '--no-latency') options.latency = false;
    else if (arg === '--timeout-s') options.timeoutS = Number(value());
    else if (arg === '--keep-work') options.keepWork = true;
    else if (arg === '--target-on-disk') options.targetOnDisk = true;
    else if (arg === '--profile') options.profile = true;
    else if (arg === '--scale') options.scale = Number(value());
    else if (arg === '--scale-layout') {
      const layout = value();
      if (layout !== 'single' && layout !== 'default') throw new Error(`--scale-layout must be single or default, not ${layout}`);
      options.scaleLayouts = [layout];
    }
    else if (arg === '--mode') {
      const mode = value();
      if (mode !== 'parallel' && mode !== 'sequential') throw new Error(`--mode must be parallel or sequential, not ${mode}`);
      options.modes = [mode];
    }
    else throw new Error(`unknown option ${arg}; see bench/README.md`);
  }
  return options;
}

const log = (line: string) => process.stdout.write(`${line}\n`);

// --- what must exist before anything starts ------------------------------------------------

function missingTools(): string[] {
  const have = (name: string) => spawnSync('sh', ['-c', `command -v ${name} || test -x /usr/sbin/${name}`], {stdio: 'ignore'}).status === 0;
  return [...['dovecot', 'doveadm', 'mbsync', 'openssl'].filter((name) => !have(name)), ...(existsSync(GNU_TIME) ? [] : [GNU_TIME])];
}

function ensureTools(): void {
  const missing = missingTools();
  if (!missing.length) return;
  log(`missing ${missing.join(', ')}: running bench/bootstrap.sh`);
  const result = spawnSync('bash', [join(BENCH_DIR, 'bootstrap.sh')], {stdio: 'inherit'});
  const still = missingTools();
  if (result.status !== 0 || still.length) {
    throw new Error(`bench/bootstrap.sh could not install ${still.join(', ') || 'the tools'}; install dovecot-imapd, isync and time, then run the bench again`);
  }
}

function ensureMailferryBuilt(): void {
  if (!existsSync(resolve(BENCH_DIR, '..', 'dist', 'cli.js'))) {
    throw new Error('mailferry is not built (dist/cli.js missing): run `npm run bench`, which builds first, or `npm run build`');
  }
  execFileSync(process.execPath, [MAILFERRY_BIN, 'batch', '--help'], {stdio: 'ignore', timeout: 30_000});
}

// --- cleanup that also runs on Ctrl-C --------------------------------------------------------

const servers = new Set<DovecotServer>();
const proxies = new Set<DelayProxyProcess>();
/** Per-run configs and sync state (they hold the run's passwords): removed on exit and Ctrl-C. */
const disposableDirs = new Set<string>();

/** Set once the corpus is known (see target-storage.ts). */
let targetStorage: TargetStorage = {description: 'not chosen yet'};

async function startServer(role: 'source' | 'target'): Promise<DovecotServer> {
  const server = await startDovecot({role, ...(role === 'target' && targetStorage.parentDir ? {parentDir: targetStorage.parentDir} : {})});
  servers.add(server);
  return server;
}

async function stopServer(server: DovecotServer): Promise<void> {
  servers.delete(server);
  await server.stop();
}

function installSignalHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      log(`\n${signal}: stopping every tool, proxy and Dovecot the bench started`);
      killAllMeasured();
      for (const proxy of proxies) void proxy.stop();
      for (const dir of disposableDirs) rmSync(dir, {recursive: true, force: true});
      // dovecot-pair.ts kills its instances and removes their directories on exit.
      process.exit(130);
    });
  }
}

// --- one measured scenario -------------------------------------------------------------------

function secret(): string {
  return `bench-${randomBytes(12).toString('hex')}`;
}

function totals(mailboxes: CorpusMailbox[]): {messages: number; bytes: number} {
  return {messages: mailboxes.reduce((n, m) => n + m.messageCount, 0), bytes: mailboxes.reduce((n, m) => n + m.bytes, 0)};
}

function timeoutFor(mailboxes: CorpusMailbox[], options: Options): number {
  // Generous: 2 minutes plus 1 s per MB, so only a hung tool is ever killed.
  return (options.timeoutS ?? 120 + totals(mailboxes).bytes / 1e6) * 1000;
}

interface Scenario {
  tool: ToolRunner;
  mode: Mode;
  modeLabel?: string;
  latency: Latency;
  concurrency: number;
  corpus: Corpus;
  mailboxes: CorpusMailbox[];
  noChange: boolean;
}

async function verifyRun(target: DovecotServer, scenario: Scenario): Promise<string[]> {
  const problems: string[] = [];
  for (const mailbox of scenario.mailboxes) {
    problems.push(...(await verifyCounts(target, mailbox)).problems);
    problems.push(...spotCheck(target, scenario.corpus, mailbox, scenario.tool.deviations).problems);
  }
  return problems;
}

/** CPU seconds (user, system) of a Dovecot: its master and its ended child processes (imap, auth...). */
function serverCpuSeconds(server: DovecotServer): {user: number; system: number} {
  try {
    if (server.pid === undefined) throw new Error('not running');
    const cpu = processCpu(server.pid);
    return {user: cpu.user + cpu.childrenUser, system: cpu.system + cpu.childrenSystem};
  } catch {
    return {user: Number.NaN, system: Number.NaN};
  }
}

/** "2.4 s (1.1 system)". */
function cpuSince(server: DovecotServer, before: {user: number; system: number}): string {
  const now = serverCpuSeconds(server);
  const system = now.system - before.system;
  return `${(now.user - before.user + system).toFixed(1)} s (${system.toFixed(1)} system)`;
}

/** IMAP logins a server has logged so far: the connections a tool opened, for the notes. */
function loginCount(server: DovecotServer): number {
  try {
    return readFileSync(dovecotPaths(server.dir).log, 'latin1').match(/imap-login: (?:Info: )?Login: /g)?.length ?? 0;
  } catch {
    return 0;
  }
}

function rowFrom(scenario: Scenario, mode: string, measured: Measured, moved: boolean, problems: string[], extraNotes: string[]): ResultRow {
  const failure = describeFailure(measured);
  const {messages, bytes} = totals(scenario.mailboxes);
  return {
    tool: scenario.tool.name,
    mode,
    latency: scenario.latency,
    wallSeconds: measured.wallSeconds,
    messages: moved ? messages : 0,
    bytes: moved ? bytes : 0,
    peakRssBytes: measured.peakRssBytes || undefined,
    cpuSeconds: measured.cpuSeconds,
    verified: !failure && problems.length === 0,
    notes: [
      ...(failure ? [failure] : []),
      ...problems.slice(0, 5),
      ...(problems.length > 5 ? [`... and ${problems.length - 5} more verification problems`] : []),
      ...extraNotes,
    ],
  };
}

async function runOnce(scenario: Scenario, options: Options, runDir: string): Promise<ResultRow[]> {
  const source = sourceServer!;
  const target = await startServer('target');
  let proxy: DelayProxyProcess | undefined;
  try {
    for (const mailbox of scenario.mailboxes) await target.addUser(mailbox.login, secret());
    const delayed = scenario.latency === 'target +25 ms' ? target : scenario.latency === 'source +25 ms' ? source : undefined;
    if (delayed) {
      proxy = await spawnDelayProxy(delayed.imapPort, DELAY_MS, 4 * 3600);
      proxies.add(proxy);
    }
    const via = (server: DovecotServer) => ({host: server.host, port: server === delayed ? proxy!.port : server.imapPort});
    const workDir = join(runDir, `${scenario.tool.name}-${scenario.mode}-${scenario.latency.replace(/\W+/g, '')}-${Date.now()}`);
    mkdirSync(workDir, {recursive: true, mode: 0o700});
    const spec: RunSpec = {
      mode: scenario.mode,
      concurrency: scenario.concurrency,
      mailboxes: scenario.mailboxes,
      source: via(source),
      target: via(target),
      sourceServer: source,
      targetServer: target,
      workDir,
      timeoutMs: timeoutFor(scenario.mailboxes, options),
      ...(options.profile && scenario.tool.name === 'mailferry' ? {profileDir: join(options.profileRoot, workDir.split('/').pop()!)} : {}),
    };
    const sourceLoginsBefore = loginCount(source);
    const sourceCpuBefore = serverCpuSeconds(source);
    const targetCpuBefore = serverCpuSeconds(target);
    const measured = await scenario.tool.fullSync(spec);
    const notes = [`IMAP logins: ${loginCount(source) - sourceLoginsBefore} on the source, ${loginCount(target)} on the target`];
    // Server processes of the run have ended (clients logged out) once their master reaped them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    notes.push(`server CPU: ${cpuSince(source, sourceCpuBefore)} source, ${cpuSince(target, targetCpuBefore)} target`);
    if (spec.profileDir) notes.push(...profileNotes(spec.profileDir));
    if (proxy) {
      proxies.delete(proxy);
      const stats = await proxy.stop();
      proxy = undefined;
      if (stats) notes.push(`${stats.connections} connections through the delay proxy, at most ${stats.maxConcurrentConnections} at once`);
    }
    const rows = [rowFrom(scenario, scenario.modeLabel ?? scenario.mode, measured, true, await verifyRun(target, scenario), notes)];
    if (scenario.noChange && rows[0]!.verified) {
      // A pass that takes a tenth of a second is at the mercy of the scheduler: the median of several.
      const reruns: Measured[] = [];
      for (let round = 0; round < NO_CHANGE_ROUNDS; round++) reruns.push(await scenario.tool.noChangeSync(spec));
      rows.push(rowFrom(scenario, 'no-change', medianMeasured(reruns), false, await verifyRun(target, scenario), [roundsNote(reruns)]));
      if (scenario.tool.noChangeInRunningProcess) {
        const passes = await scenario.tool.noChangeInRunningProcess(spec, NO_CHANGE_ROUNDS);
        rows.push(rowFrom(scenario, NO_CHANGE_RUNNING, medianMeasured(passes), false, await verifyRun(target, scenario), [roundsNote(passes)]));
      }
    }
    return rows;
  } finally {
    if (proxy) {
      proxies.delete(proxy);
      await proxy.stop();
    }
    await stopServer(target);
  }
}

function roundsNote(runs: Measured[]): string {
  return `${runs.length} runs: ${runs.map((run) => run.wallSeconds.toFixed(3)).join(', ')} s; the median is shown`;
}

/** Prints the summary of the profile a profiled run left, and names it in the notes. */
function profileNotes(dir: string): string[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  return files.map((file) => {
    const path = join(dir, file);
    log(summarise(JSON.parse(readFileSync(path, 'utf8')), 15).replace(/^/gm, '      '));
    return `CPU profile: ${path}`;
  });
}

/** Runs scenarios `repeat` times, taking turns and rotating who goes first (A B C, B C A, C A B:
 *  not A A A B B B, and not always A first, so a slow phase of the machine, or the first run after
 *  a pause paying for fresh memory, hits every tool alike), and keeps each one's fastest verified
 *  attempt (the least disturbed by whatever else this machine was doing). */
async function runScenarios(scenarios: Scenario[], options: Options, runDir: string): Promise<ResultRow[]> {
  const best: (ResultRow[] | undefined)[] = scenarios.map(() => undefined);
  for (let attempt = 1; attempt <= options.repeat; attempt++) {
    for (const index of turnOrder(scenarios.length, attempt)) {
      const scenario = scenarios[index]!;
      const label = `${scenario.tool.name} ${scenario.modeLabel ?? scenario.mode} ${scenario.latency}`;
      log(`- ${label}${options.repeat > 1 ? ` (attempt ${attempt}/${options.repeat})` : ''} ...`);
      const rows = await runOnce(scenario, options, runDir);
      for (const row of rows) {
        const rate = row.messages ? `, ${(row.messages / row.wallSeconds).toFixed(0)} msg/s` : '';
        log(`    ${row.mode}: ${row.wallSeconds.toFixed(2)} s${rate}, ${row.verified ? 'verified' : 'NOT VERIFIED'}`);
        for (const note of row.notes) log(`      ${note}`);
      }
      const kept = best[index];
      if (!kept || (rows[0]!.verified && (!kept[0]!.verified || rows[0]!.wallSeconds < kept[0]!.wallSeconds))) best[index] = rows;
    }
  }
  return best.flatMap((rows) => rows!);
}

// --- the ceiling -----------------------------------------------------------------------------

async function runCeilingPart(
  kind: 'drain' | 'absorb',
  server: DovecotServer,
  corpus: Corpus,
  mailboxes: CorpusMailbox[],
  connectionsPerMailbox: number,
  options: Options,
): Promise<CeilingRow> {
  const measured = await runMeasured(
    process.execPath,
    [
      '--import', import.meta.resolve('tsx'), join(BENCH_DIR, 'ceiling.ts'), kind,
      '--host', server.host, '--port', String(server.imapPort), '--login-suffix', `${server.masterSeparator}${server.masterUser}`,
      '--corpus', corpus.dir, '--mailboxes', mailboxes.map((m) => m.login).join(','),
      '--concurrency', String(PARALLEL), '--connections-per-mailbox', String(connectionsPerMailbox),
    ],
    {label: `ceiling ${kind}`, timeoutMs: timeoutFor(mailboxes, options), env: {...process.env, [PASSWORD_ENV]: server.masterPassword}},
  );
  const failure = describeFailure(measured);
  if (failure) throw new Error(`the ceiling measurement failed: ${failure}`);
  const result = JSON.parse(measured.outputTail.trim().split('\n').pop()!) as {messages: number; bytes: number; seconds: number};
  const {messages} = totals(mailboxes);
  if (result.messages !== messages) throw new Error(`ceiling ${kind}: moved ${result.messages} messages, expected ${messages}`);
  const connections = `${mailboxes.length * connectionsPerMailbox} (${connectionsPerMailbox}/mailbox)`;
  log(`    ${kind} over ${connections}: ${result.seconds.toFixed(2)} s, ${(result.messages / result.seconds).toFixed(0)} msg/s, ${(result.bytes / 1e6 / result.seconds).toFixed(0)} MB/s`);
  return {kind, connections, ...result, peakRssBytes: measured.peakRssBytes, cpuSeconds: measured.cpuSeconds};
}

async function runCeiling(corpus: Corpus, options: Options): Promise<CeilingRow[]> {
  log('- ceiling (drain the source, absorb into an empty target) ...');
  const mailboxes = corpus.manifest.mailboxes;
  const rows = [await runCeilingPart('drain', sourceServer!, corpus, mailboxes, 1, options)];
  for (const connectionsPerMailbox of [1, 3]) {
    const target = await startServer('target');
    try {
      for (const mailbox of mailboxes) await target.addUser(mailbox.login, secret());
      rows.push(await runCeilingPart('absorb', target, corpus, mailboxes, connectionsPerMailbox, options));
      for (const mailbox of mailboxes) {
        const result = await verifyCounts(target, mailbox);
        if (!result.ok) throw new Error(`ceiling absorb did not store the corpus: ${result.problems.join('; ')}`);
      }
    } finally {
      await stopServer(target);
    }
  }
  return rows;
}

/** The fastest measurement of each ceiling kind and connection count. */
function bestCeilings(rows: CeilingRow[]): CeilingRow[] {
  const best = new Map<string, CeilingRow>();
  for (const row of rows) {
    const key = `${row.kind} ${row.connections}`;
    const seen = best.get(key);
    if (!seen || row.seconds < seen.seconds) best.set(key, row);
  }
  return [...best.values()];
}

// --- the whole run ---------------------------------------------------------------------------

let sourceServer: DovecotServer | undefined;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const wants = (name: string) => options.only.size === 0 || options.only.has(name);
  installSignalHandlers();
  ensureTools();
  if (options.scale !== undefined) {
    ensureMailferryBuilt();
    if (!(await scaleMain(options.scale, WORK_DIR, options.keepWork, log, options.scaleLayouts))) process.exitCode = 1;
    return;
  }
  if (wants('mailferry') || wants('memory')) ensureMailferryBuilt();
  const loadAtStart = loadAverage();
  const started = new Date();

  const corpus = ensureCorpus(PRESETS[options.preset], options.seed, WORK_DIR, log);
  const memoryCorpus = wants('memory') ? ensureCorpus(MEMORY_CORPUS, options.seed, WORK_DIR, log) : undefined;
  const runDir = join(WORK_DIR, `runs-${process.pid}`);
  mkdirSync(runDir, {recursive: true, mode: 0o700});
  if (!options.keepWork) disposableDirs.add(runDir);

  targetStorage = chooseTargetStorage(Math.max(corpus.manifest.bytes, memoryCorpus?.manifest.bytes ?? 0), options.targetOnDisk);
  log(targetStorage.description);
  log('starting the source Dovecot and loading the corpus ...');
  sourceServer = await startServer('source');
  await loadCorpus(sourceServer, corpus, secret());
  if (memoryCorpus) await loadCorpus(sourceServer, memoryCorpus, secret());
  // The first reader of a freshly indexed source pays for Dovecot filling its cache file and the
  // kernel its page cache (source CPU 3.6-4.0 s instead of 1.0-1.4 s for the same corpus): read
  // everything once, unmeasured, so that cost does not fall on whichever tool happens to go first.
  log('warming the source (one unmeasured read of the corpus) ...');
  await runCeilingPart('drain', sourceServer, corpus, corpus.manifest.mailboxes, 1, options);
  if (memoryCorpus) await runCeilingPart('drain', sourceServer, memoryCorpus, memoryCorpus.manifest.mailboxes, 1, options);

  const rows: ResultRow[] = [];
  let ceiling: CeilingRow[] = [];
  const versions = new Map<string, string>();
  try {
    if (wants('ceiling')) ceiling = await runCeiling(corpus, options);
    const tools = RUNNERS.filter((runner) => wants(runner.name));
    for (const tool of tools) versions.set(tool.name, await tool.version());
    const latencies: Latency[] = options.latency ? ['loopback', 'target +25 ms', 'source +25 ms'] : ['loopback'];
    const mailboxes = corpus.manifest.mailboxes;
    for (const latency of latencies) {
      for (const mode of options.modes) {
        // The tools of one latency and mode take turns, attempt by attempt.
        const scenarios: Scenario[] = [];
        for (const tool of tools) {
          const delayed = latency === 'target +25 ms' ? 'target' : latency === 'source +25 ms' ? 'source' : undefined;
          const notApplicable = delayed && tool.notApplicable?.(delayed);
          if (notApplicable) continue;
          scenarios.push({
            tool, mode, latency, corpus, mailboxes,
            concurrency: mode === 'parallel' ? PARALLEL : 1,
            noChange: latency === 'loopback' && mode === 'parallel',
          });
        }
        rows.push(...(await runScenarios(scenarios, options, runDir)));
      }
    }
    // The machine's load drifts over a long run: measure the ceiling again at the end and keep
    // the best of each, so the share is not taken against a ceiling from a busier moment.
    if (wants('ceiling') && options.repeat > 1) {
      for (let attempt = 2; attempt <= options.repeat; attempt++) ceiling = bestCeilings([...ceiling, ...(await runCeiling(corpus, options))]);
    }
    if (memoryCorpus) {
      versions.set('mailferry', await mailferryRunner.version());
      rows.push(
        ...(await runScenarios(
          [{
            tool: mailferryRunner, mode: 'parallel', modeLabel: MEMORY_MODE, latency: 'loopback', corpus: memoryCorpus,
            mailboxes: memoryCorpus.manifest.mailboxes, concurrency: memoryCorpus.manifest.mailboxes.length, noChange: false,
          }],
          {...options, repeat: 1},
          runDir,
        )),
      );
    }
  } finally {
    await stopServer(sourceServer);
    if (!options.keepWork) rmSync(runDir, {recursive: true, force: true});
  }

  const m = corpus.manifest;
  const preamble = [
    `Measured ${started.toISOString().replace(/\.\d+Z$/, 'Z')} with \`npm run bench -- ${process.argv.slice(2).join(' ') || '--preset quick'}\`.`,
    '',
    `- Corpus: preset \`${options.preset}\`, seed ${options.seed}: ${m.mailboxes.length} mailboxes × ${m.spec.messagesPerMailbox} messages ` +
      `= ${m.messageCount} messages, ${(m.bytes / 1e6).toFixed(0)} MB, ${m.mailboxes[0]!.folders.length} folders per mailbox ` +
      '(nested, international names, flags and keywords).' +
      (memoryCorpus
        ? ` Memory run: ${memoryCorpus.manifest.mailboxes.length} mailboxes × ${memoryCorpus.manifest.spec.messagesPerMailbox + 1} messages, ` +
          `each with a ${((memoryCorpus.manifest.spec.hugeMessageBytes ?? 0) / 2 ** 20).toFixed(0)} MiB message as its newest, ` +
          `${(memoryCorpus.manifest.bytes / 1e6).toFixed(0)} MB.`
        : ''),
    ...(await machineLines()),
    ...[...versions.values()].map((v) => `- ${v}`),
    `- Storage: ${targetStorage.description}. The source's mail is on disk (hard links into the corpus cache).`,
    `- Load average (1/5/15 min) at start: ${loadAtStart}; at end: ${loadAverage()}. ` +
      'Other work on this machine shows up as noise; compare ratios from the same run.',
    '- The scale scenario (10,000 mailboxes in one batch, `npm run bench -- --scale N`) has its own file: [RESULTS-scale.md](RESULTS-scale.md).',
    ...(options.repeat > 1
      ? [`- Each scenario ran ${options.repeat} times, the tools taking turns attempt by attempt, each attempt started by the next tool; the fastest verified attempt is shown. The ceiling was measured at the start and again at the end; the best of each is shown.`]
      : []),
  ];
  const report = renderReport(
    {title: 'mailferry benchmark results', preamble, rows, ceiling, footnotes: FOOTNOTES},
    evaluateTargets(rows, MEMORY_MODE, MEMORY_LIMIT_BYTES),
  );
  // Only the whole matrix replaces RESULTS.md; a filtered run must not overwrite it with a part.
  const complete = options.only.size === 0 && options.latency && !options.profile && options.modes.length === 2;
  const reportPath = complete ? join(BENCH_DIR, 'RESULTS.md') : join(WORK_DIR, `RESULTS-partial-${started.toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(reportPath, report);
  log('');
  log(resultsTable(rows));
  log('');
  log(report.slice(report.indexOf('## Ceiling') >= 0 ? report.indexOf('## Ceiling') : report.indexOf('## Targets')));
  log(`written to ${reportPath}${complete ? '' : ' (a filtered or profiled run does not replace bench/RESULTS.md)'}`);
  if (rows.some((row) => !row.verified)) process.exitCode = 1;
}

const FOOTNOTES = [
  'wall s: from the first process start to the last exit. messages/s and MB/s: the corpus moved divided by wall time ' +
    '(bytes as stored on the source, CRLF line ends, i.e. RFC822.SIZE). No-change rows move nothing, so only their time counts.',
  'peak RSS: the tool process\'s maximum resident set (GNU time). Where a tool runs one process per mailbox (mbsync, ' +
    'doveadm in parallel mode) it is the sum of the peaks of the processes that ran at once, an upper bound. CPU s: user + ' +
    'system time of the tool\'s processes, not of the Dovecot servers.',
  'verified: every folder on the target holds exactly the source\'s message count (and no other folder holds mail), and a ' +
    'byte-level spot check of at least 4 messages per folder (always including the largest) matches content, flags, ' +
    'keywords and internal date. Tolerated, because documented: mbsync (isync 1.4) adds an X-TUID header and does not ' +
    'carry keywords.',
  `latency: a userspace delay proxy (bench/delay-proxy.ts) adds ${DELAY_MS} ms each way (${2 * DELAY_MS} ms round trip) ` +
    'in front of the target or the source; the kernel has no netem.',
  'doveadm backup writes the target\'s Maildir itself rather than APPENDing over IMAP, so the target-delay rows have no ' +
    'doveadm entry, and its CPU includes storage work that the IMAP tools leave to the target server.',
  'no-change: 5 reruns with nothing new on the source, the median shown. no-change, running batch: mailferry\'s incremental ' +
    'pass as it runs it, inside one `batch start --follow` process, asked 5 times by the command file `batch sync-now` ' +
    'writes; each timed from that file to the state file showing every mailbox Synced again; CPU s per pass, peak RSS of ' +
    'the running process. The plain no-change row is a new process each time (Node\'s start and module loading included).',
  'sequential: mailferry --max-concurrent 1 and `mbsync -a` (one process each), doveadm one process per mailbox in turn. ' +
    'parallel: 4 mailboxes at once: mailferry --max-concurrent 4 (one process), 4 mbsync / doveadm processes.',
  'The ceiling: a minimal pipelined IMAP client (bench/ceiling.ts) drains the source (UID FETCH BODY.PEEK[] of everything, ' +
    'discarded) and fills an empty target (LITERAL+ APPENDs of the corpus files); a copier cannot beat the slower side.',
];

main().catch((error: unknown) => {
  killAllMeasured();
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
