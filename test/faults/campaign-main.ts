// `npm run faults`: the long fault campaign. Runs every scenario (or those named with --only) for
// --rounds rounds each (each scenario's own default otherwise), prints a line per round as it
// ends and the table at the end, and exits 1 when any round lost or duplicated a message or
// found another problem. Seeded: a round's line names its seed, and
// `npm run faults -- --only SCENARIO --seed S --rounds 1` replays it.
//
//   npm run faults -- [--rounds N | --rounds kill=20,cut=50] [--only kill,cut,...] [--seed S] [--out FILE.md] [--list]

import {writeFile} from 'node:fs/promises';
import {parseArgs} from 'node:util';
import {campaignTable} from './campaign-table.js';
import {describeRound, roundPassed, type RoundResult} from './round-result.js';
import {SCENARIOS} from './scenarios.js';

const usage = 'usage: npm run faults -- [--rounds N | --rounds NAME=N,NAME=N] [--only NAME,NAME] [--seed S] [--out FILE.md] [--list]';

async function main(): Promise<number> {
  let values;
  try {
    ({values} = parseArgs({
      options: {rounds: {type: 'string'}, only: {type: 'string'}, seed: {type: 'string'}, out: {type: 'string'}, list: {type: 'boolean'}, help: {type: 'boolean'}},
      strict: true,
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (values.list) {
    for (const entry of SCENARIOS) console.log(`${entry.name} (${entry.defaultRounds} rounds by default): ${entry.summary}`);
    return 0;
  }
  // --rounds 20 for every scenario, or per scenario: --rounds kill=20,cut=50
  const perScenario = new Map<string, number>();
  let rounds: number | undefined;
  for (const part of values.rounds?.split(',') ?? []) {
    const [name, count] = part.includes('=') ? part.split('=') : [undefined, part];
    const value = Number(count);
    if (!Number.isInteger(value) || value < 1) {
      console.error(`--rounds takes whole numbers of at least 1 (N, or NAME=N,NAME=N), not ${values.rounds}\n${usage}`);
      return 2;
    }
    if (name === undefined) rounds = value;
    else perScenario.set(name.trim(), value);
  }
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) {
    console.error(`--seed must be a whole number of at least 0, not ${values.seed}\n${usage}`);
    return 2;
  }
  const only = values.only?.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = [...(only ?? []), ...perScenario.keys()].filter((name) => !SCENARIOS.some((entry) => entry.name === name));
  if (unknown.length) {
    console.error(`no scenario called ${unknown.join(', ')}; there are: ${SCENARIOS.map((entry) => entry.name).join(', ')}`);
    return 2;
  }
  const chosen = SCENARIOS.filter((entry) => !only || only.includes(entry.name));
  const roundsOf = (entry: (typeof SCENARIOS)[number]) => perScenario.get(entry.name) ?? rounds ?? entry.defaultRounds;
  console.log(`fault campaign, seed ${seed}: ${chosen.map((entry) => `${entry.name} x${roundsOf(entry)}`).join(', ')}`);
  const results: RoundResult[] = [];
  for (const entry of chosen) {
    const ran = await entry.run({rounds: roundsOf(entry), seed, report: (line) => console.log(line)});
    for (const result of ran) console.log(describeRound(result));
    results.push(...ran);
  }
  const table = campaignTable(results);
  console.log(`\n${table}`);
  if (values.out) await writeFile(values.out, `# Fault campaign, seed ${seed}, ${new Date().toISOString()}\n\n${table}\n`);
  return results.every(roundPassed) ? 0 : 1;
}

process.exitCode = await main();
