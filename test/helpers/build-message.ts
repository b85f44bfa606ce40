// Deterministic RFC 5322 test messages: the same options always give the same bytes, so tests
// can compare source and target by hash and reproduce a failure from its seed.

export interface BuildMessageOptions {
  from?: string;
  to?: string;
  subject: string;
  date?: Date;
  /** null = no Message-ID header at all (real mail without one exists and must still migrate) */
  messageId?: string | null;
  /** size of the text body in bytes (default 600) */
  bodyBytes?: number;
  seed?: number;
  /** adds a base64 attachment of this many raw bytes (multipart/mixed) */
  attachmentBytes?: number;
  /** pads the text body so the whole message is exactly this many bytes (when that is possible) */
  totalBytes?: number;
}

/** mulberry32: tiny, fast and good enough to make varied but reproducible content */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the quarterly report meeting budget project server mailbox migration invoice schedule ' +
  'please review attached draft final update customer contract deadline thanks regards team ' +
  'office holiday network backup password reset ticket release notes agenda minutes lunch'
).split(' ');

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time in UTC, e.g. "Tue, 02 Jan 2024 10:04:05 +0000" */
export function rfc5322Date(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

function encodeHeaderValue(value: string): string {
  // RFC 2047: non-ASCII header text travels as encoded-words.
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** ASCII text of exactly `bytes` bytes, CRLF line ends, lines well under 78 characters */
function textBody(bytes: number, random: () => number): string {
  if (bytes <= 0) return '';
  const lines: string[] = [];
  let length = 0;
  while (length < bytes) {
    let line = '';
    while (line.length < 60) line += (line ? ' ' : '') + WORDS[Math.floor(random() * WORDS.length)];
    lines.push(line);
    length += line.length + 2;
  }
  let text = lines.join('\r\n') + '\r\n';
  text = text.slice(0, bytes);
  // A cut through CRLF would leave a bare CR, which IMAP servers reject or rewrite.
  if (text.endsWith('\r')) text = text.slice(0, -1) + '.';
  return text;
}

function randomBytes(count: number, random: () => number): Buffer {
  const buffer = Buffer.alloc(count);
  let seed = Math.floor(random() * 0xffffffff);
  for (let i = 0; i < count; i++) {
    // xorshift32 inline: a 30 MB attachment must not take seconds to make
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    buffer[i] = seed & 0xff;
  }
  return buffer;
}

function base64Lines(data: Buffer): Buffer {
  const encoded = data.toString('base64');
  const lineLength = 76;
  const lineCount = Math.ceil(encoded.length / lineLength);
  const out = Buffer.alloc(encoded.length + lineCount * 2);
  let offset = 0;
  for (let i = 0; i < encoded.length; i += lineLength) {
    offset += out.write(encoded.slice(i, i + lineLength), offset, 'latin1');
    offset += out.write('\r\n', offset, 'latin1');
  }
  return out;
}

function assemble(options: BuildMessageOptions, bodyBytes: number): Buffer {
  const seed = options.seed ?? 1;
  const random = seededRandom(seed);
  const date = options.date ?? new Date(Date.UTC(2020, 0, 1) + seed * 3_600_000);
  const messageId = options.messageId === undefined ? `<seed-${seed}.${date.getTime()}@mailferry.test>` : options.messageId;
  const headers = [
    `From: ${encodeHeaderValue(options.from ?? 'Sender <sender@example.test>')}`,
    `To: ${encodeHeaderValue(options.to ?? 'Recipient <recipient@example.test>')}`,
    `Subject: ${encodeHeaderValue(options.subject)}`,
    `Date: ${rfc5322Date(date)}`,
    ...(messageId === null ? [] : [`Message-ID: ${messageId}`]),
    'MIME-Version: 1.0',
  ];
  const body = textBody(bodyBytes, random);
  const attachmentBytes = options.attachmentBytes ?? 0;
  if (attachmentBytes <= 0) {
    headers.push('Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit');
    return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`, 'latin1');
  }
  const boundary = `=_mailferry_${seed}`;
  headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
  const head = Buffer.from(
    `${headers.join('\r\n')}\r\n\r\nThis is a multipart message in MIME format.\r\n` +
      `--${boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n` +
      `${body}\r\n--${boundary}\r\nContent-Type: application/octet-stream; name="attachment-${seed}.bin"\r\n` +
      `Content-Disposition: attachment; filename="attachment-${seed}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
    'latin1',
  );
  const tail = Buffer.from(`--${boundary}--\r\n`, 'latin1');
  return Buffer.concat([head, base64Lines(randomBytes(attachmentBytes, random)), tail]);
}

/** RFC 5322 message with CRLF line ends, identical bytes for identical options */
export function buildMessage(options: BuildMessageOptions): Buffer {
  const bodyBytes = options.bodyBytes ?? 600;
  if (options.totalBytes === undefined) return assemble(options, bodyBytes);
  const bare = assemble(options, 0);
  return assemble(options, Math.max(0, options.totalBytes - bare.length));
}
