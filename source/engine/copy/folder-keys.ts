// Cheap per-message metadata (no bodies) used to reconcile a folder with the target and to pair
// messages for flag sync: UID, flags, internal date, size and a digest of the identifying headers.

import type {ImapFlow} from 'imapflow';
import {headerDigest, KEY_HEADERS, type KeyedMessage} from './message-key.js';

export interface KeyedFlags extends KeyedMessage {
  flags: Set<string>;
}

/** Fetches keys for `range` (UIDs, or '1:*') of the currently selected folder. */
export async function fetchKeys(client: ImapFlow, range: string): Promise<KeyedFlags[]> {
  const result: KeyedFlags[] = [];
  if (!range) return result;
  for await (const message of client.fetch(
    range,
    {uid: true, flags: true, internalDate: true, size: true, headers: KEY_HEADERS},
    {uid: true},
  )) {
    result.push({
      uid: message.uid,
      flags: message.flags ?? new Set(),
      internalDate: message.internalDate,
      size: message.size,
      headerDigest: headerDigest(message.headers),
    });
  }
  return result;
}
