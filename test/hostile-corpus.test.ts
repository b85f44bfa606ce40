// The hostile-message corpus (issue 12) migrated between real Dovecot servers: a '/'-separator
// source running in a non-whole-hour time zone (America/St_Johns, -0330/-0230) and a
// Courier-style target ('INBOX.' prefix, '.' separator) with a 64 KiB message size limit.
// Both sides are read as a client sees them (BODY[] and BINARY[] bytes, flags, keywords,
// INTERNALDATE instants, folder tree, subscriptions) and compared case by case, after the first
// pass, after a second pass (which must append nothing), and after a kill -9 and resume. Whatever
// cannot be carried exactly must be listed with its reason in the state, the report, the detail
// view and the log.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFile, readdir} from 'node:fs/promises';
import {readdirSync} from 'node:fs';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {buildReport} from '../source/headless/batch-report.js';
import {detailDocument} from '../source/ui/view-state/detail-lines.js';
import {ASCII_GLYPHS} from '../source/ui/glyphs.js';
import type {MailboxDetail} from '../source/engine/scheduler/batch-snapshot.js';
import type {ItemRecord} from '../source/engine/batch-model.js';
import type {BatchState, MailboxState} from '../source/store/state-schema.js';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import {hostileCorpus, hostileFolderNames, type HostileCorpus} from './helpers/hostile-corpus.js';
import {seedHostileCorpus, sourceFolderPath, type CaseIndex} from './helpers/hostile-corpus-seed.js';
import {readClientView, type ClientView} from './helpers/client-view.js';
import {compareClientViews, viewMessageCount, type ViewCompareOptions} from './helpers/client-view-compare.js';
import {RawTestClient, folderArgument} from './helpers/raw-imap-test-client.js';
import {describeResult, runMailferry, spawnMailferry} from './helpers/mailferry-process.js';
import {TARGET_ADMIN_ENV, captureIo, makeWorkDir, pairCreateArgs, readBatchState, removeWorkDir, writeMigrationCsv} from './helpers/batch-fixture.js';

const SOURCE_LOGIN = 'corpus';
const SOURCE_PASSWORD = 'corpus-src-Hq3';
const TARGET = 'corpus@example.test';
const RESUME_TARGET = 'corpus.resume@example.test';
const SIZE_LIMIT = 64 * 1024;
const SOURCE_TZ = 'America/St_Johns';

// Dovecot's quota plugin refuses bigger messages at APPEND with [LIMIT] (and says so in APPENDLIMIT).
const TARGET_LIMIT_CONFIG = ['mail_plugins = $mail_plugins quota', 'plugin {', '  quota = count:User quota', `  quota_max_mail_size = ${SIZE_LIMIT}`, '  quota_vsizes = yes', '}'].join('\n');

let source: DovecotServer | undefined;
let target: DovecotServer | undefined;
let work: string | undefined;
let stateDir = '';
let corpus: HostileCorpus;
let caseIndex: CaseIndex = new Map();
let sourceView: ClientView;
let firstRun = {code: -1, stdout: '', stderr: ''};

function mailboxOf(state: BatchState, email: string): MailboxState {
  const mailbox = state.mailboxes[email.toLowerCase()];
  assert.ok(mailbox, `state has mailbox ${email}`);
  return mailbox;
}

async function batch(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  const capture = captureIo();
  const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
  return {code, stdout: capture.stdout(), stderr: capture.stderr()};
}

async function createBatch(name: string, targetEmail: string): Promise<void> {
  const csv = await writeMigrationCsv(path.join(work!, `${name}.csv`), [{email: targetEmail, user: SOURCE_LOGIN, password: SOURCE_PASSWORD}]);
  const created = await batch(['create', name, '--csv', csv, ...pairCreateArgs({source: source!, target: target!})]);
  assert.equal(created.code, 0, `batch create ${name}: ${created.stderr}${created.stdout}`);
}

/**
 * Where a source folder should land, worked out from the servers' configuration (not the
 * engine's mapping): special-use to the target's folder of that role, INBOX to INBOX, everything
 * else under 'INBOX.' with '.' between levels, except a folder the migration listed as renamed.
 */
function mapperFor(mailbox: MailboxState): (sourcePath: string) => string | undefined {
  const renamed = new Map(mailbox.renamedFolders.map((folder) => [folder.source, folder.target]));
  const unmigrated = new Set(mailbox.unmigratedFolders.map((folder) => folder.source));
  return (sourcePath) => {
    if (unmigrated.has(sourcePath)) return undefined;
    const own = renamed.get(sourcePath);
    if (own !== undefined) return own;
    // Children follow a renamed parent (folder-mapping.ts rule 6).
    for (const [from, to] of renamed) {
      if (sourcePath.startsWith(`${from}/`)) return `${to}${target!.separator}${sourcePath.slice(from.length + 1).split('/').join(target!.separator)}`;
    }
    if (sourcePath === 'INBOX') return 'INBOX';
    for (const name of Object.values(source!.specialUse)) if (name === sourcePath) return `${target!.prefix}${name}`;
    return target!.prefix + sourcePath.split(source!.separator).join(target!.separator);
  };
}

function listedItems(mailbox: MailboxState) {
  const key = (folder: string, uid: number) => `${folder}\u0000${uid}`;
  const notCopied = new Map<string, string>();
  for (const item of [...mailbox.skipped, ...mailbox.failed]) notCopied.set(key(item.folder, item.uid), item.reason);
  const changed = new Map<string, string>();
  for (const item of mailbox.changed) changed.set(key(item.folder, item.uid), item.reason);
  const dropped = new Map(mailbox.droppedKeywords.map((entry) => [entry.folder, new Set(entry.keywords)]));
  return {
    notCopied: (folder: string, uid: number) => notCopied.get(key(folder, uid)),
    changed: (folder: string, uid: number) => changed.get(key(folder, uid)),
    droppedKeywords: (folder: string) => dropped.get(folder) ?? new Set<string>(),
  };
}

function compareOptions(mailbox: MailboxState, extra: Partial<ViewCompareOptions> = {}): ViewCompareOptions {
  return {mapFolder: mapperFor(mailbox), caseIndex, ...listedItems(mailbox), ...extra};
}

function listedEntries(mailbox: MailboxState): {kind: 'skipped' | 'failed' | 'changed'; caseName: string; item: ItemRecord}[] {
  return [
    ...mailbox.skipped.map((item) => ({kind: 'skipped' as const, caseName: caseOf(item.folder, item.uid), item})),
    ...mailbox.failed.map((item) => ({kind: 'failed' as const, caseName: caseOf(item.folder, item.uid), item})),
    ...mailbox.changed.map((item) => ({kind: 'changed' as const, caseName: caseOf(item.folder, item.uid), item})),
  ];
}

function caseOf(folder: string, uid: number): string {
  return caseIndex.get(folder)?.get(uid) ?? `uid ${uid}`;
}

function detailText(mailbox: MailboxState): string {
  const detail: MailboxDetail = {
    emailAddress: mailbox.identity.emailAddress,
    folders: Object.entries(mailbox.folders).map(([sourcePath, folder]) => ({
      source: sourcePath, target: folder.target, total: folder.total, done: folder.doneCount, skipped: folder.skipped, failed: folder.failed, bytesDone: folder.bytesDone,
    })),
    skipped: [...mailbox.skipped],
    failed: [...mailbox.failed],
    errors: [...mailbox.errors],
    unmigratedFolders: [...mailbox.unmigratedFolders],
    renamedFolders: [...mailbox.renamedFolders],
    droppedKeywords: mailbox.droppedKeywords,
    changed: [...mailbox.changed],
  };
  return detailDocument(undefined, detail, {width: 2000, glyphs: ASCII_GLYPHS, now: new Date()}).lines.map((line) => line.text).join('\n');
}

async function targetUidNexts(login: string): Promise<Map<string, number>> {
  const client = await RawTestClient.open(target!, login);
  try {
    const view = await readClientView(target!, login);
    const result = new Map<string, number>();
    for (const folder of view.folders.values()) {
      if (!folder.selectable) continue;
      const status = await client.ok(`STATUS ${folderArgument(folder.path)} (UIDNEXT MESSAGES)`);
      const items = status.untagged.find((r) => r[0] === 'STATUS')?.[2];
      const list = Array.isArray(items) ? items.map(String) : [];
      result.set(folder.path, Number(list[list.indexOf('UIDNEXT') + 1]));
    }
    return result;
  } finally {
    await client.logout();
  }
}

function bigFolderFilesOnTarget(login: string): number {
  let count = 0;
  for (const sub of ['cur', 'new']) {
    try {
      count += readdirSync(path.join(target!.mailDir(login), `.${corpus.bigFolder}`, sub)).length;
    } catch {
      // not created yet
    }
  }
  return count;
}

describe('hostile-message corpus against real Dovecot', {timeout: 240_000}, () => {
  before(async () => {
    corpus = hostileCorpus({seed: 12, targetSizeLimit: SIZE_LIMIT});
    [source, target] = await Promise.all([
      startDovecot({role: 'source', users: {[SOURCE_LOGIN]: SOURCE_PASSWORD}, timeZone: SOURCE_TZ}),
      startDovecot({role: 'target', users: {[TARGET]: 'unused-tgt-1', [RESUME_TARGET]: 'unused-tgt-2'}, separator: '.', prefix: 'INBOX.', extraConfig: TARGET_LIMIT_CONFIG}),
    ]);
    process.env[TARGET_ADMIN_ENV] = target.masterPassword;
    work = await makeWorkDir('corpus');
    stateDir = path.join(work, 'state');
    caseIndex = await seedHostileCorpus(source, SOURCE_LOGIN, corpus);
    sourceView = await readClientView(source, SOURCE_LOGIN);
    await createBatch('corpus', TARGET);
    firstRun = await batch(['start', 'corpus']);
  });

  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await Promise.all([source?.stop(), target?.stop()]);
    await removeWorkDir(work);
  });

  it('seeds every case on the source exactly (bytes, flags, dates in the source time zone, folders)', async () => {
    assert.equal(viewMessageCount(sourceView), corpus.messages.length, 'every corpus message is on the source');
    const seededCases = new Set([...caseIndex.values()].flatMap((uids) => [...uids.values()]));
    assert.deepEqual(corpus.messages.map((m) => m.caseName).filter((name) => !seededCases.has(name)), [], 'every case has its source UID');
    for (const message of corpus.messages.filter((m) => m.folder !== corpus.bigFolder)) {
      const folder = sourceView.folders.get(sourceFolderPath(source!, message.folder));
      const uid = [...(caseIndex.get(folder!.path) ?? new Map<number, string>())].find(([, name]) => name === message.caseName)![0];
      const stored = folder!.messages.find((m) => m.uid === uid)!;
      assert.equal(stored.internalDate, message.internalDate.toISOString(), `${message.caseName}: internal date on the source`);
      assert.deepEqual(stored.flags, [...message.flags].sort(), `${message.caseName}: flags on the source`);
    }
    for (const {name} of hostileFolderNames()) assert.ok(sourceView.folders.has(name), `source folder ${JSON.stringify(name)}`);
    assert.equal(sourceView.folders.get('NoSelect parent')?.selectable, false, 'the \\Noselect parent is \\Noselect on the source');
    // The source answers in its own time zone: -0330 in winter, -0230 in summer.
    const client = await RawTestClient.open(source!, SOURCE_LOGIN);
    try {
      await client.ok(`EXAMINE ${folderArgument('Dates')}`);
      const answer = await client.ok('FETCH 1:* (INTERNALDATE)');
      const offsets = new Set(answer.untagged.map((r) => /([+-]\d{4})$/.exec(String((r[2] as string[])[1]))?.[1]));
      assert.ok(offsets.has('-0330') && offsets.has('-0230'), `INTERNALDATE offsets of the source: ${[...offsets].join(' ')}`);
    } finally {
      await client.logout();
    }
  });

  it('first pass: the target equals the source case by case, except what is listed with a reason', async () => {
    assert.equal(firstRun.code, 0, `batch start corpus:\n${firstRun.stdout}\n${firstRun.stderr}`);
    const mailbox = mailboxOf(await readBatchState(stateDir, 'corpus'), TARGET);
    const targetView = await readClientView(target!, TARGET);
    const problems = compareClientViews(sourceView, targetView, compareOptions(mailbox));
    assert.deepEqual(problems, [], `differences after the first pass (listed: skipped ${mailbox.skipped.length}, failed ${mailbox.failed.length}, changed ${mailbox.changed.length}, renamed ${mailbox.renamedFolders.length})`);
  });

  it('lists exactly the messages that cannot be carried, each with its reason', async () => {
    const mailbox = mailboxOf(await readBatchState(stateDir, 'corpus'), TARGET);
    const listed = listedEntries(mailbox);
    // Over the target's limit: not copied, with the reason. Dovecot advertises no APPENDLIMIT
    // for quota_max_mail_size, so the limit is only learnt from the APPEND's [LIMIT] refusal,
    // which the engine records as failed (a limit known up front is recorded as skipped).
    // Internal dates the target replaces by the time of the APPEND (Dovecot 2.3 does for dates
    // more than 2 h ahead, INTERNALDATE_MAX_FUTURE_SECS in cmd-append.c): changed.
    const notCopiedKind = (caseName: string) => listed.find((entry) => entry.caseName === caseName && entry.kind !== 'changed')?.kind ?? 'skipped';
    const expected = [
      ...corpus.overLimitCases.map((caseName) => `${notCopiedKind(caseName)} ${caseName}`),
      ...corpus.messages.filter((m) => m.internalDate.getTime() > Date.now() + 2 * 3600_000).map((m) => `changed ${m.caseName}`),
    ].sort();
    assert.deepEqual(listed.map((entry) => `${entry.kind} ${entry.caseName}`).sort(), expected, 'listed items by case');
    for (const entry of listed) assert.ok(entry.item.reason.trim().length > 10, `${entry.caseName}: a reason (${JSON.stringify(entry.item.reason)})`);
    for (const caseName of corpus.overLimitCases) {
      const entry = listed.find((e) => e.caseName === caseName)!;
      assert.match(entry.item.reason, /too large|larger than/i, `${caseName}: the reason names the size`);
    }
    assert.deepEqual(mailbox.droppedKeywords, [], 'Dovecot stores every keyword');
  });

  it('lists exactly the folders renamed for the target (names with its separator), each with its reason', async () => {
    const mailbox = mailboxOf(await readBatchState(stateDir, 'corpus'), TARGET);
    const dotted = [...sourceView.folders.keys()].filter((name) => name.includes(target!.separator));
    assert.deepEqual(mailbox.renamedFolders.map((folder) => folder.source).sort(), dotted.sort(), 'renamed folders');
    for (const folder of mailbox.renamedFolders) assert.ok(folder.reason.trim().length > 10, `renamed ${folder.source}: a reason`);
    assert.deepEqual(mailbox.unmigratedFolders, [], 'no folder left out');
  });

  it('shows every listed case with its reason in the report, the detail view and the log', async () => {
    // The detail document is built from the state the way the batch runner's getMailboxDetail does.
    const state = await readBatchState(stateDir, 'corpus');
    const mailbox = mailboxOf(state, TARGET);
    const report = JSON.stringify(buildReport(state));
    const detail = detailText(mailbox);
    const logFile = path.join(stateDir, 'logs', 'corpus.log');
    const log = await readFile(logFile, 'utf8').catch(() => '');
    const missing: string[] = [];
    const check = (what: string, needle: string) => {
      const escaped = JSON.stringify(needle).slice(1, -1);
      if (!report.includes(escaped)) missing.push(`report lacks ${what}`);
      if (!detail.includes(needle)) missing.push(`detail view lacks ${what}`);
      if (!log.includes(escaped) && !log.includes(needle)) missing.push(`log ${path.basename(logFile)} lacks ${what}`);
    };
    const listed = listedEntries(mailbox);
    assert.ok(listed.length > 0, 'something is listed');
    for (const entry of listed) check(`${entry.kind} ${entry.caseName} (reason)`, entry.item.reason);
    for (const folder of mailbox.renamedFolders) check(`renamed folder ${folder.source} (reason)`, folder.reason);
    assert.deepEqual(missing, [], `every listed case appears with its reason everywhere (the log has ${log.split('\n').filter(Boolean).length} lines)`);
  });

  it('a second pass appends nothing and leaves the target equal', async () => {
    const before = mailboxOf(await readBatchState(stateDir, 'corpus'), TARGET);
    const uidNextBefore = await targetUidNexts(TARGET);
    const second = await batch(['sync-now', 'corpus']);
    assert.equal(second.code, 0, `batch sync-now corpus:\n${second.stdout}\n${second.stderr}`);
    const after = mailboxOf(await readBatchState(stateDir, 'corpus'), TARGET);
    assert.ok(after.stats.passes > before.stats.passes, `a pass ran (${before.stats.passes} -> ${after.stats.passes})`);
    assert.equal(after.stats.appendCount, before.stats.appendCount, 'appendCount unchanged');
    assert.deepEqual(await targetUidNexts(TARGET), uidNextBefore, 'target UIDNEXT of every folder unchanged');
    const targetView = await readClientView(target!, TARGET);
    const problems = compareClientViews(sourceView, targetView, compareOptions(after, {messageFolders: (folder) => folder !== corpus.bigFolder}));
    assert.deepEqual(problems, [], 'differences after the second pass');
    assert.equal(targetView.folders.get(`INBOX.${corpus.bigFolder}`)?.messages.length, corpus.bigFolderCount, 'big folder count after the second pass');
  });

  it('killed with SIGKILL in the middle of the 20,000-message folder, then resumed: 0 lost, 0 duplicated', async (t) => {
    await createBatch('resume', RESUME_TARGET);
    const env = {[TARGET_ADMIN_ENV]: target!.masterPassword};
    const args = ['batch', 'start', 'resume', '--state-dir', stateDir];
    const child = spawnMailferry(args, {env, timeoutMs: 120_000});
    let atKill = -1;
    // Counted on disk every 2 ms: the copy of the folder takes a few seconds at most.
    while (!child.hasExited) {
      const copied = bigFolderFilesOnTarget(RESUME_TARGET);
      if (copied >= 200 && copied < corpus.bigFolderCount - 2000) {
        child.kill('SIGKILL');
        atKill = copied;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const killed = await child.exited;
    assert.equal(killed.signal, 'SIGKILL', `killed in the middle of the big folder (it finished first?)\n${describeResult(killed)}`);
    t.diagnostic(`killed with ${atKill} of ${corpus.bigFolderCount} messages of "${corpus.bigFolder}" on the target`);
    const atKillState = mailboxOf(await readBatchState(stateDir, 'resume'), RESUME_TARGET).folders[corpus.bigFolder];
    t.diagnostic(`checkpoint on disk after the kill: ${JSON.stringify(atKillState ?? null)}; files on the target now ${bigFolderFilesOnTarget(RESUME_TARGET)}`);

    // Restarted at once, like a supervisor would: the dead process's APPENDs still in the
    // server's input buffers are committed over the next seconds (Dovecot keeps reading them).
    let last = await runMailferry(args, {env, timeoutMs: 120_000});
    for (let run = 1; run < 3 && last.code !== 0; run++) last = await runMailferry(args, {env, timeoutMs: 120_000});
    assert.equal(last.code, 0, `batch start resume after the kill:\n${describeResult(last)}`);
    const mailbox = mailboxOf(await readBatchState(stateDir, 'resume'), RESUME_TARGET);
    assert.equal(mailbox.status, 'Synced');
    const targetView = await readClientView(target!, RESUME_TARGET);
    // Dovecot's own count, so a duplicate cannot be an artefact of the comparison's reader.
    const bigStatus = await target!.doveadm(['mailbox', 'status', '-u', RESUME_TARGET, 'messages uidnext', `INBOX.${corpus.bigFolder}`]);
    t.diagnostic(`target "${corpus.bigFolder}" after resume (doveadm): ${bigStatus.trim()}; checkpoint ${JSON.stringify(mailbox.folders[corpus.bigFolder]?.done)}`);
    const problems = compareClientViews(sourceView, targetView, compareOptions(mailbox));
    assert.deepEqual(problems, [], 'differences after kill and resume');
    assert.equal(targetView.folders.get(`INBOX.${corpus.bigFolder}`)?.messages.length, corpus.bigFolderCount, 'big folder: 0 lost, 0 duplicated');
    const logs = await readdir(path.join(stateDir, 'logs')).catch(() => [] as string[]);
    t.diagnostic(`logs: ${logs.join(', ')}`);
  });
});
