// A batch of seeded mailboxes migrated by `mailferry batch` between two real Dovecot servers:
// a '/'-separator source with Exchange-style special-use names, and a Courier-style target
// ('INBOX.' prefix, '.' separator) where a master user logs in as each mailbox.
// Every folder is compared on both sides; limits (size, item cap) and a second pass are checked
// against the state file and the report, not just against totals.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFile, readdir, stat} from 'node:fs/promises';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {readMailbox, realisticMailbox, seedMailbox, EMPTY_FOLDER, type SeedSpec} from './helpers/seed-mailbox.js';
import {buildMessage} from './helpers/build-message.js';
import {LANE_ORDER_WINDOW} from '../source/engine/copy/stream-copy.js';
import {compareMailboxes, expectedTargetFolder, folderCounts, listFolders, messageCount, type MailboxContent} from './helpers/compare-mailboxes.js';
import {
  TARGET_ADMIN_ENV,
  captureIo,
  makeWorkDir,
  pairCreateArgs,
  passFinishedLines,
  readBatchState,
  removeWorkDir,
  stateFiles,
  writeMigrationCsv,
} from './helpers/batch-fixture.js';

const SOURCE_PASSWORDS = {alice: 'src-alice-Q7x2rT', bob: 'src-bob-M3k9wP', carol: 'src-carol-Z8v4nL'} as const;
type User = keyof typeof SOURCE_PASSWORDS;
const USERS = Object.keys(SOURCE_PASSWORDS) as User[];
const LARGE_BYTES = 3 * 1024 * 1024;
/** Past twice the copy path's reordering bound, so that a broken order shows in alice's INBOX. */
const EXTRA_INBOX_MESSAGES = 100;
const SPECS: Record<User, SeedSpec> = {
  alice: withExtraInbox(realisticMailbox({seed: 11}), EXTRA_INBOX_MESSAGES),
  bob: realisticMailbox({seed: 12}),
  carol: realisticMailbox({seed: 13, largeMessageBytes: LARGE_BYTES}),
};
const email = (user: string) => `${user}@example.test`;

/** `spec` with `count` more small INBOX messages, one a day from 2020 on. */
function withExtraInbox(spec: SeedSpec, count: number): SeedSpec {
  const extra = Array.from({length: count}, (_, index) => ({
    folder: 'INBOX',
    raw: buildMessage({subject: `Daily digest ${index + 1}`, seed: 77_000 + index, bodyBytes: 600 + ((index * 37) % 900)}),
    flags: index % 3 === 0 ? [] : ['\\Seen'],
    internalDate: new Date(Date.UTC(2020, 0, 1) + index * 86_400_000),
  }));
  return {...spec, messages: [...spec.messages, ...extra]};
}

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let work: string | undefined;
let stateDir = '';
const sourceContent = new Map<User, MailboxContent>();
let firstRun = {code: -1, stdout: '', stderr: '', ms: 0};

function mapFolder(sourcePath: string): string {
  return expectedTargetFolder(pair!.source, pair!.target, sourcePath);
}

async function batch(args: string[]): Promise<{code: number; stdout: string; stderr: string; ms: number}> {
  const capture = captureIo();
  const started = Date.now();
  const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
  return {code, stdout: capture.stdout(), stderr: capture.stderr(), ms: Date.now() - started};
}

async function createBatch(name: string, rows: {user: User; target: string}[], extra: string[] = []): Promise<void> {
  const csv = await writeMigrationCsv(
    path.join(work!, `${name}.csv`),
    rows.map((row) => ({email: row.target, user: row.user, password: SOURCE_PASSWORDS[row.user]})),
  );
  const created = await batch(['create', name, '--csv', csv, ...pairCreateArgs(pair!), ...extra]);
  assert.equal(created.code, 0, `batch create ${name}: ${created.stderr}${created.stdout}`);
}

describe('engine migration against real Dovecot', {timeout: 120_000}, () => {
  before(async () => {
    pair = await startDovecotPair({
      source: {
        users: SOURCE_PASSWORDS,
        specialUse: {'\\Sent': 'Sent Items', '\\Trash': 'Deleted Items', '\\Drafts': 'Drafts', '\\Junk': 'Junk E-mail', '\\Archive': 'Archive'},
      },
      target: {
        users: Object.fromEntries(
          [...USERS.map(email), 'carol.size@example.test', 'bob.cap@example.test'].map((login) => [login, `tgt-${login.length}-unused`]),
        ),
        separator: '.',
        prefix: 'INBOX.',
      },
    });
    process.env[TARGET_ADMIN_ENV] = pair.target.masterPassword;
    work = await makeWorkDir('migration');
    stateDir = path.join(work, 'state');
    await Promise.all(USERS.map((user) => seedMailbox(pair!.source, user, SPECS[user])));
    for (const user of USERS) sourceContent.set(user, await readMailbox(pair.source, user));

    // One APPEND connection per mailbox, so the target's UID order shows the copy order.
    await createBatch('main', USERS.map((user) => ({user, target: email(user)})), ['--append-connections', '1']);
    firstRun = await batch(['start', 'main']);
  });

  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('migrates every mailbox completely: same bytes, flags, internal dates and folder tree', async (t) => {
    assert.equal(firstRun.code, 0, `batch start main:\n${firstRun.stdout}\n${firstRun.stderr}`);
    for (const user of USERS) {
      const source = sourceContent.get(user)!;
      const target = await readMailbox(pair!.target, email(user));
      const problems = compareMailboxes(source, target, {mapFolder});
      assert.deepEqual(problems, [], `${user}: source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
      // The seed's oddities must have been in the comparison, not silently absent from both sides.
      for (const folder of ['INBOX.Entwürfe', 'INBOX.Почта', 'INBOX.日本語', `INBOX.${EMPTY_FOLDER}`, 'INBOX.Projects.2024.Q1', 'INBOX.R&D']) {
        assert.ok(target.has(folder), `${user}: target folder ${folder} exists`);
      }
      assert.equal(target.get(`INBOX.${EMPTY_FOLDER}`)!.length, 0);
    }
    const carolLarge = [...sourceContent.get('carol')!.get('INBOX')!].find((message) => message.size >= LARGE_BYTES);
    assert.ok(carolLarge, 'the 3 MB message is in carol\'s source INBOX');

    // Figures for the lead: messages/s and MB/s of the whole batch on this corpus.
    const state = await readBatchState(stateDir, 'main');
    const bytes = Object.values(state.mailboxes).reduce((sum, mailbox) => sum + Object.values(mailbox.folders).reduce((s, f) => s + f.bytesDone, 0), 0);
    const copied = passFinishedLines(firstRun.stdout).reduce((sum, line) => sum + line.copied, 0);
    assert.equal(copied, USERS.reduce((sum, user) => sum + messageCount(sourceContent.get(user)!), 0));
    t.diagnostic(
      `initial pass of ${USERS.length} mailboxes: ${copied} messages, ${(bytes / 1048576).toFixed(1)} MB in ${(firstRun.ms / 1000).toFixed(1)} s = ` +
        `${(copied / (firstRun.ms / 1000)).toFixed(1)} msg/s, ${(bytes / 1048576 / (firstRun.ms / 1000)).toFixed(2)} MB/s (append-connections 1)`,
    );
    for (const line of passFinishedLines(firstRun.stdout)) t.diagnostic(`${line.emailAddress}: ${line.copied} copied in ${line.seconds} s`);
  });

  it('lands special-use folders in the target\'s own special-use folders (LIST SPECIAL-USE)', async () => {
    const sourceFolders = await listFolders(pair!.source, 'alice');
    const targetFolders = await listFolders(pair!.target, email('alice'));
    const targetByRole = new Map(targetFolders.filter((f) => f.specialUse).map((f) => [f.specialUse!, f.path]));
    const target = await readMailbox(pair!.target, email('alice'));
    const source = sourceContent.get('alice')!;
    let checked = 0;
    for (const folder of sourceFolders.filter((f) => f.specialUse)) {
      const targetPath = targetByRole.get(folder.specialUse!);
      assert.ok(targetPath, `the target advertises a ${folder.specialUse} folder`);
      const sourceHashes = source.get(folder.path)!.map((m) => m.sha256).sort();
      const targetHashes = target.get(targetPath)!.map((m) => m.sha256).sort();
      assert.deepEqual(targetHashes, sourceHashes, `${folder.path} (${folder.specialUse}) -> ${targetPath}`);
      checked++;
    }
    assert.equal(checked, 5, 'Sent, Drafts, Trash, Junk and Archive were all checked');
    assert.ok(!targetFolders.some((f) => /Sent Items|Deleted Items|Junk E-mail/.test(f.path)), `no source special-use names on the target: ${targetFolders.map((f) => f.path).join(', ')}`);
  });

  it('carries subscriptions over (the empty folder stays unsubscribed)', async () => {
    const sourceFolders = await listFolders(pair!.source, 'alice');
    const targetFolders = await listFolders(pair!.target, email('alice'));
    const subscribedOnTarget = new Set(targetFolders.filter((f) => f.subscribed).map((f) => f.path));
    for (const folder of sourceFolders) {
      const targetPath = mapFolder(folder.path);
      assert.equal(subscribedOnTarget.has(targetPath), folder.subscribed, `${folder.path} -> ${targetPath}: subscribed on the source ${folder.subscribed}`);
    }
  });

  // What the copy path promises (stream-copy.ts): one lane appends newest first, but the source
  // may answer pipelined FETCHes out of order, so a message is never appended after one
  // LANE_ORDER_WINDOW or more positions older. Each mailbox here has one lane.
  it('copies newest first: in every target folder no message comes after one LANE_ORDER_WINDOW or more positions older', async (t) => {
    assert.ok(sourceContent.get('alice')!.get('INBOX')!.length > 2 * LANE_ORDER_WINDOW, 'alice\'s INBOX is large enough to show a broken order');
    for (const user of USERS) {
      const target = await readMailbox(pair!.target, email(user));
      let late = 0;
      for (const [folder, source] of sourceContent.get(user)!) {
        const copied = target.get(mapFolder(folder))!;
        assert.equal(copied.length, source.length, `${user} ${folder}: every message copied`);
        // Position 0 is the newest (highest source UID).
        const newestFirst = [...source].sort((a, b) => b.uid - a.uid);
        const position = new Map(newestFirst.map((message, index) => [message.sha256, index]));
        let oldestSoFar = -1;
        for (const message of [...copied].sort((a, b) => a.uid - b.uid)) {
          const at = position.get(message.sha256)!;
          const behind = oldestSoFar - at;
          assert.ok(behind < LANE_ORDER_WINDOW, `${user} ${folder}: source UID ${newestFirst[at]!.uid} was appended after one ${behind} positions older`);
          if (behind > 0) late++;
          oldestSoFar = Math.max(oldestSoFar, at);
        }
      }
      t.diagnostic(`${user}: ${late} messages appended after an older one (the source answered pipelined FETCHes out of order)`);
    }
  });

  it('a second pass appends nothing (APPEND count unchanged) and leaves the target as it was', async () => {
    const before = await readBatchState(stateDir, 'main');
    const run = await batch(['sync-now', 'main']);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const afterState = await readBatchState(stateDir, 'main');
    for (const user of USERS) {
      const key = email(user);
      assert.ok(before.mailboxes[key]!.stats.appendCount > 0, `${user}: the first pass counted its APPENDs`);
      assert.equal(afterState.mailboxes[key]!.stats.appendCount, before.mailboxes[key]!.stats.appendCount, `${user}: APPENDs of the second pass`);
      assert.equal(afterState.mailboxes[key]!.stats.passes, before.mailboxes[key]!.stats.passes + 1, `${user}: a second pass ran`);
      assert.equal(afterState.mailboxes[key]!.status, 'Synced');
    }
    const passes = passFinishedLines(run.stdout);
    assert.equal(passes.length, USERS.length, run.stdout);
    for (const line of passes) assert.equal(line.copied, 0, `${line.emailAddress}: copied in the second pass`);
    const target = await readMailbox(pair!.target, email('carol'));
    assert.deepEqual(compareMailboxes(sourceContent.get('carol')!, target, {mapFolder}), []);
  });

  it('writes the state file with mode 0600 and no password in it or in the log', async () => {
    const written = await stateFiles(stateDir, 'main');
    assert.ok(written.length > 1, 'the mailboxes have their own files');
    for (const name of written) assert.equal((await stat(name)).mode & 0o777, 0o600, `${name} has mode 0600`);
    const secrets = [...Object.values(SOURCE_PASSWORDS), pair!.target.masterPassword];
    // The log only has lines when something happened (a clean run may leave it empty or absent).
    const logs = await readdir(path.join(stateDir, 'logs')).catch(() => [] as string[]);
    const files = [...written, ...logs.map((name) => path.join(stateDir, 'logs', name))];
    for (const name of files) {
      const text = await readFile(name, 'utf8');
      for (const secret of secrets) assert.ok(!text.includes(secret), `${name} contains a password`);
    }
    for (const secret of secrets) assert.ok(!firstRun.stdout.includes(secret) && !firstRun.stderr.includes(secret), 'output contains a password');
  });

  it('report --out writes per-mailbox statistics as CSV and JSON', async () => {
    const out = path.join(work!, 'report');
    const run = await batch(['report', 'main', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const csv = parseReportCsv(await readFile(path.join(out, 'main-mailboxes.csv'), 'utf8'));
    assert.deepEqual(csv.header.slice(0, 7), ['emailAddress', 'userName', 'status', 'itemsTotal', 'itemsCopied', 'itemsSkipped', 'itemsFailed']);
    assert.equal(csv.rows.length, USERS.length);
    const json = JSON.parse(await readFile(path.join(out, 'main-report.json'), 'utf8')) as {
      batch: string;
      mailboxes: {emailAddress: string; status: string; itemsTotal: number; itemsCopied: number; itemsSkipped: number; bytesCopied: number; lastSyncedAt: string}[];
      items: unknown[];
    };
    assert.equal(json.batch, 'main');
    assert.deepEqual(json.items, []);
    for (const user of USERS) {
      const row = json.mailboxes.find((m) => m.emailAddress === email(user));
      assert.ok(row, `${user} in the JSON report`);
      const count = messageCount(sourceContent.get(user)!);
      assert.equal(row.status, 'Synced');
      assert.equal(row.itemsTotal, count);
      assert.equal(row.itemsCopied, count);
      assert.equal(row.itemsSkipped, 0);
      assert.ok(row.lastSyncedAt);
      const csvRow = csv.rows.find((r) => r[0] === email(user));
      assert.ok(csvRow, `${user} in the CSV report`);
      assert.equal(csvRow[2], 'Synced');
      assert.equal(Number(csvRow[4]), count);
    }
    const items = await readFile(path.join(out, 'main-items.csv'), 'utf8');
    assert.equal(items.trim(), 'emailAddress,outcome,folder,uid,count,size,date,subject,reason');
  });

  it('skips a message over --max-message-size with its reason; copied + skipped + failed = source count per folder', async () => {
    await createBatch('size', [{user: 'carol', target: 'carol.size@example.test'}], ['--max-message-size', '1MB']);
    const run = await batch(['start', 'size']);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const source = sourceContent.get('carol')!;
    const large = source.get('INBOX')!.find((message) => message.size >= LARGE_BYTES)!;

    const report = await batch(['report', 'size', '--format', 'json']);
    const built = JSON.parse(report.stdout) as {items: {outcome: string; folder: string; uid: number; size: number; reason: string}[]; mailboxes: {itemsTotal: number; itemsCopied: number; itemsSkipped: number; itemsFailed: number}[]};
    assert.equal(built.items.length, 1, report.stdout);
    const item = built.items[0]!;
    assert.equal(item.outcome, 'skipped');
    assert.equal(item.folder, 'INBOX');
    assert.equal(item.uid, large.uid);
    assert.equal(item.size, large.size);
    assert.match(item.reason, /maximum message size/);
    const row = built.mailboxes[0]!;
    assert.equal(row.itemsCopied + row.itemsSkipped + row.itemsFailed, messageCount(source));
    assert.equal(row.itemsTotal, messageCount(source));
    assert.equal(row.itemsSkipped, 1);

    const target = await readMailbox(pair!.target, 'carol.size@example.test');
    assert.ok(!target.get('INBOX')!.some((message) => message.sha256 === large.sha256), 'the large message is not on the target');
    assert.deepEqual(compareMailboxes(source, target, {mapFolder, notCopied: new Set([large.sha256])}), []);

    const state = await readBatchState(stateDir, 'size');
    const folders = state.mailboxes['carol.size@example.test']!.folders;
    for (const [folder, messages] of source) {
      const checkpoint = folders[folder];
      assert.ok(checkpoint, `${folder} has a checkpoint`);
      assert.equal(checkpoint.doneCount + checkpoint.skipped + checkpoint.failed, messages.length, `${folder}: copied + skipped + failed`);
      assert.equal(checkpoint.doneCount, target.get(mapFolder(folder))!.length, `${folder}: copied count matches the target`);
    }
  });

  it('holds the per-mailbox item cap: exactly --max-items copied (INBOX\'s newest), the rest skipped with the cap reason', async () => {
    await createBatch('cap', [{user: 'bob', target: 'bob.cap@example.test'}], ['--max-items', '10']);
    const run = await batch(['start', 'cap']);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const source = sourceContent.get('bob')!;
    const target = await readMailbox(pair!.target, 'bob.cap@example.test');
    assert.equal(messageCount(target), 10, folderCounts(target));
    const newestInbox = [...source.get('INBOX')!].sort((a, b) => b.uid - a.uid).slice(0, 10).map((m) => m.sha256).sort();
    assert.deepEqual(target.get('INBOX')!.map((m) => m.sha256).sort(), newestInbox);

    const report = JSON.parse((await batch(['report', 'cap', '--format', 'json'])).stdout) as {
      items: {outcome: string; count: number; reason: string}[];
      mailboxes: {itemsCopied: number; itemsSkipped: number; itemsFailed: number; itemsTotal: number}[];
    };
    const row = report.mailboxes[0]!;
    assert.equal(row.itemsCopied, 10);
    assert.equal(row.itemsSkipped, messageCount(source) - 10);
    assert.equal(row.itemsFailed, 0);
    assert.ok(report.items.length > 0);
    for (const item of report.items) {
      assert.equal(item.outcome, 'skipped');
      assert.match(item.reason, /limit of 10 items per mailbox/);
    }
    assert.equal(report.items.reduce((sum, item) => sum + item.count, 0), messageCount(source) - 10);
  });
});

/** Splits the report CSV into header and rows (these rows hold no quoted fields). */
function parseReportCsv(text: string): {header: string[]; rows: string[][]} {
  const lines = text.trimEnd().split('\r\n');
  return {header: lines[0]!.split(','), rows: lines.slice(1).map((line) => line.split(','))};
}
