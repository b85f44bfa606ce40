// Where a Node process spent its time, from a V8 .cpuprofile (node --cpu-prof): self time per
// package / file and the hottest functions, plus the idle share (waiting on the network rather
// than computing). `npm run bench -- --profile` writes mailferry's profiles and prints this.
//
//   node --import tsx bench/cpu-profile-summary.ts FILE.cpuprofile [--top 25] [--callers FUNCTION]

import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: {functionName: string; url: string; lineNumber: number};
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Groups a frame: a package under node_modules, a node: builtin, a file of ours, or V8's own. */
function category(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nodeModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nodeModules) return nodeModules[1]!;
  if (url.startsWith('node:')) return url;
  const ours = /\/(dist|source|bench)\/(.+)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

export function summarise(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfMicros.values()].reduce((sum, t) => sum + t, 0);
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)!.callFrame;
    const group = category(frame.url, frame.functionName);
    categories.set(group, (categories.get(group) ?? 0) + micros);
    const name = `${frame.functionName || '(anonymous)'} ${frame.url ? `${category(frame.url, '')}:${frame.lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + micros);
  }
  const share = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)}%  ${(micros / 1e6).toFixed(2).padStart(7)} s`;
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const idle = categories.get('(idle)') ?? 0;
  return [
    `profile: ${(total / 1e6).toFixed(2)} s sampled, ${((1 - idle / total) * 100).toFixed(0)}% busy (the rest idle, waiting on I/O)`,
    '',
    'self time by package / file:',
    ...sorted(categories).map(([name, micros]) => `  ${share(micros)}  ${name}`),
    '',
    'hottest functions (self time):',
    ...sorted(functions).map(([name, micros]) => `  ${share(micros)}  ${name}`),
  ].join('\n');
}

/** Self time of functions named `name`, by the chain of callers above them (`depth` frames). */
export function callers(profile: CpuProfile, name: string, depth = 4, top = 15): string {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const chains = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    if (byId.get(id)!.callFrame.functionName !== name) return;
    const micros = profile.timeDeltas[i] ?? 0;
    total += micros;
    const frames: string[] = [];
    for (let up = parent.get(id); up !== undefined && frames.length < depth; up = parent.get(up)) {
      const frame = byId.get(up)!.callFrame;
      frames.push(`${frame.functionName || '(anonymous)'}${frame.url ? ` ${category(frame.url, '')}:${frame.lineNumber + 1}` : ''}`);
    }
    const chain = frames.join(' < ');
    chains.set(chain, (chains.get(chain) ?? 0) + micros);
  });
  return [
    `${name}: ${(total / 1e6).toFixed(2)} s self time, called from:`,
    ...[...chains.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([chain, micros]) => `  ${(micros / 1e6).toFixed(2).padStart(6)} s  ${chain}`),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: cpu-profile-summary.ts FILE.cpuprofile [--top N] [--callers FUNCTION]\n');
    process.exit(2);
  }
  const option = (flag: string) => {
    const index = process.argv.indexOf(flag);
    return index > 0 ? process.argv[index + 1] : undefined;
  };
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const name = option('--callers');
  process.stdout.write(`${name ? callers(profile, name) : summarise(profile, Number(option('--top') ?? 25))}\n`);
}
