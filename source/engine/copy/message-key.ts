// Identity of a message across two servers, used to find messages that are already on the target
// (after a crash between APPEND and checkpoint, after a UIDVALIDITY change, or when the target
// folder held mail before mailferry's state existed), and to pair source and target messages for
// flag sync.
//
// Message-ID alone is not an identity: distinct messages share one (a sent copy and its bounce,
// lists that rewrite, tools that reuse IDs) and many have none (cron mail, monitoring alerts).
// The key is a digest of the identifying headers (Message-ID, Date, From, To, Subject) plus
// INTERNALDATE to the second plus RFC822.SIZE: mailferry appends the bytes unchanged and sets the
// internal date, so a copy has the same key as its original, while two alerts sent in the same
// second with the same size still differ by subject. Keys are compared as multisets: if the
// source holds the same key twice and the target once, one more copy is needed.

import {createHash} from 'node:crypto';

/** Headers fetched with BODY.PEEK[HEADER.FIELDS (...)] to build the key. */
export const KEY_HEADERS = ['message-id', 'date', 'from', 'to', 'subject'];

export interface KeyedMessage {
  uid: number;
  /** Digest of KEY_HEADERS, from headerDigest(). */
  headerDigest?: string | undefined;
  internalDate?: Date | string | undefined;
  size?: number | undefined;
}

export function messageKey(message: KeyedMessage): string {
  const date = message.internalDate === undefined ? '' : Math.floor(new Date(message.internalDate).getTime() / 1000);
  return `${message.headerDigest ?? ''}\u0000${date}\u0000${message.size ?? ''}`;
}

/**
 * Digest of a `BODY[HEADER.FIELDS (...)]` response: header lines unfolded (RFC 5322 section
 * 2.2.3), names lower-cased, values with runs of white space collapsed, sorted so the server's
 * order does not matter.
 */
export function headerDigest(headers: Buffer | undefined): string {
  if (!headers || headers.length === 0) return '';
  const lines = headers
    .toString('latin1')
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .map((line) => {
      const colon = line.indexOf(':');
      if (colon <= 0) return '';
      return `${line.slice(0, colon).trim().toLowerCase()}:${line.slice(colon + 1).trim().replace(/\s+/g, ' ')}`;
    })
    .filter(Boolean)
    .sort();
  if (lines.length === 0) return '';
  return createHash('sha1').update(lines.join('\n'), 'latin1').digest('base64url').slice(0, 16);
}

/**
 * Pairs source messages with target messages of the same key, in UID order on both sides
 * (the n-th source message of a key goes with the n-th target message of that key).
 * Returns source uid -> target uid for every source message that has a counterpart.
 */
export function pairByKey(source: Iterable<KeyedMessage>, target: Iterable<KeyedMessage>, resized: (uid: number) => boolean = () => false): Map<number, number> {
  const targetByKey = new Map<string, number[]>();
  for (const message of [...target].sort((a, b) => a.uid - b.uid)) {
    const key = messageKey(message);
    const list = targetByKey.get(key);
    if (list) list.push(message.uid);
    else targetByKey.set(key, [message.uid]);
  }
  const pairs = new Map<number, number>();
  const used = new Map<string, number>();
  for (const message of [...source].sort((a, b) => a.uid - b.uid)) {
    const key = messageKey(message);
    const candidates = targetByKey.get(key);
    if (!candidates) continue;
    const index = used.get(key) ?? 0;
    if (index < candidates.length) {
      pairs.set(message.uid, candidates[index]!);
      used.set(key, index + 1);
    }
  }
  pairResized(source, target, resized, pairs);
  return pairs;
}

/**
 * A message appended as literal8 may be stored larger (Dovecot stores binary parts base64-encoded,
 * RFC 3516 section 4.4 lets it): such source messages (`resized`) left without a counterpart are
 * paired, in UID order, with target messages left over that have the same key but for the size,
 * and a larger size. Adds to `pairs` (source uid -> target uid).
 */
export function pairResized(source: Iterable<KeyedMessage>, target: Iterable<KeyedMessage>, resized: (uid: number) => boolean, pairs: Map<number, number>): void {
  const waiting = [...source].filter((message) => resized(message.uid) && !pairs.has(message.uid)).sort((a, b) => a.uid - b.uid);
  if (waiting.length === 0) return;
  const taken = new Set(pairs.values());
  const withoutSize = (message: KeyedMessage) => messageKey({...message, size: undefined});
  const left = [...target].filter((message) => !taken.has(message.uid)).sort((a, b) => a.uid - b.uid);
  for (const message of waiting) {
    const key = withoutSize(message);
    const match = left.find((candidate) => !taken.has(candidate.uid) && withoutSize(candidate) === key && (candidate.size ?? 0) > (message.size ?? 0));
    if (!match) continue;
    pairs.set(message.uid, match.uid);
    taken.add(match.uid);
  }
}
