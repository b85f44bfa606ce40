// The streamed copy path against real Dovecot: bodies read from a raw source FETCH piece by piece
// (with and without backpressure), written into MULTIAPPEND batches on the target, refused
// batches handed back for the buffered path, and the read slabs of plain sockets all returned
// to the pool once the sessions are gone.

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import {buildMessage, readMailbox, seedMailbox, type SeedMessage, type StoredMessage} from './helpers/seed-mailbox.js';
import {seededRandom} from './helpers/build-message.js';
import {makeEndpoint, type EndpointConfig, type LoginIdentity} from '../source/imap/endpoint.js';
import {translateError} from '../source/imap/error-translation.js';
import {formatError} from '../source/imap/imap-error.js';
import {RawImapSession} from '../source/imap/raw-session.js';
import {examineFolder, fetchBodies, type BodyConsumer} from '../source/imap/body-stream.js';
import {AppendStreamWriter, openAppendSession, type AppendBatch, type AppendOutcome} from '../source/imap/pipelined-appender.js';
import {slabsHeld} from '../source/imap/read-buffer-pool.js';
import {openFolder} from '../source/imap/folder-open.js';
import {FOLDER_ORDER_WINDOW_PER_LANE, streamCopy, type StreamCopyInput, type StreamLane} from '../source/engine/copy/stream-copy.js';
import {startSlowLink} from './helpers/slow-link.js';
import {splitFlags} from '../source/engine/copy/message-flags.js';

// Not a timing assertion: a promise the copy path never settles fails the suite instead of hanging it.
const SUITE_TIMEOUT_MS = 300_000;
/** Over the target's quota_max_mail_size (3M) below, while 2 MB messages still fit. */
const TOO_LARGE_BYTES = 3_500_000;

const USERS = {alice: 'pw-alice', bob: 'pw-bob', carol: 'pw-carol', dave: 'pw-dave', erin: 'pw-erin', frank: 'pw-frank', gina: 'pw-gina', hank: 'pw-hank'};

function endpointFor(server: DovecotServer): EndpointConfig {
  return makeEndpoint({host: '127.0.0.1', port: server.imapPort, security: 'none'});
}

function identityOf(login: keyof typeof USERS): LoginIdentity {
  return {user: login, password: USERS[login]};
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every session a test opens, so after() can close what a failing test left open. */
const sessions: RawImapSession[] = [];

async function openSource(server: DovecotServer, login: keyof typeof USERS): Promise<RawImapSession> {
  const session = await RawImapSession.open(endpointFor(server), identityOf(login));
  sessions.push(session);
  return session;
}

async function openTarget(server: DovecotServer, login: keyof typeof USERS): Promise<RawImapSession> {
  const session = await openAppendSession(endpointFor(server), identityOf(login));
  assert.ok(session, 'Dovecot offers LITERAL+, so openAppendSession must give a session');
  sessions.push(session);
  return session;
}

/**
 * `count` lanes for `login`, with the target INBOX opened first, as the engine opens every target
 * folder before its lanes append: Dovecot 2.3 can panic (fcntl EDEADLK on its list index) when two
 * sessions' first APPENDs both create a user's INBOX at once.
 */
async function openLanes(source: DovecotServer, target: DovecotServer, login: keyof typeof USERS, count: number): Promise<StreamLane[]> {
  const lanes: StreamLane[] = [];
  for (let i = 0; i < count; i++) lanes.push({source: await openSource(source, login), target: await openTarget(target, login)});
  await openFolder(lanes[0]!.target, 'INBOX', 'SELECT');
  return lanes;
}

function closeLanes(lanes: StreamLane[]): void {
  for (const lane of lanes) {
    lane.source.close();
    lane.target.close();
  }
}

async function inbox(server: DovecotServer, login: string): Promise<StoredMessage[]> {
  const stored = await readMailbox(server, login);
  const messages = stored.get('INBOX');
  assert.ok(messages, `INBOX exists for ${login}`);
  return messages;
}

/** Cuts `raw` into pieces of random sizes (1 byte up to 256 KB, mostly small). */
function randomPieces(raw: Buffer, random: () => number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let start = 0; start < raw.length;) {
    const size = 1 + Math.floor(random() ** 3 * 256 * 1024);
    pieces.push(raw.subarray(start, start + size));
    start += size;
  }
  return pieces;
}

interface Written {
  raw: Buffer;
  flags: string[];
  date: Date;
}

/** Streams `messages` (ids 1..n) through `writer` the way the copy path does, honouring backpressure. */
async function writeAll(writer: AppendStreamWriter, messages: Written[], random: () => number): Promise<void> {
  for (const [index, message] of messages.entries()) {
    writer.startMessage(index + 1, message.raw.length, message.flags, message.date);
    for (const piece of randomPieces(message.raw, random)) {
      const wait = writer.data(piece);
      if (wait) await wait;
    }
    writer.endMessage();
  }
  writer.flush();
}

/** What a stored message should look like (flags sorted, as readMailbox gives them). */
function expectedStored(message: Written): Omit<StoredMessage, 'uid'> {
  return {flags: [...message.flags].sort(), internalDate: message.date.toISOString(), size: message.raw.length, sha256: sha256(message.raw)};
}

/** An IMAP date-time ("07-Jun-2019 08:09:10 +0000") as an ISO instant, or undefined. */
function imapDateIso(dateTime: string | undefined): string | undefined {
  if (dateTime === undefined) return undefined;
  const parsed = Date.parse(dateTime.trim().replace(/-/g, ' ').replace(/ ([+-]\d{4})$/, ' GMT$1'));
  return Number.isNaN(parsed) ? `unparseable: ${dateTime}` : new Date(parsed).toISOString();
}

function withoutUid(message: StoredMessage): Omit<StoredMessage, 'uid'> {
  const {uid: _uid, ...rest} = message;
  return rest;
}

/**
 * A body consumer that checks the order of calls, collects every body per UID and, when
 * `delayed`, answers each piece with a promise resolved on a later timer tick (backpressure).
 */
function collectingConsumer(delayed: boolean) {
  const bodies = new Map<number, Buffer[]>();
  const sizes = new Map<number, number>();
  const flags = new Map<number, string[]>();
  const dates = new Map<number, string>();
  const order: number[] = [];
  const violations: string[] = [];
  let current: number | undefined;
  let waiting = false;
  let pauses = 0;
  const consumer: BodyConsumer = {
    begin(uid, size, messageFlags, internalDate) {
      if (waiting) violations.push(`begin(${uid}) while a data() promise was pending`);
      if (current !== undefined) violations.push(`begin(${uid}) before end() of ${current}`);
      if (bodies.has(uid)) violations.push(`UID ${uid} arrived twice`);
      current = uid;
      order.push(uid);
      sizes.set(uid, size);
      flags.set(uid, messageFlags);
      dates.set(uid, internalDate);
      bodies.set(uid, []);
    },
    data(chunk) {
      if (waiting) violations.push(`data() for ${current} while the previous data() promise was pending`);
      if (current === undefined) {
        violations.push('data() outside a body');
        return;
      }
      // Copied: the chunk lies in a pooled read slab that is reused once this returns (or resolves).
      bodies.get(current)!.push(Buffer.from(chunk));
      if (!delayed) return;
      waiting = true;
      pauses++;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          waiting = false;
          resolve();
        }, 1),
      );
    },
    // end() may come while the last piece's promise is pending: it reads nothing more.
    end() {
      if (current === undefined) violations.push('end() outside a body');
      current = undefined;
    },
  };
  return {
    consumer,
    order,
    violations,
    get pauses() {
      return pauses;
    },
    body: (uid: number) => Buffer.concat(bodies.get(uid) ?? []),
    sizes,
    flags,
    dates,
  };
}

describe('streamed copy path against real Dovecot', {timeout: SUITE_TIMEOUT_MS}, () => {
  let source: DovecotServer;
  let target: DovecotServer;

  /** A streamCopy input with the engine's usual parts (all flags kept, the mark on disk, no stop); `fields` adds or overrides. */
  const copyInput = (login: keyof typeof USERS, fields: Partial<StreamCopyInput> & Pick<StreamCopyInput, 'uids' | 'sizes'>): StreamCopyInput => ({
    folder: 'INBOX',
    targetPath: 'INBOX',
    targetFlags: (flags) => splitFlags(flags, undefined).keep,
    marked: Promise.resolve(),
    signal: new AbortController().signal,
    onAppended: () => {},
    ...fields,
    translate: (role, error) => translateError(error, {role, endpoint: endpointFor(role === 'source' ? source : target), user: login, folder: fields.folder ?? 'INBOX', phase: 'command'}),
  });
  before(async () => {
    const started = await Promise.allSettled([
      startDovecot({role: 'source', users: USERS}),
      // Dovecot 2.3 refuses messages over a size through the quota plugin; no storage rule, so
      // nothing but the size limit ever refuses a message.
      startDovecot({
        role: 'target',
        users: USERS,
        extraConfig: ['mail_plugins = $mail_plugins quota', 'plugin {', '  quota = count:User quota', '  quota_vsizes = yes', '  quota_max_mail_size = 3M', '}'].join('\n'),
      }),
    ]);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    [source, target] = started.map((result) => (result as PromiseFulfilledResult<DovecotServer>).value) as [DovecotServer, DovecotServer];
  });
  after(async () => {
    for (const session of sessions) session.close();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  // First, while no other raw session of this file is still closing.
  test('every read slab goes back to the pool once the sessions are closed', async () => {
    const heldBefore = slabsHeld();
    const messages: SeedMessage[] = Array.from({length: 30}, (_, index) => ({
      folder: 'INBOX',
      raw: buildMessage({subject: `slab ${index + 1}`, seed: 5000 + index, totalBytes: index % 10 === 0 ? 900_000 : 2000 + index * 3000}),
    }));
    await seedMailbox(source, 'erin', {folders: [], messages});
    const uids = (await inbox(source, 'erin')).map((message) => message.uid).sort((a, b) => b - a);

    // A streamed copy, whose body pieces are written to the target straight from the slabs.
    const lanes = await openLanes(source, target, 'erin', 2);
    try {
      const retry = await streamCopy(lanes, copyInput('erin', {
        uids,
        sizes: new Map(),
      }));
      assert.deepEqual(retry, []);
    } finally {
      closeLanes(lanes);
    }

    // A session closed while its consumer holds reading paused, with unread chunks waiting.
    const paused = await openSource(source, 'erin');
    let release: (() => void) | undefined;
    let firstPiece: () => void = () => {};
    const pausedNow = new Promise<void>((resolve) => (firstPiece = resolve));
    try {
      await examineFolder(paused, 'INBOX');
      const fetching = fetchBodies(paused, '1:*', {
        begin: () => {},
        data: () => {
          firstPiece();
          return new Promise<void>((resolve) => (release = resolve));
        },
        end: () => {},
      });
      fetching.catch(() => {});
      await Promise.race([pausedNow, fetching.then(() => assert.fail('the FETCH ended although its consumer never let it read on'))]);
      // Let more of the response arrive while reading is paused.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      paused.close();
      release?.();
    }

    // Closed sockets finish closing on later ticks (a LOGOUT exchange, or a reset at most 1 s
    // later); wait for that, with a generous bound so a leak fails instead of hanging.
    for (let waited = 0; slabsHeld() !== heldBefore && waited < 3000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(slabsHeld(), heldBefore, `slabs held before the sessions: ${heldBefore}, after all of them closed: ${slabsHeld()}`);
  });

  test('AppendStreamWriter with MULTIAPPEND: 35 messages in pieces become batches of 10, 20 and 5, stored byte for byte in write order', async () => {
    const random = seededRandom(35);
    const sizes = [1024, 6 * 1024, 40 * 1024, 200 * 1024, 700 * 1024, 2 * 1024 * 1024];
    const keywords = [[], ['\\Seen'], ['\\Seen', '$Forwarded'], ['\\Flagged', 'Project-X'], ['\\Answered', '\\Draft', '$label1', 'Project-X']];
    const messages: Written[] = Array.from({length: 35}, (_, index) => ({
      raw: buildMessage({subject: `streamed ${index + 1}`, seed: 1000 + index, totalBytes: sizes[(index * 7) % sizes.length]!}),
      flags: keywords[index % keywords.length]!,
      date: new Date(Date.UTC(2012 + (index % 9), index % 12, 1 + (index % 28), index % 24, (index * 7) % 60, (index * 13) % 60)),
    }));

    const session = await openTarget(target, 'alice');
    assert.ok(session.capabilities.has('MULTIAPPEND'), `the target offers MULTIAPPEND (${[...session.capabilities].join(' ')})`);
    const batches: AppendBatch[] = [];
    const writer = new AppendStreamWriter(session, 'INBOX', {firstMessages: 10, maxMessages: 100, maxBytes: 1024 ** 3}, (batch) => batches.push(batch));
    let results: PromiseSettledResult<AppendOutcome>[];
    try {
      await writeAll(writer, messages, random);
      results = await Promise.allSettled(batches.map((batch) => batch.result));
      assert.equal(writer.midMessage, false);
    } finally {
      session.close();
    }

    const range = (from: number, to: number) => Array.from({length: to - from + 1}, (_, i) => from + i);
    assert.deepEqual(batches.map((batch) => batch.ids), [range(1, 10), range(11, 30), range(31, 35)]);
    assert.deepEqual(
      batches.map((batch) => batch.bytes),
      batches.map((batch) => batch.ids.reduce((sum, id) => sum + messages[id - 1]!.raw.length, 0)),
    );
    for (const result of results) assert.equal(result.status, 'fulfilled', result.status === 'rejected' ? String(result.reason?.responseText ?? result.reason) : '');

    const stored = await inbox(target, 'alice');
    // readMailbox orders by UID: ascending UIDs in the order the messages were written.
    assert.deepEqual(stored.map(withoutUid), messages.map(expectedStored));
  });

  test('a MULTIAPPEND batch holding one message over the size limit is refused whole as too-large; the batches around it are stored', async () => {
    const random = seededRandom(9);
    const messages: Written[] = Array.from({length: 9}, (_, index) => ({
      raw: buildMessage({subject: `batch member ${index + 1}`, seed: 2000 + index, totalBytes: index === 4 ? TOO_LARGE_BYTES : 3000 + index * 5000}),
      flags: index % 2 === 0 ? ['\\Seen'] : [],
      date: new Date(Date.UTC(2021, 2, 3 + index, 4, 5, 6)),
    }));
    const endpoint = endpointFor(target);
    const session = await openTarget(target, 'bob');
    const batches: AppendBatch[] = [];
    const writer = new AppendStreamWriter(session, 'INBOX', {firstMessages: 3, maxMessages: 3, maxBytes: 1024 ** 3}, (batch) => batches.push(batch));
    let results: PromiseSettledResult<AppendOutcome>[];
    let stillUsable: unknown;
    try {
      await writeAll(writer, messages, random);
      results = await Promise.allSettled(batches.map((batch) => batch.result));
      // The refused literal's bytes were skipped, not read as commands: the session still answers.
      stillUsable = await session.command('NOOP').then(() => 'ok', (error: unknown) => error);
    } finally {
      session.close();
    }

    assert.deepEqual(batches.map((batch) => batch.ids), [[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled']);
    const translated = translateError((results[1] as PromiseRejectedResult).reason, {role: 'target', endpoint, user: 'bob', folder: 'INBOX', phase: 'command'});
    assert.equal(translated.kind, 'too-large', formatError(translated));
    assert.equal(stillUsable, 'ok');

    const stored = await inbox(target, 'bob');
    assert.deepEqual(stored.map(withoutUid), [0, 1, 2, 6, 7, 8].map((index) => expectedStored(messages[index]!)));
  });

  describe('fetchBodies', () => {
    const seeded: SeedMessage[] = Array.from({length: 12}, (_, index) => ({
      folder: 'INBOX',
      raw: buildMessage({subject: `fetched ${index + 1}`, seed: 3000 + index, totalBytes: [900, 70 * 1024, 300 * 1024, 1_200_000][index % 4]!}),
      flags: [['\\Flagged'], [], ['\\Seen', '$Forwarded']][index % 3]!,
      internalDate: new Date(Date.UTC(2016, index, 2 + index, 3, 4 + index, 5 + index)),
    }));
    let stored: StoredMessage[];
    before(async () => {
      await seedMailbox(source, 'carol', {folders: [], messages: seeded});
      stored = await inbox(source, 'carol');
      assert.equal(stored.length, seeded.length);
    });

    for (const delayed of [false, true]) {
      test(`a UID set: each existing UID once with exactly its bytes, missing and expunged UIDs absent (${delayed ? 'consumer pauses reading on every piece' : 'synchronous consumer'})`, async () => {
        // Each variant expunges its own message after EXAMINE, as a concurrent client would.
        const expunged = delayed ? 8 : 4;
        const session = await openSource(source, 'carol');
        const collected = collectingConsumer(delayed);
        let arrived: number[];
        let stillUsable: unknown;
        try {
          await examineFolder(session, 'INBOX');
          await source.doveadm(['expunge', '-u', 'carol', 'mailbox', 'INBOX', 'uid', String(expunged)]);
          arrived = await fetchBodies(session, '1:12,999', collected.consumer);
          stillUsable = await session.command('NOOP').then(() => 'ok', (error: unknown) => error);
        } finally {
          session.close();
        }

        const present = stored.filter((message) => message.uid !== 4 && (!delayed || message.uid !== 8));
        const expected = present.map((message) => message.uid);
        assert.deepEqual(collected.violations, []);
        assert.deepEqual(arrived, expected);
        assert.deepEqual(collected.order, expected);
        for (const message of present) {
          assert.equal(collected.sizes.get(message.uid), message.size, `announced size of UID ${message.uid}`);
          assert.equal(sha256(collected.body(message.uid)), message.sha256, `bytes of UID ${message.uid}`);
          // Flags and date come from the same FETCH response, ahead of the body.
          assert.deepEqual(collected.flags.get(message.uid)?.filter((flag) => flag !== '\\Recent').sort(), message.flags, `flags of UID ${message.uid}`);
          assert.equal(imapDateIso(collected.dates.get(message.uid)), message.internalDate, `INTERNALDATE of UID ${message.uid}`);
        }
        if (delayed) assert.ok(collected.pauses > seeded.length, `the consumer paused reading (${collected.pauses} times)`);
        assert.equal(stillUsable, 'ok');
      });
    }

    test('pipelined one-UID FETCHes (as the copy path issues them): every body once with its bytes while the consumer pauses reading', async () => {
      const current = await inbox(source, 'carol');
      assert.ok(current.length >= 8, 'the earlier tests left most messages in place');
      const wanted = [...current.map((message) => message.uid), 4242].sort((a, b) => b - a);
      const session = await openSource(source, 'carol');
      const collected = collectingConsumer(true);
      let arrived: number[][];
      try {
        await examineFolder(session, 'INBOX');
        const requests: Promise<number[]>[] = [];
        session.corked(() => {
          for (const uid of wanted) requests.push(fetchBodies(session, String(uid), collected.consumer));
        });
        arrived = await Promise.all(requests);
      } finally {
        session.close();
      }

      assert.deepEqual(collected.violations, []);
      // Dovecot runs up to 4 pipelined FETCHes at once and may answer them in any order.
      assert.deepEqual([...collected.order].sort((a, b) => a - b), current.map((message) => message.uid));
      for (const message of current) assert.equal(sha256(collected.body(message.uid)), message.sha256, `bytes of UID ${message.uid}`);
      // Dovecot answers pipelined FETCHes side by side, so a body may come with another command's
      // answer; between them, every body arrives exactly once and the missing UID never does.
      assert.deepEqual(arrived.flat().sort((a, b) => a - b), current.map((message) => message.uid));
    });
  });

  test('streamCopy over 2 lanes: 150 messages newest first, the refused batch comes back for retry, an expunged UID comes back for the buffered path to look at again', async () => {
    const bigUid = 100;
    const expungedUid = 140;
    const seeded: SeedMessage[] = Array.from({length: 150}, (_, index) => ({
      folder: 'INBOX',
      raw: buildMessage({subject: `copied ${index + 1}`, seed: 4000 + index, totalBytes: index + 1 === bigUid ? TOO_LARGE_BYTES : 1500 + ((index * 7919) % 40_000)}),
      flags: [[], ['\\Seen'], ['\\Seen', '$Forwarded'], ['\\Flagged', 'Project-Y']][index % 4]!,
      internalDate: new Date(Date.UTC(2018, 0, 1) + index * 86_400_000 + index * 1000),
    }));
    await seedMailbox(source, 'dave', {folders: [], messages: seeded});

    // The listing the engine would have made before copying.
    const listed = await inbox(source, 'dave');
    assert.equal(listed.length, 150);
    const sizes = new Map(listed.map((message) => [message.uid, message.size]));
    const uids = listed.map((message) => message.uid).sort((a, b) => b - a);
    assert.equal(listed.find((message) => message.uid === bigUid)?.size, TOO_LARGE_BYTES);
    await source.doveadm(['expunge', '-u', 'dave', 'mailbox', 'INBOX', 'uid', String(expungedUid)]);

    const lanes = await openLanes(source, target, 'dave', 2);
    const appended: number[][] = [];
    const dropped: string[] = [];
    const storable = new Set(['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '\\Deleted', '$Forwarded']);
    let retry: number[];
    try {
      retry = await streamCopy(lanes, copyInput('dave', {
        uids,
        sizes,
        // As the engine does for a target folder whose PERMANENTFLAGS lack a keyword: dropped.
        targetFlags: (flags) => {
          const split = splitFlags(flags, storable);
          dropped.push(...split.dropped);
          return split.keep;
        },
        onAppended: (batch) => appended.push([...batch]),
      }));
    } finally {
      closeLanes(lanes);
    }

    const present = uids.filter((uid) => uid !== expungedUid);
    // The expunged UID is never assumed gone: it comes back with the refused batch.
    assert.ok(retry.includes(expungedUid), `the expunged UID is in the retry list (${retry.join(',')})`);
    assert.ok(retry.includes(bigUid), `the big message is in the retry list (${retry.join(',')})`);
    const refused = retry.filter((uid) => uid !== expungedUid);
    // Apart from it, the retry list is the one refused batch (at most 100 messages). Its UIDs are
    // not always consecutive: Dovecot answers a lane's pipelined FETCHes side by side, and a batch
    // takes the bodies in the order they arrive.
    assert.ok(refused.length <= 100, `one batch at most (${refused.length})`);
    assert.ok(retry.length < present.length, 'the batches before and after the refused one were stored');
    const done = appended.flat();
    assert.equal(new Set(done).size, done.length, 'no UID reported appended twice');
    assert.deepEqual([...done, ...refused].sort((a, b) => a - b), [...present].sort((a, b) => a - b));

    assert.ok(dropped.length > 0 && dropped.every((flag) => flag === 'Project-Y'), `only Project-Y was dropped (${[...new Set(dropped)].join(', ')})`);

    // Exactly the appended messages, once each, with their bytes, date and storable flags.
    const bySource = new Map(listed.map((message) => [message.uid, message]));
    const key = (message: Omit<StoredMessage, 'uid'>) => JSON.stringify(message);
    const onTarget = (await inbox(target, 'dave')).map((message) => key(withoutUid(message))).sort();
    const expected = done.map((uid) => {
      const message = withoutUid(bySource.get(uid)!);
      return key({...message, flags: message.flags.filter((flag) => flag !== 'Project-Y')});
    });
    assert.deepEqual(onTarget, expected.sort());

    // BODY.PEEK under EXAMINE: the source is unchanged (no \Seen added, nothing else expunged).
    const sourceAfter = await inbox(source, 'dave');
    assert.deepEqual(sourceAfter, listed.filter((message) => message.uid !== expungedUid));
  });

  test('streamCopy hands back nothing for a retry when a FETCH chunk ends mid-way through the server\'s parallel commands', async () => {
    // stream-copy cuts a lane's takes at 32 messages or once 32 MiB (by listed size) are reached, as
    // in any folder of 200 KB messages. Listed sizes of 3.06 MB for the eleven newest cut the first
    // chunk after 11 messages (a count Dovecot's groups of 4 parallel commands do not divide)
    // without moving 32 MiB through the test; the next chunk is pipelined right behind it.
    const seeded: SeedMessage[] = Array.from({length: 31}, (_, index) => ({
      folder: 'INBOX',
      raw: buildMessage({subject: `chunked ${index + 1}`, seed: 6000 + index, totalBytes: 2000 + index * 700}),
    }));
    await seedMailbox(source, 'frank', {folders: [], messages: seeded});
    const listed = await inbox(source, 'frank');
    assert.equal(listed.length, seeded.length);
    const uids = listed.map((message) => message.uid).sort((a, b) => b - a);

    const lanes: StreamLane[] = [{source: await openSource(source, 'frank'), target: await openTarget(target, 'frank')}];
    const appended: number[] = [];
    let retry: number[];
    try {
      retry = await streamCopy(lanes, copyInput('frank', {
        uids,
        sizes: new Map(uids.map((uid, index) => [uid, index < 11 ? 3_060_000 : 5000])),
        onAppended: (batch) => appended.push(...batch),
      }));
    } finally {
      closeLanes(lanes);
    }

    assert.deepEqual(retry, []);
    assert.equal(new Set(appended).size, appended.length, 'no UID reported appended twice');
    assert.deepEqual([...appended].sort((a, b) => a - b), [...uids].sort((a, b) => a - b));
    assert.deepEqual((await inbox(target, 'frank')).map((message) => message.sha256).sort(), listed.map((message) => message.sha256).sort());
  });
  test('streamCopy stopped before its lanes take work rejects with the stop: a folder is never taken for copied', async () => {
    const listed = await inbox(source, 'frank');
    const uids = listed.map((message) => message.uid).sort((a, b) => b - a);
    const lanes: StreamLane[] = [{source: await openSource(source, 'frank'), target: await openTarget(target, 'frank')}];
    const stop = new AbortController();
    const reason = new Error('stopped by the admin');
    stop.abort(reason);
    const appended: number[] = [];
    try {
      await assert.rejects(
        streamCopy(lanes, copyInput('frank', {
          uids,
          sizes: new Map(listed.map((message) => [message.uid, message.size])),
          signal: stop.signal,
          onAppended: (batch) => appended.push(...batch),
        })),
        (error) => error === reason,
      );
    } finally {
      closeLanes(lanes);
    }
    assert.deepEqual(appended, []);
  });

  test('onAllFetchesWritten comes after the last FETCH is written: the next folder opened on lane 0 then takes no body of this one', async () => {
    // Two lanes over 60 messages: a lane takes its next chunk before it waits for room to write
    // it, so the cursor runs out while a chunk is still unwritten. The next folder's EXAMINE
    // written then would make that chunk's FETCH read the other folder's messages.
    const make = (folder: string, count: number, seed: number): SeedMessage[] =>
      Array.from({length: count}, (_, index) => ({folder, raw: buildMessage({subject: `${folder} ${index + 1}`, seed: seed + index, totalBytes: 2000 + index * 700})}));
    await seedMailbox(source, 'gina', {folders: ['Alpha', 'Beta'], messages: [...make('Alpha', 60, 7000), ...make('Beta', 30, 8000)]});
    const stored = await readMailbox(source, 'gina');
    const alpha = stored.get('Alpha')!;
    const lanes = await openLanes(source, target, 'gina', 2);
    // As the engine does: the target folder is created and opened before any APPEND.
    await lanes[0]!.target.command('CREATE "Alpha"');
    await openFolder(lanes[0]!.target, 'Alpha', 'SELECT');
    let openedAhead: Promise<unknown> | undefined;
    try {
      const retry = await streamCopy(lanes, copyInput('gina', {
        folder: 'Alpha',
        targetPath: 'Alpha',
        uids: alpha.map((message) => message.uid).sort((a, b) => b - a),
        sizes: new Map(alpha.map((message) => [message.uid, message.size])),
        onAllFetchesWritten: () => {
          assert.equal(openedAhead, undefined, 'called once');
          openedAhead = openFolder(lanes[0]!.source, 'Beta', 'EXAMINE');
        },
      }));
      assert.deepEqual(retry, []);
      assert.ok(openedAhead, 'called');
      assert.equal((await openedAhead as {exists: number}).exists, 30);
    } finally {
      closeLanes(lanes);
    }
    const copied = (await readMailbox(target, 'gina')).get('Alpha') ?? [];
    assert.deepEqual(copied.map((message) => message.sha256).sort(), alpha.map((message) => message.sha256).sort());
  });

  test('streamCopy over 3 lanes, one held up by a large message over a slow link: no message is stored after one 3 x FOLDER_ORDER_WINDOW_PER_LANE or more positions older', async (t) => {
    // The newest message is large and its lane's target sits behind a narrow link; the other two
    // lanes reach the target directly and would copy the whole rest of the folder meanwhile.
    const count = 1200;
    const seeded: SeedMessage[] = Array.from({length: count}, (_, index) => ({
      folder: 'INBOX',
      raw: buildMessage({subject: `ordered ${index + 1}`, seed: 9000 + index, totalBytes: index === count - 1 ? 2_500_000 : 1500 + ((index * 7919) % 2000)}),
    }));
    await seedMailbox(source, 'hank', {folders: [], messages: seeded});
    const listed = await inbox(source, 'hank');
    assert.equal(listed.length, count);
    const uids = listed.map((message) => message.uid).sort((a, b) => b - a);

    const link = await startSlowLink(target);
    const slowTarget = await openAppendSession(makeEndpoint({host: '127.0.0.1', port: link.port, security: 'none'}), identityOf('hank'));
    assert.ok(slowTarget);
    sessions.push(slowTarget);
    const direct = await openLanes(source, target, 'hank', 2);
    const lanes: StreamLane[] = [{source: await openSource(source, 'hank'), target: slowTarget}, ...direct];
    let retry: number[];
    try {
      retry = await streamCopy(lanes, copyInput('hank', {uids, sizes: new Map(listed.map((message) => [message.uid, message.size]))}));
    } finally {
      closeLanes(lanes);
      await link.stop();
    }
    assert.deepEqual(retry, []);

    const position = new Map(listed.map((message) => [message.sha256, count - message.uid]));
    const stored = (await inbox(target, 'hank')).map((message) => position.get(message.sha256)!);
    assert.equal(stored.length, count);
    let oldestStored = -1;
    let worst = 0;
    for (const at of stored) {
      oldestStored = Math.max(oldestStored, at);
      worst = Math.max(worst, oldestStored - at);
    }
    t.diagnostic(`at worst a message was stored after one ${worst} positions older`);
    assert.ok(worst < 3 * FOLDER_ORDER_WINDOW_PER_LANE, `a message was stored after one ${worst} positions older`);
  });
});
