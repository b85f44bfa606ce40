// Internal dates in the future: servers may not keep them. Dovecot 2.3 stores the time of the
// APPEND instead of any date more than 2 hours ahead (INTERNALDATE_MAX_FUTURE_SECS in
// src/imap/cmd-append.c), and answers OK. Mail that a delivery agent dated 2038 or 2099 on the
// source would arrive silently changed, so every message copied with a date past our clock is read
// back from the target, and one whose date the target replaced is listed as changed with the
// reason. Past dates are taken as they are: checking them would cost a round trip per message.

import type {PassContext} from './pass-context.js';
import {noteDateClamped} from './target-rewrites.js';

/** Dates less than this ahead of our clock are not checked: ordinary clock skew between hosts. */
const SKEW_MS = 5 * 60 * 1000;

const MONTHS: Record<string, number> = {jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11};

/** An IMAP date-time ("15-Jun-2099 09:30:00 -0230", RFC 3501 section 9) as a Date, or undefined. */
export function parseImapDateTime(text: string): Date | undefined {
  const match = /^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\s*$/.exec(text);
  const month = match ? MONTHS[match[2]!.toLowerCase()] : undefined;
  if (!match || month === undefined) return undefined;
  const local = Date.UTC(Number(match[3]), month, Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
  const offsetMs = (Number(match[8]) * 60 + Number(match[9])) * 60_000 * (match[7] === '-' ? -1 : 1);
  return new Date(local - offsetMs);
}

/** The source UIDs of one folder copied with a date past our clock (collected while copying). */
export class FutureDates {
  private readonly dates = new Map<number, Date>();

  note(uid: number, internalDate: Date | string | undefined, now = Date.now()): void {
    const date = typeof internalDate === 'string' ? parseImapDateTime(internalDate) : internalDate;
    if (date && date.getTime() > now + SKEW_MS) this.dates.set(uid, date);
  }

  /** Noted UIDs that are in `copied` (the target answered OK for them). */
  copied(isCopied: (uid: number) => boolean): Map<number, Date> {
    return new Map([...this.dates].filter(([uid]) => isCopied(uid)));
  }
}

interface CheckInput {
  folder: string;
  targetPath: string;
  /** Source UID -> the date it was copied with. */
  dates: Map<number, Date>;
  /** Selects the folder on imapflow's source and target connections. */
  selectControl(): Promise<void>;
}

/**
 * Reads the copied messages back from the target by Message-ID and size, and lists each whose
 * INTERNALDATE the target did not keep. A message without Message-ID cannot be found again
 * cheaply; it is not checked (and Dovecot's rule is then what the README says to expect).
 */
export async function checkFutureDates(ctx: PassContext, input: CheckInput): Promise<void> {
  await input.selectControl();
  // The messages went in over other connections; a session that had the folder selected already
  // sees them only after its next sync (RFC 3501 section 6.1.2: NOOP is the way to ask for it).
  await ctx.target.noop();
  const uids = [...input.dates.keys()];
  const sourceFacts: {uid: number; messageId?: string; size: number; subject?: string}[] = [];
  // Collected first: no command may run on a client inside its own fetch loop.
  for await (const message of ctx.source.fetch(uids.join(','), {uid: true, envelope: true, size: true}, {uid: true})) {
    sourceFacts.push({
      uid: message.uid,
      size: message.size ?? 0,
      ...(message.envelope?.messageId ? {messageId: message.envelope.messageId} : {}),
      ...(message.envelope?.subject ? {subject: message.envelope.subject} : {}),
    });
  }
  for (const fact of sourceFacts) {
    if (!fact.messageId) continue;
    const wanted = input.dates.get(fact.uid)!;
    const found = await ctx.target.search({header: {'message-id': fact.messageId}}, {uid: true});
    if (!found || found.length === 0) continue;
    const stored: Date[] = [];
    const otherSize: Date[] = [];
    for await (const message of ctx.target.fetch(found.join(','), {uid: true, size: true, internalDate: true}, {uid: true})) {
      if (message.internalDate === undefined) continue;
      (message.size === fact.size ? stored : otherSize).push(new Date(message.internalDate));
    }
    // A target that changes sizes (a converting server, a gateway adding headers: target-rewrites.ts)
    // stores the copy with another size: then the copies by Message-ID are what there is.
    if (stored.length === 0 && ctx.state.targetRewrites?.size !== 'kept') stored.push(...otherSize);
    // Whole seconds: IMAP dates carry no more.
    if (stored.length === 0 || stored.some((date) => Math.floor(date.getTime() / 1000) === Math.floor(wanted.getTime() / 1000))) continue;
    const got = stored[stored.length - 1]!;
    const reason =
      `the target stored the internal date ${got.toISOString()} instead of ${wanted.toISOString()} (it does not keep dates in the future); ` +
      'the message is otherwise copied exactly';
    ctx.report.changed({folder: input.folder, uid: fact.uid, size: fact.size, date: wanted.toISOString(), ...(fact.subject ? {subject: fact.subject} : {}), reason});
    noteDateClamped(ctx);
  }
  ctx.report.markDirty();
}
