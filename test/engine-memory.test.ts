// Peak memory of `mailferry batch start` migrating 20 mailboxes at once, several of them holding
// 30 MB messages, measured as the child's VmHWM (peak resident set) from /proc and held to a bound.
// Once against a target with LITERAL+, where the stream lanes carry bodies piece by piece; once
// against the same Dovecot without it, where every body goes the buffered way (imapflow fetches
// each body whole into a Buffer, which a raw APPEND connection then writes) and only the engine's
// byte budget and sliced fetches keep memory bounded. A memory bound, not a timing assertion.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startDovecot, startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {readMailbox, realisticMailbox, seedMailbox, serverCapabilities} from './helpers/seed-mailbox.js';
import {compareMailboxes, expectedTargetFolder, folderCounts, messageCount} from './helpers/compare-mailboxes.js';
import {buildMailferry, describeResult, runMailferry, spawnMailferry, type CompiledMailferry} from './helpers/mailferry-process.js';
import {makeWorkDir, pairCreateArgs, passFinishedLines, readBatchState, removeWorkDir, targetAdminEnv, writeMigrationCsv} from './helpers/batch-fixture.js';

const MAILBOXES = 20;
const LARGE_BYTES = 30 * 1024 * 1024;
/** Mailboxes (by index) that hold one 30 MB message each. */
const WITH_LARGE = new Set([0, 5, 10, 15]);
const PEAK_RSS_LIMIT_MIB = 256;
const user = (i: number) => `user${String(i).padStart(2, '0')}`;
const email = (i: number) => `${user(i)}@example.test`;
const password = (i: number) => `mem-pw-${i}-x7`;

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
/** The target's twin without LITERAL+: no stream lanes, so the buffered path copies everything. */
let bufferedTarget: DovecotServer | undefined;
let work: string | undefined;
let stateDir = '';
let compiled: CompiledMailferry | undefined;

const RUNS = [
  {what: 'stream lanes (target with LITERAL+)', batch: 'mem', pair: () => pair!},
  {what: 'buffered path (target without LITERAL+)', batch: 'mem-buffered', pair: () => ({source: pair!.source, target: bufferedTarget!})},
];

describe('engine memory against real Dovecot', {timeout: 240_000}, () => {
  before(async () => {
    const indexes = Array.from({length: MAILBOXES}, (_, i) => i);
    const target = {users: Object.fromEntries(indexes.map((i) => [email(i), `tgt-${i}`])), separator: '.', prefix: 'INBOX.'} as const;
    [pair, bufferedTarget] = await Promise.all([
      startDovecotPair({source: {users: Object.fromEntries(indexes.map((i) => [user(i), password(i)]))}, target}),
      startDovecot({...target, role: 'target', extraConfig: 'imap_literal_minus = yes'}),
    ]);
    const capabilities = await serverCapabilities(bufferedTarget, email(0));
    assert.ok(!capabilities.includes('LITERAL+'), `the buffered-path target lacks LITERAL+: ${capabilities.join(' ')}`);
    // Compiled JavaScript, as installed: the tsx loader alone adds some 35 MiB to the figure.
    compiled = await buildMailferry();
    work = await makeWorkDir('memory');
    stateDir = path.join(work, 'state');
    // A few at a time: each seed holds its messages (30 MB for the large ones) in memory.
    for (let i = 0; i < MAILBOXES; i += 5) {
      await Promise.all(
        indexes.slice(i, i + 5).map((n) =>
          seedMailbox(pair!.source, user(n), realisticMailbox({seed: 100 + n, ...(WITH_LARGE.has(n) ? {largeMessageBytes: LARGE_BYTES} : {})})),
        ),
      );
    }
    const csv = await writeMigrationCsv(
      path.join(work, 'mem.csv'),
      indexes.map((i) => ({email: email(i), user: user(i), password: password(i)})),
    );
    for (const run of RUNS) {
      const created = await runMailferry(['batch', 'create', run.batch, '--csv', csv, '--state-dir', stateDir, ...pairCreateArgs(run.pair()), '--max-concurrent', String(MAILBOXES)], {
        env: targetAdminEnv(run.pair()),
      });
      assert.equal(created.code, 0, describeResult(created));
    }
  });

  after(async () => {
    await pair?.stop();
    await bufferedTarget?.stop();
    await removeWorkDir(work);
    await compiled?.remove();
  });

  for (const run of RUNS) it(`${run.what}: keeps peak RSS of 20 concurrent mailboxes with 30 MB messages under ${PEAK_RSS_LIMIT_MIB} MiB, and copies everything`, async (t) => {
    const started = Date.now();
    const child = spawnMailferry(['batch', 'start', run.batch, '--state-dir', stateDir], {env: targetAdminEnv(run.pair()), timeoutMs: 180_000, compiledCli: compiled!.cli});
    let peakKiB = 0;
    // VmHWM only grows, so the last reading before exit is the peak (to within one interval).
    const sampler = setInterval(() => {
      peakKiB = Math.max(peakKiB, child.peakRssKiB() ?? 0);
    }, 20);
    const result = await child.exited;
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.code, 0, describeResult(result));
    assert.ok(peakKiB > 0, 'VmHWM was read at least once');

    const state = await readBatchState(stateDir, run.batch);
    let bytes = 0;
    for (const mailbox of Object.values(state.mailboxes)) for (const folder of Object.values(mailbox.folders)) bytes += folder.bytesDone;
    const copied = passFinishedLines(result.stdout).reduce((sum, line) => sum + line.copied, 0);
    const peakMiB = peakKiB / 1024;
    t.diagnostic(`peak RSS (VmHWM) of mailferry batch start: ${peakMiB.toFixed(1)} MiB (limit ${PEAK_RSS_LIMIT_MIB} MiB; compiled JavaScript, default --in-flight budget)`);
    t.diagnostic(
      `${MAILBOXES} mailboxes, ${copied} messages, ${(bytes / 1048576).toFixed(1)} MB in ${seconds.toFixed(1)} s (process start to exit) = ` +
        `${(copied / seconds).toFixed(1)} msg/s, ${(bytes / 1048576 / seconds).toFixed(2)} MB/s`,
    );
    assert.ok(peakMiB <= PEAK_RSS_LIMIT_MIB, `peak RSS ${peakMiB.toFixed(1)} MiB exceeds ${PEAK_RSS_LIMIT_MIB} MiB`);

    const {source: sourceServer, target: targetServer} = run.pair();
    const mapFolder = (p: string) => expectedTargetFolder(sourceServer, targetServer, p);
    for (let i = 0; i < MAILBOXES; i++) {
      const source = await readMailbox(sourceServer, user(i));
      const target = await readMailbox(targetServer, email(i));
      assert.deepEqual(compareMailboxes(source, target, {mapFolder, metadata: false}), [], `${user(i)}: source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
      if (WITH_LARGE.has(i)) assert.ok([...target.values()].flat().some((m) => m.size >= LARGE_BYTES), `${email(i)} got its 30 MB message`);
      assert.equal(copied > 0 && messageCount(target) > 0, true);
    }
  });
});
