// Mail dated in the future on the source (a delivery agent's mtime of 2038 or 2099): Dovecot 2.3
// stores the time of the APPEND instead of any date more than 2 h ahead and answers OK, so the
// copy differs silently unless mailferry reads the date back. Both copy paths are checked: the
// stream lanes (target with LITERAL+) and the buffered path (target with LITERAL- only).

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import type {CorpusMessage, HostileCorpus} from './helpers/hostile-corpus.js';
import {seedHostileCorpus, type CaseIndex} from './helpers/hostile-corpus-seed.js';
import {readClientView} from './helpers/client-view.js';
import {serverCapabilities} from './helpers/seed-mailbox.js';
import {TARGET_ADMIN_ENV, captureIo, makeWorkDir, pairCreateArgs, readBatchState, removeWorkDir, writeMigrationCsv} from './helpers/batch-fixture.js';

const LOGIN = 'future';
const PASSWORD = 'future-src-pw9';
const TARGET = 'future@example.test';

function message(caseName: string, date: Date, viaMaildir: boolean): CorpusMessage {
  const raw = Buffer.from(
    `From: a@example.test\r\nSubject: corpus case ${caseName}\r\nMessage-ID: <${caseName}@future.test>\r\nDate: ${date.toUTCString()}\r\n\r\nbody of ${caseName}\r\n`,
    'latin1',
  );
  return {caseName, folder: 'Dated', raw, flags: ['\\Seen'], internalDate: date, ...(viaMaildir ? {viaMaildir} : {})};
}

const CORPUS: HostileCorpus = {
  folders: [{caseName: 'dated', path: 'Dated', subscribed: true}],
  messages: [
    message('past-2001', new Date(Date.UTC(2001, 8, 9, 8, 0, 0)), false),
    message('future-2038', new Date(Date.UTC(2038, 0, 20, 10, 0, 0)), true),
    message('future-2099', new Date(Date.UTC(2099, 5, 15, 12, 0, 0)), true),
  ],
  bigFolder: 'Dated',
  bigFolderCount: 0,
  overLimitCases: [],
};

let source: DovecotServer | undefined;
const targets: {label: string; server: DovecotServer}[] = [];
let work: string | undefined;
let caseIndex: CaseIndex = new Map();

describe('internal dates in the future that the target replaces', {timeout: 120_000}, () => {
  before(async () => {
    const [s, lanes, buffered] = await Promise.all([
      startDovecot({role: 'source', users: {[LOGIN]: PASSWORD}}),
      startDovecot({role: 'target', users: {[TARGET]: 'unused-1'}}),
      startDovecot({role: 'target', users: {[TARGET]: 'unused-2'}, extraConfig: 'imap_literal_minus = yes'}),
    ]);
    source = s;
    targets.push({label: 'stream lanes (LITERAL+)', server: lanes}, {label: 'buffered path (LITERAL- only)', server: buffered});
    work = await makeWorkDir('future-date');
    caseIndex = await seedHostileCorpus(source, LOGIN, CORPUS);
  });

  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await Promise.all([source?.stop(), ...targets.map((t) => t.server.stop())]);
    await removeWorkDir(work);
  });

  for (const index of [0, 1]) {
    it(`lists each message whose date the target replaced as changed, with the reason (${index === 0 ? 'stream lanes' : 'buffered path'})`, async () => {
      const {server} = targets[index]!;
      const caps = await serverCapabilities(server, TARGET);
      assert.equal(caps.includes('LITERAL+'), index === 0, `the target ${index === 0 ? 'has' : 'lacks'} LITERAL+`);
      const stateDir = path.join(work!, `state-${index}`);
      process.env[TARGET_ADMIN_ENV] = server.masterPassword;
      const csv = await writeMigrationCsv(path.join(work!, `future-${index}.csv`), [{email: TARGET, user: LOGIN, password: PASSWORD}]);
      const io = captureIo();
      assert.equal(await runBatchCommand(['create', 'future', '--csv', csv, ...pairCreateArgs({source: source!, target: server}), '--state-dir', stateDir], io.io), 0, io.stderr());
      const started = captureIo();
      assert.equal(await runBatchCommand(['start', 'future', '--state-dir', stateDir], started.io), 0, `${started.stdout()}\n${started.stderr()}`);

      const mailbox = (await readBatchState(stateDir, 'future')).mailboxes[TARGET]!;
      const listed = mailbox.changed.map((item) => ({caseName: caseIndex.get('Dated')?.get(item.uid), item}));
      const targetDates = (await readClientView(server, TARGET)).folders.get("Dated")!.messages.map((m) => `${caseIndex.get("Dated")?.get(m.uid) ?? m.uid}=${m.internalDate}`);
      assert.deepEqual(listed.map((entry) => entry.caseName).sort(), ["future-2038", "future-2099"], `changed: ${JSON.stringify(mailbox.changed)}; target: ${targetDates.join(" ")}`);
      for (const {caseName, item} of listed) {
        const seeded = CORPUS.messages.find((m) => m.caseName === caseName)!;
        assert.equal(item.date, seeded.internalDate.toISOString(), `${caseName}: the source date`);
        assert.match(item.reason, new RegExp(`instead of ${seeded.internalDate.toISOString().replace(/[.]/g, '\\.')}`), `${caseName}: the reason says what the target stored`);
      }
      // The premise: the target really holds other dates for those two, and the past one exact.
      const view = await readClientView(server, TARGET);
      const dates = view.folders.get('Dated')!.messages.map((m) => m.internalDate).sort();
      assert.equal(dates.length, 3);
      assert.ok(dates.includes('2001-09-09T08:00:00.000Z'));
      assert.ok(!dates.includes('2099-06-15T12:00:00.000Z') && !dates.includes('2038-01-20T10:00:00.000Z'), `target dates ${dates.join(' ')}`);
      // A second pass copies nothing, so it lists nothing again.
      const again = captureIo();
      assert.equal(await runBatchCommand(['sync-now', 'future', '--state-dir', stateDir], again.io), 0, again.stderr());
      assert.equal((await readBatchState(stateDir, 'future')).mailboxes[TARGET]!.changed.length, 2);
    });
  }
});
