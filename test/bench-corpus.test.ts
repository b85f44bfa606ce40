// The benchmark's corpus and its verification against real Dovecot. The verification must be
// able to fail: a fast wrong run must not score, so corrupted and missing messages are tried.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {runCeiling} from '../bench/ceiling.js';
import {ensureCorpus, messagePath, type Corpus, type CorpusSpec} from '../bench/corpus.js';
import {loadCorpus} from '../bench/corpus-loader.js';
import {folderCounts, spotCheck, verifyCounts} from '../bench/verify.js';
import {startDovecot, type DovecotServer} from './helpers/dovecot-pair.js';

const SPEC: CorpusSpec = {name: 'test', mailboxes: 2, messagesPerMailbox: 150, loginPrefix: 'bench'};
const work = mkdtempSync(join(tmpdir(), 'mailferry-bench-corpus-test-'));
const quiet = () => {};
after(() => rmSync(work, {recursive: true, force: true}));

describe('bench corpus generation', () => {
  it('is deterministic: the same seed gives the same manifest and the same bytes', () => {
    const a = ensureCorpus(SPEC, 7, join(work, 'a'), quiet);
    const b = ensureCorpus(SPEC, 7, join(work, 'b'), quiet);
    assert.deepEqual(a.manifest, b.manifest);
    const mailbox = a.manifest.mailboxes[1]!;
    for (const folder of mailbox.folders) {
      for (const message of folder.messages.slice(0, 5)) {
        assert.ok(readFileSync(messagePath(a, mailbox.login, folder, message)).equals(readFileSync(messagePath(b, mailbox.login, folder, message))));
      }
    }
    assert.notDeepEqual(ensureCorpus(SPEC, 8, join(work, 'c'), quiet).manifest.mailboxes[0]!.folders, a.manifest.mailboxes[0]!.folders);
  });

  it('writes CRLF-only files whose Maildir S= and W= sizes are their real size, in the size bands', () => {
    const corpus = ensureCorpus(SPEC, 7, join(work, 'a'), quiet);
    const sizes: number[] = [];
    for (const mailbox of corpus.manifest.mailboxes) {
      for (const folder of mailbox.folders) {
        for (const message of folder.messages) {
          const data = readFileSync(messagePath(corpus, mailbox.login, folder, message));
          assert.equal(data.length, message.size);
          assert.match(message.file, new RegExp(`,S=${data.length},W=${data.length}:2,`));
          // W= claims the CRLF size equals the file size: any bare LF or CR would make it a lie.
          assert.doesNotMatch(data.toString('latin1'), /[^\r]\n|\r[^\n]/, `${message.file} has a bare LF or CR`);
          sizes.push(message.size);
        }
      }
    }
    const small = sizes.filter((s) => s < 20 * 1024).length / sizes.length;
    assert.ok(small > 0.5 && small < 0.8, `share of 2-20 KB messages: ${small}`);
    assert.ok(Math.min(...sizes) >= 2 * 1024 - 2 && Math.max(...sizes) <= 20 * 1024 * 1024);
  });
});

describe('bench verification against Dovecot', () => {
  let source: DovecotServer;
  let target: DovecotServer;
  let corpus: Corpus;

  before(async () => {
    corpus = ensureCorpus(SPEC, 7, join(work, 'a'), quiet);
    [source, target] = await Promise.all([startDovecot({role: 'source'}), startDovecot({role: 'target'})]);
    await loadCorpus(source, corpus, 'source-password');
    for (const mailbox of corpus.manifest.mailboxes) await target.addUser(mailbox.login, 'target-password');
    const logins = corpus.manifest.mailboxes.map((m) => m.login);
    const server = {host: target.host, port: target.imapPort, loginSuffix: `*${target.masterUser}`, password: target.masterPassword};
    await runCeiling('absorb', server, corpus, logins, 2, 2);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('the source holds exactly the corpus, with the international folder names', async () => {
    const counts = await folderCounts(source, corpus.manifest.mailboxes[0]!.login);
    assert.ok(counts.has('Projekte/Überprüfung/Q3 Berichte'));
    assert.ok(counts.has('日本語のメール'));
    assert.ok(counts.has('Clients & Partners'));
    assert.equal(counts.get('Projekte'), 0);
  });

  it('a complete copy passes the counts and the spot check', async () => {
    for (const mailbox of corpus.manifest.mailboxes) {
      assert.deepEqual((await verifyCounts(target, mailbox)).problems, []);
      const result = spotCheck(target, corpus, mailbox);
      assert.deepEqual(result.problems, []);
      assert.ok(result.checked > 20);
    }
  });

  it('a corrupted byte, a lost keyword and a missing message are each caught', async () => {
    const mailbox = corpus.manifest.mailboxes[0]!;
    const inbox = mailbox.folders.find((f) => f.name === 'INBOX')!;
    const largest = inbox.messages.reduce((a, b) => (b.size > a.size ? b : a));
    const root = target.mailDir(mailbox.login);
    const find = (messageId: string) =>
      ['cur', 'new'].flatMap((sub) => readdirSync(join(root, sub)).map((name) => join(root, sub, name))).find((path) => readFileSync(path, 'latin1').includes(messageId));
    const path = find(largest.messageId)!;
    const data = readFileSync(path);
    data[data.length - 10] ^= 1;
    writeFileSync(path, data);
    assert.match(spotCheck(target, corpus, mailbox).problems.join('\n'), new RegExp(`${largest.messageId}: content differs`));

    const withKeyword = inbox.messages.find((m) => m.keywords.length > 0)!;
    assert.ok(withKeyword, 'the corpus has a message with a keyword in INBOX');
    await target.doveadm(['flags', 'remove', '-u', mailbox.login, withKeyword.keywords.join(' '), 'mailbox', 'INBOX', 'HEADER', 'Message-ID', withKeyword.messageId]);
    assert.match(spotCheck(target, corpus, mailbox).problems.join('\n'), new RegExp(`${withKeyword.messageId}: keywords`));

    await target.doveadm(['expunge', '-u', mailbox.login, 'mailbox', 'Sent', '1']);
    assert.match((await verifyCounts(target, mailbox)).problems.join('\n'), /Sent: \d+ messages, expected \d+/);
  });
});
