// Identity of a message across two servers, used to find messages that are already on the target
// (after a crash between APPEND and checkpoint, after a UIDVALIDITY change, or when the target
// folder held mail before mailferry's state existed), and to pair source and target messages for
// flag sync.
//
// Message-ID alone is not an identity: distinct messages share one (a sent copy and its bounce,
// lists that rewrite, tools that reuse IDs) and many have none. The key is
// (Message-ID or '', INTERNALDATE to the second, RFC822.SIZE): mailferry appends the bytes
// unchanged and sets the internal date, so a copy has the same key as its original. Keys are
// compared as multisets: if the source holds the same key twice and the target once, one more
// copy is needed.

export interface KeyedMessage {
  uid: number;
  messageId?: string | undefined;
  internalDate?: Date | string | undefined;
  size?: number | undefined;
}

export function messageKey(message: KeyedMessage): string {
  const id = normalizeMessageId(message.messageId);
  const date = message.internalDate === undefined ? '' : Math.floor(new Date(message.internalDate).getTime() / 1000);
  return `${id}\u0000${date}\u0000${message.size ?? ''}`;
}

export function normalizeMessageId(raw: string | undefined): string {
  if (!raw) return '';
  return raw.trim().replace(/\s+/g, '').toLowerCase();
}

/** Parses the Message-ID out of a `BODY[HEADER.FIELDS (MESSAGE-ID)]` response buffer. */
export function messageIdFromHeaderBlock(headers: Buffer | undefined): string | undefined {
  if (!headers || headers.length === 0) return undefined;
  // Unfold continuation lines (RFC 5322 section 2.2.3) before matching.
  const text = headers.toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  const match = /^message-id:\s*(.*)$/im.exec(text);
  return match?.[1]?.trim() || undefined;
}

/**
 * Pairs source messages with target messages of the same key, in UID order on both sides
 * (the n-th source message of a key goes with the n-th target message of that key).
 * Returns source uid -> target uid for every source message that has a counterpart.
 */
export function pairByKey(source: Iterable<KeyedMessage>, target: Iterable<KeyedMessage>): Map<number, number> {
  const targetByKey = new Map<string, number[]>();
  for (const message of [...target].sort((a, b) => a.uid - b.uid)) {
    const key = messageKey(message);
    const list = targetByKey.get(key);
    if (list) list.push(message.uid);
    else targetByKey.set(key, [message.uid]);
  }
  const pairs = new Map<number, number>();
  const used = new Map<string, number>();
  for (const message of [...source].sort((a, b) => a.uid - b.uid)) {
    const key = messageKey(message);
    const candidates = targetByKey.get(key);
    if (!candidates) continue;
    const index = used.get(key) ?? 0;
    if (index < candidates.length) {
      pairs.set(message.uid, candidates[index]!);
      used.set(key, index + 1);
    }
  }
  return pairs;
}
