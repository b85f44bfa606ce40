// The project's hostile-message corpus (issue 12): messages and folders real mailboxes contain and
// simple fixtures never do, each named as a case so a failed comparison says which one broke.
// Generated from a seed, never checked in: the same seed gives the same bytes.

import {seededRandom} from './build-message.js';

export interface CorpusMessage {
  /** Unique per message, e.g. 'lf-only' or 'flags-\\Seen+\\Deleted'; duplicates get '#1', '#2'. */
  caseName: string;
  /** Logical folder: '/'-separated, 'INBOX' for the inbox. */
  folder: string;
  raw: Buffer;
  /** System flags and keywords, as APPEND takes them. */
  flags: string[];
  internalDate: Date;
  /**
   * Dovecot replaces an APPEND date past 2038-01-19 with the time of the APPEND, so such a date
   * can only be put on the source as a Maildir file's mtime, the way a delivery agent leaves it.
   */
  viaMaildir?: boolean;
}

export interface CorpusFolder {
  caseName: string;
  /** Logical path, '/'-separated. */
  path: string;
  /** Created as a bare parent (a directory, not a mailbox), so the server lists it \Noselect. */
  noselect?: boolean;
  subscribed: boolean;
}

export interface HostileCorpus {
  folders: CorpusFolder[];
  messages: CorpusMessage[];
  /** The folder with many small messages (the one a kill-and-resume run is killed in). */
  bigFolder: string;
  bigFolderCount: number;
  /** Cases that are over the target's size limit and must end up skipped with a reason. */
  overLimitCases: string[];
}

export interface HostileCorpusOptions {
  seed?: number;
  bigFolderMessages?: number;
  /** The target's largest message in bytes; one message lands just under it and one just over. */
  targetSizeLimit: number;
}

export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;

/** 30 keywords on one message; a few well-known ones, the rest plain atoms. */
export const THIRTY_KEYWORDS = [
  '$Forwarded', '$MDNSent', '$Junk', '$NotJunk', '$Phishing', '$Label1', '$Label2', '$Label3', '$Label4', '$Label5',
  ...Array.from({length: 20}, (_, i) => `Corpus_Keyword_${String(i + 1).padStart(2, '0')}`),
];

const CRLF = '\r\n';

function headers(lines: string[], eol = CRLF): string {
  return lines.join(eol) + eol;
}

function ascii(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** "Tue, 02 Jan 2024 10:04:05 +0000" */
function dateHeader(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function words(random: () => number, count: number): string {
  const pool = ['mail', 'server', 'folder', 'report', 'budget', 'invoice', 'hello', 'migration', 'archive', 'draft'];
  return Array.from({length: count}, () => pool[Math.floor(random() * pool.length)]).join(' ');
}

function simple(caseName: string, date: Date, extraHeaders: string[] = [], body = `Case ${caseName}.${CRLF}`): Buffer {
  return ascii(
    headers([
      'From: Corpus <corpus@example.test>',
      'To: Someone <someone@example.test>',
      `Subject: corpus case ${caseName}`,
      `Date: ${dateHeader(date)}`,
      `Message-ID: <${caseName.replace(/[^A-Za-z0-9.-]/g, '_')}@corpus.mailferry.test>`,
      ...extraHeaders,
    ]) + CRLF + body,
  );
}

/** Folder names that break naive code, each named as its own case. */
export function hostileFolderNames(): {caseName: string; name: string}[] {
  return [
    {caseName: 'folder-dot', name: 'dot.in.name'},
    {caseName: 'folder-ampersand', name: 'R&D'},
    {caseName: 'folder-literal-mutf7', name: '&AOQ-'},
    {caseName: 'folder-brackets', name: '[Brackets]'},
    {caseName: 'folder-percent', name: '100% done'},
    {caseName: 'folder-star', name: 'star*folder'},
    {caseName: 'folder-quotes', name: 'say "hi"'},
    {caseName: 'folder-backslash', name: 'back\\slash'},
    {caseName: 'folder-emoji', name: 'Mail 📬🎉'},
    {caseName: 'folder-cjk', name: '日本語の受信箱'},
    {caseName: 'folder-rtl', name: 'דואר עברי'},
    {caseName: 'folder-leading-space', name: ' leading space'},
    {caseName: 'folder-trailing-space', name: 'trailing space '},
    {caseName: 'folder-199-chars', name: longName(199)},
    {caseName: 'folder-case-upper', name: 'CaseClash'},
    {caseName: 'folder-case-lower', name: 'caseclash'},
  ];
}

function longName(length: number): string {
  let name = 'Long-';
  for (let i = 0; name.length < length; i++) name += String.fromCharCode(97 + (i % 26));
  return name.slice(0, length);
}

export function hostileCorpus(options: HostileCorpusOptions): HostileCorpus {
  const random = seededRandom(options.seed ?? 12);
  const base = Date.UTC(2023, 4, 17, 9, 30, 0);
  let minute = 0;
  const nextDate = () => new Date(base + minute++ * 61_000);
  const messages: CorpusMessage[] = [];
  const add = (message: Omit<CorpusMessage, 'internalDate'> & {internalDate?: Date}) =>
    messages.push({...message, internalDate: message.internalDate ?? nextDate()});

  // --- INBOX: the odd messages -------------------------------------------------------------
  const inbox = 'INBOX';
  let d = nextDate();
  const noId = (n: number) =>
    ascii(headers(['From: a@example.test', `Subject: no message-id ${n}`, `Date: ${dateHeader(new Date(base + n * 1000))}`]) + CRLF + `No Message-ID here (${n}).${CRLF}`);
  add({caseName: 'no-message-id#1', folder: inbox, raw: noId(1), flags: ['\\Seen']});
  add({caseName: 'no-message-id#2', folder: inbox, raw: noId(2), flags: []});
  // Two different messages sharing one Message-ID (same date and size too): both must arrive.
  const shared = (tag: string) =>
    ascii(headers(['From: a@example.test', 'Subject: shared id', `Date: ${dateHeader(d)}`, 'Message-ID: <shared@corpus.mailferry.test>']) + CRLF + `Version ${tag}${CRLF}`);
  add({caseName: 'shared-message-id-a', folder: inbox, raw: shared('A'), flags: [], internalDate: d});
  add({caseName: 'shared-message-id-b', folder: inbox, raw: shared('B'), flags: [], internalDate: d});
  d = nextDate();
  const duplicate = simple('exact-duplicate', d);
  add({caseName: 'exact-duplicate#1', folder: inbox, raw: duplicate, flags: ['\\Seen'], internalDate: d});
  add({caseName: 'exact-duplicate#2', folder: inbox, raw: duplicate, flags: ['\\Seen'], internalDate: d});
  add({caseName: 'exact-duplicate#3', folder: inbox, raw: duplicate, flags: ['\\Seen'], internalDate: d});
  add({caseName: 'crlf', folder: inbox, raw: simple('crlf', d, [], `line one${CRLF}line two${CRLF}`), flags: []});
  add({
    caseName: 'lf-only',
    folder: inbox,
    raw: ascii(headers(['From: a@example.test', 'Subject: lf only', 'Message-ID: <lf-only@corpus.mailferry.test>'], '\n') + '\nline one\nline two\n'),
    flags: [],
  });
  add({
    caseName: 'mixed-line-ends',
    folder: inbox,
    raw: ascii('From: a@example.test\r\nSubject: mixed\nMessage-ID: <mixed@corpus.mailferry.test>\r\n\nCRLF line\r\nLF line\nCRLF again\r\nend\n'),
    flags: [],
  });
  add({caseName: 'long-line-20000', folder: inbox, raw: simple('long-line-20000', d, [], `${'x'.repeat(20_000)}${CRLF}short line${CRLF}`), flags: []});
  add({
    caseName: 'long-header-20000',
    folder: inbox,
    raw: simple('long-header-20000', d, [`X-Long: ${'h'.repeat(20_000)}`], `body${CRLF}`),
    flags: [],
  });
  add({
    caseName: 'raw-8bit-utf8-header',
    folder: inbox,
    raw: Buffer.concat([ascii('From: a@example.test\r\nSubject: '), Buffer.from('Grüße – 日本語 – Привет 📬', 'utf8'), ascii('\r\nMessage-ID: <utf8h@corpus.mailferry.test>\r\n\r\n'), Buffer.from('Körper ünd 本文\r\n', 'utf8')]),
    flags: [],
  });
  add({
    caseName: 'raw-8bit-latin1-header',
    folder: inbox,
    raw: Buffer.concat([ascii('From: J\xfcrgen <j@example.test>\r\nSubject: Gr\xfc\xdfe aus M\xfcnchen\r\nMessage-ID: <latin1h@corpus.mailferry.test>\r\n\r\n'), ascii('K\xf6rper \xe9t\xe9\r\n')]),
    flags: [],
  });
  add({
    caseName: 'nul-bytes',
    folder: inbox,
    raw: ascii('From: a@example.test\r\nSubject: nul bytes\r\nMessage-ID: <nul@corpus.mailferry.test>\r\n\r\nbefore\x00after\r\n\x00\x00\x00\r\nend\r\n'),
    flags: [],
  });
  add({
    caseName: 'control-bytes',
    folder: inbox,
    raw: ascii(
      'From: a@example.test\r\nSubject: control \x01\x07\x1b[31m bytes\r\nMessage-ID: <ctrl@corpus.mailferry.test>\r\n\r\n' +
        Array.from({length: 32}, (_, i) => (i === 10 || i === 13 || i === 0 ? '' : String.fromCharCode(i))).join('') + '\x7f\r\n',
    ),
    flags: [],
  });
  add({caseName: 'header-only', folder: inbox, raw: ascii('From: a@example.test\r\nSubject: header only\r\nMessage-ID: <ho@corpus.mailferry.test>\r\n'), flags: []});
  add({caseName: 'one-byte', folder: inbox, raw: ascii('x'), flags: []});
  add({caseName: 'empty-body', folder: inbox, raw: ascii('From: a@example.test\r\nSubject: empty body\r\nMessage-ID: <eb@corpus.mailferry.test>\r\n\r\n'), flags: []});
  add({caseName: 'no-final-newline', folder: inbox, raw: ascii('From: a@example.test\r\nSubject: no final newline\r\n\r\nthe last line has no end'), flags: []});
  add({caseName: 'random-text', folder: inbox, raw: simple('random-text', d, [], `${words(random, 40)}${CRLF}`), flags: ['$Label1']});

  // --- internal dates ------------------------------------------------------------------------
  const dates: [string, Date, boolean?][] = [
    ['date-1970-00-00-01', new Date(Date.UTC(1970, 0, 1, 0, 0, 1))],
    ['date-1970-01-02', new Date(Date.UTC(1970, 0, 2, 12, 0, 0))],
    ['date-2038-01-19-before-int32-end', new Date(Date.UTC(2038, 0, 19, 3, 14, 7)), true],
    ['date-2038-01-20', new Date(Date.UTC(2038, 0, 20, 10, 0, 0)), true],
    ['date-2099-06-15', new Date(Date.UTC(2099, 5, 15, 12, 0, 0)), true],
  ];
  for (const [caseName, date, viaMaildir] of dates) {
    add({caseName, folder: 'Dates', raw: simple(caseName, date), flags: [], internalDate: date, ...(viaMaildir ? {viaMaildir} : {})});
  }

  // --- flags: all 32 combinations of the system flags (half with \Deleted), and 30 keywords -----
  for (let mask = 0; mask < 32; mask++) {
    const flags = SYSTEM_FLAGS.filter((_, bit) => mask & (1 << bit));
    const caseName = `flags-${flags.length ? flags.map((f) => f.slice(1)).join('+') : 'none'}`;
    add({caseName, folder: 'Flags', raw: simple(caseName, d), flags: [...flags]});
  }
  add({caseName: 'keywords-30', folder: 'Flags', raw: simple('keywords-30', d), flags: ['\\Seen', ...THIRTY_KEYWORDS]});

  // --- size limit of the target -----------------------------------------------------------------
  const sized = (caseName: string, total: number) => {
    const head = simple(caseName, d, [], '');
    const line = 'z'.repeat(76) + CRLF;
    let body = line.repeat(Math.floor((total - head.length) / line.length));
    body += 'y'.repeat(total - head.length - body.length);
    return Buffer.concat([head, ascii(body)]);
  };
  add({caseName: 'size-just-under-limit', folder: 'Size limit', raw: sized('size-just-under-limit', options.targetSizeLimit - 16), flags: []});
  add({caseName: 'size-just-over-limit', folder: 'Size limit', raw: sized('size-just-over-limit', options.targetSizeLimit + 16), flags: ['\\Flagged']});

  // --- folders --------------------------------------------------------------------------------------
  const folders: CorpusFolder[] = [
    {caseName: 'inbox-subscribed', path: 'INBOX', subscribed: true},
    {caseName: 'dates', path: 'Dates', subscribed: true},
    {caseName: 'flags', path: 'Flags', subscribed: true},
    {caseName: 'size-limit', path: 'Size limit', subscribed: false},
    {caseName: 'empty-parent', path: 'Empty parent', subscribed: true},
    {caseName: 'empty-parent-child', path: 'Empty parent/child', subscribed: true},
    {caseName: 'noselect-parent', path: 'NoSelect parent', noselect: true, subscribed: false},
    {caseName: 'noselect-parent-child', path: 'NoSelect parent/child', subscribed: false},
  ];
  const deep = Array.from({length: 12}, (_, i) => `Level${i + 1}`);
  for (let level = 1; level <= 12; level++) {
    folders.push({caseName: `deep-level-${level}`, path: deep.slice(0, level).join('/'), subscribed: level % 2 === 0});
  }
  add({caseName: 'deep-level-12-message', folder: deep.join('/'), raw: simple('deep-level-12-message', d), flags: []});
  add({caseName: 'noselect-parent-child-message', folder: 'NoSelect parent/child', raw: simple('noselect-parent-child-message', d), flags: []});
  for (const [index, {caseName, name}] of hostileFolderNames().entries()) {
    folders.push({caseName, path: name, subscribed: index % 3 !== 1});
    add({caseName: `${caseName}-message`, folder: name, raw: simple(`${caseName}-message`, d), flags: index % 2 ? ['\\Seen'] : []});
  }

  // --- one big folder -----------------------------------------------------------------------------
  const bigFolder = 'Big folder';
  const bigFolderCount = options.bigFolderMessages ?? 20_000;
  folders.push({caseName: 'big-folder', path: bigFolder, subscribed: true});
  const bigStart = Date.UTC(2021, 0, 1);
  for (let i = 0; i < bigFolderCount; i++) {
    const date = new Date(bigStart + i * 600_000);
    const caseName = `big-${String(i + 1).padStart(5, '0')}`;
    add({caseName, folder: bigFolder, raw: simple(caseName, date, [], `${words(random, 8)}${CRLF}`), flags: i % 3 === 0 ? ['\\Seen'] : [], internalDate: date});
  }

  const names = new Set<string>();
  for (const message of messages) {
    if (names.has(message.caseName)) throw new Error(`hostile corpus: case name ${message.caseName} used twice`);
    names.add(message.caseName);
  }
  return {folders, messages, bigFolder, bigFolderCount, overLimitCases: ['size-just-over-limit']};
}
