// The fault campaign's cut scenario, short and seeded: connections cut (FIN/RST) mid-FETCH and
// mid-APPEND, stalled, slowed and refused, on the lanes and the buffered path. The long run:
// `npm run faults -- --only cut --rounds N`; a failing round's seed replays it with --rounds 1.

import {runCutScenario} from './faults/cut-scenario.js';
import {shortRunTest} from './faults/short-run.js';

shortRunTest('fault campaign, cut: 4 seeded rounds, each 0 lost, 0 duplicated, every mailbox Synced, counts right, no secret anywhere', runCutScenario, 4, 15);
