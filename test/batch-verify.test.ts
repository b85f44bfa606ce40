// `mailferry batch verify` between two real Dovecot servers: a clean copy verifies at 100 % (exit
// 0) with the skipped item and the excluded folder listed apart; after the test deletes three
// messages on the target (STORE \Deleted + EXPUNGE) and sets a flag on a fourth, the verification
// names exactly those three (source UID, size, Message-ID) and that one flag, scores below 100 %
// and exits 1; `--deep` finds a message replaced on the target by one with the same headers,
// date, size and flags but one body byte different, which the metadata comparison cannot see.
// The report carries the last verification (JSON and NAME-verify.csv).

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import type {ImapFlow} from 'imapflow';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {openBatch} from '../source/engine/batch-engine.js';
import {readVerification} from '../source/store/verification-file.js';
import type {MailboxVerification} from '../source/store/verification-records.js';
import {verificationDir} from '../source/store/verification-file.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {openClient, realisticMailbox, seedMailbox} from './helpers/seed-mailbox.js';
import {captureIo, makeWorkDir, pairCreateArgs, removeWorkDir, stateFile, targetAdminEnv, waitFor, writeMigrationCsv} from './helpers/batch-fixture.js';

const PASSWORD = 'src-vera-K4p8sQ';
const EMAIL = 'vera@example.test';
const LARGE_BYTES = 2 * 1024 * 1024;

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let work: string | undefined;
let stateDir = '';
let env: Record<string, string> = {};

async function batch(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  const capture = captureIo();
  const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
  return {code, stdout: capture.stdout(), stderr: capture.stderr()};
}

/** `batch verify --json`: the exit code and the mailbox's verification record. */
async function verify(extra: string[] = []): Promise<{code: number; verification: MailboxVerification; stdout: string}> {
  const result = await batch(['verify', 'v', '--json', ...extra]);
  const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as {event?: string} & MailboxVerification);
  const verification = records.find((record) => record.event === 'verified');
  assert.ok(verification, `no verification printed: ${result.stdout}${result.stderr}`);
  return {code: result.code, verification, stdout: result.stdout};
}

interface Header {
  uid: number;
  size: number;
  messageId: string;
  flags: Set<string>;
}

async function listFolder(client: ImapFlow, folder: string): Promise<Header[]> {
  await client.mailboxOpen(folder);
  const found: Header[] = [];
  for await (const message of client.fetch('1:*', {uid: true, size: true, flags: true, envelope: true}, {uid: true})) {
    found.push({uid: message.uid, size: message.size ?? 0, messageId: message.envelope?.messageId ?? '', flags: message.flags ?? new Set()});
  }
  return found;
}

describe('mailferry batch verify', {timeout: 240_000}, () => {
  before(async () => {
    pair = await startDovecotPair({source: {users: {vera: PASSWORD}}, target: {users: {[EMAIL]: 'tgt-vera-pw'}}});
    env = targetAdminEnv(pair);
    Object.assign(process.env, env);
    work = await makeWorkDir('batch-verify');
    stateDir = path.join(work, 'state');
    await seedMailbox(pair.source, 'vera', realisticMailbox({seed: 31, largeMessageBytes: LARGE_BYTES}));
    const csv = await writeMigrationCsv(path.join(work, 'v.csv'), [{email: EMAIL, user: 'vera', password: PASSWORD}]);
    const created = await batch(['create', 'v', '--csv', csv, ...pairCreateArgs(pair), '--max-message-size', '1MB', '--exclude', '\\Junk']);
    assert.equal(created.code, 0, created.stderr);
    const started = await batch(['start', 'v']);
    assert.equal(started.code, 0, started.stdout + started.stderr);
  });

  after(async () => {
    for (const name of Object.keys(env)) delete process.env[name];
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('reports 100 % on a clean copy, with the skipped message and the excluded folder listed apart', async () => {
    const plain = await batch(['verify', 'v']);
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.match(plain.stdout, new RegExp(`^${EMAIL}: consistent, score 100 %`, 'm'));
    assert.match(plain.stdout, /listed apart \(skipped\): INBOX UID \d+, \d+ bytes: larger than the batch's maximum message size/);
    assert.match(plain.stdout, /not migrated on purpose: \S*Junk/);
    const {code, verification} = await verify();
    assert.equal(code, 0);
    assert.equal(verification.score, 100);
    assert.equal(verification.consistent, true);
    assert.equal(verification.totals.missing, 0);
    assert.equal(verification.totals.flagDifferences, 0);
    assert.equal(verification.totals.extra, 0);
    assert.equal(verification.totals.apart, 1, 'the message over --max-message-size is listed apart');
    assert.equal(verification.apartListed[0]!.outcome, 'skipped');
    assert.ok(verification.apartListed[0]!.size > LARGE_BYTES - 1024);
    assert.equal(verification.totals.expected, verification.totals.sourceMessages - 1);
    assert.ok(verification.totals.folders >= 10, `folders checked: ${verification.totals.folders}`);
    assert.equal(verification.totals.targetMessages, verification.totals.sourceMessages - 1);
    assert.ok(existsSync(verificationDir(stateFile(stateDir, 'v'))), 'the verification is kept beside the state file');
  });

  it('names the three messages deleted on the target and the one flag changed there, below 100 %, exit 1', async () => {
    const sourceClient = await openClient(pair!.source, 'vera');
    const targetClient = await openClient(pair!.target, EMAIL);
    let deleted: Header[];
    let flagged: Header;
    try {
      const sourceInbox = await listFolder(sourceClient, 'INBOX');
      const targetInbox = await listFolder(targetClient, 'INBOX');
      const bySourceId = new Map(sourceInbox.map((message) => [message.messageId, message]));
      const candidates = targetInbox.filter((message) => message.messageId && sourceInbox.filter((s) => s.messageId === message.messageId).length === 1);
      const chosen = candidates.slice(2, 5);
      const notFlagged = candidates.slice(6).find((message) => !message.flags.has('\\Flagged'))!;
      assert.equal(chosen.length, 3);
      assert.ok(notFlagged);
      await targetClient.messageFlagsAdd(chosen.map((message) => message.uid).join(','), ['\\Deleted'], {uid: true});
      assert.ok(await targetClient.messageDelete(chosen.map((message) => message.uid).join(','), {uid: true}));
      await targetClient.messageFlagsAdd(String(notFlagged.uid), ['\\Flagged'], {uid: true});
      deleted = chosen.map((message) => bySourceId.get(message.messageId)!);
      flagged = bySourceId.get(notFlagged.messageId)!;
    } finally {
      await sourceClient.logout();
      await targetClient.logout();
    }
    const {code, verification} = await verify();
    assert.equal(code, 1, 'exit 1 when a mailbox is not consistent');
    assert.equal(verification.consistent, false);
    assert.ok(verification.score < 100, `score ${verification.score}`);
    assert.equal(verification.totals.missing, 3);
    assert.equal(verification.totals.flagDifferences, 1);
    assert.equal(verification.totals.identical, verification.totals.expected - 4);
    const inbox = verification.folders.find((folder) => folder.source === 'INBOX')!;
    assert.deepEqual(
      inbox.missingListed.map((message) => ({uid: message.uid, size: message.size, messageId: message.messageId})).sort((a, b) => a.uid - b.uid),
      deleted.map((message) => ({uid: message.uid, size: message.size, messageId: message.messageId})).sort((a, b) => a.uid - b.uid),
    );
    assert.deepEqual(inbox.flagListed.map((difference) => ({uid: difference.sourceUid, missing: difference.missingOnTarget, extra: difference.extraOnTarget})), [
      {uid: flagged.uid, missing: [], extra: ['\\Flagged']},
    ]);
    const plain = await batch(['verify', 'v', '--mailbox', EMAIL]);
    assert.equal(plain.code, 1);
    for (const message of deleted) assert.ok(plain.stdout.includes(`missing on target: INBOX UID ${message.uid}, ${message.size} bytes, Message-ID ${message.messageId}`), plain.stdout);
    assert.match(plain.stdout, new RegExp(`flag difference: INBOX UID ${flagged.uid} .*target has \\\\Flagged the source has not`));

    // The report carries the last verification.
    const out = path.join(work!, 'report');
    const report = await batch(['report', 'v', '--out', out]);
    assert.equal(report.code, 0, report.stderr);
    const json = JSON.parse(await readFile(path.join(out, 'v-report.json'), 'utf8')) as {verifications: MailboxVerification[]; mailboxes: Array<{verifyScore: number | ''}>};
    assert.equal(json.verifications[0]!.totals.missing, 3);
    assert.equal(json.mailboxes[0]!.verifyScore, verification.score);
    const csv = await readFile(path.join(out, 'v-verify.csv'), 'utf8');
    assert.equal(csv.split('\r\n').filter((line) => line.includes(',missing,')).length, 3, csv);
    assert.equal(csv.split('\r\n').filter((line) => line.includes(',flags,')).length, 1, csv);
  });

  it('--deep finds a body changed on the target under the same key', async () => {
    const {verification: before} = await verify();
    const folder = before.folders.find((entry) => entry.source === 'Projects/2024/Q1' && entry.expected > 0 && entry.flagDifferences === 0 && entry.missing === 0)!;
    assert.ok(folder, 'a clean folder to alter');
    const targetClient = await openClient(pair!.target, EMAIL);
    let replacedSourceUid: number;
    try {
      const stored = await listFolder(targetClient, folder.target);
      const victim = stored.find((message) => message.messageId)!;
      const original = await targetClient.fetchOne(String(victim.uid), {uid: true, source: true, internalDate: true, flags: true}, {uid: true});
      assert.ok(original && original.source);
      const bytes = Buffer.from(original.source);
      // One byte of the body (past the blank line that ends the header), same length.
      const bodyStart = bytes.indexOf('\r\n\r\n') + 4;
      const at = bytes.indexOf('e', bodyStart);
      assert.ok(bodyStart > 4 && at > bodyStart);
      bytes[at] = 'E'.charCodeAt(0);
      const flags = [...(original.flags ?? [])].filter((flag) => flag !== '\\Recent');
      await targetClient.append(folder.target, bytes, flags, original.internalDate);
      await targetClient.mailboxOpen(folder.target);
      assert.ok(await targetClient.messageDelete(String(victim.uid), {uid: true}));
      const sourceClient = await openClient(pair!.source, 'vera');
      try {
        const sourceFolder = await listFolder(sourceClient, folder.source);
        replacedSourceUid = sourceFolder.find((message) => message.messageId === victim.messageId)!.uid;
      } finally {
        await sourceClient.logout();
      }
    } finally {
      await targetClient.logout();
    }
    const shallow = await verify(['--mailbox', EMAIL]);
    const shallowFolder = shallow.verification.folders.find((entry) => entry.source === folder.source)!;
    assert.equal(shallowFolder.identical, shallowFolder.expected, 'same key, flags and size: the metadata comparison sees no difference');
    const deep = await verify(['--deep']);
    assert.equal(deep.code, 1);
    assert.equal(deep.verification.deep, true);
    const deepFolder = deep.verification.folders.find((entry) => entry.source === folder.source)!;
    assert.equal(deepFolder.bodyDifferences, 1);
    assert.equal(deepFolder.bodyListed[0]!.sourceUid, replacedSourceUid);
    assert.notEqual(deepFolder.bodyListed[0]!.sourceSha256, deepFolder.bodyListed[0]!.targetSha256);
    assert.equal(deepFolder.identical, deepFolder.expected - 1);
    // Every other folder's bodies match.
    assert.equal(deep.verification.totals.bodyDifferences, 1);
  });

  it('verifies in the process that runs the batch (the UI\'s v key), which shows the last verification from its file', async () => {
    const opened = await openBatch({stateDir, name: 'v'});
    try {
      // The --deep run above, read from the verification file when the batch opened.
      const previous = await waitFor('the last verification loaded', () => opened.getMailboxDetail(EMAIL)?.verification);
      assert.equal(previous.deep, true);
      assert.equal(previous.totals.bodyDifferences, 1);
      await opened.verify([EMAIL]);
      const fresh = opened.getMailboxDetail(EMAIL)!.verification!;
      assert.equal(fresh.deep, false);
      assert.equal(fresh.totals.missing, 3);
      // Still one: the --deep run read every body on both sides without setting \Seen anywhere (EXAMINE).
      assert.equal(fresh.totals.flagDifferences, 1);
      assert.equal(fresh.consistent, false);
      const onDisk = await readVerification(stateFile(stateDir, 'v'), EMAIL);
      assert.equal(onDisk?.finishedAt, fresh.finishedAt, 'the file holds the new verification');
      // From another shell while this process holds the batch's run lock: read-only, no lock needed.
      const parallel = await batch(['verify', 'v']);
      assert.equal(parallel.code, 1, parallel.stderr);
      assert.match(parallel.stdout, /3 missing, 0 extra, 1 flag difference/);
    } finally {
      await opened.close();
    }
  });

  it('reports a message delivered to the source after the last pass as not yet synced, not missing', async () => {
    const client = await openClient(pair!.source, 'vera');
    try {
      await client.append('INBOX', Buffer.from('From: a@example.test\r\nTo: vera@example.test\r\nSubject: late\r\nMessage-ID: <late-1@example.test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nlate mail\r\n'));
    } finally {
      await client.logout();
    }
    const {code, verification} = await verify();
    assert.equal(code, 1);
    const inbox = verification.folders.find((folder) => folder.source === 'INBOX')!;
    assert.equal(inbox.notYetSynced, 1);
    assert.equal(inbox.notYetSyncedListed[0]!.messageId, '<late-1@example.test>');
    assert.equal(inbox.missing, 3, 'the new message is not counted as missing');
  });
});
