// The untagged LIST, STATUS and NAMESPACE responses (RFC 3501 sections 7.2.2 and 7.2.4, RFC 2342,
// RFC 5258 and RFC 5819 for LIST-EXTENDED and LIST-STATUS) as plain values, for code that reads
// them off a raw session instead of through imapflow. Mailbox names come back as the server sent
// them (modified UTF-7); decoding is the caller's choice.

/** An IMAP value: atom or string (quoted or literal), NIL, or a parenthesized list. */
export type ImapValue = string | null | ImapValue[];

export interface ListResponseLine {
  flags: string[];
  /** '' when the server has no hierarchy (NIL). */
  delimiter: string;
  name: string;
}

export interface StatusResponseLine {
  name: string;
  /** Item name (upper case) -> value as sent, e.g. {UIDNEXT: '4', HIGHESTMODSEQ: '12'}. */
  items: Record<string, string>;
}

export interface NamespaceEntry {
  prefix: string;
  delimiter: string;
}

/**
 * The values of a response line after its keyword. Literals ({n} CRLF and n bytes) are read by
 * their byte count, as raw sessions keep them inline in the line. Throws on a line that does not
 * parse (an unbalanced list, a short literal, an unterminated string).
 */
export function parseImapValues(text: string): ImapValue[] {
  const bytes = Buffer.from(text, 'utf8');
  let position = 0;
  const fail = (why: string): never => {
    throw new Error(`unreadable IMAP response (${why}): ${text.slice(0, 200)}`);
  };
  const readValue = (): ImapValue => {
    const byte = bytes[position]!;
    if (byte === 0x28 /* ( */) {
      position++;
      const list: ImapValue[] = [];
      for (;;) {
        while (bytes[position] === 0x20) position++;
        if (position >= bytes.length) fail('unclosed list');
        if (bytes[position] === 0x29 /* ) */) {
          position++;
          return list;
        }
        list.push(readValue());
      }
    }
    if (byte === 0x22 /* " */) {
      position++;
      const parts: number[] = [];
      for (;;) {
        if (position >= bytes.length) fail('unterminated string');
        const next = bytes[position++]!;
        if (next === 0x22) break;
        if (next === 0x5c /* \ */) {
          if (position >= bytes.length) fail('unterminated string');
          parts.push(bytes[position++]!);
        } else {
          parts.push(next);
        }
      }
      return Buffer.from(parts).toString('utf8');
    }
    if (byte === 0x7b /* { */) {
      const match = /^\{(\d+)\+?\}\r?\n/.exec(bytes.subarray(position, position + 24).toString('latin1'));
      if (!match) fail('bad literal');
      const start = position + match![0].length;
      const end = start + Number(match![1]);
      if (end > bytes.length) fail('short literal');
      position = end;
      return bytes.subarray(start, end).toString('utf8');
    }
    const start = position;
    // Atoms end at a space or a parenthesis; flags such as \Noselect and \* are atoms too.
    while (position < bytes.length && bytes[position] !== 0x20 && bytes[position] !== 0x28 && bytes[position] !== 0x29) position++;
    if (position === start) fail('unexpected character');
    const atom = bytes.subarray(start, position).toString('utf8');
    return atom.toUpperCase() === 'NIL' ? null : atom;
  };
  const values: ImapValue[] = [];
  for (;;) {
    while (bytes[position] === 0x20) position++;
    if (position >= bytes.length) return values;
    values.push(readValue());
  }
}

/** The values after `* KEYWORD`, or undefined when the line is another response. */
function untaggedValues(line: string, keyword: string): ImapValue[] | undefined {
  const head = `* ${keyword} `;
  if (line.length < head.length || line.slice(0, head.length).toUpperCase() !== head) return undefined;
  return parseImapValues(line.slice(head.length));
}

function isString(value: ImapValue | undefined): value is string {
  return typeof value === 'string';
}

/** `* LIST (\HasNoChildren) "/" "Sent"` (or LSUB); extended data after the name is ignored. */
export function parseListResponse(line: string, keyword: 'LIST' | 'LSUB' = 'LIST'): ListResponseLine | undefined {
  const values = untaggedValues(line, keyword);
  if (!values) return undefined;
  const [flags, delimiter, name] = values;
  if (!Array.isArray(flags) || !(isString(delimiter) || delimiter === null) || !isString(name)) {
    throw new Error(`unreadable ${keyword} response: ${line.slice(0, 200)}`);
  }
  return {flags: flags.filter(isString), delimiter: delimiter ?? '', name};
}

/** `* STATUS "Sent" (MESSAGES 3 UIDNEXT 4)`. */
export function parseStatusResponse(line: string): StatusResponseLine | undefined {
  const values = untaggedValues(line, 'STATUS');
  if (!values) return undefined;
  const [name, list] = values;
  if (!isString(name) || !Array.isArray(list)) throw new Error(`unreadable STATUS response: ${line.slice(0, 200)}`);
  const items: Record<string, string> = {};
  for (let index = 0; index + 1 < list.length; index += 2) {
    const key = list[index];
    const value = list[index + 1];
    if (isString(key) && isString(value)) items[key.toUpperCase()] = value;
  }
  return {name, items};
}

/**
 * The personal namespaces of `* NAMESPACE (("" "/")) NIL NIL`, each prefix ending in its
 * delimiter (as imapflow keeps them, so prefix + name is a path).
 */
export function parseNamespaceResponse(line: string): NamespaceEntry[] | undefined {
  const values = untaggedValues(line, 'NAMESPACE');
  if (!values) return undefined;
  const personal = values[0];
  if (!Array.isArray(personal)) return [];
  const entries: NamespaceEntry[] = [];
  for (const pair of personal) {
    if (!Array.isArray(pair) || !isString(pair[0]) || !(isString(pair[1]) || pair[1] === null)) continue;
    const delimiter = pair[1] ?? '';
    let prefix = pair[0];
    if (delimiter && prefix && !prefix.endsWith(delimiter)) prefix += delimiter;
    entries.push({prefix, delimiter});
  }
  return entries;
}
