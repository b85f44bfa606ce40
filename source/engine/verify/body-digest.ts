// sha256 of a message's bytes as a client gets them (BODY.PEEK[], which imapflow's `source`
// fetches), read in slices so that one large message never sits in memory whole.

import {createHash} from 'node:crypto';
import type {ImapFlow} from 'imapflow';

const SLICE_BYTES = 1024 * 1024;

/** The folder must be selected on `client`. Undefined when the message is gone. */
export async function bodyDigest(client: ImapFlow, uid: number, size: number): Promise<string | undefined> {
  const hash = createHash('sha256');
  if (size <= SLICE_BYTES) {
    const whole = await client.fetchOne(String(uid), {uid: true, source: true}, {uid: true});
    if (!whole || !whole.source) return undefined;
    return hash.update(whole.source).digest('hex');
  }
  // A partial FETCH (RFC 3501 section 6.4.5, <start.length>) per slice.
  for (let start = 0; start < size; start += SLICE_BYTES) {
    const part = await client.fetchOne(String(uid), {uid: true, source: {start, maxLength: SLICE_BYTES}}, {uid: true});
    if (!part || !part.source) return undefined;
    hash.update(part.source);
    if (part.source.length < SLICE_BYTES) break;
  }
  return hash.digest('hex');
}
