// Source side of the streamed copy: FETCH message bodies on a raw session and hand each body to
// a consumer piece by piece as it arrives, without ever holding a whole message.
//
// The APPEND on the target must name the message (its source UID) before the body's bytes, so
// the UID has to come before the literal in the FETCH response. Servers answer in the order the
// items were asked for (Dovecot, Gmail, Exchange and Cyrus do); one that puts UID after the body
// gets UidAfterBodyError and the engine copies that folder the buffered way instead.

import {imapQuoted, type LiteralConsumer, type RawImapSession} from './raw-session.js';
import {encodeModifiedUtf7} from './modified-utf7.js';

export interface BodyConsumer {
  /** A body of `size` bytes for source UID `uid` starts. */
  begin(uid: number, size: number): void;
  /** Return a promise to pause reading until it resolves. */
  data(chunk: Buffer): void | Promise<void>;
  end(): void;
}

export class UidAfterBodyError extends Error {
  constructor() {
    super('the source server sends UID after the message body in FETCH responses');
    this.name = 'UidAfterBodyError';
  }
}

/** EXAMINE (read-only SELECT): copying must never change the source, not even \Seen or \Recent. */
export function examineFolder(session: RawImapSession, path: string): Promise<unknown> {
  const encoded = encodeModifiedUtf7(path);
  return session.command(`EXAMINE ${imapQuoted(encoded) ?? `"${encoded}"`}`);
}

const BODY_PREFIX = /^\* \d+ FETCH \((?:.*\s)?UID (\d+)\s(?:.*\s)?BODY\[\] $/i;
const BODY_ANYWHERE = /BODY\[\] $/i;

/**
 * UID FETCH of the bodies of `uidSet` (BODY.PEEK: \Seen stays as it is). Resolves with the UIDs
 * whose bodies arrived, in arrival order; messages expunged meanwhile are simply absent.
 */
export function fetchBodies(session: RawImapSession, uidSet: string, consumer: BodyConsumer): Promise<number[]> {
  const arrived: number[] = [];
  let uidAfterBody = false;
  const done = session.command(`UID FETCH ${uidSet} (UID BODY.PEEK[])`, {
    onUntagged: () => {},
    onLiteral: (prefix, size): LiteralConsumer | undefined => {
      const match = BODY_PREFIX.exec(prefix);
      if (!match) {
        if (!BODY_ANYWHERE.test(prefix)) return undefined;
        // A body without its UID ahead of it: read it away unseen, fail the command after.
        uidAfterBody = true;
        return {data: () => {}, end: () => {}};
      }
      const uid = Number(match[1]);
      arrived.push(uid);
      consumer.begin(uid, size);
      return consumer;
    },
  });
  return done.then(() => {
    if (uidAfterBody) throw new UidAfterBodyError();
    return arrived;
  });
}
