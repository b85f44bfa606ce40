// The stored message from its two imperfect forms, for a message with both NUL bytes and base64
// or quoted-printable parts (see exact-body.ts for what Dovecot sends):
// - BODY[] is the stored message with every NUL as 0x80;
// - BINARY[] has the NULs, but each base64/quoted-printable leaf part decoded, its header
//   rewritten, and everything else (multipart headers, boundaries, other parts) as stored.
// Cut both at the MIME boundary lines (the same bytes in both), each piece either agrees with
// its twin up to NUL/0x80, and the BINARY[] piece is the stored one, or it is a decoded part,
// and the BODY[] piece is (base64 and quoted-printable text hold neither NUL nor 0x80). Anything
// else (pieces that do not pair up, a decoded part with a stray 0x80) gives no answer: the caller
// then lists the message as changed rather than guess.

import {scanBody} from '../../imap/nul-bytes.js';

/** The stored message, or undefined when the two forms do not pair up piece by piece. */
export function restoreNuls(body: Buffer, binary: Buffer): Buffer | undefined {
  const boundaries = findBoundaries(body);
  const bodyPieces = splitAtDelimiters(body, boundaries);
  const binaryPieces = splitAtDelimiters(binary, boundaries);
  if (bodyPieces.length !== binaryPieces.length) return undefined;
  const pieces: Buffer[] = [];
  for (let index = 0; index < bodyPieces.length; index++) {
    const piece = bodyPieces[index]!;
    const twin = binaryPieces[index]!;
    if (onlyNulsDiffer(piece, twin)) {
      pieces.push(twin);
      continue;
    }
    if (!isDecodedPart(piece) || scanBody(piece).stray80) return undefined;
    pieces.push(piece);
  }
  return Buffer.concat(pieces);
}

/**
 * True when `binary` is `body` with some of its 0x80 bytes as NUL. Byte by byte, not by size
 * alone, so that no decoded part is ever taken for a stored one.
 */
export function onlyNulsDiffer(body: Buffer, binary: Buffer): boolean {
  if (binary.length !== body.length) return false;
  for (let index = 0; index < body.length; index++) {
    const byte = binary[index];
    if (byte !== body[index] && !(byte === 0 && body[index] === 0x80)) return false;
  }
  return true;
}

/** Every boundary parameter of a Content-Type in the message (RFC 2046 section 5.1.1). */
function findBoundaries(message: Buffer): string[] {
  const found = new Set<string>();
  const text = message.toString('latin1');
  for (const match of text.matchAll(/\bboundary\s*=\s*(?:"([^"\r\n]{1,70})"|([^\s;"]{1,70}))/gi)) {
    found.add(match[1] ?? match[2]!);
  }
  return [...found];
}

/** Pieces that each start at a delimiter line "CRLF--boundary" (the first one at 0). */
function splitAtDelimiters(message: Buffer, boundaries: string[]): Buffer[] {
  const starts = new Set<number>();
  for (const boundary of boundaries) {
    const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    for (let at = message.indexOf(delimiter); at >= 0; at = message.indexOf(delimiter, at + 1)) {
      // A delimiter line ends right after the boundary: "--" (the last one), spaces or CRLF.
      const next = message[at + delimiter.length];
      if (next === undefined || next === 0x2d || next === 0x0d || next === 0x20 || next === 0x09) starts.add(at);
    }
  }
  const cuts = [...starts].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    pieces.push(message.subarray(from, cut));
    from = cut;
  }
  pieces.push(message.subarray(from));
  return pieces;
}

/** A piece that is a leaf part with a base64 or quoted-printable body: what BINARY[] decodes. */
function isDecodedPart(piece: Buffer): boolean {
  const end = piece.indexOf('\r\n\r\n', 2, 'latin1');
  const header = piece.subarray(0, end < 0 ? piece.length : end).toString('latin1');
  if (/^content-type:\s*multipart\//im.test(header)) return false;
  return /^content-transfer-encoding:\s*(base64|quoted-printable)\s*$/im.test(header);
}
