// A set of IMAP UIDs kept as sorted, disjoint, non-adjacent ranges, so that a folder's checkpoint
// stays a short string ('1:48213,48215:90000') however many messages it holds.
//
// Ranges live in blocks of at most MAX_BLOCK ranges (each block a flat [lo, hi, lo, hi, ...]
// array) rather than one big array: the engine copies newest first, so UIDs arrive in descending
// order, and with gaps every add would insert at the front of one array and move every range
// after it. With blocks an insert moves at most one block's worth.

const MAX_UID = 0xffff_ffff; // RFC 3501 section 2.3.1.1: UIDs are 32-bit unsigned, nz-number
const MAX_BLOCK = 256; // ranges per block before it splits in two
/** Longest single token: '4294967294:4294967295'. */
const LONGEST_TOKEN = 21;
/** Leaves room for 'UID FETCH ' + the item list within the 8192-octet line RFC 7162 section 4 suggests. */
export const DEFAULT_IMAP_CHUNK_LENGTH = 4000;

function checkUid(uid: number, what = 'UID'): void {
  if (!Number.isInteger(uid) || uid < 1 || uid > MAX_UID) {
    throw new RangeError(`${what} ${String(uid)} is not a valid IMAP UID (an integer from 1 to ${MAX_UID})`);
  }
}

export class UidSet {
  /** Each block is [lo0, hi0, lo1, hi1, ...]; blocks are non-empty and in ascending order. */
  private blocks: number[][] = [];
  private count = 0;
  private ranges = 0;

  /** Parses IMAP sequence-set syntax without '*': '', '5', '1:5,7,9:12'. Unsorted or overlapping input is merged. */
  static parse(text: string): UidSet {
    const set = new UidSet();
    // A hand-written scanner: checkpoints of gappy folders hold hundreds of thousands of tokens.
    let pos = 0;
    const fail = (why: string): never => {
      throw new SyntaxError(`Invalid UID set ${JSON.stringify(truncate(text))}: ${why} at character ${pos + 1}`);
    };
    const number = (): number => {
      const start = pos;
      const first = text.charCodeAt(pos);
      if (!(first >= 0x31 && first <= 0x39)) fail('expected a UID (1-9 first)'); // nz-number: no leading zero
      let value = 0;
      while (pos < text.length) {
        const code = text.charCodeAt(pos);
        if (code < 0x30 || code > 0x39) break;
        value = value * 10 + (code - 0x30);
        pos++;
      }
      if (value > MAX_UID) {
        pos = start;
        fail(`UID exceeds ${MAX_UID}`);
      }
      return value;
    };
    while (pos < text.length) {
      const a = number();
      let b = a;
      if (text.charCodeAt(pos) === 0x3a /* : */) {
        pos++;
        b = number();
      }
      if (pos < text.length) {
        if (text.charCodeAt(pos) !== 0x2c /* , */) fail('expected "," or ":"');
        pos++;
        if (pos === text.length) fail('trailing ","');
      }
      // RFC 3501 section 9: '4:2' is the same set as '2:4'.
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      // Our own canonical text is ascending: appending skips the search.
      if (lo > (set.max() ?? 0)) set.append(lo, hi);
      else set.insert(lo, hi);
    }
    return set;
  }

  static fromUids(uids: Iterable<number>): UidSet {
    const set = new UidSet();
    for (const uid of uids) set.add(uid);
    return set;
  }

  toString(): string {
    const parts: string[] = [];
    for (const [lo, hi] of this.rangesAscending()) parts.push(lo === hi ? String(lo) : `${lo}:${hi}`);
    return parts.join(',');
  }

  toJSON(): string {
    return this.toString();
  }

  get size(): number {
    return this.count;
  }

  get rangeCount(): number {
    return this.ranges;
  }

  isEmpty(): boolean {
    return this.count === 0;
  }

  clone(): UidSet {
    const copy = new UidSet();
    copy.blocks = this.blocks.map((block) => block.slice());
    copy.count = this.count;
    copy.ranges = this.ranges;
    return copy;
  }

  add(uid: number): void {
    checkUid(uid);
    this.insert(uid, uid);
  }

  addRange(from: number, to: number): void {
    checkUid(from, 'Range start');
    checkUid(to, 'Range end');
    if (from > to) throw new RangeError(`Range ${from}:${to} is reversed; pass the smaller UID first`);
    this.insert(from, to);
  }

  delete(uid: number): void {
    if (!Number.isInteger(uid) || uid < 1 || uid > MAX_UID) return;
    const [b, i] = this.locate(uid);
    const block = this.blocks[b];
    if (!block || block[i]! > uid) return;
    const lo = block[i]!;
    const hi = block[i + 1]!;
    this.count -= 1;
    if (lo === hi) {
      block.splice(i, 2);
      this.ranges -= 1;
      if (block.length === 0) this.blocks.splice(b, 1);
    } else if (uid === lo) {
      block[i] = lo + 1;
    } else if (uid === hi) {
      block[i + 1] = hi - 1;
    } else {
      block.splice(i, 2, lo, uid - 1, uid + 1, hi);
      this.ranges += 1;
      this.splitIfFull(b);
    }
  }

  has(uid: number): boolean {
    const [b, i] = this.locate(uid);
    const block = this.blocks[b];
    return block !== undefined && block[i]! <= uid;
  }

  min(): number | undefined {
    return this.blocks[0]?.[0];
  }

  max(): number | undefined {
    const last = this.blocks[this.blocks.length - 1];
    return last?.[last.length - 1];
  }

  union(other: UidSet): UidSet {
    const result = this.clone();
    for (const [lo, hi] of other.rangesAscending()) result.insert(lo, hi);
    return result;
  }

  difference(other: UidSet): UidSet {
    const result = new UidSet();
    const theirs = other.rangesAscending();
    let cut = theirs.next();
    for (const [lo, hi] of this.rangesAscending()) {
      let from = lo;
      // Walk the other set's ranges that overlap [from, hi], keeping the pieces between them.
      while (!cut.done && from <= hi) {
        const [clo, chi] = cut.value;
        if (chi < from) {
          cut = theirs.next();
          continue;
        }
        if (clo > hi) break;
        if (clo > from) result.append(from, clo - 1);
        from = chi + 1;
        if (chi <= hi) cut = theirs.next();
      }
      if (from <= hi) result.append(from, hi);
    }
    return result;
  }

  intersect(other: UidSet): UidSet {
    const result = new UidSet();
    const a = this.rangesAscending();
    const b = other.rangesAscending();
    let x = a.next();
    let y = b.next();
    while (!x.done && !y.done) {
      const lo = Math.max(x.value[0], y.value[0]);
      const hi = Math.min(x.value[1], y.value[1]);
      if (lo <= hi) result.append(lo, hi);
      if (x.value[1] < y.value[1]) x = a.next();
      else y = b.next();
    }
    return result;
  }

  *ascending(): IterableIterator<number> {
    for (const [lo, hi] of this.rangesAscending()) {
      for (let uid = lo; uid <= hi; uid++) yield uid;
    }
  }

  *descending(): IterableIterator<number> {
    for (const [lo, hi] of this.rangesDescending()) {
      for (let uid = hi; uid >= lo; uid--) yield uid;
    }
  }

  /** The ranges as [lo, hi] pairs, lowest first. */
  *rangesAscending(): IterableIterator<[number, number]> {
    for (const block of this.blocks) {
      for (let i = 0; i < block.length; i += 2) yield [block[i]!, block[i + 1]!];
    }
  }

  /** The ranges as [lo, hi] pairs, highest first. */
  *rangesDescending(): IterableIterator<[number, number]> {
    for (let b = this.blocks.length - 1; b >= 0; b--) {
      const block = this.blocks[b]!;
      for (let i = block.length - 2; i >= 0; i -= 2) yield [block[i]!, block[i + 1]!];
    }
  }

  /**
   * IMAP sequence-set strings of at most maxLength characters each, ascending, for UID
   * FETCH/STORE/SEARCH commands (servers cap the command line length). An empty set gives no
   * chunks: IMAP has no empty sequence set, so the caller skips the command.
   */
  toImapChunks(maxLength = DEFAULT_IMAP_CHUNK_LENGTH): string[] {
    if (!Number.isInteger(maxLength) || maxLength < LONGEST_TOKEN) {
      throw new RangeError(`maxLength ${maxLength} is too small for a UID range; use at least ${LONGEST_TOKEN}`);
    }
    const chunks: string[] = [];
    let current = '';
    for (const [lo, hi] of this.rangesAscending()) {
      const token = lo === hi ? String(lo) : `${lo}:${hi}`;
      if (current === '') current = token;
      else if (current.length + 1 + token.length <= maxLength) current += ',' + token;
      else {
        chunks.push(current);
        current = token;
      }
    }
    if (current !== '') chunks.push(current);
    return chunks;
  }

  /** Index of the block and offset in it of the first range whose hi >= uid; past the end when none. */
  private locate(uid: number): [number, number] {
    const blocks = this.blocks;
    let low = 0;
    let high = blocks.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const block = blocks[mid]!;
      if (block[block.length - 1]! < uid) low = mid + 1;
      else high = mid;
    }
    if (low === blocks.length) return [low, 0];
    const block = blocks[low]!;
    let lowRange = 0;
    let highRange = block.length / 2;
    while (lowRange < highRange) {
      const mid = (lowRange + highRange) >>> 1;
      if (block[mid * 2 + 1]! < uid) lowRange = mid + 1;
      else highRange = mid;
    }
    return [low, lowRange * 2];
  }

  /** Adds [from, to] (already validated), merging with every range it overlaps or touches. */
  private insert(from: number, to: number): void {
    const [b, i] = this.locate(from - 1);
    let lo = from;
    let hi = to;
    let removedUids = 0;
    let removedRanges = 0;
    // Find the end (b2, i2) of the run of ranges that overlap or touch [from, to].
    let b2 = b;
    let i2 = i;
    while (b2 < this.blocks.length) {
      const block = this.blocks[b2]!;
      while (i2 < block.length && block[i2]! <= to + 1) {
        lo = Math.min(lo, block[i2]!);
        hi = Math.max(hi, block[i2 + 1]!);
        removedUids += block[i2 + 1]! - block[i2]! + 1;
        removedRanges += 1;
        i2 += 2;
      }
      if (i2 < block.length) break;
      b2 += 1;
      i2 = 0;
    }
    this.count += hi - lo + 1 - removedUids;
    this.ranges += 1 - removedRanges;

    if (b === this.blocks.length) {
      // Past every range: append to the last block.
      if (b === 0) this.blocks.push([lo, hi]);
      else this.blocks[b - 1]!.push(lo, hi);
      this.splitIfFull(Math.max(0, b - 1));
      return;
    }
    if (b2 === b) {
      this.blocks[b]!.splice(i, i2 - i, lo, hi);
      this.splitIfFull(b);
      return;
    }
    // The run spans blocks: keep block b's head plus the merged range, drop the blocks wholly
    // covered, and trim the head of block b2.
    const first = this.blocks[b]!;
    first.length = i;
    first.push(lo, hi);
    // The scan stops inside block b2 (or past the end), so trimming its head never empties it.
    this.blocks[b2]?.splice(0, i2);
    this.blocks.splice(b + 1, b2 - (b + 1));
  }

  /** Appends a range known to lie above every range in the set and not to touch the last one. */
  private append(lo: number, hi: number): void {
    const last = this.blocks[this.blocks.length - 1];
    if (last && last[last.length - 1]! + 1 >= lo) {
      this.insert(lo, hi);
      return;
    }
    if (!last || last.length >= MAX_BLOCK * 2) this.blocks.push([lo, hi]);
    else last.push(lo, hi);
    this.count += hi - lo + 1;
    this.ranges += 1;
  }

  private splitIfFull(b: number): void {
    const block = this.blocks[b];
    if (!block || block.length <= MAX_BLOCK * 2) return;
    const cut = Math.floor(block.length / 4) * 2; // an even offset near the middle
    this.blocks.splice(b + 1, 0, block.splice(cut));
  }
}

function truncate(text: string): string {
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}
