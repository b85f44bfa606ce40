// The restart scenario of the fault campaign, short and seeded: seed 8 restarts the source, then
// the target, then both, each at its own moment of the copy. Every round must pass (every
// mailbox Synced, exact, nothing lost or duplicated) and must really have restarted a server.
// The long run: npm run faults -- --only restart --rounds N.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {restartScenario} from './faults/restart-scenario.js';
import {describeRound, roundPassed} from './faults/round-result.js';

describe('fault campaign: Dovecot restarts mid-copy', {timeout: 180_000}, () => {
  it('3 seeded rounds (source, target, both): every mailbox Synced and exact', async (t) => {
    const results = await restartScenario({rounds: 3, seed: 8, report: (line) => t.diagnostic(line)});
    const lines = results.map(describeRound).join('\n');
    assert.deepEqual(results.map((result) => Object.keys(result.faults).sort().join('+')), ['restart source', 'restart target', 'restart source+restart target'], lines);
    assert.ok(results.every(roundPassed), lines);
  });
});
