// Instrumentation for the bench: with MAILFERRY_STATE_STATS=FILE, every state write (one flush,
// whatever files it writes) appends one JSON line to FILE, so a run can be judged on the cost of
// its state writes (duration, bytes, files) without a profiler. Off (no cost) when unset.

import {appendFileSync} from 'node:fs';

export type StateLayout = 'single' | 'sharded';

export interface StateWriteStat {
  at: string;
  /** Duration of the whole flush, serialisation included. */
  ms: number;
  bytes: number;
  files: number;
  layout: StateLayout;
}

/** MAILFERRY_STATE_LAYOUT=single keeps today's one-file layout (v1), for the bench to compare; default sharded. */
export function stateLayoutFromEnv(env: NodeJS.ProcessEnv = process.env): StateLayout {
  return env['MAILFERRY_STATE_LAYOUT'] === 'single' ? 'single' : 'sharded';
}

export function recordStateWrite(startedAt: number, bytes: number, files: number, layout: StateLayout, env: NodeJS.ProcessEnv = process.env): void {
  const file = env['MAILFERRY_STATE_STATS'];
  if (!file) return;
  const stat: StateWriteStat = {at: new Date().toISOString(), ms: Math.round((performance.now() - startedAt) * 1000) / 1000, bytes, files, layout};
  try {
    appendFileSync(file, `${JSON.stringify(stat)}\n`);
  } catch {
    // Instrumentation must never fail a state write.
  }
}
