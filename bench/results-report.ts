// Turns the bench's measurements into the one table the issue asks for, the ceiling share and
// the targets (met / not met), as Markdown: printed to the console and written to RESULTS.md.

export type Latency = 'loopback' | 'target +25 ms' | 'source +25 ms';

export interface ResultRow {
  tool: string;
  mode: string;
  latency: Latency;
  wallSeconds: number;
  /** Messages and bytes moved (0 for a no-change pass). */
  messages: number;
  bytes: number;
  peakRssBytes?: number;
  cpuSeconds?: number;
  verified: boolean;
  /** Failures and verification problems, shown under the table. */
  notes: string[];
}

export interface CeilingRow {
  kind: 'drain' | 'absorb';
  connections: string;
  messages: number;
  bytes: number;
  seconds: number;
  peakRssBytes?: number;
  cpuSeconds?: number;
}

export interface ReportInput {
  title: string;
  preamble: string[];
  rows: ResultRow[];
  ceiling: CeilingRow[];
  footnotes: string[];
}

/** The mode of the row that times a no-change pass inside a process that keeps running. */
export const NO_CHANGE_RUNNING = 'no-change, running batch';

const MB = 1e6;
/** Memory is reported in MiB, as the kernel counts it (and as the 256 MB target means it). */
const MIB = 2 ** 20;

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

export function messagesPerSecond(row: {messages: number; wallSeconds: number}): number | undefined {
  return row.messages > 0 && row.wallSeconds > 0 ? row.messages / row.wallSeconds : undefined;
}

export function resultsTable(rows: ResultRow[]): string {
  const lines = [
    '| tool | mode | latency | wall s | messages/s | MB/s | peak RSS MiB | CPU s | verified |',
    '|---|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    const moved = row.messages > 0;
    lines.push(
      `| ${row.tool} | ${row.mode} | ${row.latency} | ${fixed(row.wallSeconds, 2)} | ${fixed(messagesPerSecond(row), 0)} | ` +
        `${moved ? fixed(row.bytes / MB / row.wallSeconds, 1) : '—'} | ${fixed(row.peakRssBytes && row.peakRssBytes / MIB, 0)} | ` +
        `${fixed(row.cpuSeconds, 1)} | ${row.verified ? 'yes' : '**NO**'} |`,
    );
  }
  return lines.join('\n');
}

export function ceilingTable(rows: CeilingRow[]): string {
  const lines = ['| ceiling | connections | wall s | messages/s | MB/s | peak RSS MiB | CPU s |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const row of rows) {
    lines.push(
      `| ${row.kind} | ${row.connections} | ${fixed(row.seconds, 2)} | ${fixed(row.messages / row.seconds, 0)} | ${fixed(row.bytes / MB / row.seconds, 1)} | ` +
        `${fixed(row.peakRssBytes && row.peakRssBytes / MIB, 0)} | ${fixed(row.cpuSeconds, 1)} |`,
    );
  }
  return lines.join('\n');
}

export interface TargetVerdict {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function find(rows: ResultRow[], tool: string, mode: string, latency: Latency): ResultRow | undefined {
  return rows.find((r) => r.tool === tool && r.mode === mode && r.latency === latency);
}

/** The targets, each judged only when both runs exist and were verified. */
export function evaluateTargets(rows: ResultRow[], memoryMode: string, memoryLimitBytes: number): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  for (const latency of ['loopback', 'target +25 ms', 'source +25 ms'] as const) {
    const ours = find(rows, 'mailferry', 'parallel', latency);
    const theirs = find(rows, 'mbsync', 'parallel', latency);
    const target = `4 mailboxes in parallel, ${latency}: mailferry ≥ 1.25 × mbsync messages/s`;
    const a = ours && messagesPerSecond(ours);
    const b = theirs && messagesPerSecond(theirs);
    if (!ours || !theirs || a === undefined || b === undefined) {
      verdicts.push({target, measured: 'not measured in this run', met: undefined});
      continue;
    }
    const ratio = a / b;
    const bothVerified = ours.verified && theirs.verified;
    verdicts.push({
      target,
      measured: `${a.toFixed(0)} vs ${b.toFixed(0)} msg/s = ${ratio.toFixed(2)}×${bothVerified ? '' : ' (a run did not verify)'}`,
      met: bothVerified && ratio >= 1.25,
    });
  }
  const theirsNoChange = find(rows, 'mbsync', 'no-change', 'loopback');
  for (const [mode, how] of [
    [NO_CHANGE_RUNNING, 'in the running batch (how mailferry runs incremental passes)'],
    ['no-change', 'as a new process (`batch sync-now`, no batch running)'],
  ] as const) {
    const ours = find(rows, 'mailferry', mode, 'loopback');
    const target = `No-change incremental pass, mailferry ${how}: no slower than mbsync`;
    verdicts.push(
      ours && theirsNoChange
        ? {
            target,
            measured: `${ours.wallSeconds.toFixed(3)} s vs ${theirsNoChange.wallSeconds.toFixed(3)} s (medians)`,
            met: ours.verified && theirsNoChange.verified && ours.wallSeconds <= theirsNoChange.wallSeconds,
          }
        : {target, measured: 'not measured in this run', met: undefined},
    );
  }
  const memory = rows.find((r) => r.tool === 'mailferry' && r.mode === memoryMode);
  const limitMib = memoryLimitBytes / MIB;
  verdicts.push(
    memory && memory.peakRssBytes !== undefined
      ? {
          target: `Memory: 20 mailboxes at once with 30 MB messages, peak RSS ≤ ${limitMib.toFixed(0)} MiB`,
          measured: `${(memory.peakRssBytes / MIB).toFixed(0)} MiB${memory.verified ? '' : ' (run did not verify)'}`,
          met: memory.verified && memory.peakRssBytes <= memoryLimitBytes,
        }
      : {target: `Memory: 20 mailboxes at once with 30 MB messages, peak RSS ≤ ${limitMib.toFixed(0)} MiB`, measured: 'not measured in this run', met: undefined},
  );
  return verdicts;
}

export function targetsTable(verdicts: TargetVerdict[]): string {
  const lines = ['| target | measured | result |', '|---|---|---|'];
  for (const v of verdicts) lines.push(`| ${v.target} | ${v.measured} | ${v.met === undefined ? 'not measured' : v.met ? 'met' : '**not met**'} |`);
  return lines.join('\n');
}

/** mailferry's parallel loopback messages/s as a share of the ceiling: the slower of the best
 *  drain and the best absorb (a copy cannot be faster than either side). */
export function ceilingShare(rows: ResultRow[], ceiling: CeilingRow[]): string | undefined {
  const ours = find(rows, 'mailferry', 'parallel', 'loopback');
  const rate = ours && messagesPerSecond(ours);
  const rateOf = (row: CeilingRow) => row.messages / row.seconds;
  const best = (kind: CeilingRow['kind']) =>
    ceiling.filter((row) => row.kind === kind).reduce<CeilingRow | undefined>((a, b) => (!a || rateOf(b) > rateOf(a) ? b : a), undefined);
  const drain = best('drain');
  const absorb = best('absorb');
  if (!ours || !rate || !drain || !absorb) return undefined;
  const limit = rateOf(drain) < rateOf(absorb) ? drain : absorb;
  const bytesShare = ours.bytes / ours.wallSeconds / (limit.bytes / limit.seconds);
  const above = rows.filter((row) => row.mode === 'parallel' && row.latency === 'loopback' && (messagesPerSecond(row) ?? 0) > rateOf(limit));
  return (
    `mailferry (parallel, loopback) moves ${rate.toFixed(0)} msg/s = **${((rate / rateOf(limit)) * 100).toFixed(0)}% of the ceiling** ` +
    `(${limit.kind}, ${limit.connections}: ${rateOf(limit).toFixed(0)} msg/s; ${(bytesShare * 100).toFixed(0)}% by bytes).` +
    (above.length
      ? ` ${above.map((row) => row.tool).join(' and ')} ran faster than this ceiling: the machine was busier while the ceiling was measured` +
        ' (see the load average), so read the share as an upper bound.'
      : '')
  );
}

export function renderReport(input: ReportInput, verdicts: TargetVerdict[]): string {
  const notes = input.rows.flatMap((row) => row.notes.map((note) => `- ${row.tool} ${row.mode} ${row.latency}: ${note}`));
  const share = ceilingShare(input.rows, input.ceiling);
  return [
    `# ${input.title}`,
    '',
    ...input.preamble,
    '',
    '## Results',
    '',
    resultsTable(input.rows),
    '',
    ...(input.ceiling.length ? ['## Ceiling', '', ceilingTable(input.ceiling), '', ...(share ? [share, ''] : [])] : []),
    '## Targets',
    '',
    targetsTable(verdicts),
    '',
    ...(notes.length ? ['## Run notes', '', ...notes, ''] : []),
    ...(input.footnotes.length ? ['## How to read this', '', ...input.footnotes.map((f) => `- ${f}`), ''] : []),
  ].join('\n');
}
