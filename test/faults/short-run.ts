// The short, seeded run of one campaign scenario inside npm test: `rounds` rounds from `seed`,
// each of which must pass, and at least one of which must have injected a fault (a single
// round's fault can miss: a kill after the run ended, a cut past the last byte).

import {it} from 'node:test';
import assert from 'node:assert/strict';
import {describeRound, roundPassed, type Scenario} from './round-result.js';

export function shortRunTest(title: string, scenario: Scenario, rounds: number, seed: number, timeoutMs = 600_000): void {
  it(title, {timeout: timeoutMs}, async (t) => {
    const results = await scenario({rounds, seed, report: (line) => t.diagnostic(line)});
    assert.equal(results.length, rounds);
    for (const result of results) t.diagnostic(describeRound(result));
    assert.deepEqual(results.filter((result) => !roundPassed(result)).map(describeRound), []);
    assert.ok(results.some((result) => Object.values(result.faults).reduce((a, b) => a + b, 0) > 0), 'no round injected a fault');
  });
}
