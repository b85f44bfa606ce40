// The engine's commands driven through its API (as the UI does), against real Dovecot: stop and
// resume one mailbox while others run, a wrong password failing one mailbox with an auth reason
// while the rest complete, a CSV row in the Dovecot master-user format, complete() with its final
// pass, and a restart of the target server in the middle of a copy.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {createBatch, openBatch, type OpenedBatch} from '../source/engine/batch-engine.js';
import type {BatchSettings, MailboxStatus} from '../source/engine/batch-model.js';
import type {MailboxSnapshot} from '../source/engine/scheduler/batch-snapshot.js';
import type {EngineEvents} from '../source/engine/engine-events.js';
import {loadMigrationCsv} from '../source/engine/csv/migration-csv.js';
import {createFileLogger} from '../source/log/logger.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {sessionsEnded} from './helpers/dovecot-log.js';
import {buildMessage, readMailbox, realisticMailbox, seedMailbox, type SeedSpec} from './helpers/seed-mailbox.js';
import {compareMailboxes, duplicateCount, expectedTargetFolder, folderCounts} from './helpers/compare-mailboxes.js';
import {startSlowLink, withSlowTarget} from './helpers/slow-link.js';
import type {DelayProxy} from '../bench/delay-proxy.js';
import {TARGET_ADMIN_ENV, folderMessageCount, maildirInboxCount, makeWorkDir, pairDefinition, removeWorkDir, stateFiles, waitFor, writeMigrationCsv, type CsvRow} from './helpers/batch-fixture.js';

const PASSWORDS = {
  big: 'life-big-pw1', busy: 'life-busy-pw2', small: 'life-small-pw3', wanda: 'life-wanda-pw4', mary: 'life-mary-pw5', rita: 'life-rita-pw6',
  leaky: 'life-leaky-pw7', huge: 'life-huge-pw8',
} as const;
const email = (user: string) => `${user}@example.test`;
const WRONG_PASSWORD = 'life-wrong-pw0';

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let slowLink: DelayProxy | undefined;
let work: string | undefined;
let stateDir = '';
const opened: OpenedBatch[] = [];

function mapFolder(sourcePath: string): string {
  return expectedTargetFolder(pair!.source, pair!.target, sourcePath);
}

/** Many mid-sized messages in INBOX: a mailbox that is still copying when a test acts on it. */
function bulkMailbox(count: number, bytes: number, seed: number): SeedSpec {
  return {
    folders: ['INBOX'],
    messages: Array.from({length: count}, (_, i) => ({
      folder: 'INBOX',
      raw: buildMessage({subject: `Bulk ${seed}-${i}`, seed: seed * 10_000 + i, attachmentBytes: Math.floor((bytes * 3) / 4)}),
      flags: i % 3 === 0 ? ['\\Seen'] : [],
      internalDate: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
    })),
  };
}

async function newBatch(name: string, rows: CsvRow[], settings: Partial<BatchSettings> = {}, sourceMaxConnections?: number): Promise<string> {
  const csvPath = await writeMigrationCsv(path.join(work!, `${name}.csv`), rows);
  const csv = await loadMigrationCsv(csvPath);
  assert.deepEqual(csv.problems.filter((p) => p.severity === 'error'), []);
  // Through a slow link: the copies must still be running when the tests stop or restart things.
  const definition = pairDefinition(withSlowTarget(pair!, slowLink!), name, csvPath, settings);
  if (sourceMaxConnections !== undefined) definition.source = {...definition.source, maxConnections: sourceMaxConnections};
  await createBatch({stateDir, definition, rows: csv.rows});
  return csvPath;
}

async function open(name: string, backoffScale = 0.02, inFlightBytes?: number): Promise<OpenedBatch> {
  const control = await openBatch({
    stateDir,
    name,
    backoffScale,
    logger: createFileLogger(path.join(stateDir, 'logs', `${name}.log`)),
    ...(inFlightBytes ? {inFlightBytes} : {}),
  });
  opened.push(control);
  return control;
}

async function close(control: OpenedBatch): Promise<void> {
  await control.close();
  opened.splice(opened.indexOf(control), 1);
}

function mailbox(control: OpenedBatch, user: string): MailboxSnapshot {
  const found = control.getSnapshot().mailboxes.find((m) => m.emailAddress === email(user));
  if (!found) throw new Error(`no mailbox ${email(user)} in the snapshot`);
  return found;
}

/** Resolves once the published snapshot satisfies `check`. */
async function waitForSnapshot(control: OpenedBatch, what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  try {
    await waitFor(what, () => (check() ? true : undefined), timeoutMs, 20);
  } catch (error) {
    // A timeout alone says nothing of where the batch was stuck; the statuses and counts do.
    const seen = control.getSnapshot().mailboxes.map((m) => `${m.emailAddress} ${m.status} ${m.itemsDone}/${m.itemsTotal}`);
    throw new Error(`${(error as Error).message}; the snapshot shows ${seen.join(', ')}`);
  }
}

/**
 * whenIdle() plus the next snapshot: the snapshot is published on a timer (at most ~5/s), so right
 * after whenIdle() or stop() resolve it may still show the statuses from before.
 */
async function idle(control: OpenedBatch): Promise<void> {
  await control.whenIdle();
  await waitForSnapshot(control, 'a snapshot after the batch went idle', () => !control.getSnapshot().running);
}

function recordEvents<K extends keyof EngineEvents>(control: OpenedBatch, event: K): EngineEvents[K][] {
  const list: EngineEvents[K][] = [];
  control.on(event, (payload) => list.push(payload));
  return list;
}

async function assertExactCopy(sourceUser: string, targetLogin: string): Promise<void> {
  const source = await readMailbox(pair!.source, sourceUser);
  const target = await readMailbox(pair!.target, targetLogin);
  assert.equal(duplicateCount(source, target, mapFolder), 0, `${targetLogin}: duplicates`);
  assert.deepEqual(compareMailboxes(source, target, {mapFolder}), [], `${targetLogin}: source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
}

function statuses(control: OpenedBatch): Record<string, MailboxStatus> {
  return Object.fromEntries(control.getSnapshot().mailboxes.map((m) => [m.emailAddress, m.status]));
}

describe('engine lifecycle against real Dovecot', {timeout: 180_000}, () => {
  before(async () => {
    pair = await startDovecotPair({
      source: {users: PASSWORDS},
      target: {users: Object.fromEntries(Object.keys(PASSWORDS).map((user) => [email(user), `tgt-${user}`])), separator: '.', prefix: 'INBOX.'},
    });
    process.env[TARGET_ADMIN_ENV] = pair.target.masterPassword;
    slowLink = await startSlowLink(pair.target);
    work = await makeWorkDir('lifecycle');
    stateDir = path.join(work, 'state');
    await Promise.all([
      seedMailbox(pair.source, 'big', bulkMailbox(300, 50_000, 1)),
      seedMailbox(pair.source, 'busy', bulkMailbox(600, 10_000, 2)),
      seedMailbox(pair.source, 'small', realisticMailbox({seed: 41})),
      seedMailbox(pair.source, 'wanda', realisticMailbox({seed: 42})),
      seedMailbox(pair.source, 'mary', realisticMailbox({seed: 43})),
      seedMailbox(pair.source, 'rita', bulkMailbox(1000, 5_000, 3)),
      seedMailbox(pair.source, 'leaky', bulkMailbox(300, 15_000, 4)),
      seedMailbox(pair.source, 'huge', bulkMailbox(3, 100_000, 5)),
    ]);
  });

  after(async () => {
    for (const control of opened.splice(0)) await control.close().catch(() => {});
    delete process.env[TARGET_ADMIN_ENV];
    await slowLink?.stop();
    await pair?.stop();
    await removeWorkDir(work);
  });

  const rows = (wandaPassword: string): CsvRow[] => [
    {email: email('big'), user: 'big', password: PASSWORDS.big},
    {email: email('busy'), user: 'busy', password: PASSWORDS.busy},
    {email: email('small'), user: 'small', password: PASSWORDS.small},
    {email: email('wanda'), user: 'wanda', password: wandaPassword},
    // Dovecot master-user login: the admin's password acts as mary (SPEC "Migration file").
    {email: email('mary'), user: `mary${pair!.source.masterSeparator}${pair!.source.masterUser}`, password: pair!.source.masterPassword},
  ];
  let csvPath = '';

  it('stops and resumes one mailbox while the others run; a wrong password fails only that mailbox, with an auth reason', async () => {
    // One APPEND connection per mailbox keeps big and busy copying long enough to act on them.
    csvPath = await newBatch('life', rows(WRONG_PASSWORD), {appendConnectionsPerMailbox: 1});
    const control = await open('life');
    try {
      const retries = recordEvents(control, 'retry');
      const changes = recordEvents(control, 'status');
      await control.start();

      await waitForSnapshot(control, 'big and busy copying', () => mailbox(control, 'big').itemsDone >= 20 && mailbox(control, 'busy').itemsDone >= 1);
      await control.stop([email('big')]);
      assert.deepEqual(changes.filter((c) => c.emailAddress === email('big')).map((c) => c.to).slice(-2), ['Stopping', 'Stopped'], 'stop() resolved after big was Stopped');
      assert.ok(!changes.some((c) => c.emailAddress === email('busy') && c.to === 'Synced'), 'busy was still copying when big stopped');
      // An APPEND whose bytes had all arrived may still be committed by Dovecot after the
      // disconnect: take the count that must not grow any more once every target session of big
      // has ended on the server (its imap process logged the disconnect).
      await sessionsEnded(pair!.target, (name) => name.split(/[*@]/)[0] === 'big');
      const bigAtStop = await folderMessageCount(pair!.target, email('big'), 'INBOX');
      assert.ok(bigAtStop < 300, `big was stopped mid-copy (${bigAtStop} of 300 on the target)`);

      await idle(control);
      assert.deepEqual(statuses(control), {
        [email('big')]: 'Stopped',
        [email('busy')]: 'Synced',
        [email('small')]: 'Synced',
        [email('wanda')]: 'Failed',
        [email('mary')]: 'Synced',
      });
      assert.equal(await folderMessageCount(pair!.target, email('big'), 'INBOX'), bigAtStop, 'nothing copied for big while stopped');
      const wanda = mailbox(control, 'wanda');
      assert.equal(wanda.lastError?.kind, 'auth', JSON.stringify(wanda.lastError));
      assert.equal(wanda.lastError?.endpoint, 'source');
      // Tried once more (a restarting server refuses logins it then accepts), then failed.
      assert.ok(retries.filter((event) => event.emailAddress === email('wanda')).length <= 1, 'a refused login is retried at most once');

      control.resume([email('big')]);
      assert.equal(changes.at(-1)?.emailAddress === email('big') && ['Queued', 'Starting'].includes(changes.at(-1)!.to), true, 'resume() queued big');
      await idle(control);
      assert.equal(mailbox(control, 'big').status, 'Synced');
      await assertExactCopy('big', email('big'));
      await assertExactCopy('busy', email('busy'));
      await assertExactCopy('small', email('small'));
      await assertExactCopy('mary', email('mary'));
    } finally {
      await close(control);
    }
  });

  it('keeps every password out of the state file and the log, the wrong one too', async () => {
    const secrets = [...Object.values(PASSWORDS), WRONG_PASSWORD, pair!.source.masterPassword, pair!.target.masterPassword];
    const files = [...(await stateFiles(stateDir, 'life')), ...(await readdir(path.join(stateDir, 'logs'))).map((f) => path.join(stateDir, 'logs', f))];
    const log = await readFile(path.join(stateDir, 'logs', 'life.log'), 'utf8');
    assert.match(log, /wanda/, 'the log recorded the failed login');
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const secret of secrets) assert.ok(!text.includes(secret), `${path.basename(file)} contains a password`);
    }
  });

  it('after the CSV is fixed, the failed mailbox resumes; complete() runs a final pass and every mailbox ends Completed', async () => {
    await writeFile(csvPath, (await readFile(csvPath, 'utf8')).replace(WRONG_PASSWORD, PASSWORDS.wanda));
    const control = await open('life');
    try {
      const passes = recordEvents(control, 'pass-finished');
      await control.start();
      control.resume([email('wanda')]);
      await idle(control);
      assert.equal(mailbox(control, 'wanda').status, 'Synced', JSON.stringify(mailbox(control, 'wanda').lastError));
      await assertExactCopy('wanda', email('wanda'));

      // Mail that arrives before completion must be carried by the final pass.
      await seedMailbox(pair!.source, 'small', {folders: [], messages: [{folder: 'INBOX', raw: buildMessage({subject: 'Last mail before the cutover', seed: 4444})}]});
      await control.complete();
      await idle(control);
      const snapshot = control.getSnapshot();
      assert.equal(snapshot.completed, true);
      for (const m of snapshot.mailboxes) assert.equal(m.status, 'Completed', `${m.emailAddress}: ${m.status}`);
      const finals = passes.filter((p) => p.kind === 'final');
      assert.equal(finals.length, 5, `a final pass per mailbox: ${JSON.stringify(passes)}`);
      assert.equal(finals.find((p) => p.emailAddress === email('small'))?.copied, 1);
      await assertExactCopy('small', email('small'));
    } finally {
      await close(control);
    }
  });

  it('survives a restart of the target server mid-copy by retrying: ends Synced with no duplicates', async () => {
    await newBatch('restart', [{email: email('rita'), user: 'rita', password: PASSWORDS.rita}]);
    // Real backoff: the engine gives a refused connection only a few tries (a restarting server
    // looks like that), and those must span the time Dovecot takes to come back on a busy machine.
    const control = await open('restart', 1);
    try {
      const retries = recordEvents(control, 'retry');
      await control.start();
      await waitFor('rita copying', () => (maildirInboxCount(pair!.target, email('rita')) >= 20 ? true : undefined), 30_000, 2);
      const copiedBefore = maildirInboxCount(pair!.target, email('rita'));
      assert.ok(copiedBefore < 1000, `the restart happens mid-copy (${copiedBefore} of 1000)`);
      await pair!.target.restart();
      await idle(control);
      assert.equal(mailbox(control, 'rita').status, 'Synced', JSON.stringify(mailbox(control, 'rita').lastError));
      assert.ok(retries.length >= 1, 'the engine retried after the restart');
      const transient = new Set(['connection-lost', 'timeout', 'connect', 'greeting']);
    assert.ok(retries.every((r) => transient.has(r.error.kind)), `retried only transient errors: ${JSON.stringify(retries.map((r) => r.error.kind))}`);
      await assertExactCopy('rita', email('rita'));
    } finally {
      await close(control);
    }
  });

  it('gives the byte budget back when a mailbox is stopped mid-copy (a later mailbox needing all of it still runs)', async () => {
    // Budget 64 KiB: leaky's 15 KB messages fit a few at a time; huge's 100 KB messages each need
    // the whole budget, so any bytes not given back make huge wait for ever. Only the buffered
    // path (imapflow FETCH, then APPENDs from memory) holds bodies and so the byte budget; the
    // stream lanes never do. One source connection leaves no room for a lane.
    await newBatch('budget', [
      {email: email('leaky'), user: 'leaky', password: PASSWORDS.leaky},
      {email: email('huge'), user: 'huge', password: PASSWORDS.huge},
    ], {maxConcurrentMigrations: 1}, 1);
    const control = await open('budget', 0.02, 64 * 1024);
    try {
      await control.start();
      // Held back until leaky is done, so that what all five stops leaked adds up before it runs
      // (a resumed mailbox would otherwise queue behind it and huge would run after the first).
      await control.stop([email('huge')]);
      let doneBefore = 0;
      for (let round = 1; round <= 5; round++) {
        // Progress in this round's pass, not the count carried over from the last one: the pass
        // holds part of the budget when the stop lands.
        await waitForSnapshot(control, `leaky copying (round ${round})`, () => mailbox(control, 'leaky').itemsDone >= doneBefore + 5 && mailbox(control, 'leaky').status === 'Syncing');
        await control.stop([email('leaky')]);
        await waitForSnapshot(control, `leaky Stopped (round ${round})`, () => mailbox(control, 'leaky').status === 'Stopped');
        doneBefore = mailbox(control, 'leaky').itemsDone;
        assert.ok(doneBefore < 300, `round ${round}: the stop landed mid-copy (${doneBefore} of 300 copied)`);
        control.resume([email('leaky')]);
      }
      await waitForSnapshot(control, 'leaky Synced', () => mailbox(control, 'leaky').status === 'Synced');
      control.resume([email('huge')]);
      await waitForSnapshot(
        control,
        'huge to finish after leaky was stopped five times (it waits for ever when a stop leaked part of the byte budget)',
        () => mailbox(control, 'huge').status === 'Synced',
        20_000,
      );
      await assertExactCopy('leaky', email('leaky'));
      await assertExactCopy('huge', email('huge'));
    } finally {
      await close(control);
    }
  });
});
