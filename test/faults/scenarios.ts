// The campaign's scenarios by name, in the order `npm run faults` runs them. Each file runs its
// rounds against Dovecot servers of its own and returns one RoundResult per round.

import type {Scenario} from './round-result.js';
import {stateFileScenario} from './state-file-scenario.js';
import {badInputScenario} from './bad-input-scenario.js';

export interface ScenarioEntry {
  name: string;
  run: Scenario;
  /** Rounds in the long campaign when --rounds is not given. */
  defaultRounds: number;
  /** What one round does, for --list. */
  summary: string;
}

export const SCENARIOS: ScenarioEntry[] = [
  {name: 'state-file', run: stateFileScenario, defaultRounds: 12, summary: 'kill -9 in a state write, a truncated or corrupted head or shard file (refused, nothing overwritten, .bak restores), a version 1 file'},
  {name: 'bad-input', run: badInputScenario, defaultRounds: 14, summary: '1,000-row CSV with 50 bad rows, duplicate addresses, the CSV gone at resume, a wrong admin password (no secret anywhere), a port that greets with garbage or an endless line, or answers with one'},
];
