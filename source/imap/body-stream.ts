// Source side of the streamed copy: FETCH message bodies on a raw session and hand each body to
// a consumer piece by piece as it arrives, without ever holding a whole message.
//
// The APPEND on the target names the message's flags and date before its bytes, and the engine
// must know which source UID it is, so UID, FLAGS and INTERNALDATE have to come before the
// literal in the FETCH response. Servers answer in the order the items were asked for (Dovecot,
// Gmail, Exchange and Cyrus do); one that does not gets UidAfterBodyError and the engine copies
// that folder the buffered way instead. Taking them from the response, not from the listing,
// keeps the listing small (UID and size per message) however large the folder.

import {mailboxArgument, type LiteralConsumer, type RawImapSession} from './raw-session.js';

export interface BodyConsumer {
  /**
   * A body of `size` bytes for source UID `uid` starts; `flags` and `internalDate` (verbatim, as
   * the server wrote it) came in the same response, so they are current and need no listing.
   */
  begin(uid: number, size: number, flags: string[], internalDate: string): void;
  /** Return a promise to pause reading until it resolves. */
  data(chunk: Buffer): void | Promise<void>;
  end(): void;
}

export class UidAfterBodyError extends Error {
  constructor() {
    super('the source server sends UID, FLAGS or INTERNALDATE after the message body in FETCH responses');
    this.name = 'UidAfterBodyError';
  }
}

/** EXAMINE (read-only SELECT): copying must never change the source, not even \Seen or \Recent. */
export function examineFolder(session: RawImapSession, path: string): Promise<unknown> {
  return session.command(`EXAMINE ${mailboxArgument(path)}`);
}

const BODY_AT_END = /^\* \d+ FETCH \(.*\bBODY\[\] $/i;
const UID_ITEM = /[( ]UID (\d+) /i;
const FLAGS_ITEM = /[( ]FLAGS \(([^)]*)\)/i;
const DATE_ITEM = /[( ]INTERNALDATE "([^"\r\n]*)"/i;

/**
 * UID FETCH of the bodies of `uidSet` (BODY.PEEK: \Seen stays as it is). Resolves with the UIDs
 * whose bodies arrived, in arrival order; messages expunged meanwhile are simply absent.
 */
export function fetchBodies(session: RawImapSession, uidSet: string, consumer: BodyConsumer): Promise<number[]> {
  const arrived: number[] = [];
  let uidAfterBody = false;
  const done = session.command(`UID FETCH ${uidSet} (UID FLAGS INTERNALDATE BODY.PEEK[])`, {
    onUntagged: () => {},
    onLiteral: (prefix, size): LiteralConsumer | undefined => {
      if (!BODY_AT_END.test(prefix)) return undefined;
      const uid = UID_ITEM.exec(prefix);
      const flags = FLAGS_ITEM.exec(prefix);
      const date = DATE_ITEM.exec(prefix);
      if (!uid || !flags || !date) {
        // A body without what the APPEND needs ahead of it: read it away unseen, fail after.
        uidAfterBody = true;
        return {data: () => {}, end: () => {}};
      }
      arrived.push(Number(uid[1]));
      consumer.begin(Number(uid[1]), size, flags[1]!.split(' ').filter(Boolean), date[1]!);
      return consumer;
    },
  });
  return done.then(() => {
    if (uidAfterBody) throw new UidAfterBodyError();
    return arrived;
  });
}
