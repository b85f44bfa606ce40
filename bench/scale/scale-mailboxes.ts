// The scale scenario's mailboxes: N users, each with a few small messages in 1-3 folders, and a
// few large mailboxes among them (500 messages, about 12 MB each). Everything is derived from the
// user's index, so the expected content is recomputed for verification instead of stored.
// Seeding writes Maildir files straight into the source Dovecot's mail root: Dovecot indexes a
// Maildir it has never seen on first access, so 10,000 users need no doveadm call each.

import {chownSync, mkdirSync, readdirSync, openSync, readSync, closeSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

export const LARGE_MESSAGES = 500;
const DOMAIN = 'scale.test';
const SMALL_FOLDERS = ['INBOX', 'Sent', 'Archive'] as const;
const LARGE_FOLDERS = ['INBOX', 'Archive', 'Sent'] as const;

export interface PlannedMessage {
  messageId: string;
  size: number;
}

export interface PlannedFolder {
  name: string;
  messages: PlannedMessage[];
}

export interface PlannedMailbox {
  login: string;
  large: boolean;
  folders: PlannedFolder[];
}

export function loginOf(index: number): string {
  return `u${String(index).padStart(5, '0')}@${DOMAIN}`;
}

/** How many large mailboxes a batch of `total` gets: 5 from 1,000 on, fewer below. */
export function largeCount(total: number): number {
  return Math.min(5, Math.max(1, Math.ceil(total / 200)));
}

/** Whether mailbox `index` (0-based) of `total` is one of the large ones: spread over the batch,
 *  so they run at different moments and one of them is likely copying at the kill. */
export function isLarge(index: number, total: number): boolean {
  const step = Math.floor(total / largeCount(total));
  return step > 0 && index % step === Math.floor(step / 3) && index / step < largeCount(total);
}

export function planMailbox(index: number, total: number): PlannedMailbox {
  const login = loginOf(index);
  const large = isLarge(index, total);
  const folders: PlannedFolder[] = [];
  if (large) {
    const perFolder = [300, 150, 50];
    LARGE_FOLDERS.forEach((name, f) => {
      folders.push({
        name,
        messages: Array.from({length: perFolder[f]!}, (_, m) => ({
          messageId: `<scale-${index}-${f}-${m}@${DOMAIN}>`,
          // 8-40 KB: 500 of them make about 12 MB.
          size: 8_000 + ((index * 7919 + f * 104_729 + m * 1_299_709) % 32_000),
        })),
      });
    });
  } else {
    const count = 1 + (index % SMALL_FOLDERS.length);
    for (let f = 0; f < count; f++) {
      const messages = 1 + ((index * 7 + f * 3) % 4);
      folders.push({
        name: SMALL_FOLDERS[f]!,
        messages: Array.from({length: messages}, (_, m) => ({
          messageId: `<scale-${index}-${f}-${m}@${DOMAIN}>`,
          size: 800 + ((index * 31 + f * 17 + m * 101) % 3_200),
        })),
      });
    }
  }
  return {login, large, folders};
}

/** The message's text (LF line ends, as Dovecot stores them), `size` bytes or a little more. */
export function messageText(mailbox: PlannedMailbox, folder: PlannedFolder, message: PlannedMessage, serial: number): string {
  const date = new Date(Date.UTC(2025, 0, 1) + serial * 60_000).toUTCString().replace('GMT', '+0000');
  const header = [
    `From: Scale Sender <sender@${DOMAIN}>`,
    `To: <${mailbox.login}>`,
    `Subject: scale ${folder.name} ${serial}`,
    `Date: ${date}`,
    `Message-ID: ${message.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    '',
  ].join('\n');
  const line = `${message.messageId} ${folder.name} line of filler text for the scale bench.\n`;
  const lines = Math.max(1, Math.ceil((message.size - header.length) / line.length));
  return header + line.repeat(lines);
}

/** Folder name -> directory below the Maildir root (LAYOUT=fs; INBOX is the root itself). */
function folderDir(name: string): string {
  return name === 'INBOX' ? '' : name;
}

function makeMaildir(dir: string, uid: number, gid: number): void {
  for (const sub of ['', 'cur', 'new', 'tmp']) {
    const path = join(dir, sub);
    mkdirSync(path, {recursive: true});
    chownSync(path, uid, gid);
  }
}

/** Writes mailbox `planned` into `maildirRoot` (the user's ~/Maildir), owned by uid/gid. */
export function seedMailbox(maildirRoot: string, planned: PlannedMailbox, uid: number, gid: number): {messages: number; bytes: number} {
  const home = join(maildirRoot, '..');
  mkdirSync(home, {recursive: true});
  chownSync(home, uid, gid);
  let messages = 0;
  let bytes = 0;
  let serial = 0;
  for (const folder of planned.folders) {
    const dir = join(maildirRoot, folderDir(folder.name));
    makeMaildir(dir, uid, gid);
    for (const message of folder.messages) {
      serial++;
      const text = messageText(planned, folder, message, serial);
      const file = join(dir, 'cur', `${1_735_689_600 + serial}.M${serial}P1.scale:2,${serial % 2 ? 'S' : ''}`);
      writeFileSync(file, text);
      chownSync(file, uid, gid);
      messages++;
      bytes += text.length;
    }
  }
  return {messages, bytes};
}

export interface MaildirCheck {
  /** Source messages not on the target (per folder, by Message-ID). */
  lost: number;
  /** Extra copies on the target beyond the one expected. */
  duplicated: number;
  /** Messages on the target that the source never had there (wrong folder or unknown). */
  unexpected: number;
  problems: string[];
}

function messageIdOf(file: string): string | undefined {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(2048);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return /^Message-ID:\s*(<[^>\r\n]*>)/im.exec(buffer.toString('latin1', 0, n))?.[1];
  } finally {
    closeSync(fd);
  }
}

/** Folder name -> Message-IDs of every message stored in that folder of a user's Maildir. */
export function readMaildir(maildirRoot: string): Map<string, string[]> {
  const folders = new Map<string, string[]>();
  const walk = (dir: string, name: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    if (entries.includes('cur')) {
      const ids: string[] = [];
      for (const sub of ['cur', 'new']) {
        let files: string[] = [];
        try {
          files = readdirSync(join(dir, sub));
        } catch {
          // no such subdirectory
        }
        for (const file of files) ids.push(messageIdOf(join(dir, sub, file)) ?? `(no Message-ID: ${file})`);
      }
      folders.set(name || 'INBOX', ids);
    }
    for (const entry of entries) {
      if (['cur', 'new', 'tmp'].includes(entry) || entry.startsWith('dovecot')) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path, name ? `${name}/${entry}` : entry);
    }
  };
  walk(maildirRoot, '');
  return folders;
}

/** Compares what one user's target Maildir holds with the plan: every message exactly once, in its folder. */
export function checkMailbox(planned: PlannedMailbox, found: Map<string, string[]>): MaildirCheck {
  const result: MaildirCheck = {lost: 0, duplicated: 0, unexpected: 0, problems: []};
  const expected = new Map(planned.folders.map((f) => [f.name, new Set(f.messages.map((m) => m.messageId))]));
  for (const [name, ids] of expected) {
    const seen = new Map<string, number>();
    for (const id of found.get(name) ?? []) seen.set(id, (seen.get(id) ?? 0) + 1);
    for (const id of ids) {
      const n = seen.get(id) ?? 0;
      if (n === 0) result.lost++;
      if (n > 1) result.duplicated += n - 1;
    }
    for (const [id, n] of seen) if (!ids.has(id)) result.unexpected += n;
    const problem = [...ids].some((id) => (seen.get(id) ?? 0) !== 1) || [...seen.keys()].some((id) => !ids.has(id));
    if (problem) result.problems.push(`${planned.login}/${name}: ${found.get(name)?.length ?? 0} messages on the target, expected ${ids.size}`);
  }
  for (const [name, ids] of found) {
    if (expected.has(name) || ids.length === 0) continue;
    result.unexpected += ids.length;
    result.problems.push(`${planned.login}: ${ids.length} messages in ${name}, which the source does not have`);
  }
  return result;
}
