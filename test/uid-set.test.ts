import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {UidSet} from '../source/engine/copy/uid-set.js';

/** Small seeded PRNG (mulberry32) so a failing property run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Canonical sequence-set text for a plain set, built the slow obvious way. */
function canonical(uids: Iterable<number>): string {
  const sorted = [...new Set(uids)].sort((x, y) => x - y);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

describe('UidSet.parse / toString', () => {
  const cases: [string, string, number, number][] = [
    // input, canonical, size, ranges
    ['', '', 0, 0],
    ['5', '5', 1, 1],
    ['1:5,7,9:12', '1:5,7,9:12', 10, 3],
    ['5:1', '1:5', 5, 1],
    ['3,1,2', '1:3', 3, 1],
    ['1:3,4:6', '1:6', 6, 1],
    ['1:10,5:7', '1:10', 10, 1],
    ['9,7,8,1', '1,7:9', 4, 2],
    ['4294967295', '4294967295', 1, 1],
    ['4294967290:4294967295', '4294967290:4294967295', 6, 1],
  ];
  for (const [input, output, size, ranges] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      const set = UidSet.parse(input);
      assert.equal(set.toString(), output);
      assert.equal(set.size, size);
      assert.equal(set.rangeCount, ranges);
      assert.equal(set.isEmpty(), size === 0);
    });
  }

  const invalid = ['*', '1:*', '0', '1,', ',1', '1,,2', '1:2:3', ' 1', '1 ', '-1', '1.5', '01', 'a', '4294967296', '1:4294967296', '1;2'];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => UidSet.parse(input), SyntaxError);
    });
  }
});

describe('UidSet single operations', () => {
  it('add merges adjacent ranges on both sides', () => {
    const set = UidSet.parse('1:3,5:7');
    set.add(4);
    assert.equal(set.toString(), '1:7');
    assert.equal(set.rangeCount, 1);
    assert.equal(set.size, 7);
  });

  it('add of a present UID changes nothing', () => {
    const set = UidSet.parse('1:3');
    set.add(2);
    assert.equal(set.toString(), '1:3');
    assert.equal(set.size, 3);
  });

  it('addRange swallows several ranges', () => {
    const set = UidSet.parse('1,3,5,7,20');
    set.addRange(2, 8);
    assert.equal(set.toString(), '1:8,20');
    assert.equal(set.size, 9);
  });

  it('addRange rejects reversed and invalid bounds', () => {
    const set = new UidSet();
    assert.throws(() => set.addRange(5, 1), RangeError);
    assert.throws(() => set.addRange(0, 1), RangeError);
    assert.throws(() => set.add(1.5), RangeError);
    assert.throws(() => set.add(2 ** 32), RangeError);
    assert.throws(() => set.add(Number.NaN), RangeError);
  });

  const deletes: [string, number, string][] = [
    ['1:5', 1, '2:5'],
    ['1:5', 5, '1:4'],
    ['1:5', 3, '1:2,4:5'],
    ['1:5,7', 7, '1:5'],
    ['1:5', 6, '1:5'],
    ['1:5', 0, '1:5'],
    ['', 1, ''],
  ];
  for (const [input, uid, output] of deletes) {
    it(`delete(${uid}) from ${JSON.stringify(input)}`, () => {
      const set = UidSet.parse(input);
      set.delete(uid);
      assert.equal(set.toString(), output);
      assert.equal(set.size, UidSet.parse(output).size);
      assert.equal(set.rangeCount, UidSet.parse(output).rangeCount);
    });
  }

  it('has, min, max', () => {
    const set = UidSet.parse('3:5,9');
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10].map((uid) => set.has(uid)), [false, false, false, true, true, true, false, false, true, false]);
    assert.equal(set.min(), 3);
    assert.equal(set.max(), 9);
    assert.equal(new UidSet().min(), undefined);
    assert.equal(new UidSet().max(), undefined);
  });

  it('iterates ascending and descending', () => {
    const set = UidSet.parse('1:3,7,10:11');
    assert.deepEqual([...set.ascending()], [1, 2, 3, 7, 10, 11]);
    assert.deepEqual([...set.descending()], [11, 10, 7, 3, 2, 1]);
  });

  it('fromUids accepts any order and duplicates', () => {
    assert.equal(UidSet.fromUids([9, 1, 2, 2, 3, 8]).toString(), '1:3,8:9');
  });

  it('clone is independent', () => {
    const a = UidSet.parse('1:3');
    const b = a.clone();
    b.add(4);
    assert.equal(a.toString(), '1:3');
    assert.equal(b.toString(), '1:4');
  });

  it('serializes as its string in JSON', () => {
    assert.equal(JSON.stringify({done: UidSet.parse('1:3,5')}), '{"done":"1:3,5"}');
  });
});

describe('UidSet set algebra', () => {
  const cases: [string, string, string, string, string][] = [
    // a, b, union, difference a-b, intersect
    ['', '', '', '', ''],
    ['1:10', '', '1:10', '1:10', ''],
    ['', '1:10', '1:10', '', ''],
    ['1:10', '3:4', '1:10', '1:2,5:10', '3:4'],
    ['1:10', '1:10', '1:10', '', '1:10'],
    ['1:5', '6:10', '1:10', '1:5', ''],
    ['1:5,10:15', '4:11', '1:15', '1:3,12:15', '4:5,10:11'],
    ['1,3,5,7', '2,3,6,7', '1:3,5:7', '1,5', '3,7'],
    ['5:20', '1:6,8,10:12,19:30', '1:30', '7,9,13:18', '5:6,8,10:12,19:20'],
  ];
  for (const [a, b, union, difference, intersect] of cases) {
    it(`${JSON.stringify(a)} with ${JSON.stringify(b)}`, () => {
      const x = UidSet.parse(a);
      const y = UidSet.parse(b);
      assert.equal(x.union(y).toString(), union);
      assert.equal(x.difference(y).toString(), difference);
      assert.equal(x.intersect(y).toString(), intersect);
      // Operands are left untouched.
      assert.equal(x.toString(), UidSet.parse(a).toString());
      assert.equal(y.toString(), UidSet.parse(b).toString());
    });
  }
});

describe('UidSet.toImapChunks', () => {
  it('gives no chunk for an empty set', () => {
    assert.deepEqual(new UidSet().toImapChunks(), []);
  });

  it('keeps one chunk when it fits', () => {
    assert.deepEqual(UidSet.parse('1:5,7').toImapChunks(), ['1:5,7']);
  });

  it('splits on range boundaries within maxLength', () => {
    const set = UidSet.parse('1:100,102:200,202:300,302:400');
    assert.deepEqual(set.toImapChunks(25), ['1:100,102:200,202:300', '302:400']);
  });

  it('covers exactly the set in chunks no longer than asked', () => {
    const set = UidSet.fromUids(Array.from({length: 5000}, (_, i) => 3 * i + 1));
    const chunks = set.toImapChunks(200);
    assert.ok(chunks.length > 1);
    for (const chunk of chunks) assert.ok(chunk.length <= 200, `chunk of ${chunk.length} chars`);
    const rebuilt = chunks.map((chunk) => UidSet.parse(chunk)).reduce((acc, part) => acc.union(part), new UidSet());
    assert.equal(rebuilt.toString(), set.toString());
  });

  it('refuses a maxLength shorter than the longest range', () => {
    assert.throws(() => UidSet.parse('1').toImapChunks(10), RangeError);
  });
});

describe('UidSet against a plain Set (seeded random operations)', () => {
  for (const [seed, universe, steps] of [
    [1, 50, 2000],
    [2, 400, 5000],
    // Enough ranges to split blocks and to merge across block boundaries.
    [3, 20_000, 40_000],
    [4, 3000, 20_000],
  ] as const) {
    it(`seed ${seed}: ${steps} operations over 1..${universe}`, () => {
      const random = prng(seed);
      const pick = () => 1 + Math.floor(random() * universe);
      const set = new UidSet();
      const model = new Set<number>();
      for (let step = 0; step < steps; step++) {
        const roll = random();
        if (roll < 0.45) {
          const uid = pick();
          set.add(uid);
          model.add(uid);
        } else if (roll < 0.55) {
          const from = pick();
          const to = Math.min(universe, from + Math.floor(random() * 30));
          set.addRange(from, to);
          for (let uid = from; uid <= to; uid++) model.add(uid);
        } else if (roll < 0.85) {
          const uid = pick();
          set.delete(uid);
          model.delete(uid);
        } else {
          const uid = pick();
          assert.equal(set.has(uid), model.has(uid), `has(${uid}) at step ${step}`);
        }
        assert.equal(set.size, model.size, `size at step ${step}`);
        if (step % 500 === 0 || step === steps - 1) {
          const expected = canonical(model);
          assert.equal(set.toString(), expected, `content at step ${step}`);
          assert.equal(set.rangeCount, expected === '' ? 0 : expected.split(',').length);
          assert.deepEqual([...set.ascending()], [...model].sort((x, y) => x - y));
          assert.equal(set.min(), model.size ? Math.min(...model) : undefined);
          assert.equal(set.max(), model.size ? Math.max(...model) : undefined);
        }
      }
    });
  }

  it('set algebra matches the plain Set on random pairs', () => {
    const random = prng(42);
    for (let round = 0; round < 200; round++) {
      const universe = 5 + Math.floor(random() * 2000);
      const draw = () => {
        const uids = new Set<number>();
        const n = Math.floor(random() * universe);
        for (let i = 0; i < n; i++) uids.add(1 + Math.floor(random() * universe));
        return uids;
      };
      const a = draw();
      const b = draw();
      const x = UidSet.fromUids(a);
      const y = UidSet.fromUids(b);
      assert.equal(x.union(y).toString(), canonical([...a, ...b]), `union, round ${round}`);
      assert.equal(x.difference(y).toString(), canonical([...a].filter((uid) => !b.has(uid))), `difference, round ${round}`);
      assert.equal(x.intersect(y).toString(), canonical([...a].filter((uid) => b.has(uid))), `intersect, round ${round}`);
      assert.equal(x.union(y).size, new Set([...a, ...b]).size);
    }
  });
});

describe('UidSet at mailbox scale', () => {
  it('500,000 contiguous UIDs added newest first stay one range', () => {
    const set = new UidSet();
    for (let uid = 500_000; uid >= 1; uid--) set.add(uid);
    assert.equal(set.rangeCount, 1);
    assert.equal(set.size, 500_000);
    assert.equal(set.toString(), '1:500000');
  });

  it('500,000 UIDs with gaps added newest first', () => {
    const set = new UidSet();
    const isGap = (uid: number) => uid % 7 === 0 || uid % 1000 < 3;
    let expectedSize = 0;
    for (let uid = 600_000; uid >= 1 && expectedSize < 500_000; uid--) {
      if (isGap(uid)) continue;
      set.add(uid);
      expectedSize++;
    }
    assert.equal(set.size, 500_000);
    const min = set.min()!;
    for (let uid = min; uid <= 600_000; uid += 997) assert.equal(set.has(uid), !isGap(uid), `has(${uid})`);
    const text = set.toString();
    assert.equal(UidSet.parse(text).toString(), text);
    // Filling the gaps collapses everything into one range again, across block boundaries.
    for (let uid = 600_000; uid >= min; uid--) if (isGap(uid)) set.add(uid);
    assert.equal(set.toString(), `${min}:600000`);
  });
});
