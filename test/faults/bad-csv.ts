// Seeded migration CSVs with known mistakes: which lines are bad and how, so a round can demand
// exactly that many errors, each on its own line, and nothing else.

import {SeededRandom} from '../../bench/seeded-random.js';

export const BADNESS = [
  'empty address',
  'address without @',
  'address with two @',
  'address with a space',
  'address without a domain dot',
  'nothing before the @',
  'missing password',
  'missing user name',
  'too few fields',
  'too many fields',
  'text after a quoted value',
] as const;
export type Badness = (typeof BADNESS)[number];

export interface BadCsv {
  text: string;
  /** File line (header = 1) -> what is wrong with it. */
  bad: Map<number, Badness>;
  /** Every password in the file, labelled for findSecrets. */
  secrets: Record<string, string>;
}

function row(random: SeededRandom, i: number, badness: Badness | undefined): {fields: string[]; raw?: string} {
  const email = `user${i}@school${i % 7}.example.test`;
  const user = `user${i}`;
  const password = `pw-${i}-${random.int(100_000, 999_999)}`;
  switch (badness) {
    case undefined:
      return {fields: [email, user, password]};
    case 'empty address':
      return {fields: [random.pick(['', '   ']), user, password]};
    case 'address without @':
      return {fields: [`user${i}.school.example.test`, user, password]};
    case 'address with two @':
      return {fields: [`user${i}@@school.example.test`, user, password]};
    case 'address with a space':
      return {fields: [`user ${i}@school.example.test`, user, password]};
    case 'address without a domain dot':
      return {fields: [`user${i}@localhost`, user, password]};
    case 'nothing before the @':
      return {fields: [`@school${i}.example.test`, user, password]};
    case 'missing password':
      return {fields: [email, user, '']};
    case 'missing user name':
      return {fields: [email, '', password]};
    case 'too few fields':
      return {fields: [email, user]};
    case 'too many fields':
      return {fields: [email, user, password, `extra-${i}`]};
    case 'text after a quoted value':
      return {fields: [], raw: `"user${i}@school"x.example.test,${user},${password}`};
  }
}

/** `rows` user rows, `badRows` of them (seeded lines, seeded kinds) with exactly one mistake each. */
export function badCsv(random: SeededRandom, rows: number, badRows: number): BadCsv {
  const chosen = new Set<number>();
  while (chosen.size < badRows) chosen.add(random.int(0, rows - 1));
  const lines = ['EmailAddress,UserName,Password'];
  const bad = new Map<number, Badness>();
  const secrets: Record<string, string> = {};
  for (let i = 0; i < rows; i++) {
    const badness = chosen.has(i) ? random.pick(BADNESS) : undefined;
    const made = row(random, i, badness);
    lines.push(made.raw ?? made.fields.join(','));
    const line = i + 2;
    if (badness) bad.set(line, badness);
    const password = made.fields[2];
    if (password && password.length >= 6) secrets[`the password on line ${line}`] = password;
  }
  return {text: lines.join('\r\n') + '\r\n', bad, secrets};
}

/** A good CSV of `rows` rows in which `duplicates` addresses appear a second time (seeded case changes). */
export function duplicateCsv(random: SeededRandom, rows: number, duplicates: number): {text: string; pairs: [first: number, second: number][]} {
  const emails: string[] = [];
  for (let i = 0; i < rows; i++) emails.push(`person${i}@example.test`);
  const lines = ['EmailAddress,UserName,Password', ...emails.map((email, i) => `${email},person${i},pw-${i}-${random.int(100_000, 999_999)}`)];
  const used = new Set<number>();
  while (used.size < duplicates) {
    const original = random.int(0, rows - 1);
    if (used.has(original)) continue;
    used.add(original);
    const email = random.chance(0.5) ? emails[original]!.toUpperCase() : emails[original]!;
    // At a seeded place after the original, so the two rows are apart in the file.
    lines.splice(random.int(original + 2, lines.length), 0, `${email},again${original},pw-again-${random.int(100_000, 999_999)}`);
  }
  // Read back from the final file: later insertions move earlier ones down.
  const firstLine = new Map<string, number>();
  const found: [number, number][] = [];
  lines.forEach((line, index) => {
    if (index === 0) return;
    const key = line.split(',')[0]!.toLowerCase();
    const first = firstLine.get(key);
    if (first === undefined) firstLine.set(key, index + 1);
    else found.push([first, index + 1]);
  });
  return {text: lines.join('\n') + '\n', pairs: found};
}
