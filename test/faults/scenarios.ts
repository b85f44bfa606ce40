// The campaign's scenarios by name, in the order `npm run faults` runs them. Each file runs its
// rounds against Dovecot servers of its own and returns one RoundResult per round.

import type {Scenario} from './round-result.js';
import {runCutScenario} from './cut-scenario.js';
import {runKillScenario} from './kill-scenario.js';
import {stateFileScenario} from './state-file-scenario.js';
import {badInputScenario} from './bad-input-scenario.js';
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
  {name: 'kill', run: runKillScenario, defaultRounds: 20, summary: '4 mailboxes (several folders, messages up to 30 MB); batch start killed with SIGKILL once or twice at seeded moments of the run and started again'},
  {name: 'cut', run: runCutScenario, defaultRounds: 50, summary: '3 mailboxes copied through proxies that cut (FIN/RST), stall, slow or refuse source and target connections mid-FETCH and mid-APPEND, on the lanes or the buffered path; one batch start must finish them all'},
  {name: 'state-file', run: stateFileScenario, defaultRounds: 12, summary: 'kill -9 in a state write, a truncated or corrupted head or shard file (refused, nothing overwritten, .bak restores), a version 1 file'},
  {name: 'bad-input', run: badInputScenario, defaultRounds: 14, summary: '1,000-row CSV with 50 bad rows, duplicate addresses, the CSV gone at resume, a wrong admin password (no secret anywhere), a port that greets with garbage or an endless line, or answers with one'},
  {name: 'restart', run: restartScenario, defaultRounds: 10, summary: 'source, target or both Dovecots restarted at a seeded moment of the copy; batch start rerun at most twice; every mailbox Synced and exact'},
  {name: 'disk-full', run: diskFullScenario, defaultRounds: 5, summary: 'one of 3 mailboxes over its target quota: it ends Failed with the reason and what to do, the others Synced; quota raised, mailbox resumed: all Synced and exact'},
];
