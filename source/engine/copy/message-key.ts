// Identity of a message across two servers, used to find messages that are already on the target
// (after a crash between APPEND and checkpoint, after a UIDVALIDITY change, or when the target
// folder held mail before mailferry's state existed: a lost state file, another tool's copy), and
// to pair source and target messages for flag sync.
//
// What a target keeps and what it changes decides what may be in the key. INTERNALDATE and
// RFC822.SIZE are not kept everywhere: Dovecot 2.3 stores the APPEND time instead of a date more
// than 2 h ahead (INTERNALDATE_MAX_FUTURE_SECS, cmd-append.c), Exchange Online converts every
// appended message (another RFC822.SIZE), Gmail and scanning proxies add header lines. So:
//
// - The identity is a digest of header fields that servers keep: Message-ID, Date, From, To, Cc,
//   Subject (KEY_HEADERS). A message without Message-ID (cron mail, alerts) also gets the rest of
//   its header block in the digest, minus the fields servers and transit add or rewrite
//   (ADDED_HEADER_FIELDS, X-*, and whatever this target was seen to add: TargetRewrites).
// - INTERNALDATE and size only pair messages within one identity, in passes from strict to loose
//   (pairMessages): (1) same date to the second and same size; (2) same size, date not kept,
//   which is allowed for a source date in the future (any target may clamp it) or for a target
//   seen to replace dates; (3) same or tolerated date, other size, allowed unless the target was
//   seen to keep sizes (a literal8 copy, `resized`, may always be stored larger), the closest
//   sizes in the group first. Each target message pairs at most once, so a target holding fewer copies
//   than the source has messages of that identity gets the missing ones copied: exact duplicates
//   count twice, and two distinct messages sharing all headers but differing in date or size are
//   both copied while the target keeps dates and sizes. What stays ambiguous without learned
//   facts (state lost): two distinct messages with the same headers and the same internal date,
//   only one of them on a target that changes sizes; the closest size wins.

import {createHash} from 'node:crypto';
import type {TargetRewrites} from '../../store/state-schema.js';

/** Headers fetched with BODY.PEEK[HEADER.FIELDS (...)] to build the identity. */
export const KEY_HEADERS = ['message-id', 'date', 'from', 'to', 'cc', 'subject'];

/**
 * Header fields that servers, delivery agents and transit add or rewrite: left out of the digest
 * of a message without Message-ID. Content-* and MIME-Version too: a converting target (Exchange)
 * rewrites the MIME structure.
 */
export const ADDED_HEADER_FIELDS: ReadonlySet<string> = new Set([
  'received', 'return-path', 'delivered-to', 'authentication-results', 'received-spf', 'dkim-signature',
  'domainkey-signature', 'status', 'lines', 'content-length', 'mime-version', 'content-type',
  'content-transfer-encoding', 'content-disposition', 'content-id', 'content-language',
  'thread-index', 'thread-topic', 'accept-language', 'x-uid', 'x-keywords', 'x-status',
]);

/** Persisted in the mailbox's state (store/ owns the type); learned by target-rewrites.ts. */
export type {TargetRewrites} from '../../store/state-schema.js';

export interface KeyedMessage {
  uid: number;
  /** Identity: digest of the stable header fields, from headerDigest(). */
  headerDigest?: string | undefined;
  internalDate?: Date | string | undefined;
  size?: number | undefined;
  /** For the report of target messages nothing matched. */
  messageId?: string | undefined;
}

/** Date to the second (IMAP dates carry no more), size and identity: equal for an exact copy. */
export function messageKey(message: KeyedMessage): string {
  return `${message.headerDigest ?? ''}\u0000${dateSeconds(message) ?? ''}\u0000${message.size ?? ''}`;
}

function dateSeconds(message: KeyedMessage): number | undefined {
  if (message.internalDate === undefined) return undefined;
  const ms = new Date(message.internalDate).getTime();
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** Header fields of a header block: unfolded (RFC 5322 section 2.2.3), names lower-cased, white space collapsed. */
export function headerFields(headers: Buffer | undefined): Array<[string, string]> {
  if (!headers || headers.length === 0) return [];
  const fields: Array<[string, string]> = [];
  for (const line of headers.toString('latin1').replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim().replace(/\s+/g, ' ')]);
  }
  return fields;
}

/** The Message-ID of a header block, if any. */
export function messageIdOf(headers: Buffer | undefined): string | undefined {
  return headerFields(headers).find(([name]) => name === 'message-id')?.[1] || undefined;
}

/**
 * Identity digest of a `BODY[HEADER.FIELDS (KEY_HEADERS)]` response, or of a whole header block
 * (`BODY[HEADER]`, for messages without Message-ID): fields sorted so the server's order does not
 * matter; the Date header by its instant where it parses (a converting server may reformat it);
 * fields in ADDED_HEADER_FIELDS, X-* and `ignored` left out.
 */
export function headerDigest(headers: Buffer | undefined, ignored: readonly string[] = []): string {
  const skip = new Set(ignored.map((name) => name.toLowerCase()));
  const lines = headerFields(headers)
    .filter(([name]) => KEY_HEADERS.includes(name) || (!ADDED_HEADER_FIELDS.has(name) && !name.startsWith('x-') && !name.startsWith('arc-') && !skip.has(name)))
    .map(([name, value]) => {
      if (name === 'date') {
        const ms = Date.parse(value);
        if (!Number.isNaN(ms)) return `date:${ms / 1000}`;
      }
      return `${name}:${value}`;
    })
    .sort();
  if (lines.length === 0) return '';
  return createHash('sha1').update(lines.join('\n'), 'latin1').digest('base64url').slice(0, 16);
}

/** How a target message was paired: the attributes that matched besides the identity. */
export type PairBasis = 'exact' | 'dateRewritten' | 'sizeChanged';

export interface PairingOptions {
  /** What this target was seen to change; absent when nothing was learned (state lost). */
  rewrites?: TargetRewrites | undefined;
  /** Source UIDs appended as literal8 (checkpoint.resized), whose copies may be stored larger. */
  resized?: (uid: number) => boolean;
  /** Our clock, for "a date in the future". */
  now?: number;
}

export interface Pairing {
  /** Source uid -> target uid. */
  pairs: Map<number, number>;
  /** Source uid -> how it was paired. */
  basis: Map<number, PairBasis>;
  /** Target messages no source message paired with, in UID order. */
  unmatchedTarget: KeyedMessage[];
}

/** Source × target messages of one identity above which pass 3 pairs in order, not by size. */
const MAX_CANDIDATES = 250_000;

/** Dates less than this ahead of our clock are ordinary clock skew, not "in the future". */
const SKEW_MS = 5 * 60 * 1000;

/**
 * Pairs source messages with target messages (see the rules at the top of this file). `source`
 * is taken in the order given within each pass: callers put the messages whose copies should be
 * claimed first (those checkpointed as done) first.
 */
export function pairMessages(source: readonly KeyedMessage[], target: readonly KeyedMessage[], options: PairingOptions = {}): Pairing {
  const now = options.now ?? Date.now();
  const rewrites = options.rewrites;
  const resized = options.resized ?? (() => false);
  const groups = new Map<string, {source: KeyedMessage[]; target: KeyedMessage[]}>();
  const group = (digest: string) => {
    let entry = groups.get(digest);
    if (!entry) groups.set(digest, (entry = {source: [], target: []}));
    return entry;
  };
  for (const message of [...target].sort((a, b) => a.uid - b.uid)) group(message.headerDigest ?? '').target.push(message);
  for (const message of source) group(message.headerDigest ?? '').source.push(message);

  const pairs = new Map<number, number>();
  const basis = new Map<number, PairBasis>();
  const taken = new Set<number>();
  const dateTolerated = (s: KeyedMessage, t: KeyedMessage): boolean => {
    const sd = dateSeconds(s);
    if (sd === dateSeconds(t)) return true;
    if (rewrites?.internalDate === 'replaced') return true;
    return sd !== undefined && sd * 1000 > now + SKEW_MS;
  };
  const sizeTolerated = (s: KeyedMessage, t: KeyedMessage): boolean => {
    if (s.size === t.size) return true;
    if (resized(s.uid)) return (t.size ?? 0) > (s.size ?? 0);
    return rewrites?.size !== 'kept';
  };
  for (const {source: sources, target: targets} of groups.values()) {
    if (sources.length === 0 || targets.length === 0) continue;
    // Pass 1: exact, by key (a group of many exact duplicates stays linear).
    const byKey = new Map<string, KeyedMessage[]>();
    for (const t of targets) {
      const key = messageKey(t);
      const list = byKey.get(key);
      if (list) list.push(t);
      else byKey.set(key, [t]);
    }
    for (const s of sources) {
      const t = byKey.get(messageKey(s))?.shift();
      if (!t) continue;
      pairs.set(s.uid, t.uid);
      basis.set(s.uid, 'exact');
      taken.add(t.uid);
    }
    // Pass 2: the size kept, the date rewritten where a target may rewrite it.
    for (const s of sources) {
      if (pairs.has(s.uid)) continue;
      const t = targets.find((candidate) => !taken.has(candidate.uid) && candidate.size === s.size && dateTolerated(s, candidate));
      if (!t) continue;
      pairs.set(s.uid, t.uid);
      basis.set(s.uid, 'dateRewritten');
      taken.add(t.uid);
    }
    // Pass 3: another size, where the target may change it; the closest sizes first over the
    // whole group (so a message without its copy does not take another's), then the given order.
    const candidates: Array<{s: KeyedMessage; t: KeyedMessage; delta: number; order: number}> = [];
    // A huge group (thousands of identical alerts) is paired in the given order instead: the
    // candidate list would grow with the square of it.
    const huge = sources.length * targets.length > MAX_CANDIDATES;
    sources.forEach((s, order) => {
      if (pairs.has(s.uid)) return;
      for (const t of targets) {
        if (huge && (pairs.has(s.uid) || taken.has(t.uid))) continue;
        if (taken.has(t.uid) || !dateTolerated(s, t) || !sizeTolerated(s, t)) continue;
        if (huge) {
          pairs.set(s.uid, t.uid);
          basis.set(s.uid, 'sizeChanged');
          taken.add(t.uid);
        } else {
          candidates.push({s, t, delta: Math.abs((t.size ?? 0) - (s.size ?? 0)), order});
        }
      }
    });
    candidates.sort((a, b) => a.delta - b.delta || a.order - b.order || a.t.uid - b.t.uid);
    for (const {s, t} of candidates) {
      if (pairs.has(s.uid) || taken.has(t.uid)) continue;
      pairs.set(s.uid, t.uid);
      basis.set(s.uid, 'sizeChanged');
      taken.add(t.uid);
    }
  }
  const unmatchedTarget = [...target].filter((message) => !taken.has(message.uid)).sort((a, b) => a.uid - b.uid);
  return {pairs, basis, unmatchedTarget};
}

/**
 * Pairs source messages with target messages, in UID order on both sides within each pass.
 * Returns source uid -> target uid for every source message that has a counterpart.
 */
export function pairByKey(source: Iterable<KeyedMessage>, target: Iterable<KeyedMessage>, resized: (uid: number) => boolean = () => false, rewrites?: TargetRewrites): Map<number, number> {
  return pairMessages([...source].sort((a, b) => a.uid - b.uid), [...target], {resized, rewrites}).pairs;
}
