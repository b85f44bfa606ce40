// The restart scenario of the fault campaign, short and seeded: seed 8 restarts the source during
// an incremental pass (batch sync-now after new mail and flag changes), then the target during the
// first pass, each once a share of the pass's messages is on the target; seed 3668344229 restarts both
// at mailferry's first login on the target (the regression test of logins cut off by a server
// going down, which were once taken for refused passwords and failed the mailbox). Every round
// must pass (every mailbox Synced, exact, nothing lost or duplicated) and must really have
// restarted a server. The long run: npm run faults -- --only restart --rounds N.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {restartScenario} from './faults/restart-scenario.js';
import {describeRound, roundPassed, type RoundResult} from './faults/round-result.js';

const restartedKinds = (results: readonly RoundResult[]) => results.map((result) => Object.keys(result.faults).sort().join('+'));

describe('fault campaign: Dovecot restarts mid-copy', {timeout: 180_000}, () => {
  it('the source restarted mid-incremental, the target mid-first-pass: every mailbox Synced and exact', async (t) => {
    const results = await restartScenario({rounds: 2, seed: 8, report: (line) => t.diagnostic(line)});
    const lines = results.map(describeRound).join('\n');
    assert.deepEqual(restartedKinds(results), ['restart source', 'restart target'], lines);
    assert.ok(results.every(roundPassed), lines);
  });

  it('both restarted during the first login: the cut-off logins are retried, every mailbox Synced and exact', async (t) => {
    const results = await restartScenario({rounds: 1, seed: 3668344229, report: (line) => t.diagnostic(line)});
    const lines = results.map(describeRound).join('\n');
    assert.deepEqual(restartedKinds(results), ['restart source+restart target'], lines);
    assert.ok(results.every(roundPassed), lines);
  });
});
