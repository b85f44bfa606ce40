import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {ceilingShare, evaluateTargets, NO_CHANGE_RUNNING, resultsTable, type CeilingRow, type ResultRow} from '../bench/results-report.js';

const MEMORY_MODE = '20 at once';
const LIMIT = 256 * 2 ** 20;

function row(tool: string, mode: string, latency: ResultRow['latency'], wallSeconds: number, extra: Partial<ResultRow> = {}): ResultRow {
  const moved = !mode.startsWith('no-change');
  return {tool, mode, latency, wallSeconds, messages: moved ? 4000 : 0, bytes: moved ? 4e9 : 0, verified: true, notes: [], ...extra};
}

function verdict(rows: ResultRow[], prefix: string) {
  return evaluateTargets(rows, MEMORY_MODE, LIMIT).find((v) => v.target.startsWith(prefix))!;
}

const WARM = 'No-change incremental pass, mailferry in the running batch';
const COLD = 'No-change incremental pass, mailferry as a new process';

describe('bench targets', () => {
  const cases: Array<{name: string; ours: number; theirs: number; oursVerified?: boolean; met: boolean | undefined}> = [
    {name: 'exactly 1.25x is met', ours: 8, theirs: 10, met: true},
    {name: 'faster than mbsync but below 1.25x is not met', ours: 9, theirs: 10, met: false},
    {name: 'a run that did not verify never meets a target', ours: 1, theirs: 10, oursVerified: false, met: false},
  ];
  for (const c of cases) {
    it(`throughput: ${c.name}`, () => {
      const rows = [
        row('mailferry', 'parallel', 'loopback', c.ours, {verified: c.oursVerified ?? true}),
        row('mbsync', 'parallel', 'loopback', c.theirs),
      ];
      assert.equal(verdict(rows, '4 mailboxes in parallel, loopback').met, c.met);
    });
  }

  it('a target without both runs is reported as not measured, not as met', () => {
    const rows = [row('mailferry', 'parallel', 'target +25 ms', 5)];
    assert.equal(verdict(rows, '4 mailboxes in parallel, target').met, undefined);
    assert.equal(verdict(rows, COLD).met, undefined);
    assert.equal(verdict(rows, WARM).met, undefined);
    assert.equal(verdict(rows, 'Memory').met, undefined);
  });

  it('no-change: equal time is met, slower is not', () => {
    assert.equal(verdict([row('mailferry', 'no-change', 'loopback', 0.5), row('mbsync', 'no-change', 'loopback', 0.5)], COLD).met, true);
    assert.equal(verdict([row('mailferry', 'no-change', 'loopback', 0.6), row('mbsync', 'no-change', 'loopback', 0.5)], COLD).met, false);
  });

  it('no-change: the pass in the running batch and the new process are judged each against mbsync\'s rerun', () => {
    const rows = [
      row('mailferry', NO_CHANGE_RUNNING, 'loopback', 0.05),
      row('mailferry', 'no-change', 'loopback', 0.2),
      row('mbsync', 'no-change', 'loopback', 0.08),
    ];
    assert.equal(verdict(rows, WARM).met, true);
    assert.match(verdict(rows, WARM).measured, /^0\.050 s vs 0\.080 s/);
    assert.equal(verdict(rows, COLD).met, false);
    assert.equal(verdict([row('mailferry', NO_CHANGE_RUNNING, 'loopback', 0.05, {verified: false}), rows[2]!], WARM).met, false);
  });

  it('memory: 256 MiB is met, one byte more is not', () => {
    const at = (bytes: number) => verdict([row('mailferry', MEMORY_MODE, 'loopback', 10, {peakRssBytes: bytes})], 'Memory').met;
    assert.equal(at(LIMIT), true);
    assert.equal(at(LIMIT + 1), false);
  });
});

describe('bench ceiling share', () => {
  const ceiling: CeilingRow[] = [
    {kind: 'drain', connections: '4', messages: 4000, bytes: 4e9, seconds: 1},
    {kind: 'absorb', connections: '4', messages: 4000, bytes: 4e9, seconds: 20},
    {kind: 'absorb', connections: '12', messages: 4000, bytes: 4e9, seconds: 10},
  ];
  it('is measured against the slower side at its best (the faster absorb here)', () => {
    const share = ceilingShare([row('mailferry', 'parallel', 'loopback', 20)], ceiling);
    assert.match(share ?? '', /200 msg\/s = \*\*50% of the ceiling\*\* \(absorb, 12: 400 msg\/s/);
  });
});

describe('bench results table', () => {
  it('shows no rate for a no-change pass and flags an unverified run', () => {
    const table = resultsTable([row('mbsync', 'no-change', 'loopback', 0.25), row('mailferry', 'parallel', 'loopback', 10, {verified: false})]);
    assert.match(table, /\| mbsync \| no-change \| loopback \| 0\.25 \| — \| — \|/);
    assert.match(table, /\| mailferry \| parallel \| loopback \| 10\.00 \| 400 \| 400\.0 \| .* \| \*\*NO\*\* \|/);
  });
});
