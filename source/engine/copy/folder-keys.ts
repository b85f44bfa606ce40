// Cheap per-message metadata (no bodies) used to reconcile a folder with the target and to pair
// messages for flag sync: UID, flags, internal date, size and the identity digest of the headers
// (message-key.ts). Messages without Message-ID get a second FETCH of their whole header block,
// only for their UIDs: their identity needs the header fields beyond KEY_HEADERS.

import type {ImapFlow} from 'imapflow';
import {headerDigest, KEY_HEADERS, messageIdOf, type KeyedMessage} from './message-key.js';
import {UidSet} from './uid-set.js';

export interface KeyedFlags extends KeyedMessage {
  flags: Set<string>;
}

/**
 * Fetches keys for `range` (UIDs, or '1:*') of the currently selected folder. `ignoredHeaders`:
 * fields the target is known to add (TargetRewrites.headersAdded), left out of the digest.
 */
export async function fetchKeys(client: ImapFlow, range: string, ignoredHeaders: readonly string[] = []): Promise<KeyedFlags[]> {
  const result: KeyedFlags[] = [];
  if (!range) return result;
  const withoutId: number[] = [];
  for await (const message of client.fetch(
    range,
    {uid: true, flags: true, internalDate: true, size: true, headers: KEY_HEADERS},
    {uid: true},
  )) {
    const messageId = messageIdOf(message.headers);
    if (!messageId) withoutId.push(message.uid);
    result.push({
      uid: message.uid,
      flags: message.flags ?? new Set(),
      internalDate: message.internalDate,
      size: message.size,
      headerDigest: headerDigest(message.headers),
      ...(messageId ? {messageId} : {}),
    });
  }
  if (withoutId.length === 0) return result;
  // Collected first, then fetched: no command may run on a client inside its own fetch loop.
  const byUid = new Map(result.map((message) => [message.uid, message]));
  for (const chunk of UidSet.fromUids(withoutId).toImapChunks()) {
    for await (const message of client.fetch(chunk, {uid: true, headers: true}, {uid: true})) {
      const keyed = byUid.get(message.uid);
      if (keyed) keyed.headerDigest = headerDigest(message.headers, ignoredHeaders);
    }
  }
  return result;
}
