// Migrations where the fast paths of an initial pass cannot run, against real Dovecot servers
// configured to lack what those paths need:
// - a target without LITERAL+ (LITERAL- instead): no stream lanes; imapflow fetches every body
//   and raw APPEND connections with synchronizing literals store it (the buffered path);
// - a source without NAMESPACE and LIST-EXTENDED: the lanes stream, but imapflow lists the
//   folder tree (raw-folder-listing.ts needs both).
// Either way the target must end up an exact copy, with special-use folders and subscriptions
// carried over, and a second pass must copy nothing.

import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {readMailbox, realisticMailbox, seedMailbox, serverCapabilities} from './helpers/seed-mailbox.js';
import {compareMailboxes, expectedTargetFolder, folderCounts, listFolders} from './helpers/compare-mailboxes.js';
import {TARGET_ADMIN_ENV, captureIo, makeWorkDir, pairCreateArgs, passFinishedLines, removeWorkDir, writeMigrationCsv} from './helpers/batch-fixture.js';

const PASSWORD = 'src-dora-K4p8sW';
const email = 'dora@example.test';

const CASES: Array<{what: string; source?: string; target?: string}> = [
  {what: 'a target without LITERAL+ (buffered copy, synchronizing literals)', target: 'imap_literal_minus = yes'},
  {
    what: 'a source without NAMESPACE and LIST-EXTENDED (folders listed by imapflow, bodies streamed)',
    source: 'protocol imap {\n  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS CONDSTORE SPECIAL-USE\n}',
  },
];

describe('initial passes without the fast paths', {timeout: 180_000}, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    for (const cleanup of cleanups) await cleanup();
  });

  for (const testCase of CASES) {
    it(`${testCase.what}: exact copy, special-use folders and subscriptions carried, nothing copied twice`, async () => {
      const pair = await startDovecotPair({
        source: {users: {dora: PASSWORD}, ...(testCase.source ? {extraConfig: testCase.source} : {})},
        target: {users: {[email]: 'tgt-unused'}, separator: '.', prefix: 'INBOX.', ...(testCase.target ? {extraConfig: testCase.target} : {})},
      });
      const work = await makeWorkDir('fallback');
      cleanups.push(() => pair.stop(), () => removeWorkDir(work));
      process.env[TARGET_ADMIN_ENV] = pair.target.masterPassword;
      await assertServersLack(pair.source, pair.target, testCase);
      await seedMailbox(pair.source, 'dora', realisticMailbox({seed: 21}));
      const source = await readMailbox(pair.source, 'dora');
      const stateDir = path.join(work, 'state');
      const batch = async (args: string[]) => {
        const capture = captureIo();
        const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
        return {code, out: `${capture.stdout()}${capture.stderr()}`, stdout: capture.stdout()};
      };
      const csv = await writeMigrationCsv(path.join(work, 'dora.csv'), [{email, user: 'dora', password: PASSWORD}]);
      assert.equal((await batch(['create', 'fb', '--csv', csv, ...pairCreateArgs(pair)])).code, 0);
      const first = await batch(['start', 'fb']);
      assert.equal(first.code, 0, first.out);

      const mapFolder = (sourcePath: string) => expectedTargetFolder(pair.source, pair.target, sourcePath);
      const target = await readMailbox(pair.target, email);
      assert.deepEqual(compareMailboxes(source, target, {mapFolder}), [], `source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);

      const sourceFolders = await listFolders(pair.source, 'dora');
      const targetFolders = await listFolders(pair.target, email);
      const targetByRole = new Map(targetFolders.filter((f) => f.specialUse).map((f) => [f.specialUse!, f.path]));
      for (const folder of sourceFolders.filter((f) => f.specialUse)) {
        assert.equal(mapFolder(folder.path), targetByRole.get(folder.specialUse!), `${folder.path} (${folder.specialUse}) lands in the target's ${folder.specialUse} folder`);
      }
      const subscribed = new Set(targetFolders.filter((f) => f.subscribed).map((f) => f.path));
      for (const folder of sourceFolders) {
        assert.equal(subscribed.has(mapFolder(folder.path)), folder.subscribed, `${folder.path}: subscribed on the source ${folder.subscribed}`);
      }

      const second = await batch(['sync-now', 'fb']);
      assert.equal(second.code, 0, second.out);
      assert.equal(passFinishedLines(second.stdout).reduce((sum, line) => sum + line.copied, 0), 0, second.out);
      assert.deepEqual(compareMailboxes(source, await readMailbox(pair.target, email), {mapFolder}), []);
    });
  }
});

/** The servers really lack what each case is about (else the test would prove nothing). */
async function assertServersLack(source: DovecotServer, target: DovecotServer, testCase: {source?: string; target?: string}): Promise<void> {
  for (const [server, login, config, missing] of [
    [source, 'dora', testCase.source, ['NAMESPACE', 'LIST-EXTENDED']],
    [target, email, testCase.target, ['LITERAL+']],
  ] as const) {
    if (!config) continue;
    const capabilities = await serverCapabilities(server, login);
    for (const name of missing) assert.ok(!capabilities.includes(name), `${server.role} lacks ${name}: ${capabilities.join(' ')}`);
  }
}
