// The bad-input scenario of the fault campaign, seeded, one round of each of its seven kinds: 50
// bad rows of 1,000, duplicate addresses, the CSV gone at resume, a wrong admin password, a port
// that greets with garbage, one that greets with an endless line, one that answers with one.

import {it} from 'node:test';
import assert from 'node:assert/strict';
import {describeRound, roundPassed} from './faults/round-result.js';
import {KINDS, badInputScenario, kindOfRound} from './faults/bad-input-scenario.js';

const SEED = 602;

it('bad input: CSV mistakes, a missing CSV, a wrong admin password, non-IMAP ports: every round passes', {timeout: 240_000}, async (t) => {
  assert.deepEqual(KINDS.map((_kind, round) => kindOfRound(SEED, round)), [...KINDS]);
  const results = await badInputScenario({rounds: KINDS.length, seed: SEED, report: (line) => t.diagnostic(line)});
  for (const result of results) t.diagnostic(describeRound(result));
  assert.equal(results.length, KINDS.length);
  assert.deepEqual(results.filter((result) => !roundPassed(result)).map(describeRound), []);
});
