// The disk-full scenario of the fault campaign, short and seeded: seed 1 gives one mailbox of 3 a
// Dovecot quota in round 0 and a real full disk (a tmpfs on its home; a quota again where this
// machine cannot mount one) in round 1. That mailbox must fail with the reason and what to do
// (expected), the others end Synced; after making room and resuming it all three are Synced and
// exact; seed 3668339988 lets the first pass fit and the incremental pass run out of room.
// The full disk is the regression test of Dovecot's "[SERVERBUG] Internal error" answers,
// which once ended the mailbox Synced without the messages and folders they refused.
// The long run: npm run faults -- --only disk-full --rounds N.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {diskFullScenario} from './faults/disk-full-scenario.js';
import {describeRound, roundPassed} from './faults/round-result.js';

describe('fault campaign: a target mailbox out of room', {timeout: 180_000}, () => {
  it('a quota round and a full-disk round: that mailbox Failed with reason and hint, the others Synced; after making room all exact', async (t) => {
    const results = await diskFullScenario({rounds: 2, seed: 1, report: (line) => t.diagnostic(line)});
    const lines = results.map(describeRound).join('\n');
    for (const result of results) {
      const kind = result.faults['disk full (tmpfs)'] ? 'storage' : 'quota';
      assert.equal(result.failed.filter((failed) => failed.expected && failed.reason.startsWith(`${kind}: `)).length, 1, `one ${kind} failure in round ${result.round}\n${lines}`);
    }
    assert.ok(results.every(roundPassed), lines);
  });

  it('the room runs out in an incremental pass (seed 3668339988): the same, through batch sync-now', async (t) => {
    const results = await diskFullScenario({rounds: 1, seed: 3668339988, report: (line) => t.diagnostic(line)});
    const lines = results.map(describeRound).join('\n');
    assert.equal(results[0]!.failed.filter((failed) => failed.expected && /^(quota|storage): /.test(failed.reason)).length, 1, lines);
    assert.ok(results.every(roundPassed), lines);
  });
});
