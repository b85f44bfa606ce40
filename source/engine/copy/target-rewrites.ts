// Learns what a target changes on APPEND, so that reconciling (message-key.ts pairMessages)
// ignores exactly that: after the first copies into a folder, the first few messages the target
// stored there (UIDs from the UIDNEXT seen before the copy on: RFC 3501 section 2.3.1.1 makes new
// UIDs ascend, as the APPENDUID of UIDPLUS would tell one by one) are read back with their source
// counterparts, found by Message-ID. Compared: INTERNALDATE to the second, RFC822.SIZE, and the
// header field names. Kept in the mailbox's state (targetRewrites) once learned; a reconciliation
// before anything was learned (a lost state file) tolerates the known rewrites by default.

import type {FetchMessageObject} from 'imapflow';
import type {TargetRewrites} from '../../store/state-schema.js';
import {headerFields, messageIdOf} from './message-key.js';
import type {PassContext} from './pass-context.js';

/** Messages read back: enough to see a rewrite every message gets, cheap enough for every mailbox. */
const SAMPLE = 5;
const SKEW_MS = 5 * 60 * 1000;

interface LearnInput {
  targetPath: string;
  /** The target folder's UIDNEXT before this pass's APPENDs. */
  targetUidNext: number;
  /** Source UIDs appended as literal8 (their size may change for that reason alone). */
  resized(uid: number): boolean;
  /** Selects the folder on imapflow's source and target connections. */
  selectControl(): Promise<void>;
}

/** Reads back a few copies and records what the target changed; no-op when nothing is comparable. */
export async function learnTargetRewrites(ctx: PassContext, input: LearnInput): Promise<void> {
  await input.selectControl();
  // The copies went in over other connections (RFC 3501 section 6.1.2: NOOP shows them).
  await ctx.target.noop();
  const stored: FetchMessageObject[] = [];
  for await (const message of ctx.target.fetch(`${input.targetUidNext}:${input.targetUidNext + SAMPLE - 1}`, {uid: true, size: true, internalDate: true, headers: true}, {uid: true})) {
    if (message.uid >= input.targetUidNext) stored.push(message);
  }
  const facts: TargetRewrites = {};
  const added = new Set<string>();
  let compared = 0;
  // One SEARCH and one FETCH for every sampled copy, not one of each per copy: on a 25 ms link
  // the read-back cost about 1 s per mailbox when each copy was looked up on its own.
  const originalsById = await originalsByMessageId(ctx, stored);
  for (const copy of stored) {
    const messageId = messageIdOf(copy.headers);
    if (!messageId) continue;
    const original = closest(copy, originalsById.get(messageId) ?? []);
    if (!original) continue;
    compared++;
    const sent = seconds(original.internalDate);
    const got = seconds(copy.internalDate);
    if (sent !== undefined && got !== undefined && sent !== got) {
      const future = sent * 1000 > Date.now() + SKEW_MS;
      facts.internalDate = future && facts.internalDate !== 'replaced' ? 'clamped-future' : 'replaced';
    } else if (!facts.internalDate) {
      facts.internalDate = 'kept';
    }
    if (!input.resized(original.uid)) {
      if (original.size !== copy.size) facts.size = 'changed';
      else facts.size ??= 'kept';
    }
    for (const name of addedFields(original.headers, copy.headers)) added.add(name);
  }
  if (compared === 0) return;
  const previous = ctx.state.targetRewrites;
  const merged: TargetRewrites = {...previous, ...facts, learnedFrom: input.targetPath, learnedAt: new Date().toISOString()};
  // A rewrite once seen stays: a later sample without future dates does not prove they are kept.
  if (previous?.internalDate && previous.internalDate !== 'kept' && facts.internalDate === 'kept') merged.internalDate = previous.internalDate;
  if (previous?.size === 'changed') merged.size = 'changed';
  const headers = new Set([...(previous?.headersAdded ?? []), ...added]);
  if (headers.size > 0) merged.headersAdded = [...headers].sort();
  ctx.state.targetRewrites = merged;
  ctx.logger.info('learned what the target changes on APPEND', {folder: input.targetPath, compared, ...merged});
  ctx.report.markDirty();
}

/** Notes that the target replaced a future date (internal-date-check.ts found one). */
export function noteDateClamped(ctx: PassContext): void {
  const facts = (ctx.state.targetRewrites ??= {});
  if (facts.internalDate !== 'replaced') facts.internalDate = 'clamped-future';
  ctx.report.markDirty();
}

/** Field names the copy has more often than the original. */
export function addedFields(original: Buffer | undefined, copy: Buffer | undefined): string[] {
  const count = (headers: Buffer | undefined) => {
    const counts = new Map<string, number>();
    for (const [name] of headerFields(headers)) counts.set(name, (counts.get(name) ?? 0) + 1);
    return counts;
  };
  const before = count(original);
  return [...count(copy)].filter(([name, n]) => n > (before.get(name) ?? 0)).map(([name]) => name);
}

/** The source messages bearing the sampled copies' Message-IDs, grouped by Message-ID. */
async function originalsByMessageId(ctx: PassContext, copies: FetchMessageObject[]): Promise<Map<string, FetchMessageObject[]>> {
  const wanted = [...new Set(copies.map((copy) => messageIdOf(copy.headers)).filter((id): id is string => id !== undefined))];
  const byId = new Map<string, FetchMessageObject[]>();
  if (wanted.length === 0) return byId;
  const terms = wanted.map((id) => ({header: {'message-id': id}}));
  const found = await ctx.source.search(terms.length === 1 ? terms[0]! : {or: terms}, {uid: true});
  if (!found || found.length === 0) return byId;
  for await (const message of ctx.source.fetch(found.join(','), {uid: true, size: true, internalDate: true, headers: true}, {uid: true})) {
    // SEARCH HEADER matches substrings: keep only the exact Message-IDs asked for.
    const id = messageIdOf(message.headers);
    if (id === undefined || !wanted.includes(id)) continue;
    const group = byId.get(id);
    if (group) group.push(message);
    else byId.set(id, [message]);
  }
  return byId;
}

function closest(copy: FetchMessageObject, originals: FetchMessageObject[]): FetchMessageObject | undefined {
  return [...originals].sort((a, b) => Math.abs((a.size ?? 0) - (copy.size ?? 0)) - Math.abs((b.size ?? 0) - (copy.size ?? 0)))[0];
}

function seconds(date: Date | string | undefined): number | undefined {
  if (date === undefined) return undefined;
  const ms = new Date(date).getTime();
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
