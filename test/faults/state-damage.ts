// Seeded damage to a JSON state file: cut at a byte offset, or bytes replaced. A replaced byte
// inside a string value would leave valid JSON that merely says something else (no checksum can
// be asked of a hand-editable file), so corruption hits the JSON's structure: quotes, brackets,
// colons and commas outside strings, plus sometimes a run of random garbage over one of them.

import {SeededRandom} from '../../bench/seeded-random.js';

/** Offsets of the bytes that make the JSON's structure (outside strings, and the quotes themselves). */
export function structuralOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // backslash escapes the next byte
      else if (byte === 0x22) {
        inString = false;
        offsets.push(i);
      }
    } else if (byte === 0x22) {
      inString = true;
      offsets.push(i);
    } else if ('{}[]:,'.includes(String.fromCharCode(byte))) offsets.push(i);
  }
  return offsets;
}

export function truncated(bytes: Buffer, random: SeededRandom): {bytes: Buffer; what: string} {
  const at = random.int(0, bytes.length - 1);
  return {bytes: bytes.subarray(0, at), what: `cut at byte ${at} of ${bytes.length}`};
}

export function corrupted(bytes: Buffer, random: SeededRandom): {bytes: Buffer; what: string} {
  const copy = Buffer.from(bytes);
  const offsets = structuralOffsets(bytes);
  const hits: number[] = [];
  for (let n = random.int(1, 4); n > 0; n--) {
    const at = random.pick(offsets);
    // Never a byte JSON could take in that place: no quote, bracket, digit, letter or space.
    copy[at] = random.pick([0x00, 0x23, 0x7f, 0xff, 0x01, 0x40]);
    hits.push(at);
  }
  let what = `bytes ${hits.sort((a, b) => a - b).join(', ')} of ${bytes.length} replaced`;
  if (random.chance(0.4)) {
    const at = random.pick(offsets);
    const length = Math.min(copy.length - at, random.int(1, 64));
    random.fill(copy.subarray(at, at + length));
    copy[at] = 0x00;
    what += `, ${length} bytes of garbage at ${at}`;
  }
  return {bytes: copy, what};
}

export function parsesAsJson(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
