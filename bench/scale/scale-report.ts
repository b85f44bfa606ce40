// The scale scenario's table: one column per state layout, each figure beside its goal from
// issue 16, and the verdict (met / not met) per layout. Written into bench/RESULTS-scale.md under
// the heading of its N, so a `--scale 1000` run keeps the `--scale 10000` section and the other
// way round, and `npm run bench` (which rewrites RESULTS.md) never touches it.

import {percentile, median} from './scale-stats.js';
import type {LayoutResult, ScaleRun} from './scale-scenario.js';

export const RSS_GOAL_BYTES = 256 * 1024 * 1024;

interface Metric {
  name: string;
  goal: string;
  /** The cell text and, when there is a goal, whether it was met (undefined: not measured). */
  value(result: LayoutResult): {text: string; met?: boolean};
}

const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const notMeasured = (why: string) => ({text: `not measured: ${why}`});

function failedOr(result: LayoutResult, value: number | undefined, render: (n: number) => string, goal?: (n: number) => boolean): {text: string; met?: boolean} {
  if (value === undefined || !Number.isFinite(value)) return notMeasured(result.failure ? 'the run failed before this point' : 'no data');
  return {text: render(value), ...(goal ? {met: goal(value)} : {})};
}

export const METRICS: Metric[] = [
  {
    name: 'state write, median ms', goal: '',
    value: (r) => (r.writes ? failedOr(r, r.writes.medianMs, ms) : notMeasured(r.writesNotMeasured ?? 'no data')),
  },
  {
    name: 'state write, p99 ms', goal: '≤ 50 ms',
    value: (r) => (r.writes ? failedOr(r, r.writes.p99Ms, ms, (n) => n <= 50) : notMeasured(r.writesNotMeasured ?? 'no data')),
  },
  {
    name: 'state writes while copying (files per write, median)', goal: '',
    value: (r) => (r.writes ? {text: `${r.writes.count} (${r.writes.medianFiles})`} : notMeasured(r.writesNotMeasured ?? 'no data')),
  },
  {
    name: 'state bytes written per second while copying', goal: '≤ 2 MB/s',
    value: (r) => (r.writes ? failedOr(r, r.writes.bytesPerSecond, (n) => `${(n / 1e6).toFixed(2)} MB/s`, (n) => n <= 2e6) : notMeasured(r.writesNotMeasured ?? 'no data')),
  },
  {
    name: 'cross-check: /proc write_bytes per second of process life', goal: '',
    value: (r) => failedOr(r, r.procWriteBytesPerSecond, (n) => `${(n / 1e6).toFixed(2)} MB/s`),
  },
  {
    name: 'resume: process start to first APPEND', goal: '≤ 3 s',
    value: (r) => failedOr(r, r.resumeToFirstAppendMs, (n) => `${(n / 1000).toFixed(2)} s`, (n) => n <= 3000),
  },
  {
    name: 'scheduler overhead (mailbox end to next start), median / p99 ms', goal: '',
    value: (r) =>
      r.schedulerGapsMs.length
        ? {text: `${ms(median(r.schedulerGapsMs))} / ${ms(percentile(r.schedulerGapsMs, 99))} (${r.schedulerGapsMs.length} gaps)`}
        : notMeasured(r.failure ? 'the run failed before this point' : 'no gaps in the log'),
  },
  {
    name: '`batch status` (median of 3)', goal: '≤ 1 s',
    value: (r) => failedOr(r, r.statusMs, (n) => `${(n / 1000).toFixed(2)} s`, (n) => n <= 1000),
  },
  {name: '`batch report --out` (median of 3)', goal: '', value: (r) => failedOr(r, r.reportMs, (n) => `${(n / 1000).toFixed(2)} s`)},
  {name: '`batch complete` (final pass over every mailbox)', goal: '', value: (r) => failedOr(r, r.completeMs, (n) => `${(n / 1000).toFixed(1)} s`)},
  {
    name: `peak RSS of \`batch start\` (${20} copying)`, goal: '≤ 256 MiB',
    value: (r) => failedOr(r, r.peakRssBytes, (n) => `${(n / 2 ** 20).toFixed(0)} MiB`, (n) => n <= RSS_GOAL_BYTES),
  },
  {name: 'copy time (both processes, without the pause at the kill)', goal: '', value: (r) => failedOr(r, r.copySeconds, (n) => `${n.toFixed(0)} s`)},
  {
    name: 'every mailbox verified: lost / duplicated / unexpected', goal: '0 / 0 / 0',
    value: (r) =>
      r.lost === undefined
        ? notMeasured(r.failure ? 'the run failed before verification' : 'no data')
        : {text: `${r.lost} / ${r.duplicated} / ${r.unexpected}`, met: r.lost === 0 && r.duplicated === 0 && r.unexpected === 0},
  },
];

const LAYOUT_TITLES: Record<string, string> = {single: 'single file (today, `MAILFERRY_STATE_LAYOUT=single`)', default: 'new layout (default)'};

function cell(value: {text: string; met?: boolean}): string {
  return value.met === undefined ? value.text : `${value.text} (${value.met ? 'met' : '**not met**'})`;
}

export function scaleTable(run: ScaleRun): string {
  const header = `| figure | goal | ${run.layouts.map((l) => LAYOUT_TITLES[l.layout] ?? l.layout).join(' | ')} |`;
  const rule = `|---|---|${run.layouts.map(() => '---').join('|')}|`;
  const rows = METRICS.map((m) => `| ${m.name} | ${m.goal || '–'} | ${run.layouts.map((l) => cell(m.value(l))).join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}

export function uiTable(run: ScaleRun): string {
  if ('notMeasured' in run.ui) return `UI frame time with ${run.mailboxes} rows: not measured: ${run.ui.notMeasured}.`;
  const lines = [`| UI frame time, ${run.ui.mailboxes} rows in the grid | median ms | p99 ms | goal p99 ≤ 33 ms |`, '|---|---|---|---|'];
  for (const [name, s] of Object.entries(run.ui.scenarios)) lines.push(`| ${name} | ${ms(s.medianMs)} | ${ms(s.p99Ms)} | ${s.p99Ms <= 33 ? 'met' : '**not met**'} |`);
  return lines.join('\n');
}

export function scaleSection(run: ScaleRun, preamble: string[]): string {
  const notes = run.layouts.flatMap((l) => [
    ...(l.failure ? [`- ${l.layout}: FAILED: ${l.failure.split('\n')[0]}`] : []),
    ...l.verifyProblems.slice(0, 5).map((p) => `- ${l.layout}: ${p}`),
    ...(l.writes && l.procWriteBytesPerSecond && l.writes.bytesPerSecond > 1.5 * l.procWriteBytesPerSecond
      ? [`- ${l.layout}: the stats lines add up to ${(l.writes.bytesPerSecond / 1e6).toFixed(1)} MB/s while copying, but the kernel saw the process write ` +
          `${(l.procWriteBytesPerSecond / 1e6).toFixed(1)} MB/s (state and log together): some writes are counted more than once in the stats ` +
          '(flushes that wait behind a running write and are collapsed into it each record its bytes and their wait).']
      : []),
    `- ${l.layout}: ${l.syncedAtKill ?? '?'} mailboxes were Synced at the kill; whole layout run (seeding, servers, every step) ${l.wallSeconds.toFixed(0)} s.`,
  ]);
  return [
    `## --scale ${run.mailboxes}`,
    '',
    ...preamble,
    '',
    scaleTable(run),
    '',
    uiTable(run),
    '',
    ...notes,
    '',
  ].join('\n');
}
