// Which messages of the open folder carry \Deleted, for batches that leave them out
// (skipDeletedMessages). One UID SEARCH (RFC 3501 section 6.4.4) instead of reading every
// message's flags: the raw listing reads only UID and RFC822.SIZE.

import type {RawImapSession} from './raw-session.js';

const SEARCH_LINE = /^\* SEARCH(?: (.*))?$/i;

/** UIDs in `range` of the folder open on `session` whose \Deleted flag is set. */
export async function searchDeletedUids(session: RawImapSession, range: string): Promise<Set<number>> {
  const uids = new Set<number>();
  await session.command(`UID SEARCH UID ${range} DELETED`, {
    onUntagged: (line) => {
      const match = SEARCH_LINE.exec(line.trimEnd());
      if (!match) return;
      for (const word of (match[1] ?? '').split(' ')) {
        const uid = Number(word);
        if (Number.isInteger(uid) && uid > 0) uids.add(uid);
      }
    },
  });
  return uids;
}
