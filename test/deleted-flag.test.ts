// \Deleted survives the move (issue 12, item 3): a message marked \Deleted on the source but not
// expunged is the user's own state and must arrive with it, over the stream lanes and over the
// buffered path, with every combination of the system flags and some keywords; flag sync carries
// \Deleted set or cleared later; a pass after that finds nothing to change; and nothing mailferry
// does expunges a target folder. With --skip-deleted such messages are left out and each one is
// listed as skipped.

import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {DELETED_SKIP_REASON} from '../source/engine/copy/folder-copy.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, openClient, readMailbox, seedMailbox, serverCapabilities, serverFolderName, type SeedMessage} from './helpers/seed-mailbox.js';
import {compareMailboxes, expectedTargetFolder, folderCounts, type MailboxContent} from './helpers/compare-mailboxes.js';
import {TARGET_ADMIN_ENV, captureIo, makeWorkDir, pairCreateArgs, passFinishedLines, readBatchState, removeWorkDir, writeMigrationCsv} from './helpers/batch-fixture.js';

const PASSWORD = 'src-gil-Dx72qf';
const USER = 'gil';
const EMAIL = 'gil@example.test';
const SYSTEM = ['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '\\Deleted'] as const;
const KEYWORDS = ['$Forwarded', '$Label1', 'Work'];
const BASE_DATE = Date.UTC(2024, 4, 1, 8, 0, 0);

/** 32 INBOX messages, one per subset of the five system flags, some with keywords; and a second folder. */
function flagMatrix(): SeedMessage[] {
  const messages: SeedMessage[] = [];
  for (let mask = 0; mask < 32; mask++) {
    const flags: string[] = SYSTEM.filter((_, bit) => mask & (1 << bit));
    if (mask % 3 === 0) flags.push(KEYWORDS[mask % KEYWORDS.length]!);
    if (mask % 7 === 0) flags.push(...KEYWORDS);
    const date = new Date(BASE_DATE + mask * 3_600_000);
    messages.push({folder: 'INBOX', raw: buildMessage({subject: `flags ${mask}: ${flags.join(' ') || 'none'}`, date, seed: 9000 + mask}), flags: [...new Set(flags)], internalDate: date});
  }
  for (let i = 0; i < 4; i++) {
    const date = new Date(BASE_DATE - i * 86_400_000);
    messages.push({folder: 'Projects', raw: buildMessage({subject: `project ${i}`, date, seed: 9100 + i}), flags: i % 2 ? ['\\Deleted', '\\Seen'] : ['\\Flagged'], internalDate: date});
  }
  return messages;
}

const deletedIn = (content: MailboxContent, folder: string) => (content.get(folder) ?? []).filter((message) => message.flags.includes('\\Deleted'));

const PATHS: Array<{what: string; target?: string}> = [
  {what: 'over the stream lanes'},
  // Without LITERAL+ there are no lanes: imapflow fetches, raw APPEND connections store.
  {what: 'over the buffered path (target without LITERAL+)', target: 'imap_literal_minus = yes'},
];

describe('messages marked \\Deleted on the source', {timeout: 240_000}, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function setUp(label: string, targetConfig?: string) {
    const pair = await startDovecotPair({
      source: {users: {[USER]: PASSWORD}},
      target: {users: {[EMAIL]: 'tgt-unused'}, ...(targetConfig ? {extraConfig: targetConfig} : {})},
    });
    const work = await makeWorkDir(label);
    cleanups.push(() => pair.stop(), () => removeWorkDir(work));
    process.env[TARGET_ADMIN_ENV] = pair.target.masterPassword;
    await seedMailbox(pair.source, USER, {folders: ['Projects'], messages: flagMatrix()});
    const stateDir = path.join(work, 'state');
    const csv = await writeMigrationCsv(path.join(work, 'users.csv'), [{email: EMAIL, user: USER, password: PASSWORD}]);
    const batch = async (args: string[]) => {
      const capture = captureIo();
      const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
      return {code, stdout: capture.stdout(), out: `${capture.stdout()}${capture.stderr()}`};
    };
    const mapFolder = (sourcePath: string) => expectedTargetFolder(pair.source, pair.target, sourcePath);
    const exactCopy = async (when: string) => {
      const source = await readMailbox(pair.source, USER);
      const target = await readMailbox(pair.target, EMAIL);
      assert.deepEqual(compareMailboxes(source, target, {mapFolder}), [], `${when}: source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
      return {source, target};
    };
    return {pair, stateDir, csv, batch, mapFolder, exactCopy};
  }

  for (const copyPath of PATHS) {
    it(`arrive with \\Deleted and every other flag ${copyPath.what}; flag sync carries \\Deleted both ways; nothing is expunged`, async () => {
      const {pair, csv, batch, mapFolder, exactCopy} = await setUp('deleted', copyPath.target);
      if (copyPath.target) assert.ok(!(await serverCapabilities(pair.target, EMAIL)).includes('LITERAL+'), 'the target offers no LITERAL+');
      assert.equal((await batch(['create', 'del', '--csv', csv, ...pairCreateArgs(pair)])).code, 0);
      const first = await batch(['start', 'del']);
      assert.equal(first.code, 0, first.out);
      const {source, target} = await exactCopy('after the initial pass');
      assert.equal(target.get('INBOX')?.length, 32, 'all 32 combinations are on the target');
      assert.equal(deletedIn(target, 'INBOX').length, 16, 'the 16 \\Deleted ones keep it');
      assert.equal(deletedIn(target, mapFolder(serverFolderName(pair.source, 'Projects'))).length, 2);
      assert.equal(deletedIn(source, 'INBOX').length, 16);

      // On the source: \Deleted cleared on four, set on four others, a keyword added to one.
      await changeSourceFlags(pair.source, (uids) => ({
        remove: uids.filter((_, index) => index & 16).slice(0, 4),
        add: uids.filter((_, index) => !(index & 16)).slice(0, 4),
        keyword: uids[5]!,
      }));
      const second = await batch(['sync-now', 'del']);
      assert.equal(second.code, 0, second.out);
      const [secondPass] = passFinishedLines(second.stdout);
      assert.equal(secondPass?.copied, 0, second.out);
      assert.equal(secondPass?.flagUpdates, 9, `4 cleared, 4 set, 1 keyword: ${second.out}`);
      const afterSync = await exactCopy('after flag sync');
      assert.equal(deletedIn(afterSync.target, 'INBOX').length, 16);
      assert.equal(afterSync.target.get('INBOX')?.length, 32, 'nothing expunged on the target');

      // The pass after that sees no difference: \Deleted is compared the way it is copied.
      const third = await batch(['sync-now', 'del']);
      assert.equal(third.code, 0, third.out);
      const [thirdPass] = passFinishedLines(third.stdout);
      assert.deepEqual([thirdPass?.copied, thirdPass?.flagUpdates], [0, 0], third.out);
      await exactCopy('after the third pass');
    });
  }

  for (const copyPath of PATHS) {
    it(`with --skip-deleted leaves them out and lists each one as skipped, ${copyPath.what}`, async () => {
      const {pair, stateDir, csv, batch, mapFolder} = await setUp('skipdel', copyPath.target);
      assert.equal((await batch(['create', 'skip', '--csv', csv, '--skip-deleted', ...pairCreateArgs(pair)])).code, 0);
      assert.equal((await readBatchState(stateDir, 'skip')).batch.settings.skipDeletedMessages, true);
      const first = await batch(['start', 'skip']);
      assert.equal(first.code, 0, first.out);
      const source = await readMailbox(pair.source, USER);
      const target = await readMailbox(pair.target, EMAIL);
      const left = new Set([...source.values()].flat().filter((message) => message.flags.includes('\\Deleted')).map((message) => message.sha256));
      assert.equal(left.size, 18);
      assert.deepEqual(compareMailboxes(source, target, {mapFolder, notCopied: left}), []);
      assert.equal([...target.values()].flat().filter((message) => message.flags.includes('\\Deleted')).length, 0);

      const state = await readBatchState(stateDir, 'skip');
      const mailbox = Object.values(state.mailboxes)[0]!;
      const skipped = mailbox.skipped.filter((item) => item.reason === DELETED_SKIP_REASON);
      assert.equal(skipped.length, 18, JSON.stringify(mailbox.skipped));
      const deletedUids = (folder: string) => (source.get(folder) ?? []).filter((message) => message.flags.includes('\\Deleted')).map((message) => message.uid).sort((a, b) => a - b);
      assert.deepEqual(skipped.filter((item) => item.folder === 'INBOX').map((item) => item.uid).sort((a, b) => a - b), deletedUids('INBOX'));
      assert.ok(skipped.every((item) => item.subject?.startsWith('flags ') || item.subject?.startsWith('project ')), 'each names its subject');
      assert.match(first.stdout, /skipped INBOX UID \d+: marked \\Deleted on the source \(not expunged\); left out by --skip-deleted/);
      const report = await batch(['report', 'skip', '--format', 'json']);
      assert.equal((JSON.parse(report.stdout) as {items: unknown[]}).items.length, 18);

      // A second pass neither copies them nor lists them again.
      const second = await batch(['sync-now', 'skip']);
      assert.equal(second.code, 0, second.out);
      assert.equal(passFinishedLines(second.stdout)[0]?.copied, 0, second.out);
      assert.equal(Object.values((await readBatchState(stateDir, 'skip')).mailboxes)[0]!.skipped.length, 18);
    });
  }

  it('no code of mailferry can expunge: no CLOSE, EXPUNGE, or imapflow call that sends them', async () => {
    // imapflow's mailboxClose sends CLOSE, messageDelete EXPUNGE, and mailboxDelete/mailboxRename
    // a CLOSE first when the folder is selected: any of them would expunge the \\Deleted copies.
    const {readdir, readFile} = await import('node:fs/promises');
    const {fileURLToPath} = await import('node:url');
    const root = fileURLToPath(new URL('../source', import.meta.url));
    const expunging = /\b(mailboxClose|messageDelete|mailboxDelete|mailboxRename)\b|['"`](UID )?(EXPUNGE|CLOSE)\b/;
    const offenders: string[] = [];
    const scan = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, {withFileTypes: true})) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) await scan(file);
        else if (/\.tsx?$/.test(entry.name)) {
          (await readFile(file, 'utf8')).split('\n').forEach((line, index) => {
            if (expunging.test(line)) offenders.push(`${path.relative(root, file)}:${index + 1}: ${line.trim()}`);
          });
        }
      }
    };
    await scan(root);
    assert.deepEqual(offenders, []);
    assert.ok(expunging.test("session.command('CLOSE')") && expunging.test('await client.mailboxClose();'), 'the pattern finds what it looks for');
  });

  it('old state files without the setting load with the default (copy them)', async () => {
    const {upgradeState} = await import('../source/store/state-schema.js');
    const {DEFAULT_SETTINGS} = await import('../source/engine/batch-model.js');
    const {skipDeletedMessages: _new, ...oldSettings} = DEFAULT_SETTINGS;
    const state = upgradeState({version: 1, batch: {name: 'old', source: {}, target: {}, settings: {...oldSettings, maxMessageBytes: 1234}}, mailboxes: {}}, 'old.json');
    assert.equal(state.batch.settings.skipDeletedMessages, false);
    assert.equal(state.batch.settings.maxMessageBytes, 1234);
  });
});

/** Adds/removes \Deleted on source INBOX messages (by position in UID order) and a keyword on one. */
async function changeSourceFlags(server: DovecotServer, pick: (uids: number[]) => {remove: number[]; add: number[]; keyword: number}): Promise<void> {
  const client = await openClient(server, USER);
  try {
    // Read-write, as a mail client would; left by LOGOUT, which expunges nothing (RFC 3501 6.4.2).
    await client.mailboxOpen('INBOX');
    const uids: number[] = [];
    for await (const message of client.fetch('1:*', {uid: true}, {uid: true})) uids.push(message.uid);
    uids.sort((a, b) => a - b);
    const chosen = pick(uids);
    await client.messageFlagsRemove(chosen.remove.join(','), ['\\Deleted'], {uid: true});
    await client.messageFlagsAdd(chosen.add.join(','), ['\\Deleted'], {uid: true});
    await client.messageFlagsAdd(String(chosen.keyword), ['Later'], {uid: true});
  } finally {
    await client.logout();
  }
}
