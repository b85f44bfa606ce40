// The benchmark corpus: deterministic mailboxes (seeded) written as Maildir files into a cache
// under bench/.work/, keyed by preset and seed, so reruns skip generation. corpus-loader.ts links
// the cached files into the source Dovecot; Dovecot then indexes them, which is far faster than
// APPENDing a gigabyte.
//
// Sizes follow the issue: about 65% 2-20 KB, 25% 20-300 KB, 9% 0.3-5 MB, 1% 5-20 MB, log-uniform
// inside each band (small sizes are as common per decade as large ones, as in real mailboxes).

import {closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, utimesSync, writeSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {buildMessage, makePools} from './message-builder.js';
import {encodeModifiedUtf7} from '../source/imap/modified-utf7.js';
import {SeededRandom} from './seeded-random.js';

export type PresetName = 'quick' | 'standard';

export interface CorpusSpec {
  /** Names the cache directory: `quick`, `standard`, `memory`. */
  name: string;
  mailboxes: number;
  messagesPerMailbox: number;
  loginPrefix: string;
  /** Messages of exactly this size added as the newest in INBOX (the memory run's 30 MB ones). */
  hugeMessageBytes?: number;
}

export const PRESETS: Record<PresetName, CorpusSpec> = {
  quick: {name: 'quick', mailboxes: 4, messagesPerMailbox: 1000, loginPrefix: 'user'},
  standard: {name: 'standard', mailboxes: 10, messagesPerMailbox: 3000, loginPrefix: 'user'},
};

/** 20 mailboxes with a 30 MB message each, newest first so every sync meets it at the same time. */
export const MEMORY_CORPUS: CorpusSpec = {
  name: 'memory',
  mailboxes: 20,
  messagesPerMailbox: 40,
  loginPrefix: 'mem',
  hugeMessageBytes: 30 * 1024 * 1024 - 4096,
};

/** Bump when the generator changes, so stale caches are not reused. */
const GENERATOR_VERSION = 1;

// Nested, international, and with characters that need escaping in modified UTF-7 ('&').
// Parents of nested folders are real folders too (some with mail, one empty).
const FOLDERS: ReadonlyArray<{name: string; weight: number}> = [
  {name: 'INBOX', weight: 35},
  {name: 'Sent', weight: 15},
  {name: 'Drafts', weight: 2},
  {name: 'Trash', weight: 5},
  {name: 'Archive', weight: 5},
  {name: 'Archive/2023', weight: 10},
  {name: 'Archive/2024', weight: 10},
  {name: 'Projekte', weight: 0},
  {name: 'Projekte/Überprüfung', weight: 5},
  {name: 'Projekte/Überprüfung/Q3 Berichte', weight: 3},
  {name: 'Входящие', weight: 1},
  {name: 'Входящие/Важное', weight: 3},
  {name: '日本語のメール', weight: 3},
  {name: 'Clients & Partners', weight: 3},
];

export const CORPUS_KEYWORDS = ['$Forwarded', '$Label1', '$Label2', 'ProjektX'] as const;

export interface CorpusMessage {
  /** Maildir file name (also the name in the cache's folder directory). */
  file: string;
  size: number;
  messageId: string;
  /** IMAP system flags without the backslash: Seen, Answered, Flagged, Draft. */
  flags: string[];
  keywords: string[];
  /** Seconds since the epoch; also the file's mtime, which Dovecot reports as INTERNALDATE. */
  internalDate: number;
}

export interface CorpusFolder {
  /** IMAP name with '/' as separator, UTF-8. */
  name: string;
  /** Directory below the Maildir root ('' for INBOX), modified UTF-7 as Dovecot names it. */
  dir: string;
  messages: CorpusMessage[];
  bytes: number;
}

export interface CorpusMailbox {
  login: string;
  folders: CorpusFolder[];
  messageCount: number;
  bytes: number;
}

export interface CorpusManifest {
  version: number;
  spec: CorpusSpec;
  seed: number;
  keywords: string[];
  mailboxes: CorpusMailbox[];
  messageCount: number;
  bytes: number;
}

export interface Corpus {
  /** Cache directory: <dir>/<login>/<folder dir>/<file>. */
  dir: string;
  manifest: CorpusManifest;
}

export function folderDir(name: string): string {
  return name === 'INBOX' ? '' : name.split('/').map(encodeModifiedUtf7).join('/');
}

export function messagePath(corpus: Corpus, login: string, folder: CorpusFolder, message: CorpusMessage): string {
  return join(corpus.dir, login, folder.dir, message.file);
}

function pickSize(random: SeededRandom): number {
  const band = random.next();
  if (band < 0.65) return random.logUniform(2 * 1024, 20 * 1024);
  if (band < 0.9) return random.logUniform(20 * 1024, 300 * 1024);
  if (band < 0.99) return random.logUniform(300 * 1024, 5 * 1024 * 1024);
  return random.logUniform(5 * 1024 * 1024, 20 * 1024 * 1024);
}

function pickFolder(random: SeededRandom): (typeof FOLDERS)[number] {
  const total = FOLDERS.reduce((sum, f) => sum + f.weight, 0);
  let roll = random.next() * total;
  for (const folder of FOLDERS) {
    roll -= folder.weight;
    if (roll < 0 && folder.weight > 0) return folder;
  }
  return FOLDERS[0]!;
}

function pickFlags(random: SeededRandom, folder: string): {flags: string[]; keywords: string[]} {
  const flags: string[] = [];
  if (folder === 'Drafts') flags.push('Draft');
  else if (folder === 'Sent' || random.chance(0.8)) flags.push('Seen');
  if (random.chance(0.15)) flags.push('Answered');
  if (random.chance(0.07)) flags.push('Flagged');
  const keywords = CORPUS_KEYWORDS.filter(() => random.chance(0.05));
  return {flags, keywords};
}

// Maildir info letters (https://cr.yp.to/proto/maildir.html), ASCII-sorted as the spec asks;
// keywords are letters a-z indexing the folder's dovecot-keywords file.
const FLAG_LETTERS: Record<string, string> = {Draft: 'D', Flagged: 'F', Answered: 'R', Seen: 'S'};

function maildirInfo(flags: string[], keywords: string[]): string {
  const system = flags.map((f) => FLAG_LETTERS[f]!).sort().join('');
  const custom = keywords.map((k) => String.fromCharCode(97 + CORPUS_KEYWORDS.indexOf(k as (typeof CORPUS_KEYWORDS)[number]))).sort().join('');
  return `:2,${system}${custom}`;
}

export function dovecotKeywordsFile(): string {
  return CORPUS_KEYWORDS.map((k, i) => `${i} ${k}\n`).join('');
}

// Dates fall in the three years before a fixed day, so the corpus does not depend on today.
const NEWEST_DATE = Date.UTC(2025, 0, 1) / 1000;
const DATE_SPAN_S = 3 * 365 * 24 * 3600;

function generate(spec: CorpusSpec, seed: number, dir: string): CorpusManifest {
  const pools = makePools(seed);
  const mailboxes: CorpusMailbox[] = [];
  let serial = 0;
  for (let m = 0; m < spec.mailboxes; m++) {
    const login = `${spec.loginPrefix}${String(m + 1).padStart(2, '0')}@bench.example`;
    const random = new SeededRandom(seed * 7919 + m * 104729 + spec.name.length);
    const folders = new Map<string, CorpusFolder>(
      FOLDERS.map((f) => [f.name, {name: f.name, dir: folderDir(f.name), messages: [], bytes: 0}]),
    );
    for (const folder of folders.values()) mkdirSync(join(dir, login, folder.dir), {recursive: true});
    const count = spec.messagesPerMailbox + (spec.hugeMessageBytes ? 1 : 0);
    for (let i = 0; i < count; i++) {
      serial++;
      const huge = spec.hugeMessageBytes !== undefined && i === count - 1;
      const folderSpec = huge ? FOLDERS[0]! : pickFolder(random);
      const folder = folders.get(folderSpec.name)!;
      const internalDate = huge ? NEWEST_DATE : NEWEST_DATE - DATE_SPAN_S + Math.floor(random.next() * DATE_SPAN_S);
      const messageId = `<${seed}.${m + 1}.${i + 1}@bench.mailferry.example>`;
      const parts = buildMessage(
        {messageId, to: login, internalDate: new Date(internalDate * 1000), size: huge ? spec.hugeMessageBytes! : pickSize(random), serial},
        pools,
        random,
      );
      const size = parts.reduce((sum, p) => sum + p.length, 0);
      const {flags, keywords} = pickFlags(random, folder.name);
      // S= and W= let Dovecot know sizes without reading the file; all line ends are CRLF so both are equal.
      const file = `${internalDate}.M${serial}P${m + 1}Q${i + 1}.bench,S=${size},W=${size}${maildirInfo(flags, keywords)}`;
      const path = join(dir, login, folder.dir, file);
      const fd = openSync(path, 'w', 0o644);
      try {
        for (const part of parts) writeSync(fd, part);
      } finally {
        closeSync(fd);
      }
      utimesSync(path, internalDate, internalDate);
      folder.messages.push({file, size, messageId, flags, keywords, internalDate});
      folder.bytes += size;
    }
    const list = [...folders.values()];
    mailboxes.push({
      login,
      folders: list,
      messageCount: list.reduce((sum, f) => sum + f.messages.length, 0),
      bytes: list.reduce((sum, f) => sum + f.bytes, 0),
    });
  }
  return {
    version: GENERATOR_VERSION,
    spec,
    seed,
    keywords: [...CORPUS_KEYWORDS],
    mailboxes,
    messageCount: mailboxes.reduce((sum, m) => sum + m.messageCount, 0),
    bytes: mailboxes.reduce((sum, m) => sum + m.bytes, 0),
  };
}

/** Returns the cached corpus, generating it first when the cache is missing or stale. */
export function ensureCorpus(spec: CorpusSpec, seed: number, workDir: string, log: (line: string) => void): Corpus {
  const dir = join(workDir, `corpus-${spec.name}-seed${seed}-v${GENERATOR_VERSION}`);
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as CorpusManifest;
    if (manifest.version === GENERATOR_VERSION && JSON.stringify(manifest.spec) === JSON.stringify(spec)) {
      return {dir, manifest};
    }
  }
  log(`generating the ${spec.name} corpus (seed ${seed}) into ${dir} ...`);
  const started = Date.now();
  rmSync(dir, {recursive: true, force: true});
  mkdirSync(dir, {recursive: true});
  const manifest = generate(spec, seed, dir);
  // The manifest is written last and atomically: its presence means the cache is complete.
  writeFileSync(`${manifestPath}.tmp`, JSON.stringify(manifest));
  renameSync(`${manifestPath}.tmp`, manifestPath);
  log(
    `  ${manifest.messageCount} messages, ${(manifest.bytes / 1e6).toFixed(0)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return {dir, manifest};
}
