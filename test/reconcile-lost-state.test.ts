// Issue 17: a batch's state is lost (or another tool filled the target in part) and a new batch is
// created for the same mailbox against the already-filled target. Reconciling must append nothing
// twice and miss nothing, although the target did not keep everything the key holds: (a) dates in
// the future that Dovecot replaced with the APPEND time, (b) a header line a gateway added to
// every message (a proxy in front of the target: another size too), (c) two distinct messages
// sharing all identifying headers, (d) exact duplicates. Before the second batch some copies are
// removed from the target: exactly those must come back.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {readFile, rm} from 'node:fs/promises';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import type {CorpusMessage, HostileCorpus} from './helpers/hostile-corpus.js';
import {seedHostileCorpus} from './helpers/hostile-corpus-seed.js';
import {readClientView, type ViewMessage} from './helpers/client-view.js';
import {TARGET_ADMIN_ENV, captureIo, makeWorkDir, pairCreateArgs, readBatchState, removeWorkDir, writeMigrationCsv} from './helpers/batch-fixture.js';
import {RawTestClient} from './helpers/raw-imap-test-client.js';
import {startHeaderAddingProxy, type HeaderAddingProxy} from './helpers/header-adding-proxy.js';

const LOGIN = 'lost';
const PASSWORD = 'lost-src-pw7';
const TARGET = 'lost@example.test';
const FOLDER = 'Mixed';
const ADDED = 'X-Scanned-By: test gateway\r\n';
const PAST = new Date(Date.UTC(2021, 2, 4, 9, 15, 0));

function message(caseName: string, raw: string, internalDate = PAST, viaMaildir = false): CorpusMessage {
  return {caseName, folder: FOLDER, raw: Buffer.from(raw, 'latin1'), flags: ['\\Seen'], internalDate, ...(viaMaildir ? {viaMaildir} : {})};
}

const headers = (id: string, subject: string) =>
  `From: a@example.test\r\nTo: lost@example.test\r\nSubject: ${subject}\r\n${id ? `Message-ID: <${id}>\r\n` : ''}Date: ${PAST.toUTCString()}\r\n\r\n`;

const CORPUS: HostileCorpus = {
  folders: [{caseName: 'mixed', path: FOLDER, subscribed: true}],
  messages: [
    message('plain-1', `${headers('plain-1@lost.test', 'plain one')}first\r\n`),
    message('plain-2', `${headers('plain-2@lost.test', 'plain two')}second\r\n`),
    // (a) Seeded as Maildir files: Dovecot would clamp these dates on the source's APPEND too.
    message('future-2038', `${headers('future-2038@lost.test', 'corpus case future-2038')}dated 2038\r\n`, new Date(Date.UTC(2038, 0, 20, 10, 0, 0)), true),
    message('future-2099', `${headers('future-2099@lost.test', 'corpus case future-2099')}dated 2099\r\n`, new Date(Date.UTC(2099, 5, 15, 12, 0, 0)), true),
    // (c) Same Message-ID, Date, From, To, Subject and internal date; other bodies.
    message('same-headers-short', `${headers('same@lost.test', 'same headers')}short body\r\n`),
    message('same-headers-long', `${headers('same@lost.test', 'same headers')}${'a much longer body line\r\n'.repeat(12)}`),
    // (d) Byte for byte the same, twice.
    message('duplicate#1', `${headers('dup@lost.test', 'duplicate')}the same bytes\r\n`),
    message('duplicate#2', `${headers('dup@lost.test', 'duplicate')}the same bytes\r\n`),
    // Without Message-ID: identity from the stable header fields.
    message('no-id-1', `${headers('', 'cron: backup done')}ok\r\n`),
    message('no-id-2', `${headers('', 'cron: disk check')}ok\r\n`),
  ],
  bigFolder: FOLDER,
  bigFolderCount: 0,
  overLimitCases: [],
};

/** Removed from the target before the second batch: one of each kind, so each must come back. */
const REMOVED = ['future-2099', 'same-headers-long', 'duplicate#2', 'no-id-1'];

let source: DovecotServer | undefined;
let direct: DovecotServer | undefined;
let behindProxy: DovecotServer | undefined;
let proxy: HeaderAddingProxy | undefined;
let work: string | undefined;

/** What the client view holds for a body: its sha256; the gateway's copy has the added line in front. */
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const digests = (raw: Buffer) => [sha(raw), sha(Buffer.concat([Buffer.from(ADDED, 'latin1'), raw]))];

async function targetMessages(server: DovecotServer): Promise<ViewMessage[]> {
  return (await readClientView(server, TARGET)).folders.get(FOLDER)?.messages ?? [];
}

/** Each corpus message's count on the target (the gateway's line taken off). */
function countsOnTarget(messages: ViewMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) {
    const matches = CORPUS.messages.filter((c) => digests(c.raw).includes(m.body)).map((c) => c.caseName.replace(/#\d$/, ''));
    const name = matches[0] ?? 'unknown';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

function expectedCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of CORPUS.messages) counts.set(c.caseName.replace(/#\d$/, ''), (counts.get(c.caseName.replace(/#\d$/, '')) ?? 0) + 1);
  return counts;
}

async function runBatch(server: DovecotServer, port: number, stateDir: string, label: string): Promise<void> {
  process.env[TARGET_ADMIN_ENV] = server.masterPassword;
  const csv = await writeMigrationCsv(path.join(work!, `${label}.csv`), [{email: TARGET, user: LOGIN, password: PASSWORD}]);
  const target = Object.create(server, {imapPort: {value: port}}) as DovecotServer;
  const created = captureIo();
  assert.equal(await runBatchCommand(['create', 'lost', '--csv', csv, ...pairCreateArgs({source: source!, target}), '--state-dir', stateDir], created.io), 0, created.stderr());
  const started = captureIo();
  assert.equal(await runBatchCommand(['start', 'lost', '--state-dir', stateDir], started.io), 0, `${started.stdout()}\n${started.stderr()}`);
}

/** Removes the target's copy of each named case (one copy of a duplicate), found by its bytes. */
async function removeFromTarget(server: DovecotServer, cases: string[]): Promise<void> {
  const messages = await targetMessages(server);
  for (const caseName of cases) {
    const wanted = digests(CORPUS.messages.find((c) => c.caseName === caseName)!.raw);
    const copy = messages.find((m) => wanted.includes(m.body));
    assert.ok(copy, `a copy of ${caseName} is on the target`);
    await server.doveadm(['expunge', '-u', TARGET, 'mailbox', FOLDER, 'uid', String(copy.uid)]);
  }
}

describe('reconciling after the state is lost, against a target that stored things differently', {timeout: 120_000}, () => {
  before(async () => {
    const [s, d, p] = await Promise.all([
      startDovecot({role: 'source', users: {[LOGIN]: PASSWORD}}),
      startDovecot({role: 'target', users: {[TARGET]: 'unused-1'}}),
      startDovecot({role: 'target', users: {[TARGET]: 'unused-2'}}),
    ]);
    source = s;
    direct = d;
    behindProxy = p;
    proxy = await startHeaderAddingProxy(p.imapPort, ADDED);
    work = await makeWorkDir('lost-state');
    await seedHostileCorpus(source, LOGIN, CORPUS);
  });

  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    await proxy?.stop();
    await Promise.all([source, direct, behindProxy].map((server) => server?.stop()));
    await removeWorkDir(work);
  });

  for (const variant of ['Dovecot as it is', 'a gateway that adds a header on APPEND'] as const) {
    it(`nothing appended twice, nothing missed: ${variant}`, async (t) => {
      const viaProxy = variant !== 'Dovecot as it is';
      const server = viaProxy ? behindProxy! : direct!;
      const port = viaProxy ? proxy!.port : server.imapPort;
      const stateDir = path.join(work!, viaProxy ? 'state-proxy' : 'state-direct');

      await runBatch(server, port, stateDir, viaProxy ? 'proxy-1' : 'direct-1');
      assert.deepEqual(countsOnTarget(await targetMessages(server)), expectedCounts(), 'the first batch copied everything once');
      const learned = (await readBatchState(stateDir, 'lost')).mailboxes[TARGET]!.targetRewrites;
      t.diagnostic(`learned: ${JSON.stringify(learned)}`);
      if (viaProxy) {
        assert.equal(proxy!.rewritten(), CORPUS.messages.length, 'the gateway rewrote every APPEND');
        assert.equal(learned?.size, 'changed');
        assert.ok(learned?.headersAdded?.includes('x-scanned-by'), 'the added header was learned');
      } else {
        assert.equal(learned?.size, 'kept');
        assert.equal(learned?.internalDate, 'clamped-future');
      }
      // (a) The dates the target replaced are listed as changed, whatever else it changed.
      const changed = (await readBatchState(stateDir, 'lost')).mailboxes[TARGET]!.changed;
      assert.deepEqual(changed.map((item) => item.date).sort(), ['2038-01-20T10:00:00.000Z', '2099-06-15T12:00:00.000Z'], JSON.stringify(changed));
      const dates = (await targetMessages(server)).map((m) => m.internalDate);
      assert.ok(!dates.includes('2099-06-15T12:00:00.000Z') && !dates.includes('2038-01-20T10:00:00.000Z'), `the target replaced the future dates: ${dates.join(' ')}`);

      // The state is lost; some copies go missing on the target too.
      await rm(stateDir, {recursive: true, force: true});
      await removeFromTarget(server, REMOVED);
      await runBatch(server, port, stateDir, viaProxy ? 'proxy-2' : 'direct-2');

      assert.deepEqual(countsOnTarget(await targetMessages(server)), expectedCounts(), 'after reconciling: each message exactly as often as on the source');
      const mailbox = (await readBatchState(stateDir, 'lost')).mailboxes[TARGET]!;
      const record = mailbox.reconciled?.find((entry) => entry.folder === FOLDER);
      t.diagnostic(`reconciled: ${JSON.stringify(record)}`);
      const kept = CORPUS.messages.length - REMOVED.length;
      assert.ok(record, 'the reconciliation is recorded');
      assert.equal(record.matched, kept);
      assert.equal(record.alreadyPresent, kept);
      assert.equal(record.unmatched, 0);
      assert.deepEqual(record.unmatchedListed, []);
      if (viaProxy) {
        // Every copy has another size; future-2038's date was replaced as well.
        assert.deepEqual([record.exact, record.dateRewritten, record.sizeChanged], [0, 0, kept]);
      } else {
        assert.deepEqual([record.exact, record.dateRewritten, record.sizeChanged], [kept - 1, 1, 0]);
      }
      // The report says it too.
      const report = captureIo();
      assert.equal(await runBatchCommand(['report', 'lost', '--state-dir', stateDir, '--format', 'json'], report.io), 0, report.stderr());
      const reported = (JSON.parse(report.stdout()) as {reconciled: Array<{folder: string; matched: number; unmatched: number}>}).reconciled;
      assert.deepEqual(reported.map((entry) => [entry.folder, entry.matched, entry.unmatched]), [[FOLDER, kept, 0]]);
      const log = await readFile(path.join(stateDir, 'logs', 'lost.log'), 'utf8');
      assert.match(log, new RegExp(`reconciled ${FOLDER}: ${kept} target messages matched`));

      // A message another tool put on the target is listed as unmatched, and nothing is copied.
      const foreign = Buffer.from(`${headers('foreign@lost.test', 'put there by another tool')}not from the source\r\n`, 'latin1');
      const client = await RawTestClient.open(server, TARGET);
      await client.ok(`APPEND ${FOLDER} {${foreign.length}+}\r\n`, foreign);
      await client.logout();
      await rm(stateDir, {recursive: true, force: true});
      await runBatch(server, port, stateDir, viaProxy ? 'proxy-3' : 'direct-3');
      const third = (await readBatchState(stateDir, 'lost')).mailboxes[TARGET]!.reconciled?.find((entry) => entry.folder === FOLDER);
      assert.equal(third?.matched, CORPUS.messages.length);
      assert.equal(third?.unmatched, 1);
      assert.deepEqual(third?.unmatchedListed.map((m) => m.messageId), ['<foreign@lost.test>']);
      const after = countsOnTarget(await targetMessages(server));
      assert.equal(after.get('unknown'), 1);
      after.delete('unknown');
      assert.deepEqual(after, expectedCounts(), 'the third batch copies nothing');
    });
  }
});
