// The fault campaign's kill scenario, short and seeded: batch start killed with SIGKILL at a
// seeded share of the copy and started again. The long run: `npm run faults -- --only kill
// --rounds N`; a failing round's seed replays it with --rounds 1.

import {runKillScenario} from './faults/kill-scenario.js';
import {shortRunTest} from './faults/short-run.js';

shortRunTest('fault campaign, kill: 2 seeded rounds, each 0 lost, 0 duplicated, every mailbox Synced, counts right, no secret anywhere', runKillScenario, 2, 25);
