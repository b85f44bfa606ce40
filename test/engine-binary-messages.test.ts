// Messages with NUL and control bytes, against real Dovecot 2.3.19: BODY[] sends every NUL as
// 0x80, so a copy from BODY[] alone would change them (issue 12, item 2). What a client sees on
// the target must be what it sees on the source, through the fetch that shows NULs (BINARY[],
// RFC 3516), and through BODY[] for every message without NUL; a target without BINARY cannot
// take NULs, and the messages that hold some are listed as changed in transit, with the reason,
// in the state, the log, the report and the detail view.
//
// The source gets the messages with NULs as they are (a plain literal: Dovecot stores it raw; a
// literal8 would make it store the binary part base64-encoded, see exact-body.ts).

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {buildReport} from '../source/headless/batch-report.js';
import {batchLogFile} from '../source/store/state-dir.js';
import {detailDocument} from '../source/ui/view-state/detail-lines.js';
import {ASCII_GLYPHS} from '../source/ui/glyphs.js';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';
import {openClient, serverCapabilities} from './helpers/seed-mailbox.js';
import {TARGET_ADMIN_ENV, captureIo, makeWorkDir, pairCreateArgs, passFinishedLines, readBatchState, removeWorkDir, stateFile, writeMigrationCsv} from './helpers/batch-fixture.js';

const PASSWORD = 'src-nul-Q7w2';
const email = 'nul@example.test';

/** NUL, other control bytes, a genuine 0x80 and 0xff: what the binary part carries. */
const PAYLOAD = Buffer.from([0x41, 0x00, 0x01, 0x02, 0x1b, 0x7f, 0x80, 0xff, 0x00, 0x00, 0x0d, 0x42, 0x00]);

function header(id: string, subject: string, contentType: string): string {
  return `From: a@example.test\r\nTo: b@example.test\r\nSubject: ${subject}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <${id}@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: ${contentType}\r\n\r\n`;
}

/** Each part header ends with its Content-Transfer-Encoding: where BINARY[] puts the rewritten one. */
const MESSAGES: Record<string, Buffer> = {
  // A text part and a binary part with NULs: BINARY[] is the stored message.
  'binary-only': Buffer.concat([
    Buffer.from(header('binary-only', 'binary part only', 'multipart/mixed; boundary="b1"')),
    Buffer.from('--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 7bit\r\n\r\nsee attached\r\n'),
    Buffer.from('--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
    // Above 4 KB: without LITERAL+ (LITERAL- only) this one waits for the server's "+".
    Buffer.concat(Array.from({length: 400}, () => PAYLOAD)),
    Buffer.from('\r\n--b1--\r\n'),
  ]),
  // Base64, quoted-printable and a binary part with NULs: BINARY[] decodes the first two.
  'mixed': Buffer.concat([
    Buffer.from(header('mixed', 'base64, qp and binary', 'multipart/mixed; boundary="b2"')),
    Buffer.from('preamble\r\n--b2\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n'),
    Buffer.from('--b2\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =3D x\r\n'),
    Buffer.from('--b2\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
    PAYLOAD,
    Buffer.from('\r\n--b2\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKAAAA/w==\r\n--b2--\r\nepilogue\r\n'),
  ]),
  // UTF-8 8bit text full of 0x80 inside sequences (dashes, quotes): not suspect at all.
  'utf8': Buffer.from(header('utf8', 'utf-8 text', 'text/plain; charset=utf-8').replace('\r\n\r\n', '\r\nContent-Transfer-Encoding: 8bit\r\n\r\n') + 'a \u2013 b \u201cquoted\u201d \u0400\r\n'),
  // windows-1252 8bit text: 0x80 is the euro sign, a suspect that holds no NUL.
  'cp1252': Buffer.concat([Buffer.from(header('cp1252', 'euro', 'text/plain; charset=windows-1252').replace('\r\n\r\n', '\r\nContent-Transfer-Encoding: 8bit\r\n\r\n') + 'price 5 '), Buffer.from([0x80]), Buffer.from('\r\n')]),
  // A base64 attachment that decodes to NULs, without a NUL stored.
  'attachment': Buffer.from(header('attachment', 'attachment', 'multipart/mixed; boundary="b3"') + '--b3\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b3\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwAA\r\n--b3--\r\n'),
};
const WITH_NUL = ['binary-only', 'mixed'];

/** Dovecot's post-login capabilities without BINARY. */
const WITHOUT_BINARY = 'protocol imap {\n  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE\n}';

/** APPENDs with plain literals over a raw socket, so NULs are stored as they are. */
async function seedRaw(server: DovecotServer, login: string, messages: Buffer[]): Promise<void> {
  const socket = net.connect(server.imapPort, '127.0.0.1');
  let received = '';
  const answered = new Promise<void>((resolve, reject) => {
    socket.on('data', (data) => {
      received += data.toString('latin1');
      if (/^z OK/m.test(received)) resolve();
      if (/^\w+ (NO|BAD)/m.test(received)) reject(new Error(`seeding failed: ${received}`));
    });
    socket.on('error', reject);
  });
  socket.write(`a LOGIN ${login}${server.masterSeparator}${server.masterUser} ${server.masterPassword}\r\n`);
  messages.forEach((message, index) => {
    socket.write(`m${index} APPEND INBOX () "01-Jan-2024 10:00:0${index} +0000" {${message.length}+}\r\n`);
    socket.write(message);
    socket.write('\r\n');
  });
  socket.write('z LOGOUT\r\n');
  try {
    await answered;
  } finally {
    socket.destroy();
  }
}

interface BothForms {
  body: Buffer;
  binary: Buffer;
}

/** BODY[] and BINARY[] of every INBOX message, by Message-ID. */
async function readBothForms(server: DovecotServer, login: string): Promise<Map<string, BothForms>> {
  const client = await openClient(server, login);
  try {
    await client.mailboxOpen('INBOX', {readOnly: true});
    const bodies = new Map<number, Buffer>();
    for await (const message of client.fetch('1:*', {uid: true, source: true}, {uid: true})) bodies.set(message.uid, message.source!);
    const forms = new Map<string, BothForms>();
    for await (const message of client.fetch('1:*', {uid: true, source: true}, {uid: true, binary: true})) {
      const body = bodies.get(message.uid)!;
      const id = /Message-ID: <([^@]+)@/i.exec(body.toString('latin1'))![1]!;
      assert.ok(!forms.has(id), `${server.role}: ${id} is there once`);
      forms.set(id, {body, binary: message.source!});
    }
    return forms;
  } finally {
    await client.logout();
  }
}

/** Sets \\Flagged on every INBOX message. */
async function setFlagged(server: DovecotServer, login: string): Promise<void> {
  const client = await openClient(server, login);
  try {
    await client.mailboxOpen('INBOX');
    await client.messageFlagsAdd('1:*', ['\\Flagged']);
  } finally {
    await client.logout();
  }
}

/** Message-IDs of the INBOX messages flagged \\Flagged. */
async function flaggedIds(server: DovecotServer, login: string): Promise<string[]> {
  const client = await openClient(server, login);
  try {
    await client.mailboxOpen('INBOX', {readOnly: true});
    const ids: string[] = [];
    for await (const message of client.fetch('1:*', {uid: true, flags: true, envelope: true})) {
      if (message.flags?.has('\\Flagged')) ids.push(/<([^@]+)@/.exec(message.envelope?.messageId ?? '')?.[1] ?? '?');
    }
    return ids.sort();
  } finally {
    await client.logout();
  }
}

async function runBatch(stateDir: string, args: string[]): Promise<{code: number; out: string; stdout: string}> {
  const capture = captureIo();
  const code = await runBatchCommand([...args, '--state-dir', stateDir], capture.io);
  return {code, out: `${capture.stdout()}${capture.stderr()}`, stdout: capture.stdout()};
}

describe('messages with NUL and control bytes', {timeout: 240_000}, () => {
  let source: DovecotServer | undefined;
  let sourceForms: Map<string, BothForms>;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    source = await startDovecot({role: 'source', users: {nul: PASSWORD}});
    cleanups.push(() => source!.stop());
    await seedRaw(source, 'nul', Object.values(MESSAGES));
    sourceForms = await readBothForms(source, 'nul');
    // What the test is about: the source stores the NULs, and BODY[] sends them as 0x80.
    for (const id of WITH_NUL) {
      assert.ok(sourceForms.get(id)!.binary.includes(0), `${id}: BINARY[] shows the NULs`);
      assert.ok(!sourceForms.get(id)!.body.includes(0), `${id}: BODY[] does not`);
    }
    assert.ok(sourceForms.get('binary-only')!.binary.equals(MESSAGES['binary-only']!), 'binary-only: stored as appended');
  });
  after(async () => {
    delete process.env[TARGET_ADMIN_ENV];
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const CASES = [
    {what: 'over the stream lanes (target with LITERAL+ and BINARY)', batch: 'lanes', target: '', binary: true, literalPlus: true},
    {what: 'over the buffered path (target without LITERAL+, with BINARY)', batch: 'buffered', target: 'imap_literal_minus = yes', binary: true, literalPlus: false},
    {what: 'to a target without BINARY', batch: 'nobinary', target: WITHOUT_BINARY, binary: false, literalPlus: true},
  ];

  for (const testCase of CASES) {
    it(testCase.what, async () => {
      const target = await startDovecot({role: 'target', users: {[email]: 'tgt-unused'}, ...(testCase.target ? {extraConfig: testCase.target} : {})});
      const work = await makeWorkDir(`nul-${testCase.batch}`);
      cleanups.push(() => target.stop(), () => removeWorkDir(work));
      const capabilities = await serverCapabilities(target, email);
      assert.equal(capabilities.includes('BINARY'), testCase.binary, `target BINARY: ${capabilities.join(' ')}`);
      assert.equal(capabilities.includes('LITERAL+'), testCase.literalPlus, `target LITERAL+: ${capabilities.join(' ')}`);
      process.env[TARGET_ADMIN_ENV] = target.masterPassword;
      const pair = {source: source!, target};
      const stateDir = path.join(work, 'state');
      const csv = await writeMigrationCsv(path.join(work, 'nul.csv'), [{email, user: 'nul', password: PASSWORD}]);
      assert.equal((await runBatch(stateDir, ['create', testCase.batch, '--csv', csv, ...pairCreateArgs(pair)])).code, 0);
      const first = await runBatch(stateDir, ['start', testCase.batch]);
      assert.equal(first.code, 0, first.out);

      const targetForms = await readBothForms(target, email);
      assert.deepEqual([...targetForms.keys()].sort(), [...sourceForms.keys()].sort(), 'every message once');
      for (const [id, forms] of sourceForms) {
        const copied = targetForms.get(id)!;
        const nul = WITH_NUL.includes(id);
        if (!nul) {
          // Without NUL, byte for byte as stored: no literal8, nothing re-encoded.
          assert.ok(copied.body.equals(forms.body), `${id}: BODY[] as on the source`);
          // (imapflow asks a server without BINARY for BODY[] instead: nothing more to see.)
          if (testCase.binary) assert.ok(copied.binary.equals(forms.binary), `${id}: BINARY[] as on the source`);
        } else if (testCase.binary) {
          // The target stores the binary part base64-encoded (its choice, RFC 3516): what
          // BINARY[] shows is the source's message, NULs and all.
          assert.ok(copied.binary.equals(forms.binary), `${id}: BINARY[] as on the source\n${JSON.stringify(copied.binary.toString('latin1'))}\n${JSON.stringify(forms.binary.toString('latin1'))}`);
        } else {
          // No way to carry NULs: what BODY[] sent, listed below.
          assert.ok(copied.body.equals(forms.body), `${id}: BODY[] as on the source`);
        }
      }

      const state = await readBatchState(stateDir, testCase.batch);
      const mailbox = Object.values(state.mailboxes)[0]!;
      assert.deepEqual(mailbox.failed, []);
      const changedSubjects = mailbox.changed.map((item) => item.subject).sort();
      if (testCase.binary) {
        assert.deepEqual(mailbox.changed, [], 'nothing changed in transit');
      } else {
        assert.deepEqual(changedSubjects, ['base64, qp and binary', 'binary part only']);
        for (const item of mailbox.changed) {
          assert.equal(item.folder, 'INBOX');
          assert.match(item.reason, /NUL bytes arrived as 0x80.*BINARY/);
        }
        // The log, the report and the detail view list them with the reason.
        const log = await readFile(batchLogFile(stateDir, testCase.batch), 'utf8');
        assert.equal(log.match(/changed in transit/g)?.length, 2, log);
        const report = buildReport(state);
        assert.deepEqual(report.items.filter((row) => row.outcome === 'changed').map((row) => row.subject).sort(), changedSubjects);
        const reportDir = path.join(work, 'report');
        const reportRun = await runBatch(stateDir, ['report', testCase.batch, '--out', reportDir]);
        assert.equal(reportRun.code, 0, reportRun.out);
        const itemsCsv = await readFile(path.join(reportDir, `${testCase.batch}-items.csv`), 'utf8');
        assert.equal(itemsCsv.match(/,changed,INBOX,.*NUL bytes arrived as 0x80/g)?.length, 2, itemsCsv);
        const document = detailDocument(undefined, {
          emailAddress: email, folders: [], skipped: [], failed: [], changed: mailbox.changed,
          errors: [], unmigratedFolders: [], renamedFolders: [], droppedKeywords: [],
        }, {width: 200, glyphs: ASCII_GLYPHS, now: new Date()});
        const text = document.lines.map((line) => line.text).join('\n');
        assert.match(text, /Copied but changed in transit \(2\)/);
        assert.match(text, /binary part only/);
        assert.match(text, /NUL bytes arrived as 0x80/);
      }

      // A second pass finds nothing to copy, and carries a flag change to every copy, also to
      // those stored larger (literal8: the target re-encoded their binary parts).
      await setFlagged(source!, 'nul');
      const second = await runBatch(stateDir, ['sync-now', testCase.batch]);
      assert.equal(second.code, 0, second.out);
      assert.equal(passFinishedLines(second.stdout).reduce((sum, line) => sum + line.copied, 0), 0, second.out);
      assert.deepEqual(await flaggedIds(target, email), [...sourceForms.keys()].sort(), 'every copy got \\Flagged');

      // As after a crash between the APPENDs and the checkpoint: the folder in progress, nothing
      // done. The next pass finds every copy on the target, including those stored larger.
      const file = stateFile(stateDir, testCase.batch);
      const crashed = await readBatchState(stateDir, testCase.batch);
      const inbox = Object.values(crashed.mailboxes)[0]!.folders['INBOX']!;
      Object.assign(inbox, {done: '', doneCount: 0, bytesDone: 0, inProgress: true});
      // Written back as a version 1 single file, which the next start converts.
      await writeFile(file, JSON.stringify({...crashed, version: 1}));
      const resumed = await runBatch(stateDir, ['sync-now', testCase.batch]);
      assert.equal(resumed.code, 0, resumed.out);
      assert.equal(passFinishedLines(resumed.stdout).reduce((sum, line) => sum + line.copied, 0), 0, resumed.out);
      assert.equal((await readBothForms(target, email)).size, sourceForms.size, 'no message copied twice');
    });
  }
});
