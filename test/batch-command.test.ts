// `mailferry batch ...` as scripts and cron use it: usage errors, list/status output, remove's
// confirmation, a command from a second process reaching a running `start` (the command
// directory beside the state file), the run lock, and the exit codes 0/1/2/3/4.
// Usage and listing run in this process through runBatchCommand; everything about processes runs
// the real CLI as child processes.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {chmod} from 'node:fs/promises';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {startSlowLink, withSlowTarget} from './helpers/slow-link.js';
import type {DelayProxy} from '../bench/delay-proxy.js';
import {buildMessage, readMailbox, realisticMailbox, seedMailbox, type SeedSpec} from './helpers/seed-mailbox.js';
import {compareMailboxes, expectedTargetFolder, folderCounts} from './helpers/compare-mailboxes.js';
import {buildMailferry, describeResult, runMailferry as runSource, spawnMailferry as spawnSource, type CompiledMailferry, type MailferryOptions} from './helpers/mailferry-process.js';
import {
  captureIo,
  folderMessageCount,
  makeWorkDir,
  pairCreateArgs,
  readBatchState,
  removeWorkDir,
  stateFile,
  targetAdminEnv,
  waitFor,
  writeMigrationCsv,
} from './helpers/batch-fixture.js';

const PASSWORDS = {big: 'cmd-big-pw1', small: 'cmd-small-pw2'} as const;
const BIG_MESSAGES = 1000;

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let slowLink: DelayProxy | undefined;
let work: string | undefined;
let stateDir = '';
let env: Record<string, string> = {};
let compiled: CompiledMailferry | undefined;

// Child processes run the compiled CLI (as installed): a second command must start within a
// fraction of a second while the first is still copying, which tsx's start-up would not allow.
const runMailferry = (args: string[], options: MailferryOptions = {}) => runSource(args, {...options, compiledCli: compiled!.cli});
const spawnMailferry = (args: string[], options: MailferryOptions = {}) => spawnSource(args, {...options, compiledCli: compiled!.cli});

function bulkMailbox(count: number, bytes: number): SeedSpec {
  return {
    folders: ['INBOX'],
    messages: Array.from({length: count}, (_, i) => ({
      folder: 'INBOX',
      raw: buildMessage({subject: `Bulk ${i}`, seed: 50_000 + i, attachmentBytes: Math.floor((bytes * 3) / 4)}),
      internalDate: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
    })),
  };
}

/** `args` with the value of `flag` replaced. */
function withFlag(args: string[], flag: string, value: string): string[] {
  const copy = [...args];
  copy[copy.indexOf(flag) + 1] = value;
  return copy;
}

/** runBatchCommand in this process, with --state-dir. */
async function batch(args: string[], dir = stateDir): Promise<{code: number; stdout: string; stderr: string}> {
  const capture = captureIo();
  const code = await runBatchCommand([...args, '--state-dir', dir], capture.io);
  return {code, stdout: capture.stdout(), stderr: capture.stderr()};
}

/** A batch from CSV rows `source user -> target login`; the big mailbox copies over one connection so it runs long enough to act on. */
async function createBatch(name: string, rows: {user: keyof typeof PASSWORDS; target: string; password?: string}[]): Promise<void> {
  const csv = await writeMigrationCsv(
    path.join(work!, `${name}.csv`),
    rows.map((row) => ({email: row.target, user: row.user, password: row.password ?? PASSWORDS[row.user]})),
  );
  // Through a slow link: big must still be copying when the tests stop or kill it.
  const result = await batch(['create', name, '--csv', csv, ...pairCreateArgs(withSlowTarget(pair!, slowLink!)), '--append-connections', '1']);
  assert.equal(result.code, 0, result.stderr);
}

async function assertExactCopy(sourceUser: string, targetLogin: string): Promise<void> {
  const mapFolder = (p: string) => expectedTargetFolder(pair!.source, pair!.target, p);
  const source = await readMailbox(pair!.source, sourceUser);
  const target = await readMailbox(pair!.target, targetLogin);
  assert.deepEqual(compareMailboxes(source, target, {mapFolder}), [], `${targetLogin}: source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
}

describe('mailferry batch commands', {timeout: 180_000}, () => {
  before(async () => {
    const targets = ['big@example.test', 'small@example.test', 'big.term@example.test', 'small.busy@example.test', 'small.fail@example.test', 'small.list@example.test'];
    pair = await startDovecotPair({
      source: {users: PASSWORDS},
      target: {users: Object.fromEntries(targets.map((login) => [login, `tgt-${login.length}`]))},
    });
    compiled = await buildMailferry();
    slowLink = await startSlowLink(pair.target);
    env = targetAdminEnv(pair);
    Object.assign(process.env, env);
    work = await makeWorkDir('batch-command');
    stateDir = path.join(work, 'state');
    await Promise.all([seedMailbox(pair.source, 'big', bulkMailbox(BIG_MESSAGES, 20_000)), seedMailbox(pair.source, 'small', realisticMailbox({seed: 51}))]);
  });

  after(async () => {
    for (const name of Object.keys(env)) delete process.env[name];
    await slowLink?.stop();
    await pair?.stop();
    await removeWorkDir(work);
    await compiled?.remove();
  });

  it('answers wrong usage with exit code 2 and a message saying what to do', async () => {
    const csv = await writeMigrationCsv(path.join(work!, 'usage.csv'), [{email: 'small@example.test', user: 'small', password: PASSWORDS.small}]);
    const cases: [string[], RegExp][] = [
      [[], /Usage/],
      [['frobnicate', 'x'], /unknown action "frobnicate"/],
      [['start'], /needs the batch NAME/],
      [['create', 'x'], /needs --csv FILE/],
      [['status', 'x', 'extra'], /unexpected argument "extra"/],
      [['start', 'x', '--bogus-flag'], /unknown option --bogus-flag/],
      [['create', 'x', '--csv', csv, ...pairCreateArgs(pair!), '--max-concurrent', '0'], /--max-concurrent must be a whole number/],
      [['create', 'x', '--csv', csv, ...withFlag(pairCreateArgs(pair!), '--source-security', 'bogus')], /--source-security must be none, starttls or tls/],
      [['create', 'x', '--csv', csv, ...pairCreateArgs(pair!), '--target-security', 'tls'], /target-?security.*once/i],
      [['create', 'x', '--csv', csv, ...pairCreateArgs(pair!), '--max-message-size', '12XB'], /not a size/],
      // A bare number is refused rather than guessed (the settings form refuses it too).
      [['create', 'x', '--csv', csv, ...pairCreateArgs(pair!), '--interval', '90'], /--interval "90" is not a duration.*24h/],
      [['create', 'x', '--csv', csv, ...pairCreateArgs(pair!), '--interval', '0m'], /--interval "0m" is not a duration/],
    ];
    // Every case is run before asserting, so one failure does not hide the others.
    const wrong: string[] = [];
    for (const [args, message] of cases) {
      // A state directory of their own: a case that wrongly succeeds must not disturb the other tests.
      const result = await batch(args, path.join(work!, 'usage-state')).catch((error: unknown) => ({code: 'threw', stdout: '', stderr: `runBatchCommand threw: ${String(error)}`}));
      const output = (result.stdout + result.stderr).trim();
      if (result.code !== 2 || !message.test(output)) wrong.push(`batch ${args.join(' ')}: exit ${result.code}, expected 2 and ${message}; printed: ${output.split('\n')[0]}`);
    }
    assert.deepEqual(wrong, []);
    // The exit code reaches the shell from the real CLI too (run from source here).
    const child = await runSource(['batch', 'frobnicate', 'x', '--state-dir', stateDir]);
    assert.equal(child.code, 2, describeResult(child));
    assert.match(child.stderr, /unknown action/);
  });

  it('lists batches and prints status as lines and as JSON', async () => {
    const empty = await batch(['list']);
    assert.equal(empty.code, 0);
    assert.match(empty.stdout, /no batches in/);

    await createBatch('listed', [{user: 'small', target: 'small.list@example.test'}]);
    const list = await batch(['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^listed\t1 mailbox\(es\)\tQueued 1/m);
    const listJson = JSON.parse((await batch(['list', '--json'])).stdout) as {stateDir: string; batches: {name: string; mailboxes: number; counts: Record<string, number>}[]};
    assert.equal(listJson.stateDir, stateDir);
    assert.deepEqual(listJson.batches.map((b) => [b.name, b.mailboxes, b.counts['Queued']]), [['listed', 1, 1]]);

    const status = await batch(['status', 'listed', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as {batch: string; runningPid: number | null; mailboxes: {emailAddress: string; status: string; itemsCopied: number}[]};
    assert.equal(parsed.batch, 'listed');
    assert.equal(parsed.runningPid, null);
    assert.deepEqual(parsed.mailboxes.map((m) => [m.emailAddress, m.status, m.itemsCopied]), [['small.list@example.test', 'Queued', 0]]);

    const missing = await batch(['status', 'nosuchbatch']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nosuchbatch/);
  });

  it('remove refuses without --yes (exit 2, state kept) and deletes only the state with it', async () => {
    const refused = await batch(['remove', 'listed']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--yes/);
    assert.ok(existsSync(stateFile(stateDir, 'listed')), 'the state file is still there');
    const removed = await batch(['remove', 'listed', '--yes']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.ok(!existsSync(stateFile(stateDir, 'listed')), 'the state file is gone');
    assert.doesNotMatch((await batch(['list'])).stdout, /^listed/m);
  });

  it('stop, resume and complete from other processes reach a running start --follow; a second start leaves it alone', async (t) => {
    await createBatch('cross', [
      {user: 'big', target: 'big@example.test'},
      {user: 'small', target: 'small@example.test'},
    ]);
    // --follow keeps the first process running after its passes, so the commands below reach a
    // running process however fast the copy is.
    const first = spawnMailferry(['batch', 'start', 'cross', '--follow', '--state-dir', stateDir], {env, timeoutMs: 90_000});
    const bigLines = () => first.stdout.split('\n').filter((line) => line.includes(' big@example.test '));
    try {
      await first.waitForLine(/following batch cross \((Queued|Starting|Syncing) \d/);
      await first.waitForLine(/big@example\.test Starting -> Syncing/);
      const [second, status] = await Promise.all([
        runMailferry(['batch', 'start', 'cross', '--state-dir', stateDir], {env}),
        runMailferry(['batch', 'status', 'cross', '--json', '--state-dir', stateDir]),
      ]);
      // The exit code itself is the next test's subject.
      assert.notEqual(second.code, 0, describeResult(second));
      assert.match(second.stderr, /already being run by process \d+/);
      assert.equal((JSON.parse(status.stdout) as {runningPid: number | null}).runningPid, first.pid);

      const stop = await runMailferry(['batch', 'stop', 'cross', '--mailbox', 'big@example.test', '--state-dir', stateDir], {env});
      assert.equal(stop.code, 0, describeResult(stop));
      assert.match(stop.stdout, /stopped big@example\.test/);
      const stopped = await first.waitForLine(/big@example\.test (Stopping|Synced) -> Stopped/);
      const copiedAtStop = await folderMessageCount(pair!.target, 'big@example.test', 'INBOX');
      t.diagnostic(`big@example.test ${stopped.split(' ').slice(2).join(' ')} with ${copiedAtStop} of ${BIG_MESSAGES} messages copied`);
      await first.waitForLine(/small@example\.test Syncing -> Synced/);
      assert.equal((await readBatchState(stateDir, 'cross')).mailboxes['big@example.test']!.status, 'Stopped');

      const resume = await runMailferry(['batch', 'resume', 'cross', '--mailbox', 'big@example.test', '--state-dir', stateDir], {env});
      assert.equal(resume.code, 0, describeResult(resume));
      assert.match(resume.stdout, /resume sent to the running process/);
      await waitFor('big Synced again after the resume', () => (/-> Synced$/.test(bigLines().at(-1) ?? '') && bigLines().some((l) => l.endsWith('Stopped -> Queued')) ? true : undefined));

      const syncNowAt = Date.now();
      const syncNow = await runMailferry(['batch', 'sync-now', 'cross', '--state-dir', stateDir], {env});
      assert.equal(syncNow.code, 0, describeResult(syncNow));
      assert.match(syncNow.stdout, /sync-now sent to the running process/);
      await first.waitForLine(/big@example\.test incremental pass done: 0 copied/);
      await first.waitForLine(/small@example\.test incremental pass done: 0 copied/);
      // The running process records both passes (the last one to finish writes for both).
      await waitFor('both incremental passes on disk', async () => {
        const {mailboxes} = await readBatchState(stateDir, 'cross');
        return Object.values(mailboxes).every((m) => m.status === 'Synced' && Date.parse(m.stats.lastSyncedAt ?? '') >= syncNowAt) ? true : undefined;
      });

      const complete = await runMailferry(['batch', 'complete', 'cross', '--state-dir', stateDir], {env});
      assert.equal(complete.code, 0, describeResult(complete));
      assert.match(complete.stdout, /complete sent to the running process/);
    } catch (error) {
      first.kill('SIGKILL');
      throw error;
    }
    const result = await first.exited;
    assert.equal(result.code, 0, describeResult(result));
    assert.match(result.stdout, /big@example\.test Completing -> Completed/);
    assert.match(result.stdout, /small@example\.test Completing -> Completed/);
    const state = await readBatchState(stateDir, 'cross');
    assert.ok(state.completedAt, 'the batch is marked completed');
    await assertExactCopy('big', 'big@example.test');
    await assertExactCopy('small', 'small@example.test');
  });

  it('a second start of a batch that another process runs exits 4 (busy) and leaves the run alone', async () => {
    await createBatch('busy', [{user: 'small', target: 'small.busy@example.test'}]);
    const first = spawnMailferry(['batch', 'start', 'busy', '--follow', '--state-dir', stateDir], {env, timeoutMs: 60_000});
    try {
      await first.waitForLine(/small\.busy@example\.test Queued -> Starting/);
      const second = await runMailferry(['batch', 'start', 'busy', '--state-dir', stateDir], {env});
      assert.match(second.stderr, /already being run by process \d+/);
      assert.equal(second.code, 4, describeResult(second));
      assert.ok(!first.hasExited, 'the first process still runs');
    } finally {
      first.kill('SIGTERM');
      await first.exited;
    }
  });

  it('SIGTERM stops start cleanly with exit 3 and a resumable state', async () => {
    await createBatch('term', [{user: 'big', target: 'big.term@example.test'}]);
    // big's 20 MB take seconds through the slow link, so it is still copying when SIGTERM comes.
    const child = spawnMailferry(['batch', 'start', 'term', '--state-dir', stateDir], {env, timeoutMs: 120_000});
    await child.waitForLine(/big\.term@example\.test Starting -> Syncing/);
    child.kill('SIGTERM');
    const result = await child.exited;
    assert.equal(result.code, 3, describeResult(result));
    assert.match(result.stdout, /SIGTERM: stopping mailboxes and saving state/);
    const state = await readBatchState(stateDir, 'term');
    assert.equal(state.mailboxes['big.term@example.test']!.status, 'Queued', 'an interrupted first pass is queued again, not left Syncing');
    assert.ok(!existsSync(path.join(stateDir, 'batches', 'term.lock')), 'the run lock was released');

    const again = await runMailferry(['batch', 'start', 'term', '--state-dir', stateDir], {env, timeoutMs: 120_000});
    assert.equal(again.code, 0, describeResult(again));
    await assertExactCopy('big', 'big.term@example.test');
  });

  it('warns when other users can read the CSV that holds the passwords, at create and at every start', async () => {
    const csv = await writeMigrationCsv(path.join(work!, 'shared.csv'), [{email: 'small.fail@example.test', user: 'small', password: 'cmd-wrong-pw'}]);
    await chmod(csv, 0o644);
    const warning = `warning: The migration CSV ${csv} holds passwords and can be read by every user on this machine (mode 0644); restrict it with: chmod 600 ${csv}`;
    const created = await batch(['create', 'shared', '--csv', csv, ...pairCreateArgs(pair!)]);
    assert.equal(created.code, 0, created.stderr);
    assert.ok(created.stderr.includes(warning), created.stderr);
    // The wrong password makes the run short; the warning comes before it, as a JSON record with --json.
    const started = await batch(['start', 'shared', '--json']);
    assert.equal(started.code, 1, started.stderr);
    assert.deepEqual(JSON.parse(started.stdout.split('\n')[0]!), {warning: warning.slice('warning: '.length)});
    await chmod(csv, 0o600);
    const again = await batch(['start', 'shared']);
    assert.ok(!again.stderr.includes('warning'), again.stderr);
  });

  it('exits 1 when a mailbox failed, and status says so with the reason', async () => {
    await createBatch('fail', [{user: 'small', target: 'small.fail@example.test', password: 'cmd-wrong-pw'}]);
    const start = await runMailferry(['batch', 'start', 'fail', '--state-dir', stateDir], {env});
    assert.equal(start.code, 1, describeResult(start));
    assert.match(start.stdout, /small\.fail@example\.test \w+ -> Failed/);
    assert.ok(!start.stdout.includes('cmd-wrong-pw') && !start.stderr.includes('cmd-wrong-pw'), 'the password is not printed');
    const status = await batch(['status', 'fail']);
    assert.equal(status.code, 1);
    assert.match(status.stdout, /small\.fail@example\.test\tFailed/);
  });
});
