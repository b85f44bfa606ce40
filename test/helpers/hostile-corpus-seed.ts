// Puts the hostile corpus on a source Dovecot exactly: folders (\Noselect parents as bare
// directories), subscriptions, and every message's bytes, flags, keywords and internal date.
// Messages go in over one raw connection as pipelined MULTIAPPENDs with LITERAL+ (RFC 3502,
// RFC 7888), so 20,000 messages take a second or two; a message with NUL bytes goes as literal8
// (RFC 3516), the form that says the bytes are binary. Dates Dovecot refuses at APPEND are
// written as Maildir files with that mtime (Dovecot's INTERNALDATE for Maildir is the mtime).

import {chown, mkdir, utimes, writeFile} from 'node:fs/promises';
import {statSync} from 'node:fs';
import path from 'node:path';
import type {DovecotServer} from './dovecot-pair.js';
import type {CorpusMessage, HostileCorpus} from './hostile-corpus.js';
import {RawTestClient, encodeFolderName, folderArgument, quoteAscii} from './raw-imap-test-client.js';

/** Source folder path as the server lists it -> source UID -> case name. */
export type CaseIndex = Map<string, Map<number, string>>;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3501 date-time, in UTC. */
export function imapDateTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** A logical ('/'-separated) corpus folder as the server names it. */
export function sourceFolderPath(server: DovecotServer, logical: string): string {
  if (logical === 'INBOX') return 'INBOX';
  if (server.separator !== '/') throw new Error('the hostile corpus is seeded on a \'/\'-separator source (its names contain \'.\')');
  return server.prefix + logical;
}

/** Messages per MULTIAPPEND: Dovecot stores each in one transaction. */
const APPEND_GROUP = 500;

export async function seedHostileCorpus(server: DovecotServer, login: string, corpus: HostileCorpus): Promise<CaseIndex> {
  const client = await RawTestClient.open(server, login);
  const index: CaseIndex = new Map();
  try {
    for (const capability of ['MULTIAPPEND', 'LITERAL+', 'UIDPLUS', 'BINARY']) {
      if (!client.capabilities.has(capability)) throw new Error(`seeding the hostile corpus needs ${capability} on the ${server.role} server`);
    }
    // Parents first; a \Noselect parent is CREATEd with a trailing separator (RFC 3501 6.3.3),
    // which Dovecot's fs layout keeps as a directory without mail.
    for (const folder of [...corpus.folders].sort((a, b) => a.path.split('/').length - b.path.split('/').length)) {
      if (folder.path === 'INBOX') continue;
      const name = sourceFolderPath(server, folder.path) + (folder.noselect ? server.separator : '');
      await client.ok(`CREATE ${folderArgument(name)}`);
    }
    for (const folder of corpus.folders) {
      const name = sourceFolderPath(server, folder.path);
      await client.ok(`${folder.subscribed ? 'SUBSCRIBE' : 'UNSUBSCRIBE'} ${folderArgument(name)}`);
    }

    const byFolder = new Map<string, CorpusMessage[]>();
    for (const message of corpus.messages.filter((m) => !m.viaMaildir)) {
      const list = byFolder.get(message.folder) ?? [];
      list.push(message);
      byFolder.set(message.folder, list);
    }
    const appends: Promise<void>[] = [];
    for (const [folder, messages] of byFolder) {
      const name = sourceFolderPath(server, folder);
      const uids = new Map<number, string>();
      index.set(name, uids);
      for (let start = 0; start < messages.length; start += APPEND_GROUP) {
        const group = messages.slice(start, start + APPEND_GROUP);
        const parts: (string | Buffer)[] = [`APPEND ${folderArgument(name)}`];
        for (const message of group) {
          const literal = message.raw.includes(0) ? '~' : '';
          parts.push(` (${message.flags.join(' ')}) ${quoteAscii(imapDateTime(message.internalDate))} ${literal}{${message.raw.length}+}\r\n`, message.raw);
        }
        appends.push(
          client.send(...parts).then((answer) => {
            const match = /\[APPENDUID \d+ ([\d:,]+)\]/.exec(answer.text);
            if (answer.status !== 'OK' || !match) throw new Error(`seeding ${folder}: APPEND of ${group[0]!.caseName}.. answered ${answer.status} ${answer.text}`);
            const assigned = expandUidSet(match[1]!);
            if (assigned.length !== group.length) throw new Error(`seeding ${folder}: APPENDUID names ${assigned.length} UIDs for ${group.length} messages`);
            assigned.forEach((uid, i) => uids.set(uid, group[i]!.caseName));
          }),
        );
      }
    }
    await Promise.all(appends);

    for (const message of corpus.messages.filter((m) => m.viaMaildir)) {
      const name = sourceFolderPath(server, message.folder);
      await writeMaildirMessage(server, login, message);
      // Selecting the folder makes Dovecot pick up the new file; then find its UID by its case.
      await client.ok(`SELECT ${folderArgument(name)}`);
      const found = await client.ok(`UID SEARCH HEADER Subject ${quoteAscii(`corpus case ${message.caseName}`)}`);
      const uid = found.untagged.find((r) => r[0] === 'SEARCH')?.slice(1).map(Number);
      if (!uid || uid.length !== 1) throw new Error(`seeding ${message.caseName}: the Maildir file was not found by UID SEARCH (${JSON.stringify(uid)})`);
      if (message.flags.length) await client.ok(`UID STORE ${uid[0]} FLAGS (${message.flags.join(' ')})`);
      await client.ok('UNSELECT');
      const uids = index.get(name) ?? new Map<number, string>();
      uids.set(uid[0]!, message.caseName);
      index.set(name, uids);
    }
  } finally {
    await client.logout();
  }
  return index;
}

let maildirCounter = 0;

async function writeMaildirMessage(server: DovecotServer, login: string, message: CorpusMessage): Promise<void> {
  // LAYOUT=fs: one directory per folder under the Maildir root, named in modified UTF-7.
  const folderDir = message.folder === 'INBOX' ? server.mailDir(login) : path.join(server.mailDir(login), ...encodeFolderName(message.folder).split('/'));
  const newDir = path.join(folderDir, 'new');
  await mkdir(newDir, {recursive: true});
  const file = path.join(newDir, `${Math.floor(Date.now() / 1000)}.M${++maildirCounter}P${process.pid}.corpus`);
  await writeFile(file, message.raw);
  const owner = statSync(folderDir);
  await chown(file, owner.uid, owner.gid);
  const seconds = message.internalDate.getTime() / 1000;
  await utimes(file, seconds, seconds);
}

function expandUidSet(set: string): number[] {
  const uids: number[] = [];
  for (const part of set.split(',')) {
    const [from, to] = part.split(':').map(Number);
    if (to === undefined) uids.push(from!);
    else for (let uid = Math.min(from!, to); uid <= Math.max(from!, to); uid++) uids.push(uid);
  }
  return uids;
}
