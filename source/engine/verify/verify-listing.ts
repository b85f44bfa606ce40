// The metadata of every message of the selected folder, for a verification: UID, flags, size,
// internal date, MODSEQ and the identity digest the engine pairs by (message-key.ts, the same
// FETCH as folder-keys.ts). No bodies. One small record per message: numbers and short strings
// (flags joined into one string), so a folder of 100,000 messages stays a few tens of MB.

import type {ImapFlow} from 'imapflow';
import {headerDigest, KEY_HEADERS, messageIdOf, type KeyedMessage} from '../copy/message-key.js';
import {UidSet} from '../copy/uid-set.js';

export interface ListedMessage extends KeyedMessage {
  uid: number;
  size: number;
  internalDate?: Date;
  headerDigest: string;
  messageId?: string;
  /** Flags as the server sent them, joined by spaces. */
  flags: string;
  /** With CONDSTORE: the message's mod-sequence. */
  modseq?: bigint;
}

/**
 * Lists the selected folder. `ignoredHeaders`: fields the target was seen to add
 * (TargetRewrites.headersAdded), left out of the digest of messages without Message-ID on both
 * sides, as flag sync does.
 */
export async function listFolderMessages(client: ImapFlow, ignoredHeaders: readonly string[], signal?: AbortSignal): Promise<ListedMessage[]> {
  const result: ListedMessage[] = [];
  const withModseq = client.enabled.has('CONDSTORE');
  const withoutId: number[] = [];
  for await (const message of client.fetch('1:*', {uid: true, flags: true, internalDate: true, size: true, headers: KEY_HEADERS, ...(withModseq ? {modseq: true} : {})}, {uid: true})) {
    if (signal?.aborted) throw signal.reason;
    const messageId = messageIdOf(message.headers);
    if (!messageId) withoutId.push(message.uid);
    const listed: ListedMessage = {
      uid: message.uid,
      size: message.size ?? 0,
      headerDigest: headerDigest(message.headers),
      flags: [...(message.flags ?? [])].join(' '),
    };
    if (message.internalDate !== undefined) listed.internalDate = new Date(message.internalDate);
    if (messageId) listed.messageId = messageId;
    if (message.modseq !== undefined) listed.modseq = BigInt(message.modseq);
    result.push(listed);
  }
  if (withoutId.length === 0) return result;
  // Collected first, then fetched: no command may run on a client inside its own fetch loop.
  const byUid = new Map(result.map((message) => [message.uid, message]));
  for (const chunk of UidSet.fromUids(withoutId).toImapChunks()) {
    for await (const message of client.fetch(chunk, {uid: true, headers: true}, {uid: true})) {
      const listed = byUid.get(message.uid);
      if (listed) listed.headerDigest = headerDigest(message.headers, ignoredHeaders);
    }
  }
  return result;
}
