// The buffered path's answer to NUL bytes: which form of a fetched message to APPEND, and when
// the copy cannot be byte for byte, the reason to list it as changed in transit.
//
// What Dovecot 2.3.19 does (checked against it; lib-imap-storage/imap-msgpart.c and
// lib-storage/index/index-mail-binary.c):
// - BODY[] is the stored message with every NUL sent as 0x80 (a literal may not carry NUL,
//   RFC 3501 section 4.3), so it is exact for every message without NUL.
// - BINARY[] of the whole message (RFC 3516 section 4.2, empty section) decodes every base64 and
//   quoted-printable part and rewrites its Content-Transfer-Encoding header to "binary"; other
//   parts (7bit, 8bit, binary) and all headers come as stored, NULs included. So BINARY[] is the
//   stored message exactly when it has no such part, and then it has the same size as BODY[];
//   decoding always changes the size (the header word "quoted-printable" is longer than
//   "binary", base64 shrinks), and a message with nothing to decode comes as stored.
// - APPEND with a literal8 (RFC 3516 section 4.4) stores every "binary" leaf part base64-encoded
//   (lib-mail/istream-binary-converter.c): the content is the same (BINARY[] on the target gives
//   what BINARY[] on the source gives), its encoding is the target's choice, as RFC 3516 allows.
//   Messages without NUL therefore never go as literal8 (pipelined-appender.ts, imapflow alike).
//
// So only a body that may have lost NULs (imap/nul-bytes.ts) is fetched a second time, with
// BINARY.PEEK[]: one more round trip for such messages only, none for the others. Where the
// message also has base64 or quoted-printable parts, the stored form is pieced together from
// both (nul-restore.ts).

import type {ImapFlow} from 'imapflow';
import {scanBody} from '../../imap/nul-bytes.js';
import {onlyNulsDiffer, restoreNuls} from './nul-restore.js';

export interface ExactBody {
  /** What to APPEND. */
  body: Buffer;
  /** Set when the copy is not byte for byte: why, for the "changed in transit" list. */
  changed?: string;
}

export interface ExactBodyInput {
  /** imapflow's source connection, with the folder selected (not inside a fetch loop). */
  source: ImapFlow;
  uid: number;
  /** The body as BODY.PEEK[] brought it. */
  body: Buffer;
  sourceBinary: boolean;
  targetBinary: boolean;
  /** Bodies above this size are not fetched a second time (memory: two copies at once). */
  maxCheckBytes: number;
}

const NUL_AS_0X80 = 'its NUL bytes arrived as 0x80: only BINARY (RFC 3516) carries NUL, and the target does not offer it';
const MAY_BE_NUL = 'holds 0x80 bytes that may be NUL bytes on the source (BODY[] sends NUL as 0x80)';

export async function exactBody(input: ExactBodyInput): Promise<ExactBody> {
  const {body} = input;
  const bytes = scanBody(body);
  if (bytes.nul) {
    // The source sent NULs as they are. A literal8 carries them (the appenders use one when the
    // body holds NUL and the target offers BINARY); a plain literal may not.
    if (input.targetBinary) return {body};
    return {body, changed: 'holds NUL bytes and the target does not offer BINARY (RFC 3516), the only way to APPEND them: sent in a plain literal, which may not carry NUL (RFC 3501 section 4.3), so the target may have stored them changed'};
  }
  if (!bytes.stray80 || !input.sourceBinary) return {body};
  if (body.length > input.maxCheckBytes) {
    return {body, changed: `${MAY_BE_NUL}; larger than ${Math.round(input.maxCheckBytes / (1024 * 1024))} MB, so not checked with BINARY: copied as BODY[] sent it`};
  }
  let decoded: Buffer | undefined;
  try {
    for await (const message of input.source.fetch(String(input.uid), {uid: true, source: true}, {uid: true, binary: true})) {
      if (message.uid === input.uid && message.source) decoded = message.source;
    }
  } catch (error) {
    const status = (error as {responseStatus?: string}).responseStatus;
    if (status !== 'NO' && status !== 'BAD') throw error;
    // E.g. [UNKNOWN-CTE] (RFC 3516 section 4.3): the server cannot decode one of its parts.
    const text = (error as {responseText?: string}).responseText;
    return {body, changed: `${MAY_BE_NUL}; the source refused to send it with BINARY${text ? ` (server said: ${text})` : ''}: copied as BODY[] sent it`};
  }
  // Expunged between the two fetches: the one copy there is stands.
  if (!decoded || decoded.equals(body)) return {body};
  if (onlyNulsDiffer(body, decoded)) {
    // Nothing decoded, so this is the stored message, with its NULs.
    if (input.targetBinary) return {body: decoded};
    return {body, changed: NUL_AS_0X80};
  }
  // Decoded parts: not the stored message. Without NUL in it there was none to replace (unless a
  // decoder dropped one: a NUL inside base64 is broken encoding, not seen in practice).
  if (!decoded.includes(0)) return {body};
  // NULs, and decoded parts: the stored message is pieced together from both forms.
  const restored = restoreNuls(body, decoded);
  if (!restored) return {body, changed: `${MAY_BE_NUL}; its BINARY form (with base64 or quoted-printable parts decoded) does not tell which: copied as BODY[] sent it`};
  if (restored.equals(body)) return {body};
  if (input.targetBinary) return {body: restored};
  return {body, changed: NUL_AS_0X80};
}

