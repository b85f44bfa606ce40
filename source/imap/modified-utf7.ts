// Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3): printable ASCII stays as is except
// '&', which becomes '&-'; everything else is UTF-16BE, base64 with ',' for '/', between '&' and '-'.

export function encodeModifiedUtf7(name: string): string {
  let result = '';
  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const bytes = Buffer.alloc(pending.length * 2);
    pending.forEach((unit, index) => bytes.writeUInt16BE(unit, index * 2));
    result += `&${bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = [];
  };
  for (let index = 0; index < name.length; index++) {
    const unit = name.charCodeAt(index);
    if (unit >= 0x20 && unit <= 0x7e) {
      flush();
      result += unit === 0x26 ? '&-' : name[index];
    } else {
      pending.push(unit);
    }
  }
  flush();
  return result;
}

/**
 * The name a server lists in modified UTF-7, as Unicode. A malformed run ('&' without its '-',
 * or base64 that is not whole UTF-16) is kept as written. (imapflow decodes such runs leniently
 * instead; a name that comes out differently there only costs the no-change check its shortcut.)
 */
export function decodeModifiedUtf7(encoded: string): string {
  if (!encoded.includes('&')) return encoded;
  return encoded.replace(/&([^-]*)-/g, (run, base64: string) => {
    if (base64 === '') return '&';
    if (!/^[A-Za-z0-9+,]+$/.test(base64)) return run;
    const bytes = Buffer.from(base64.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0) return run;
    let text = '';
    for (let index = 0; index < bytes.length; index += 2) text += String.fromCharCode(bytes.readUInt16BE(index));
    return text;
  });
}
