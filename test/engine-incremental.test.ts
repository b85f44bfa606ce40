// Incremental passes (`mailferry batch sync-now`) after a first full pass: new messages and new
// folders arrive, flag changes (added, removed, keywords) are carried over, and messages whose
// Message-ID is shared or missing are each copied exactly once and keep their own flags.
// The direction is the reverse of the other engine tests: a Courier-style source ('INBOX.'
// prefix, '.' separator) into a '/'-separator target.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, openClient, readMailbox, realisticMailbox, seedMailbox, serverFolderName, type SeedMessage} from './helpers/seed-mailbox.js';
import {compareMailboxes, expectedTargetFolder, folderCounts, messageCount, type MailboxContent} from './helpers/compare-mailboxes.js';
import {TARGET_ADMIN_ENV, captureIo, makeWorkDir, pairCreateArgs, passFinishedLines, removeWorkDir, writeMigrationCsv} from './helpers/batch-fixture.js';

const PASSWORD = 'inc-frank-pw9';
const USER = 'frank';
const TARGET = 'frank@example.test';
const TWIN_DATE = new Date(Date.UTC(2024, 2, 3, 4, 5, 6));

// Two automated mails without Message-ID, delivered in the same second, of the same length but
// different text: the hardest case for any identity that is not the message bytes.
const TWINS: SeedMessage[] = [
  {folder: 'INBOX', raw: buildMessage({subject: 'Disk usage 81%', messageId: null, date: TWIN_DATE, seed: 7001, totalBytes: 1500}), flags: ['\\Seen'], internalDate: TWIN_DATE},
  {folder: 'INBOX', raw: buildMessage({subject: 'Disk usage 82%', messageId: null, date: TWIN_DATE, seed: 7002, totalBytes: 1500}), flags: ['\\Flagged'], internalDate: TWIN_DATE},
];

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let work: string | undefined;
let stateDir = '';
let firstPass = {code: -1, stdout: '', stderr: ''};

function mapFolder(sourcePath: string): string {
  return expectedTargetFolder(pair!.source, pair!.target, sourcePath);
}

async function batch(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  const capture = captureIo();
  const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
  return {code, stdout: capture.stdout(), stderr: capture.stderr()};
}

async function assertExactCopy(): Promise<{source: MailboxContent; target: MailboxContent}> {
  const source = await readMailbox(pair!.source, USER);
  const target = await readMailbox(pair!.target, TARGET);
  assert.deepEqual(compareMailboxes(source, target, {mapFolder}), [], `source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
  return {source, target};
}

function sha256Of(raw: Buffer): Promise<string> {
  return import('node:crypto').then(({createHash}) => createHash('sha256').update(raw).digest('hex'));
}

/** Changes flags of source messages (by UID) in one folder. */
async function changeFlags(folder: string, change: (client: Awaited<ReturnType<typeof openClient>>, uids: number[]) => Promise<void>): Promise<void> {
  const client = await openClient(pair!.source, USER);
  try {
    await client.mailboxOpen(folder);
    const uids: number[] = [];
    for await (const message of client.fetch('1:*', {uid: true}, {uid: true})) uids.push(message.uid);
    await change(client, uids.sort((a, b) => a - b));
  } finally {
    await client.logout().catch(() => client.close());
  }
}

describe('engine incremental sync against real Dovecot', {timeout: 120_000}, () => {
  before(async () => {
    pair = await startDovecotPair({
      source: {users: {[USER]: PASSWORD}, separator: '.', prefix: 'INBOX.'},
      target: {users: {[TARGET]: 'tgt-frank'}},
    });
    process.env[TARGET_ADMIN_ENV] = pair.target.masterPassword;
    work = await makeWorkDir('incremental');
    stateDir = path.join(work, 'state');
    const spec = realisticMailbox({seed: 31});
    spec.messages.push(...TWINS);
    await seedMailbox(pair.source, USER, spec);
    const csv = await writeMigrationCsv(path.join(work, 'inc.csv'), [{email: TARGET, user: USER, password: PASSWORD}]);
    // One APPEND connection: the copy order (newest first) is then the same every run.
    const created = await batch(['create', 'inc', '--csv', csv, ...pairCreateArgs(pair), '--append-connections', '1']);
    assert.equal(created.code, 0, created.stderr);
    firstPass = await batch(['start', 'inc']);
  });

  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('first pass copies messages that share a Message-ID or have none, each exactly once', async () => {
    assert.equal(firstPass.code, 0, `${firstPass.stdout}\n${firstPass.stderr}`);
    const {source, target} = await assertExactCopy();
    const allSource = [...source.values()].flat();
    const allTarget = [...target.values()].flat();
    const spec = realisticMailbox({seed: 31});
    const withoutId = [...spec.messages, ...TWINS].filter((m) => !/^Message-ID:/im.test(m.raw.toString('latin1').split('\r\n\r\n')[0]!));
    const sharedId = spec.messages.filter((m) => m.raw.toString('latin1').includes('Message-ID: <shared-31@mailferry.test>'));
    assert.equal(withoutId.length, 4, 'the seed has 4 messages without Message-ID (2 realistic + 2 twins)');
    assert.equal(sharedId.length, 2, 'the seed has 2 messages sharing one Message-ID');
    for (const message of [...withoutId, ...sharedId]) {
      const sha = await sha256Of(message.raw);
      assert.equal(allSource.filter((m) => m.sha256 === sha).length, 1);
      assert.equal(allTarget.filter((m) => m.sha256 === sha).length, 1, `message ${sha.slice(0, 10)} is on the target once`);
    }
    assert.equal(messageCount(target), messageCount(source));
  });

  it('sync-now brings new messages, a new folder, and added/removed flags and keywords', async () => {
    const newMessages: SeedMessage[] = [
      ...[1, 2, 3, 4, 5].map((i) => ({folder: 'INBOX', raw: buildMessage({subject: `New mail ${i}`, seed: 8000 + i}), flags: i === 1 ? ['\\Seen'] : [], internalDate: new Date(Date.UTC(2025, 7, i))})),
      ...[1, 2].map((i) => ({folder: 'Projects/2024', raw: buildMessage({subject: `New project mail ${i}`, seed: 8100 + i}), flags: ['ProjectX'], internalDate: new Date(Date.UTC(2025, 7, 10 + i))})),
      {folder: 'Neu/Unterordner', raw: buildMessage({subject: 'In a folder made after the first pass', seed: 8200}), flags: ['\\Answered'], internalDate: new Date(Date.UTC(2025, 7, 20))},
    ];
    await seedMailbox(pair!.source, USER, {folders: ['Neu/Unterordner'], messages: newMessages});
    // Existing messages (the twins are left alone here; the next test is about them).
    const inbox = serverFolderName(pair!.source, 'INBOX');
    await changeFlags(inbox, async (client, uids) => {
      const old = uids.slice(0, 12); // the first 7 carry every flag combination of the seed
      await client.messageFlagsAdd(old.slice(0, 3).join(','), ['\\Flagged'], {uid: true});
      await client.messageFlagsRemove(old.slice(0, 2).join(','), ['\\Seen'], {uid: true});
      await client.messageFlagsAdd(old.slice(3, 6).join(','), ['Urgent'], {uid: true});
      await client.messageFlagsRemove(String(old[4]), ['$Label1', 'ProjectX'], {uid: true});
    });
    await changeFlags(serverFolderName(pair!.source, '\\Sent'), async (client, uids) => {
      await client.messageFlagsAdd(String(uids[0]), ['$Forwarded', '\\Answered'], {uid: true});
    });
    // Messages whose flags really changed: INBOX 1, 2 (\Seen off, \Flagged on), 4, 5, 6 (keyword
    // Urgent; 5 also loses $Label1 and ProjectX); INBOX 3 already had \Flagged; one in Sent.
    const flagChanges = 6;

    const run = await batch(['sync-now', 'inc']);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const passes = passFinishedLines(run.stdout);
    assert.equal(passes.length, 1, run.stdout);
    assert.equal(passes[0]!.copied, newMessages.length, 'new messages copied in the incremental pass');
    assert.equal(passes[0]!.flagUpdates, flagChanges, 'target messages whose flags were updated');
    const {target} = await assertExactCopy();
    assert.equal(target.get('Neu/Unterordner')?.length, 1, 'the new folder and its message arrived');

    // Nothing changed since: the next pass copies and updates nothing.
    const idle = await batch(['sync-now', 'inc']);
    assert.equal(idle.code, 0, idle.stderr);
    const idlePass = passFinishedLines(idle.stdout)[0];
    assert.ok(idlePass);
    assert.equal(idlePass.copied, 0);
    assert.equal(idlePass.flagUpdates, 0);
  });

  it('keeps each message\'s own flags when two messages share Message-ID (none), internal date and size', async () => {
    const [first, second] = await Promise.all(TWINS.map((twin) => sha256Of(twin.raw)));
    await changeFlags(serverFolderName(pair!.source, 'INBOX'), async (client) => {
      // Change the flags of the first twin only.
      const uids: number[] = [];
      for await (const message of client.fetch('1:*', {uid: true, envelope: true}, {uid: true})) {
        if (message.envelope?.subject === 'Disk usage 81%') uids.push(message.uid);
      }
      assert.equal(uids.length, 1);
      await client.messageFlagsRemove(String(uids[0]), ['\\Seen'], {uid: true});
      await client.messageFlagsAdd(String(uids[0]), ['\\Answered'], {uid: true});
    });
    const run = await batch(['sync-now', 'inc']);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const target = (await readMailbox(pair!.target, TARGET)).get('INBOX')!;
    assert.deepEqual(target.find((m) => m.sha256 === first)?.flags, ['\\Answered'], 'the changed twin has its new flags');
    assert.deepEqual(target.find((m) => m.sha256 === second)?.flags, ['\\Flagged'], 'the other twin kept its own flags');
  });
});
