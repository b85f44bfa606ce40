// What one round of the fault campaign measured, in the terms of the campaign's table: which
// faults were injected, how many mailboxes and messages the exact check covered, what it found
// lost or duplicated, which mailboxes ended Failed and why, and anything else the round saw wrong.

export interface FailedMailbox {
  mailbox: string;
  /** The error kind and text mailferry gave (state file or report), e.g. "quota: ..." */
  reason: string;
  /** True when the round set out to make this mailbox fail (the disk-full round's mailbox). */
  expected: boolean;
}

export interface RoundResult {
  /** The scenario: 'kill', 'cut', 'restart', 'disk-full', 'state-file', 'bad-input', ... */
  scenario: string;
  round: number;
  /** The seed this round ran with: `npm run faults -- --only SCENARIO --seed S --rounds 1` replays it. */
  seed: number;
  /** Fault kind -> how many were injected, e.g. {'kill -9': 1} or {'cut rst target->client': 2}. */
  faults: Record<string, number>;
  mailboxes: number;
  /** Source messages the exact check compared (0 for rounds that copy nothing). */
  messages: number;
  lost: number;
  duplicated: number;
  failed: FailedMailbox[];
  /** Everything else the round found wrong (exact-check differences, bad exit codes, leaked secrets). Empty: the round passed. */
  problems: string[];
  seconds: number;
}

/** A round's result before it has measured anything. */
export function emptyRound(scenario: string, round: number, seed: number): RoundResult {
  return {scenario, round, seed, faults: {}, mailboxes: 0, messages: 0, lost: 0, duplicated: 0, failed: [], problems: [], seconds: 0};
}

/** A round passed: nothing lost or duplicated, no unexpected Failed mailbox, no other problem. */
export function roundPassed(result: RoundResult): boolean {
  return result.lost === 0 && result.duplicated === 0 && result.problems.length === 0 && result.failed.every((failed) => failed.expected);
}

export interface ScenarioOptions {
  rounds: number;
  seed: number;
  /** Progress lines (one per round), for the campaign's console or a test's diagnostics. */
  report: (line: string) => void;
}

/** Runs `rounds` rounds of one scenario, each with its own seed derived from `seed`. */
export type Scenario = (options: ScenarioOptions) => Promise<RoundResult[]>;

/** The seed of round `round` of a campaign seeded with `seed` (round 0 runs with `seed` itself, so a printed seed replays alone). */
export function roundSeed(seed: number, round: number): number {
  return (seed + Math.imul(round, 0x9e3779b1)) >>> 0;
}

/** For scenarios whose rounds take their kinds in turn, starting where the seed says. */
export function kindInTurn<K>(kinds: readonly K[], seed: number, round: number): K {
  return kinds[(seed + round) % kinds.length]!;
}

/** One line per round for progress output. */
export function describeRound(result: RoundResult): string {
  const faults = Object.entries(result.faults).map(([kind, count]) => `${kind} x${count}`).join(', ') || 'none';
  const failed = result.failed.map((f) => `${f.mailbox} Failed (${f.expected ? 'expected' : 'UNEXPECTED'}): ${f.reason}`);
  const verdict = roundPassed(result) ? 'ok' : 'FAILED';
  return (
    `${result.scenario} round ${result.round} seed ${result.seed}: ${verdict} in ${result.seconds.toFixed(1)} s; faults: ${faults}; ` +
    `${result.mailboxes} mailboxes, ${result.messages} messages, lost ${result.lost}, duplicated ${result.duplicated}` +
    [...failed, ...result.problems].map((line) => `\n    ${line}`).join('')
  );
}
