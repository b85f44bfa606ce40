// The campaign's scenarios by name, in the order `npm run faults` runs them. Each file runs its
// rounds against Dovecot servers of its own and returns one RoundResult per round.

import type {Scenario} from './round-result.js';
import {restartScenario} from './restart-scenario.js';
import {diskFullScenario} from './disk-full-scenario.js';

export interface ScenarioEntry {
  name: string;
  run: Scenario;
  /** Rounds in the long campaign when --rounds is not given. */
  defaultRounds: number;
  /** What one round does, for --list. */
  summary: string;
}

export const SCENARIOS: ScenarioEntry[] = [
  {name: 'restart', run: restartScenario, defaultRounds: 10, summary: 'source, target or both Dovecots restarted at a seeded moment of the copy; batch start rerun at most twice; every mailbox Synced and exact'},
  {name: 'disk-full', run: diskFullScenario, defaultRounds: 5, summary: 'one of 3 mailboxes over its target quota: it ends Failed with the reason and what to do, the others Synced; quota raised, mailbox resumed: all Synced and exact'},
];
