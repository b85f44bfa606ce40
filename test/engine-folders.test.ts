// Issue 12 against real Dovecot: no folder is dropped silently, subscriptions (INBOX's too) are
// carried exactly, and special-use folders with localized names keep their role on a target whose
// special folders do not exist yet (Dovecot `special_use` mailboxes with `auto = no`: unlisted
// until created under their configured name, then listed with the attribute; Dovecot 2.3 has no
// CREATE-SPECIAL-USE, so mailferry creates them under the conventional names).
// The source is a plain Dovecot, so its `[Gmail]/All Mail` and `[Gmail]/Important` are ordinary
// folders that must be migrated, not Gmail's virtual ones.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {batchLogFile} from '../source/store/state-dir.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, openClient, readMailbox, seedMailbox, type SeedMessage} from './helpers/seed-mailbox.js';
import {compareMailboxes, folderCounts, listFolders} from './helpers/compare-mailboxes.js';
import {TARGET_ADMIN_ENV, captureIo, makeWorkDir, pairCreateArgs, passFinishedLines, readBatchState, removeWorkDir, writeMigrationCsv} from './helpers/batch-fixture.js';

const PASSWORDS = {anna: 'fold-anna-Kx81', ben: 'fold-ben-Wq27'} as const;
type User = keyof typeof PASSWORDS;
const USERS = Object.keys(PASSWORDS) as User[];
const email = (user: User) => `${user}@example.test`;
const LOCALIZED = {'\\Sent': 'Gesendete Elemente', '\\Drafts': 'Entwürfe', '\\Trash': 'Gelöschte Elemente', '\\Junk': 'Junk-E-Mail', '\\Archive': 'Archiv'} as const;
const CONVENTIONAL: Record<string, string> = {'\\Sent': 'Sent', '\\Drafts': 'Drafts', '\\Trash': 'Trash', '\\Junk': 'Junk', '\\Archive': 'Archive'};
const GMAIL_NAMED = ['[Gmail]/All Mail', '[Gmail]/Important'];
/** Which source folders each user has subscribed (the special-use ones are, by the server config). */
const SUBSCRIBED: Record<User, string[]> = {
  anna: ['INBOX', 'Projekte', '[Gmail]/All Mail'],
  ben: ['Alt', '[Gmail]/Important'],
};

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let work: string | undefined;
let stateDir = '';
let firstRun = {code: -1, stdout: '', stderr: ''};
/** The target as the first run found it. */
let targetBefore: {folders: string[]; subscribed: string[]} = {folders: [], subscribed: []};

async function batch(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  const capture = captureIo();
  const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
  return {code, stdout: capture.stdout(), stderr: capture.stderr()};
}

function mapFolder(sourcePath: string): string {
  for (const [use, name] of Object.entries(LOCALIZED)) {
    if (sourcePath === name) return CONVENTIONAL[use]!;
    if (sourcePath.startsWith(`${name}/`)) return CONVENTIONAL[use]! + sourcePath.slice(name.length);
  }
  return sourcePath;
}

function messages(user: User, folder: string, count: number, seed: number): SeedMessage[] {
  return Array.from({length: count}, (_, i) => ({
    folder,
    raw: buildMessage({subject: `${user} ${folder} ${i}`, seed: seed + i, totalBytes: 1200 + i * 37}),
    flags: i % 2 === 0 ? ['\\Seen'] : [],
    internalDate: new Date(Date.UTC(2023, 4, 1 + i, 9, 30)),
  }));
}

/** Subscribed folders as Dovecot itself has them (imapflow's list() would say INBOX is subscribed whatever the server says). */
async function subscriptions(server: DovecotServer, login: string): Promise<string[]> {
  const output = await server.doveadm(['mailbox', 'list', '-s', '-u', login]);
  return output.split('\n').map((line) => line.trim()).filter(Boolean).sort();
}

describe('folders against real Dovecot: none dropped, subscriptions carried, special-use kept', {timeout: 120_000}, () => {
  before(async () => {
    pair = await startDovecotPair({
      source: {users: PASSWORDS, specialUse: LOCALIZED},
      target: {users: Object.fromEntries(USERS.map((user) => [email(user), `unused-${user}`])), specialUseAuto: 'no'},
    });
    process.env[TARGET_ADMIN_ENV] = pair.target.masterPassword;
    work = await makeWorkDir('folders');
    stateDir = path.join(work, 'state');
    for (const [index, user] of USERS.entries()) {
      const seed = 1000 * (index + 1);
      await seedMailbox(pair.source, user, {
        folders: ['Projekte', 'Alt', 'Privat'],
        messages: [
          ...messages(user, 'INBOX', 3, seed),
          ...messages(user, '\\Sent', 2, seed + 100),
          ...messages(user, '\\Drafts', 1, seed + 200),
          ...messages(user, '\\Trash', 1, seed + 300),
          ...messages(user, '\\Junk', 1, seed + 400),
          ...messages(user, '\\Archive', 2, seed + 500),
          ...messages(user, 'Projekte', 2, seed + 600),
          ...messages(user, 'Privat', 1, seed + 700),
        ],
        subscribe: [...Object.keys(LOCALIZED), ...SUBSCRIBED[user].filter((folder) => !folder.startsWith('['))],
      });
      // CREATE of the children only: Dovecot then lists "[Gmail]" as \Noselect, as in the issue.
      const client = await openClient(pair.source, user);
      try {
        for (const [n, folder] of GMAIL_NAMED.entries()) {
          await client.mailboxCreate(folder);
          if (!SUBSCRIBED[user].includes(folder)) await client.mailboxUnsubscribe(folder);
          for (const message of messages(user, folder, 2, seed + 800 + n * 10)) await client.append(folder, message.raw, message.flags, message.internalDate);
        }
        if (SUBSCRIBED[user].includes('INBOX')) await client.mailboxSubscribe('INBOX');
        else await client.mailboxUnsubscribe('INBOX');
      } finally {
        await client.logout();
      }
    }
    const csv = await writeMigrationCsv(
      path.join(work, 'fold.csv'),
      USERS.map((user) => ({email: email(user), user, password: PASSWORDS[user]})),
    );
    targetBefore = {
      folders: (await listFolders(pair.target, email('anna'))).map((folder) => folder.path),
      subscribed: await subscriptions(pair.target, email('anna')),
    };
    const created = await batch(['create', 'fold', '--csv', csv, ...pairCreateArgs(pair), '--exclude', 'Privat']);
    assert.equal(created.code, 0, created.stderr + created.stdout);
    firstRun = await batch(['start', 'fold']);
  });

  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('the test servers are what the issue describes', async () => {
    const source = await listFolders(pair!.source, 'anna');
    assert.equal(source.find((folder) => folder.path === '[Gmail]')?.selectable, false, JSON.stringify(source));
    assert.equal(source.find((folder) => folder.path === 'Gesendete Elemente')?.specialUse, '\\Sent');
    // The target listed none of its special folders before something created them, and its
    // INBOX was not subscribed.
    assert.deepEqual(targetBefore, {folders: ['INBOX'], subscribed: []});
  });

  it('copies every folder but the excluded one, [Gmail]/All Mail and [Gmail]/Important included', async () => {
    assert.equal(firstRun.code, 0, `${firstRun.stdout}\n${firstRun.stderr}`);
    for (const user of USERS) {
      const source = await readMailbox(pair!.source, user);
      source.delete('Privat');
      const target = await readMailbox(pair!.target, email(user));
      assert.deepEqual(compareMailboxes(source, target, {mapFolder, extraTargetFolders: ['[Gmail]']}), [], `${user}: source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
      for (const folder of GMAIL_NAMED) assert.equal(target.get(folder)?.length, 2, `${user}: ${folder} on the target`);
    }
  });

  it('creates the special-use folders under the conventional names, which the target marks', async () => {
    const target = await listFolders(pair!.target, email('anna'));
    for (const [use, name] of Object.entries(CONVENTIONAL)) {
      assert.equal(target.find((folder) => folder.path === name)?.specialUse, use, JSON.stringify(target));
    }
    for (const name of Object.values(LOCALIZED)) assert.ok(!target.some((folder) => folder.path === name), `no "${name}" on the target`);
  });

  it('mirrors the subscriptions exactly, INBOX included', async () => {
    for (const user of USERS) {
      const source = await subscriptions(pair!.source, user);
      assert.equal(source.includes('INBOX'), user === 'anna', `${user}'s source INBOX subscription as seeded`);
      const expected = source.filter((folder) => folder !== 'Privat').map(mapFolder).sort();
      assert.deepEqual(await subscriptions(pair!.target, email(user)), expected, user);
    }
  });

  it('says what it did with each folder: batch start output, report, log', async () => {
    const lines = firstRun.stdout.split('\n');
    for (const user of USERS) {
      assert.ok(lines.some((line) => line.includes(`${email(user)} folder not migrated: Privat: excluded by batch setting "Privat"`)), firstRun.stdout);
      assert.ok(
        lines.some((line) => line.includes(`${email(user)} folder Gesendete Elemente -> Sent: created "Sent" for this \\Sent folder`) && line.endsWith('the target marks it \\Sent')),
        firstRun.stdout,
      );
    }
    const out = path.join(work!, 'report');
    const report = await batch(['report', 'fold', '--out', out]);
    assert.equal(report.code, 0, report.stderr);
    const csv = await readFile(path.join(out, 'fold-folders.csv'), 'utf8');
    assert.match(csv, /^anna@example\.test,not-migrated,Privat,,,"?excluded by batch setting ""?Privat""?"?\r$/m);
    assert.match(csv, /^anna@example\.test,special-use,Entwürfe,Drafts,\\Drafts,"created ""Drafts"" for this \\Drafts folder: .*the target marks it \\Drafts"\r$/m);
    const json = JSON.parse(await readFile(path.join(out, 'fold-report.json'), 'utf8')) as {folders: {emailAddress: string; outcome: string; source: string}[]};
    assert.equal(json.folders.filter((row) => row.emailAddress === email('ben') && row.outcome === 'special-use').length, 5);
    assert.ok(!json.folders.some((row) => row.source.startsWith('[Gmail]')), 'the [Gmail] folders are migrated as they are');
    const log = (await readFile(batchLogFile(stateDir, 'fold'), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(log.some((entry) => entry['msg'] === 'folder not migrated' && entry['mailbox'] === email('anna') && entry['folder'] === 'Privat' && /excluded/.test(String(entry['reason']))));
    assert.ok(log.some((entry) => entry['msg'] === 'special-use folder created' && entry['folder'] === 'Junk-E-Mail' && entry['target'] === 'Junk' && entry['marked'] === true));
  });

  it('a second pass copies nothing and changes nothing, and the no-change check agrees after it', async () => {
    const before = await readBatchState(stateDir, 'fold');
    const foldersBefore = await listFolders(pair!.target, email('anna'));
    const second = await batch(['sync-now', 'fold']);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const passes = passFinishedLines(second.stdout);
    assert.equal(passes.length, USERS.length, second.stdout);
    assert.ok(passes.every((pass) => pass.copied === 0), second.stdout);
    const after = await readBatchState(stateDir, 'fold');
    for (const user of USERS) {
      assert.deepEqual(after.mailboxes[email(user)]!.renamedFolders, before.mailboxes[email(user)]!.renamedFolders, `${user}: the notes are kept`);
      assert.deepEqual(after.mailboxes[email(user)]!.unmigratedFolders, before.mailboxes[email(user)]!.unmigratedFolders);
    }
    assert.deepEqual(await listFolders(pair!.target, email('anna')), foldersBefore);
    // Each process says it once per mailbox, however many passes it runs.
    assert.equal(second.stdout.split('\n').filter((line) => line.includes('folder not migrated: Privat')).length, USERS.length, second.stdout);
    const logBefore = (await readFile(batchLogFile(stateDir, 'fold'), 'utf8')).length;
    const third = await batch(['sync-now', 'fold']);
    assert.equal(third.code, 0, third.stdout + third.stderr);
    const logAfter = (await readFile(batchLogFile(stateDir, 'fold'), 'utf8')).slice(logBefore);
    const unchanged = logAfter.split('\n').filter((line) => line.includes('nothing changed since the last pass'));
    assert.equal(unchanged.length, USERS.length, logAfter);
  });

  it("an incremental pass (imapflow's listing) subscribes a target INBOX that lost its subscription", async () => {
    await pair!.target.doveadm(['mailbox', 'unsubscribe', '-u', email('anna'), 'INBOX']);
    assert.ok(!(await subscriptions(pair!.target, email('anna'))).includes('INBOX'));
    const run = await batch(['sync-now', 'fold']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.ok((await subscriptions(pair!.target, email('anna'))).includes('INBOX'), 'anna: INBOX subscribed again');
    assert.ok(!(await subscriptions(pair!.target, email('ben'))).includes('INBOX'), 'ben: INBOX still as on the source');
  });
});

// Dovecot 2.3 parses CREATE's USE parameter (RFC 6154 section 3) but does not advertise
// CREATE-SPECIAL-USE, nor mark the folder; told to advertise it, it lets both create paths
// (raw lane on the initial pass, imapflow on an incremental one) be run for real. What mailferry
// must do then: keep the source's names, ask for the attribute, and say that the target did not
// mark the folders.
describe('CREATE-SPECIAL-USE against real Dovecot (advertised by configuration)', {timeout: 120_000}, () => {
  let second: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
  let dir: string | undefined;
  const user = 'carla';
  const target = 'carla@example.test';
  const run = async (args: string[]) => {
    const capture = captureIo();
    const code = await runBatchCommand([...args, '--state-dir', path.join(dir!, 'state')], capture.io);
    return {code, stdout: capture.stdout(), stderr: capture.stderr()};
  };
  const identity = (sourcePath: string) => sourcePath;

  before(async () => {
    second = await startDovecotPair({
      source: {users: {[user]: 'csu-carla-Pw3'}, specialUse: LOCALIZED},
      target: {users: {[target]: 'unused'}, specialUseAuto: 'no', extraConfig: 'imap_capability = +CREATE-SPECIAL-USE'},
    });
    process.env[TARGET_ADMIN_ENV] = second.target.masterPassword;
    dir = await makeWorkDir('create-special-use');
    await seedMailbox(second.source, user, {
      folders: [],
      messages: [...messages('anna', 'INBOX', 2, 9000), ...messages('anna', '\\Sent', 2, 9100), ...messages('anna', '\\Drafts', 1, 9200)],
    });
    const csv = await writeMigrationCsv(path.join(dir, 'csu.csv'), [{email: target, user, password: 'csu-carla-Pw3'}]);
    const created = await run(['create', 'csu', '--csv', csv, ...pairCreateArgs(second)]);
    assert.equal(created.code, 0, created.stderr + created.stdout);
  });

  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await second?.stop();
    await removeWorkDir(dir);
  });

  it('creates the folders under the source names with USE, over the lanes and over imapflow, and says the target did not mark them', async () => {
    const first = await run(['start', 'csu']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const state = await readBatchState(path.join(dir!, 'state'), 'csu');
    const notes = state.mailboxes[target]!.renamedFolders.filter((folder) => folder.specialUse);
    assert.deepEqual(notes.map((note) => [note.source, note.target, note.specialUse]).sort(), [
      ['Archiv', 'Archiv', '\\Archive'],
      ['Entwürfe', 'Entwürfe', '\\Drafts'],
      ['Gelöschte Elemente', 'Gelöschte Elemente', '\\Trash'],
      ['Gesendete Elemente', 'Gesendete Elemente', '\\Sent'],
      ['Junk-E-Mail', 'Junk-E-Mail', '\\Junk'],
    ]);
    for (const note of notes) {
      assert.match(note.reason, /^created ".*" with the special-use attribute \\\w+ \(CREATE-SPECIAL-USE, RFC 6154 section 3\); the target does not mark it/);
    }
    // The target folder goes away; the incremental pass that recreates it lists with imapflow.
    await second!.target.doveadm(['mailbox', 'delete', '-u', target, 'Entwürfe']);
    const again = await run(['sync-now', 'csu']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const source = await readMailbox(second!.source, user);
    const copy = await readMailbox(second!.target, target);
    assert.deepEqual(compareMailboxes(source, copy, {mapFolder: identity}), [], `source ${folderCounts(source)}\ntarget ${folderCounts(copy)}`);
    const log = await readFile(batchLogFile(path.join(dir!, 'state'), 'csu'), 'utf8');
    const creations = log.split('\n').filter((line) => line.includes('"msg":"special-use folder created"') && line.includes('"target":"Entwürfe"'));
    assert.equal(creations.length, 2, log);
    assert.ok(!log.includes('refused CREATE with USE'), log);
    const after = await readBatchState(path.join(dir!, 'state'), 'csu');
    assert.match(after.mailboxes[target]!.renamedFolders.find((note) => note.source === 'Entwürfe')!.reason, /^created "Entwürfe" with the special-use attribute \\Drafts/);
  });
});
