// `npm run bench -- --scale N`: only the scale scenario, its section of bench/RESULTS-scale.md
// replaced (other N's sections kept). bench/run.ts hands over here.

import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {loadAverage, machineLines} from '../machine-info.js';
import {mailferryRunner} from '../runners/mailferry.js';
import {chooseTargetStorage} from '../target-storage.js';
import {killScaleChildren, runScale, SCALE_CONCURRENCY, type LayoutName} from './scale-scenario.js';
import {scaleSection} from './scale-report.js';
import {replaceSection} from './scale-stats.js';
import {LARGE_MESSAGES} from './scale-mailboxes.js';

export const SCALE_RESULTS = join(import.meta.dirname, '..', 'RESULTS-scale.md');
const TITLE = '# mailferry scale results (`npm run bench -- --scale N`)';

export async function scaleMain(total: number, workRoot: string, keepWork: boolean, log: (line: string) => void, layouts?: LayoutName[]): Promise<boolean> {
  if (!Number.isInteger(total) || total < 3) throw new Error(`--scale needs a whole number of mailboxes of at least 3, not ${total}`);
  const started = new Date();
  const loadAtStart = loadAverage();
  // Both servers in RAM when it has room: 10,000 users' Maildirs and indexes are many small files.
  const storage = chooseTargetStorage(total * 200_000 + 100e6, false);
  log(storage.description);
  const workDir = join(workRoot, `scale-${process.pid}`);
  // bench/run.ts's signal handlers exit the process; the children go in scale-scenario's exit hook.
  if (!keepWork) process.on('exit', () => rmSync(workDir, {recursive: true, force: true}));
  let run;
  try {
    run = await runScale(total, workDir, storage.parentDir ?? (await import('node:os')).tmpdir(), log, layouts);
  } finally {
    killScaleChildren();
    if (!keepWork) rmSync(workDir, {recursive: true, force: true});
  }
  const preamble = [
    `Measured ${started.toISOString().replace(/\.\d+Z$/, 'Z')} with \`npm run bench -- --scale ${total}\`.`,
    '',
    `- ${total} mailboxes in one batch (--max-concurrent ${SCALE_CONCURRENCY}): ${run.messages} messages, ${(run.bytes / 1e6).toFixed(0)} MB; ` +
      `${run.large} large mailboxes of ${LARGE_MESSAGES} messages (8-40 KB each), the others 1-3 folders of 1-4 small messages. ` +
      'Started, killed with SIGKILL once a third were Synced, resumed with `batch start`, finished, timed `batch status` and `batch report`, `batch complete`; ' +
      'then every Message-ID of every folder of every mailbox is counted on the target.',
    ...(await machineLines()),
    `- ${await mailferryRunner.version()}`,
    `- Storage: ${storage.parentDir ? 'source and target servers in RAM (tmpfs /dev/shm)' : storage.description}; the mailferry state directory on disk (bench/.work/).`,
    ...(layouts && layouts.length < 2 ? [`- Only the ${layouts.join(', ')} layout was run (\`--scale-layout\`); no side-by-side comparison in this section.`] : []),
    `- Load average (1/5/15 min) at start: ${loadAtStart}; at end: ${loadAverage()}.`,
  ];
  const existing = existsSync(SCALE_RESULTS) ? readFileSync(SCALE_RESULTS, 'utf8') : `${TITLE}\n\n${FOOTNOTES}\n`;
  const section = scaleSection(run, preamble);
  writeFileSync(SCALE_RESULTS, replaceSection(existing, `## --scale ${total}`, section));
  log('');
  log(section);
  log(`written to ${SCALE_RESULTS} (section "--scale ${total}")`);
  return run.layouts.every((l) => !l.failure && l.lost === 0 && l.duplicated === 0 && l.unexpected === 0);
}

const FOOTNOTES = [
  'How each figure is taken (see bench/README.md, "The scale scenario"):',
  '',
  '- state write: every write of the batch state appends a line to `MAILFERRY_STATE_STATS`; the writes between a process\'s first',
  '  pass start and its last mailbox end (the first process: up to the kill) count. Bytes per second: their bytes over that time.',
  '  The cross-check is the kernel\'s `write_bytes` of the `batch start` processes (state and log) over their whole life.',
  '- resume: from spawning the second `batch start` to the first `APPEND` command line a loopback relay in front of the target sees.',
  '- scheduler overhead: in the batch log, from a mailbox reaching Synced to the next initial pass starting in the slot it freed,',
  '  per process, while mailboxes were still queued.',
  '- peak RSS: VmHWM of each `batch start` process, sampled from /proc; the larger of the two.',
  '- UI frames: `bench/ui-frames.tsx --mailboxes N --json`, the real grid rendered into an in-memory terminal; it does not depend on the state layout.',
].join('\n');
