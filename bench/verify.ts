// A fast wrong run must not score: after every run the target's message count per folder is
// compared with the corpus, and a spot check compares sampled messages byte for byte (line ends
// normalised: Dovecot stores LF on disk), with their flags, keywords and internal date.

import {readdirSync, readFileSync, statSync, openSync, readSync, closeSync} from 'node:fs';
import {join} from 'node:path';
import type {DovecotServer} from '../test/helpers/dovecot-pair.js';
import {messagePath, type Corpus, type CorpusFolder, type CorpusMailbox, type CorpusMessage} from './corpus.js';
import {SeededRandom} from './seeded-random.js';

export interface VerifyResult {
  ok: boolean;
  problems: string[];
}

/** Messages per folder as Dovecot counts them (folder names in UTF-8, '/' separated). */
export async function folderCounts(server: DovecotServer, login: string): Promise<Map<string, number>> {
  const output = await server.doveadm(['-f', 'tab', 'mailbox', 'status', '-u', login, 'messages', '*']);
  const counts = new Map<string, number>();
  for (const line of output.split('\n').slice(1)) {
    if (!line) continue;
    const tab = line.lastIndexOf('\t');
    counts.set(line.slice(0, tab), Number(line.slice(tab + 1)));
  }
  return counts;
}

/** Every corpus folder exists with exactly its message count; any other folder is empty. */
export async function verifyCounts(server: DovecotServer, mailbox: CorpusMailbox): Promise<VerifyResult> {
  const counts = await folderCounts(server, mailbox.login);
  const problems: string[] = [];
  for (const folder of mailbox.folders) {
    const found = counts.get(folder.name);
    if (found === undefined) problems.push(`${mailbox.login}: folder ${folder.name} missing`);
    else if (found !== folder.messages.length) problems.push(`${mailbox.login}/${folder.name}: ${found} messages, expected ${folder.messages.length}`);
  }
  const known = new Set(mailbox.folders.map((f) => f.name));
  for (const [name, count] of counts) {
    if (!known.has(name) && count > 0) problems.push(`${mailbox.login}: unexpected folder ${name} with ${count} messages`);
  }
  return {ok: problems.length === 0, problems};
}

const FLAG_BY_LETTER: Record<string, string> = {D: 'Draft', F: 'Flagged', R: 'Answered', S: 'Seen'};

function readKeywordNames(folderDir: string): string[] {
  try {
    const names: string[] = [];
    for (const line of readFileSync(join(folderDir, 'dovecot-keywords'), 'utf8').split('\n')) {
      const space = line.indexOf(' ');
      if (space > 0) names[Number(line.slice(0, space))] = line.slice(space + 1);
    }
    return names;
  } catch {
    return [];
  }
}

function readHead(path: string, bytes = 4096): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** Message-ID -> file path for every message file in a target folder. */
function indexTargetFolder(folderDir: string): Map<string, string> {
  const byId = new Map<string, string>();
  for (const sub of ['cur', 'new']) {
    let files: string[];
    try {
      files = readdirSync(join(folderDir, sub));
    } catch {
      continue;
    }
    for (const file of files) {
      const path = join(folderDir, sub, file);
      const id = /^Message-ID: *(\S+)/im.exec(readHead(path))?.[1];
      if (id) byId.set(id, path);
    }
  }
  return byId;
}

function normaliseLineEnds(data: Buffer): Buffer {
  return Buffer.from(data.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
}

/** What a tool is known to change, documented, so its spot check tests everything else. */
export interface KnownDeviations {
  /** Header fields the tool adds to every copy (mbsync adds X-TUID). */
  addedHeaders?: string[];
  /** The tool does not carry IMAP keywords (isync 1.4). */
  dropsKeywords?: boolean;
}

function withoutHeaders(message: Buffer, names: string[]): Buffer {
  if (!names.length) return message;
  const text = message.toString('latin1');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end + 1);
  const pattern = new RegExp(`^(?:${names.join('|')}):[^\\n]*\\n(?:[ \\t][^\\n]*\\n)*`, 'gim');
  return Buffer.from(head.replace(pattern, '') + (end < 0 ? '' : text.slice(end + 1)), 'latin1');
}

function sample(folder: CorpusFolder, count: number, random: SeededRandom): CorpusMessage[] {
  if (folder.messages.length <= count) return folder.messages;
  const largest = folder.messages.reduce((a, b) => (b.size > a.size ? b : a));
  const picked = new Set<CorpusMessage>([largest, folder.messages[0]!, folder.messages[folder.messages.length - 1]!]);
  // Keywords are the flag kind a copier most often drops; make sure one is looked at.
  const withKeyword = folder.messages.find((m) => m.keywords.length > 0);
  if (withKeyword) picked.add(withKeyword);
  while (picked.size < count) picked.add(random.pick(folder.messages));
  return [...picked];
}

/**
 * Compares `perFolder` sampled messages of every folder (always including the largest) with the
 * target's copy: bytes, system flags, keywords and internal date.
 */
export function spotCheck(
  target: DovecotServer,
  corpus: Corpus,
  mailbox: CorpusMailbox,
  deviations: KnownDeviations = {},
  perFolder = 4,
): VerifyResult & {checked: number} {
  const problems: string[] = [];
  const random = new SeededRandom(corpus.manifest.seed);
  let checked = 0;
  for (const folder of mailbox.folders) {
    if (!folder.messages.length) continue;
    const folderDir = join(target.mailDir(mailbox.login), folder.dir);
    const byId = indexTargetFolder(folderDir);
    const keywordNames = readKeywordNames(folderDir);
    for (const message of sample(folder, perFolder, random)) {
      checked++;
      const where = `${mailbox.login}/${folder.name} ${message.messageId}`;
      const path = byId.get(message.messageId);
      if (!path) {
        problems.push(`${where}: not found on the target`);
        continue;
      }
      const expected = normaliseLineEnds(readFileSync(messagePath(corpus, mailbox.login, folder, message)));
      const copy = withoutHeaders(normaliseLineEnds(readFileSync(path)), deviations.addedHeaders ?? []);
      if (!copy.equals(expected)) problems.push(`${where}: content differs`);
      const info = /:2,([A-Za-z]*)$/.exec(path)?.[1] ?? '';
      const flags = [...info].filter((c) => c in FLAG_BY_LETTER).map((c) => FLAG_BY_LETTER[c]!).sort();
      if (flags.join(' ') !== [...message.flags].sort().join(' ')) {
        problems.push(`${where}: flags ${flags.join(' ') || '(none)'}, expected ${message.flags.join(' ') || '(none)'}`);
      }
      const keywords = [...info].filter((c) => c >= 'a' && c <= 'z').map((c) => keywordNames[c.charCodeAt(0) - 97] ?? `?${c}`).sort();
      if (!deviations.dropsKeywords && keywords.join(' ') !== [...message.keywords].sort().join(' ')) {
        problems.push(`${where}: keywords ${keywords.join(' ') || '(none)'}, expected ${message.keywords.join(' ') || '(none)'}`);
      }
      const mtime = Math.floor(statSync(path).mtimeMs / 1000);
      if (mtime !== message.internalDate) problems.push(`${where}: internal date ${new Date(mtime * 1000).toISOString()}, expected ${new Date(message.internalDate * 1000).toISOString()}`);
    }
  }
  return {ok: problems.length === 0, problems, checked};
}
