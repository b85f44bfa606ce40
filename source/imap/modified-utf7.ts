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
