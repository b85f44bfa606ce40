// Cheap per-message metadata (no bodies) used to reconcile a folder with the target and to pair
// messages for flag sync: UID, flags, internal date, size and the Message-ID header.

import type {ImapFlow} from 'imapflow';
import {messageIdFromHeaderBlock, type KeyedMessage} from './message-key.js';

export interface KeyedFlags extends KeyedMessage {
  flags: Set<string>;
}

/** Fetches keys for `range` (UIDs, or '1:*') of the currently selected folder. */
export async function fetchKeys(client: ImapFlow, range: string): Promise<KeyedFlags[]> {
  const result: KeyedFlags[] = [];
  if (!range) return result;
  for await (const message of client.fetch(
    range,
    {uid: true, flags: true, internalDate: true, size: true, headers: ['message-id']},
    {uid: true},
  )) {
    result.push({
      uid: message.uid,
      flags: message.flags ?? new Set(),
      internalDate: message.internalDate,
      size: message.size,
      messageId: messageIdFromHeaderBlock(message.headers),
    });
  }
  return result;
}
