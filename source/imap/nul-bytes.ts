// Which message bodies may not have arrived as they are stored: an IMAP literal may not carry NUL
// (RFC 3501 section 4.3, CHAR8), so Dovecot sends every NUL of a stored message as 0x80 in
// BODY[] (imap-msgpart.c: i_stream_create_nonuls(input, '\x80')) and only BINARY[] (RFC 3516)
// delivers them. A body with no 0x80 cannot have lost a NUL that way; one with 0x80 may have.
//
// UTF-8 text is full of 0x80 (U+2013 to U+201D, dashes and quotes, are E2 80 xx), and checking
// every such message again would cost a second FETCH for much ordinary mail. A NUL that became
// 0x80 stands where UTF-8 expects no continuation byte (after ASCII, after a complete sequence),
// so only such a "stray" 0x80 marks a body as suspect. Missed: a NUL right after a UTF-8 lead
// byte (C3 00 became C3 80, a valid character), which is broken text on the source already.
//
// Scanning costs one indexOf per chunk for bodies without 0x80; the byte loop runs only over
// chunks that hold one.

export interface BodyBytes {
  /** The body holds NUL bytes as they are (a server that does not replace them). */
  nul: boolean;
  /** The body holds 0x80 outside a UTF-8 sequence: maybe a NUL the server replaced. */
  stray80: boolean;
}

export class NulByteScanner implements BodyBytes {
  nul = false;
  stray80 = false;
  /** Continuation bytes the UTF-8 sequence open at the end of the last chunk still needs. */
  private pending = 0;

  /** For the next body. */
  reset(): void {
    this.nul = false;
    this.stray80 = false;
    this.pending = 0;
  }

  scan(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (!this.nul && chunk.indexOf(0) >= 0) this.nul = true;
    if (this.stray80) return;
    if (chunk.indexOf(0x80) < 0) {
      this.pending = openSequence(chunk, this.pending);
      return;
    }
    let need = this.pending;
    for (const byte of chunk) {
      if (need > 0 && (byte & 0xc0) === 0x80) {
        need--;
        continue;
      }
      need = 0;
      if (byte < 0x80) continue;
      if (byte === 0x80) {
        this.stray80 = true;
        return;
      }
      need = sequenceLength(byte) - 1;
    }
    this.pending = Math.max(0, need);
  }
}

/** What one whole body holds (the buffered path has it in one Buffer). */
export function scanBody(body: Buffer): BodyBytes {
  const scanner = new NulByteScanner();
  scanner.scan(body);
  return {nul: scanner.nul, stray80: scanner.stray80};
}

/** Bytes of the UTF-8 sequence a lead byte starts; 1 for anything else (ignored). */
function sequenceLength(byte: number): number {
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  return 1;
}

/** Continuation bytes still owed after `chunk` (a chunk without 0x80: only its tail matters). */
function openSequence(chunk: Buffer, before: number): number {
  // The last lead byte within reach (a sequence is at most 4 bytes) decides.
  for (let back = 1; back <= Math.min(4, chunk.length); back++) {
    const byte = chunk[chunk.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    return Math.max(0, sequenceLength(byte) - back);
  }
  // Only continuation bytes in a short chunk: they go on the sequence open before it.
  return Math.max(0, before - chunk.length);
}
