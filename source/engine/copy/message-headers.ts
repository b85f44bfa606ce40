// Just enough header reading to label a skipped or failed item for the admin (Subject, Date),
// from the first bytes of a raw message we already hold. RFC 2047 encoded words are decoded so
// the report shows "Grüße" rather than "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=".

const HEADER_SCAN_LIMIT = 64 * 1024;

export function headerValue(raw: Buffer, name: string): string | undefined {
  const head = raw.subarray(0, HEADER_SCAN_LIMIT).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const pattern = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im');
  const match = pattern.exec(block);
  if (!match) return undefined;
  return decodeEncodedWords(Buffer.from(match[1]!.trim(), 'latin1').toString('utf8'));
}

export function decodeEncodedWords(text: string): string {
  // Whitespace between two adjacent encoded words is not part of the text (RFC 2047 section 6.2).
  return text
    .replace(/(=\?[^?]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([bBqQ])\?([^?]*)\?=/g, (whole, charset: string, encoding: string, data: string) => {
      try {
        const bytes =
          encoding.toUpperCase() === 'B'
            ? Buffer.from(data, 'base64')
            : Buffer.from(
                data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
                'latin1',
              );
        return new TextDecoder(charset.toLowerCase()).decode(bytes);
      } catch {
        return whole;
      }
    });
}
