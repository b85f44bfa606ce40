// What every benchmarked tool (mailferry, mbsync, doveadm) is given for one run, and what it
// must do: copy the listed mailboxes from source to target, one after another or N at a time.

import type {DovecotServer} from '../../test/helpers/dovecot-pair.js';
import type {CorpusMailbox} from '../corpus.js';
import type {Measured} from '../measure.js';
import type {KnownDeviations} from '../verify.js';

export type ToolName = 'mailferry' | 'mbsync' | 'doveadm';
export type Mode = 'sequential' | 'parallel';

export interface HostPort {
  host: string;
  port: number;
}

export interface RunSpec {
  mode: Mode;
  /** Mailboxes synced at once in parallel mode. */
  concurrency: number;
  mailboxes: CorpusMailbox[];
  /** Where the tool connects: the server itself or a delay proxy in front of it. */
  source: HostPort;
  target: HostPort;
  sourceServer: DovecotServer;
  targetServer: DovecotServer;
  /** Private directory of this scenario: configs and sync state, kept for the no-change rerun. */
  workDir: string;
  timeoutMs: number;
  /** When set, a Node tool writes V8 CPU profiles (--cpu-prof) here. */
  profileDir?: string;
}

export interface ToolRunner {
  name: ToolName;
  /** Version string for RESULTS.md. */
  version(): Promise<string>;
  /** The first copy into an empty target. */
  fullSync(spec: RunSpec): Promise<Measured>;
  /** The same again with nothing new on the source, using the state the first pass left. */
  noChangeSync(spec: RunSpec): Promise<Measured>;
  /**
   * For a tool that keeps running between passes: `rounds` no-change passes inside one running
   * process, each timed from the request to its result on disk. wallSeconds of each is one pass.
   */
  noChangeInRunningProcess?(spec: RunSpec, rounds: number): Promise<Measured[]>;
  /** Documented changes the tool makes to copies; the spot check tolerates exactly these. */
  deviations?: KnownDeviations;
  /** Why a latency placement does not apply to this tool, if it does not. */
  notApplicable?(delayed: 'source' | 'target'): string | undefined;
}

/** Runs `task` for each item, `concurrency` at a time, in order of the list. */
export async function eachLimited<T, R>(items: T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({length: Math.min(concurrency, items.length)}, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    }),
  );
  return results;
}

/**
 * The order in which `count` tools run in attempt `attempt` (1-based): each attempt starts with
 * the next tool (0 1 2, 1 2 0, 2 0 1), so over as many attempts as tools each one runs first,
 * and in every other place, once.
 */
export function turnOrder(count: number, attempt: number): number[] {
  const shift = (attempt - 1) % Math.max(1, count);
  return Array.from({length: count}, (_, i) => (i + shift) % count);
}
