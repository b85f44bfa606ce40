// The campaign's table: one row per scenario with its rounds, the faults injected by kind, the
// mailboxes and messages checked, lost and duplicated messages, and the mailboxes that ended
// Failed with their reasons (expected ones, like the disk-full round's, marked as such).

import {roundPassed, type RoundResult} from './round-result.js';

interface Row {
  scenario: string;
  rounds: number;
  passed: number;
  faults: Map<string, number>;
  mailboxes: number;
  messages: number;
  lost: number;
  duplicated: number;
  failed: Map<string, number>;
  seconds: number;
}

function rowsOf(results: readonly RoundResult[]): Row[] {
  const rows = new Map<string, Row>();
  for (const result of results) {
    let row = rows.get(result.scenario);
    if (!row) {
      row = {scenario: result.scenario, rounds: 0, passed: 0, faults: new Map(), mailboxes: 0, messages: 0, lost: 0, duplicated: 0, failed: new Map(), seconds: 0};
      rows.set(result.scenario, row);
    }
    row.rounds++;
    if (roundPassed(result)) row.passed++;
    for (const [kind, count] of Object.entries(result.faults)) row.faults.set(kind, (row.faults.get(kind) ?? 0) + count);
    row.mailboxes += result.mailboxes;
    row.messages += result.messages;
    row.lost += result.lost;
    row.duplicated += result.duplicated;
    for (const failed of result.failed) {
      const reason = `${failed.expected ? 'expected' : 'UNEXPECTED'}: ${reasonKind(failed.reason)}`;
      row.failed.set(reason, (row.failed.get(reason) ?? 0) + 1);
    }
    row.seconds += result.seconds;
  }
  return [...rows.values()];
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** A reason without what differs from mailbox to mailbox (addresses, ports, folders), so alike ones add up. */
function reasonKind(reason: string): string {
  return reason
    .split('\n')[0]!
    .replace(/^(\w[\w-]*): (source|target) \/ [^/]+ \/ [^:]+: /, '$1: $2: ')
    .replace(/[\w.+-]+@[\w.-]+/g, 'MAILBOX')
    .replace(/(\d+\.\d+\.\d+\.\d+):\d+/g, '$1')
    .replace(/"[^"]*"/g, '"FOLDER"')
    .slice(0, 90);
}

/** The table as Markdown (it reads as plain text too), followed by a totals line. */
export function campaignTable(results: readonly RoundResult[]): string {
  const rows = rowsOf(results);
  const lines = [
    '| scenario | rounds (passed) | faults injected by kind | mailboxes | messages | lost | duplicated | mailboxes Failed, with reason | time |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const faults = [...row.faults].sort((a, b) => b[1] - a[1]).map(([kind, count]) => `${kind}: ${count}`).join('; ') || '-';
    const failed = [...row.failed].map(([reason, count]) => `${count} x ${reason}`).join('; ') || '0';
    lines.push(
      `| ${row.scenario} | ${row.rounds} (${row.passed}) | ${cell(faults)} | ${row.mailboxes} | ${row.messages} | ${row.lost} | ${row.duplicated} | ${cell(failed)} | ${Math.round(row.seconds)} s |`,
    );
  }
  const total = (pick: (row: Row) => number) => rows.reduce((sum, row) => sum + pick(row), 0);
  const faults = total((row) => [...row.faults.values()].reduce((a, b) => a + b, 0));
  lines.push(
    '',
    `total: ${total((r) => r.rounds)} rounds, ${total((r) => r.passed)} passed, ${faults} faults injected, ` +
      `${total((r) => r.messages)} messages checked, ${total((r) => r.lost)} lost, ${total((r) => r.duplicated)} duplicated`,
  );
  return lines.join('\n');
}
