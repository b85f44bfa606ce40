// The state-file scenario of the fault campaign, seeded, three rounds: a damaged mailbox file
// restored from its .bak, a version 1 file converted, a kill -9 in a state write. (`npm run
// faults -- --only state-file --rounds 6` runs all six kinds, the damaged head among them.)

import {it} from 'node:test';
import assert from 'node:assert/strict';
import {describeRound, roundPassed} from './faults/round-result.js';
import {kindOfRound, stateFileScenario} from './faults/state-file-scenario.js';

const SEED = 4246;

it('state files: a corrupted shard, a v1 file, kill -9 mid-write: every round passes', {timeout: 180_000}, async (t) => {
  assert.deepEqual([0, 1, 2].map((round) => kindOfRound(SEED, round)), ['corrupted shard', 'old version', 'kill -9 in state write']);
  const results = await stateFileScenario({rounds: 3, seed: SEED, report: (line) => t.diagnostic(line)});
  for (const result of results) t.diagnostic(describeRound(result));
  assert.equal(results.length, 3);
  assert.deepEqual(results.filter((result) => !roundPassed(result)).map(describeRound), []);
});
