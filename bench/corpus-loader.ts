// Puts a cached corpus into a running source Dovecot: folders are created with doveadm (so the
// mailbox list index knows them), the message files are hard-linked from the cache into each
// folder's cur/ (same file system, no copy; Dovecot never rewrites a message file in place), and
// `doveadm force-resync` makes Dovecot index them. Counts are then checked against the manifest.

import {chownSync, copyFileSync, existsSync, linkSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import type {DovecotServer} from '../test/helpers/dovecot-pair.js';
import {dovecotKeywordsFile, messagePath, type Corpus, type CorpusMailbox} from './corpus.js';
import {verifyCounts} from './verify.js';

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    // EXDEV: the cache and Dovecot's temp dir are on different file systems.
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    copyFileSync(from, to);
  }
}

async function loadMailbox(server: DovecotServer, corpus: Corpus, mailbox: CorpusMailbox): Promise<void> {
  const names = mailbox.folders.map((f) => f.name).filter((name) => name !== 'INBOX');
  await server.doveadm(['mailbox', 'create', '-s', '-u', mailbox.login, ...names]);
  const root = server.mailDir(mailbox.login);
  const owner = statSync(root);
  for (const folder of mailbox.folders) {
    const dir = join(root, folder.dir);
    if (!existsSync(join(dir, 'cur'))) {
      throw new Error(`corpus loader: ${mailbox.login} folder ${folder.name} is not at ${dir} after doveadm created it; the Maildir layout is not the one bench/corpus.ts expects`);
    }
    const keywords = join(dir, 'dovecot-keywords');
    writeFileSync(keywords, dovecotKeywordsFile(), {mode: 0o600});
    chownSync(keywords, owner.uid, owner.gid);
    for (const message of folder.messages) {
      const to = join(dir, 'cur', message.file);
      linkOrCopy(messagePath(corpus, mailbox.login, folder, message), to);
      chownSync(to, owner.uid, owner.gid);
    }
  }
  await server.doveadm(['force-resync', '-u', mailbox.login, '*']);
}

/** Adds the corpus users (with `password`) and their mail to `server`, and checks the counts. */
export async function loadCorpus(server: DovecotServer, corpus: Corpus, password: string): Promise<void> {
  for (const mailbox of corpus.manifest.mailboxes) await server.addUser(mailbox.login, password);
  // Two at a time: doveadm is mostly I/O here and the machine has few cores.
  const queue = [...corpus.manifest.mailboxes];
  await Promise.all(
    [0, 1].map(async () => {
      for (let mailbox = queue.shift(); mailbox; mailbox = queue.shift()) await loadMailbox(server, corpus, mailbox);
    }),
  );
  for (const mailbox of corpus.manifest.mailboxes) {
    const result = await verifyCounts(server, mailbox);
    if (!result.ok) throw new Error(`corpus loader: the source does not hold the corpus for ${mailbox.login}: ${result.problems.join('; ')}`);
  }
}
