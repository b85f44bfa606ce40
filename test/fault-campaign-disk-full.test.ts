// The disk-full scenario of the fault campaign, short and seeded: 2 rounds, each with one of 3
// mailboxes over its target quota. The quota mailbox must fail with the reason and what to do
// (expected), the others end Synced; after the quota is raised and the mailbox resumed all three
// are Synced and exact. The long run: npm run faults -- --only disk-full --rounds N.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {diskFullScenario} from './faults/disk-full-scenario.js';
import {describeRound, roundPassed} from './faults/round-result.js';

describe('fault campaign: a target mailbox over its quota', {timeout: 180_000}, () => {
  it('2 seeded rounds: the quota mailbox Failed with reason and hint, the others Synced; after raising it all exact', async (t) => {
    const results = await diskFullScenario({rounds: 2, seed: 5, report: (line) => t.diagnostic(line)});
    const lines = results.map(describeRound).join('\n');
    for (const result of results) {
      assert.equal(result.failed.filter((failed) => failed.expected && /^quota: /.test(failed.reason)).length, 1, `one quota failure per round\n${lines}`);
    }
    assert.ok(results.every(roundPassed), lines);
  });
});
