// The short, seeded version of the fault campaign's cut scenario (connections cut (FIN/RST) mid-FETCH and mid-APPEND, stalled, slowed and refused, lanes and buffered path), run by
// npm test; `npm run faults -- --only cut --rounds N` runs the long one. A failing round prints
// its seed: `npm run faults -- --only cut --seed SEED --rounds 1` replays it.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {runCutScenario} from './faults/cut-scenario.js';
import {describeRound, roundPassed} from './faults/round-result.js';

describe('fault campaign, cut scenario (short)', {timeout: 600_000}, () => {
  it('4 seeded rounds: 0 lost, 0 duplicated, every mailbox Synced, counts right, no secret anywhere', async (t) => {
    const results = await runCutScenario({rounds: 4, seed: 15, report: (line) => t.diagnostic(line)});
    assert.equal(results.length, 4);
    for (const result of results) t.diagnostic(describeRound(result));
    assert.deepEqual(results.filter((result) => !roundPassed(result)).map(describeRound), []);
    // A round's fault can miss (a kill after the run ended, a cut past the last byte), not all of them.
    assert.ok(results.some((result) => Object.values(result.faults).reduce((a, b) => a + b, 0) > 0), 'no round injected a fault');
  });
});
