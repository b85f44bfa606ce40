// A mailbox that looks like a real user's: the folder shapes, flags, dates and oddities that a
// migration has to carry over and that simple fixtures never contain.

import { buildMessage, seededRandom } from './build-message.js';

export interface SeedMessage {
  /** '/'-separated path; '\\Sent', '\\Drafts', ... mean the server's folder with that special use */
  folder: string;
  raw: Buffer;
  flags?: string[];
  internalDate?: Date;
}

export interface SeedSpec {
  /** created even if empty; nested with '/', translated to the server's separator and prefix */
  folders: string[];
  messages: SeedMessage[];
  /** when given, exactly these folders end up subscribed (special-use ones stay subscribed by the
   * server config); when left out, every created folder is subscribed */
  subscribe?: string[];
}

export interface RealisticMailboxOptions {
  seed?: number;
  scale?: 'small' | 'medium';
  /** adds one message of about this many bytes to INBOX (0 = none), e.g. 30 MB for size limits */
  largeMessageBytes?: number;
}

/** the folder every realistic mailbox has that stays empty */
export const EMPTY_FOLDER = 'Empty Folder';

const FOLDER_SHARES: [folder: string, small: number][] = [
  ['INBOX', 20],
  ['Projects', 3],
  ['Projects/2024', 2],
  ['Projects/2024/Q1', 4],
  ['Entwürfe', 2],
  ['Почта', 3],
  ['日本語', 2],
  ['R&D', 2],
  ['\\Sent', 6],
  ['\\Drafts', 2],
  ['\\Trash', 2],
  ['\\Junk', 2],
  ['\\Archive', 4],
];

const SENDERS = [
  'Anna Schmidt <anna@example.test>',
  'Иван Петров <ivan@example.test>',
  '山田 太郎 <yamada@example.test>',
  'billing@example.test',
  '"Support Team" <support@example.test>',
];

const SUBJECTS = [
  'Quarterly report',
  'Grüße aus München',
  'Привет из Москвы',
  '会議の議事録',
  'Re: Budget 2024',
  'Fwd: Server migration plan',
  'Invoice #4711',
  'Lunch?',
];

// The first INBOX messages carry fixed flags so every flag and keyword is present in every seed.
const FIXED_INBOX_FLAGS: string[][] = [
  ['\\Seen'],
  ['\\Seen', '\\Answered'],
  ['\\Flagged'],
  ['\\Seen', '$Forwarded'],
  ['$Label1', 'ProjectX'],
  [],
  ['\\Seen', '\\Answered', '\\Flagged', '$Label1'],
];

function randomFlags(folder: string, random: () => number): string[] {
  if (folder === '\\Drafts') return ['\\Draft', '\\Seen'];
  const flags: string[] = [];
  if (random() < 0.7) flags.push('\\Seen');
  if (random() < 0.15) flags.push('\\Answered');
  if (random() < 0.1) flags.push('\\Flagged');
  if (random() < 0.05) flags.push('$Forwarded');
  if (random() < 0.05) flags.push('$Label1');
  if (folder.startsWith('Projects') && random() < 0.5) flags.push('ProjectX');
  return flags;
}

function randomSize(random: () => number): { bodyBytes: number; attachmentBytes: number } {
  const pick = random();
  // Mostly small text mails, some with attachments, a few of a few hundred KB.
  if (pick < 0.75) return { bodyBytes: 700 + Math.floor(random() * 7000), attachmentBytes: 0 };
  if (pick < 0.95) return { bodyBytes: 800, attachmentBytes: 10_000 + Math.floor(random() * 90_000) };
  return { bodyBytes: 1500, attachmentBytes: 200_000 + Math.floor(random() * 150_000) };
}

export function realisticMailbox(options: RealisticMailboxOptions = {}): SeedSpec {
  const seed = options.seed ?? 1;
  const factor = options.scale === 'medium' ? 10 : 1;
  const random = seededRandom(seed * 7919);
  const messages: SeedMessage[] = [];
  let serial = seed * 100_000;

  for (const [folder, small] of FOLDER_SHARES) {
    for (let i = 0; i < small * factor; i++) {
      serial++;
      // Archive holds the old mail; everything else spreads over 2012-2025.
      const from = folder === '\\Archive' ? Date.UTC(2009, 0, 1) : Date.UTC(2012, 0, 1);
      const to = folder === '\\Archive' ? Date.UTC(2012, 0, 1) : Date.UTC(2025, 6, 1);
      const internalDate = new Date(Math.floor((from + random() * (to - from)) / 1000) * 1000);
      const sentDate = new Date(internalDate.getTime() - Math.floor(random() * 600) * 1000);
      const flags = folder === 'INBOX' && i < FIXED_INBOX_FLAGS.length ? FIXED_INBOX_FLAGS[i]! : randomFlags(folder, random);
      const size = randomSize(random);
      // Two INBOX messages have no Message-ID at all.
      const messageId = folder === 'INBOX' && (i === 5 || i === 6) ? null : undefined;
      const raw = buildMessage({
        from: folder === '\\Sent' || folder === '\\Drafts' ? 'Me <me@example.test>' : SENDERS[serial % SENDERS.length],
        subject: `${SUBJECTS[serial % SUBJECTS.length]} (${serial})`,
        date: sentDate,
        messageId,
        seed: serial,
        ...size,
      });
      messages.push({ folder, raw, flags, internalDate });
    }
  }

  // Two different messages sharing one Message-ID (list copies, resent mail): dedupe by
  // Message-ID alone would lose one of them.
  const sharedId = `<shared-${seed}@mailferry.test>`;
  messages.push(
    { folder: 'INBOX', raw: buildMessage({ subject: 'Shared id, first', messageId: sharedId, seed: seed * 31 + 1 }), flags: ['\\Seen'], internalDate: new Date(Date.UTC(2023, 4, 1, 9, 0, 0)) },
    { folder: '\\Archive', raw: buildMessage({ subject: 'Shared id, second', messageId: sharedId, seed: seed * 31 + 2, bodyBytes: 2000 }), flags: [], internalDate: new Date(Date.UTC(2023, 4, 2, 9, 0, 0)) },
  );

  if (options.largeMessageBytes && options.largeMessageBytes > 0) {
    const total = options.largeMessageBytes;
    messages.push({
      folder: 'INBOX',
      raw: buildMessage({
        subject: `Large message (${total} bytes)`,
        seed: seed * 31 + 3,
        // base64 grows data by 4/3 plus CRLF every 76 characters; totalBytes pads the rest exactly
        attachmentBytes: Math.max(0, Math.floor(((total - 2048) * 3) / 4 / 78 * 76)),
        totalBytes: total,
      }),
      flags: ['\\Seen'],
      internalDate: new Date(Date.UTC(2024, 11, 24, 18, 0, 0)),
    });
  }

  const folders = [...FOLDER_SHARES.map(([folder]) => folder), EMPTY_FOLDER];
  return {
    folders,
    messages,
    // The empty folder stays unsubscribed so subscription carry-over is visible.
    subscribe: folders.filter((f) => f !== EMPTY_FOLDER),
  };
}
