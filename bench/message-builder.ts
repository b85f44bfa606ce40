// Builds the bytes of one corpus message: plausible RFC 5322 headers, a text body, and for the
// larger sizes a base64 attachment. Bodies are cut from two seeded pools (text lines, base64
// lines) instead of being generated per message, which keeps a gigabyte of corpus to seconds.
// Lines end in CRLF, as on the wire, so the ceiling's APPENDs can send the files unchanged.

import {SeededRandom} from './seeded-random.js';

const CRLF = '\r\n';
const BASE64_LINE = 78; // 76 characters + CRLF

const WORDS = (
  'the of and to in is for on that with as migration mailbox server folder message report budget ' +
  'meeting quarter invoice project review draft schedule attached please thanks regards update ' +
  'customer contract delivery status account access password policy backup archive network'
).split(' ');

const SENDERS = [
  ['Terry Adams', 'terry.adams@contoso.example'],
  ['Zoë Müller', 'zoe.mueller@fabrikam.example'],
  ['Łukasz Nowak', 'lukasz.nowak@wingtip.example'],
  ['Γιώργος Παπαδόπουλος', 'giorgos@northwind.example'],
  ['山田太郎', 'taro.yamada@adatum.example'],
  ['Nanna Jensen', 'nanna.jensen@litware.example'],
] as const;

const SUBJECTS = [
  'Quarterly report',
  'Re: Budget 2024',
  'Überprüfung der Verträge',
  'Spotkanie w piątek',
  'Αναφορά προόδου',
  '会議の議事録',
  'Fwd: Invoice',
  'Møde om migrering',
];

export interface MessagePools {
  text: Buffer;
  /** Offsets where a text line starts: cuts begin there so no bare LF can appear. */
  textLineStarts: number[];
  base64: Buffer;
}

/** Seeded pools the message bodies are cut from (about 256 KB of text and 8 MB of base64). */
export function makePools(seed: number): MessagePools {
  const random = new SeededRandom(seed ^ 0x5eed);
  const textLines: string[] = [];
  const textLineStarts: number[] = [];
  for (let size = 0; size < 256 * 1024; ) {
    const words: string[] = [];
    const count = random.int(6, 13);
    for (let i = 0; i < count; i++) words.push(random.pick(WORDS));
    const line = words.join(' ') + CRLF;
    textLines.push(line);
    textLineStarts.push(size);
    size += line.length;
  }
  const raw = random.fill(Buffer.alloc(6 * 1024 * 1024));
  const encoded = raw.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i + 76 <= encoded.length; i += 76) lines.push(encoded.slice(i, i + 76) + CRLF);
  return {text: Buffer.from(textLines.join(''), 'ascii'), textLineStarts, base64: Buffer.from(lines.join(''), 'ascii')};
}

/** `length` bytes of `pool` starting at `offset`, wrapping around (copies only when it wraps). */
function cut(pool: Buffer, offset: number, length: number): Buffer[] {
  const parts: Buffer[] = [];
  let position = offset % pool.length;
  while (length > 0) {
    const take = Math.min(length, pool.length - position);
    parts.push(pool.subarray(position, position + take));
    length -= take;
    position = 0;
  }
  return parts;
}

/** Text of about `length` bytes from a random line start, never ending between CR and LF (the
 *  caller follows it with CRLF), so every line ending in the message stays CRLF. */
function cutText(pools: MessagePools, random: SeededRandom, length: number): Buffer[] {
  const parts = cut(pools.text, random.pick(pools.textLineStarts), length);
  const last = parts[parts.length - 1];
  if (last && last.length && last[last.length - 1] === 0x0d) parts[parts.length - 1] = last.subarray(0, last.length - 1);
  return parts;
}

function encodedWord(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

function rfc2822Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

export interface MessageInput {
  messageId: string;
  to: string;
  internalDate: Date;
  /** Wanted total size in bytes; the result is within a few bytes of it. */
  size: number;
  serial: number;
}

/** The message as bytes (a list of buffers to write in order, to avoid copying big bodies). */
export function buildMessage(input: MessageInput, pools: MessagePools, random: SeededRandom): Buffer[] {
  const [name, address] = random.pick(SENDERS);
  const sent = new Date(input.internalDate.getTime() - random.int(5, 600) * 1000);
  const subject = `${random.pick(SUBJECTS)} #${input.serial}`;
  const multipart = input.size > 20 * 1024;
  const boundary = `=_bench_${input.serial.toString(36)}`;
  const headers =
    [
      `Return-Path: <${address}>`,
      `Received: from mx.bench.example (mx.bench.example [192.0.2.25])${CRLF}\tby imap.bench.example with ESMTPS id b${input.serial.toString(36)}${CRLF}\tfor <${input.to}>; ${rfc2822Date(input.internalDate)}`,
      `Date: ${rfc2822Date(sent)}`,
      `From: ${encodedWord(name)} <${address}>`,
      `To: <${input.to}>`,
      `Subject: ${encodedWord(subject)}`,
      `Message-ID: ${input.messageId}`,
      'MIME-Version: 1.0',
      multipart
        ? `Content-Type: multipart/mixed; boundary="${boundary}"`
        : `Content-Type: text/plain; charset=utf-8${CRLF}Content-Transfer-Encoding: 8bit`,
    ].join(CRLF) +
    CRLF +
    CRLF;
  const greeting = `Hallo ${name}, cześć, γεια σου, こんにちは.${CRLF}${CRLF}`;

  if (!multipart) {
    const head = Buffer.from(headers + greeting, 'utf8');
    const bodyLength = Math.max(0, input.size - head.length - 2);
    return [head, ...cutText(pools, random, bodyLength), Buffer.from(CRLF)];
  }

  const textLength = random.int(500, 3000);
  const attachmentName = `attachment-${input.serial}.bin`;
  const opening = Buffer.from(
    headers +
      `This is a multi-part message in MIME format.${CRLF}${CRLF}--${boundary}${CRLF}` +
      `Content-Type: text/plain; charset=utf-8${CRLF}Content-Transfer-Encoding: 8bit${CRLF}${CRLF}` +
      greeting,
    'utf8',
  );
  const middle = Buffer.from(
    `${CRLF}--${boundary}${CRLF}Content-Type: application/octet-stream; name="${attachmentName}"${CRLF}` +
      `Content-Transfer-Encoding: base64${CRLF}Content-Disposition: attachment; filename="${attachmentName}"${CRLF}${CRLF}`,
    'ascii',
  );
  const closing = Buffer.from(`--${boundary}--${CRLF}`, 'ascii');
  const fixed = opening.length + textLength + middle.length + closing.length;
  const base64Lines = Math.max(1, Math.floor((input.size - fixed) / BASE64_LINE));
  const lineOffset = random.int(0, pools.base64.length / BASE64_LINE - 1) * BASE64_LINE;
  return [
    opening,
    ...cutText(pools, random, textLength),
    middle,
    ...cut(pools.base64, lineOffset, base64Lines * BASE64_LINE),
    closing,
  ];
}
