// A mailbox "as a client sees it", read over a raw connection: the folder tree with attributes
// and subscriptions, and per message BODY.PEEK[] and BINARY.PEEK[] (RFC 3516) as hashes, flags
// with keywords (\Deleted included: folders are EXAMINEd, so nothing is expunged), INTERNALDATE
// as an instant and RFC822.SIZE. BINARY.PEEK[] is read because Dovecot shows a stored NUL as
// 0x80 in BODY[] but as NUL in BINARY[]: only both together tell a mangled NUL from a kept one.

import {createHash} from 'node:crypto';
import type {DovecotServer} from './dovecot-pair.js';
import {RawTestClient, decodeFolderName, folderArgument, tokenText, type Token} from './raw-imap-test-client.js';

export interface ViewMessage {
  uid: number;
  /** sorted, \Recent left out (session state, not a copyable flag) */
  flags: string[];
  /** ISO 8601 instant */
  internalDate: string;
  size: number;
  body: string;
  /** sha256 of BINARY.PEEK[], or "NO ..." when the server could not decode it */
  binary: string;
}

export interface ViewFolder {
  path: string;
  attributes: string[];
  selectable: boolean;
  subscribed: boolean;
  /** sorted by UID; empty for \Noselect folders */
  messages: ViewMessage[];
}

export interface ClientView {
  delimiter: string;
  folders: Map<string, ViewFolder>;
  /** Subscribed names (LSUB semantics: also subscriptions of folders that do not exist). */
  subscriptions: Set<string>;
}

const MONTHS: Record<string, number> = {Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11};

/** "03-Dec-2026 02:54:16 -0330" -> the instant, as ISO. */
export function parseInternalDate(text: string): string {
  const match = /^\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(text);
  if (!match) throw new Error(`unparseable INTERNALDATE ${JSON.stringify(text)}`);
  const [, day, month, year, hh, mm, ss, sign, zh, zm] = match;
  const local = Date.UTC(Number(year), MONTHS[month!]!, Number(day), Number(hh), Number(mm), Number(ss));
  const offset = (Number(zh) * 60 + Number(zm)) * 60_000 * (sign === '-' ? -1 : 1);
  return new Date(local - offset).toISOString();
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Messages read per UID FETCH of the bodies (bounded memory for big folders). */
const FETCH_GROUP = 1000;

function fetchItems(response: Token[]): {seq: number; items: Map<string, Token>} | undefined {
  if (response[1] !== 'FETCH' || !Array.isArray(response[2])) return undefined;
  const list = response[2];
  const items = new Map<string, Token>();
  for (let i = 0; i + 1 < list.length; i += 2) items.set(String(list[i]).toUpperCase(), list[i + 1]!);
  return {seq: Number(response[0]), items};
}

export async function readClientView(server: DovecotServer, login: string): Promise<ClientView> {
  const client = await RawTestClient.open(server, login);
  try {
    const listed = await client.ok('LIST "" "*" RETURN (SUBSCRIBED)');
    const folders = new Map<string, ViewFolder>();
    let delimiter = '/';
    for (const response of listed.untagged) {
      if (response[0] !== 'LIST') continue;
      const attributes = (response[1] as Token[]).map((a) => String(a));
      if (typeof response[2] === 'string') delimiter = response[2];
      const path = decodeFolderName(tokenText(response[3]));
      const lower = attributes.map((a) => a.toLowerCase());
      if (lower.includes('\\nonexistent')) continue;
      folders.set(path, {path, attributes: attributes.filter((a) => a.toLowerCase() !== '\\subscribed').sort(), selectable: !lower.includes('\\noselect'), subscribed: lower.includes('\\subscribed'), messages: []});
    }
    const lsub = await client.ok('LSUB "" "*"');
    const subscriptions = new Set(lsub.untagged.filter((r) => r[0] === 'LSUB').map((r) => decodeFolderName(tokenText(r[3]))));

    for (const folder of folders.values()) {
      if (!folder.selectable) continue;
      const opened = await client.ok(`EXAMINE ${folderArgument(folder.path)}`);
      const exists = Number(opened.untagged.find((r) => r[1] === 'EXISTS')?.[0] ?? 0);
      if (exists === 0) continue;
      const meta = await client.ok('FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)');
      const byUid = new Map<number, ViewMessage>();
      for (const response of meta.untagged) {
        const fetched = fetchItems(response);
        if (!fetched) continue;
        const uid = Number(fetched.items.get('UID'));
        byUid.set(uid, {
          uid,
          flags: ((fetched.items.get('FLAGS') as Token[]) ?? []).map(String).filter((f) => f !== '\\Recent').sort(),
          internalDate: parseInternalDate(tokenText(fetched.items.get('INTERNALDATE'))),
          size: Number(fetched.items.get('RFC822.SIZE')),
          body: '',
          binary: '',
        });
      }
      const uids = [...byUid.keys()].sort((a, b) => a - b);
      for (let start = 0; start < uids.length; start += FETCH_GROUP) {
        const group = uids.slice(start, start + FETCH_GROUP);
        const set = `${group[0]}:${group[group.length - 1]}`;
        const bodies = await client.send(`UID FETCH ${set} (UID BODY.PEEK[] BINARY.PEEK[])`);
        if (bodies.status === 'OK') {
          for (const response of bodies.untagged) {
            const fetched = fetchItems(response);
            const entry = fetched && byUid.get(Number(fetched.items.get('UID')));
            if (!entry || !fetched) continue;
            entry.body = sha(asBuffer(fetched.items.get('BODY[]')));
            entry.binary = sha(asBuffer(fetched.items.get('BINARY[]')));
          }
        } else {
          // One undecodable message fails the whole FETCH ([UNKNOWN-CTE]); read one by one then.
          for (const uid of group) {
            const one = await client.send(`UID FETCH ${uid} (UID BODY.PEEK[] BINARY.PEEK[])`);
            const fallback = one.status === 'OK' ? undefined : await client.ok(`UID FETCH ${uid} (UID BODY.PEEK[])`);
            const fetched = (fallback ?? one).untagged.map(fetchItems).find((f) => f && Number(f.items.get('UID')) === uid);
            const entry = byUid.get(uid)!;
            entry.body = sha(asBuffer(fetched?.items.get('BODY[]')));
            entry.binary = one.status === 'OK' ? sha(asBuffer(fetched?.items.get('BINARY[]'))) : `${one.status} ${one.text.replace(/\s*\([\d.+ secs]*\)\s*$/, '')}`;
          }
        }
      }
      folder.messages = uids.map((uid) => byUid.get(uid)!);
      const missing = folder.messages.find((m) => !m.body);
      if (missing) throw new Error(`readClientView: ${server.role} ${login} ${folder.path} UID ${missing.uid}: no BODY[] in the answer`);
    }
    return {delimiter, folders, subscriptions};
  } finally {
    await client.logout();
  }
}

function asBuffer(token: Token | undefined): Buffer {
  if (Buffer.isBuffer(token)) return token;
  if (typeof token === 'string') return Buffer.from(token, 'latin1');
  return Buffer.alloc(0);
}
