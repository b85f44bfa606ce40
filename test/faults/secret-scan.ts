// Looks for passwords and tokens where mailferry must never write them: every file under the state
// directory (state, logs, reports, verification results), any text the round captured (stdout,
// stderr, UI frames, error messages) and the process list while mailferry runs.

import {execFile} from 'node:child_process';
import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {promisify} from 'node:util';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {withFileTypes: true, recursive: true}).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * Every place a secret shows up, as "SECRET-LABEL in PLACE". `secrets` maps a label that is safe
 * to print (e.g. "alice's source password") to the secret itself; secrets shorter than 6
 * characters are refused, since they would match by chance.
 */
export async function findSecrets(
  secrets: Readonly<Record<string, string>>,
  places: {dirs?: readonly string[]; files?: readonly string[]; texts?: Readonly<Record<string, string>>},
): Promise<string[]> {
  const wanted = Object.entries(secrets);
  for (const [label, secret] of wanted) if (secret.length < 6) throw new Error(`findSecrets: the secret labelled ${label} is too short to search for`);
  const found: string[] = [];
  const search = (place: string, text: string) => {
    for (const [label, secret] of wanted) if (text.includes(secret)) found.push(`${label} in ${place}`);
  };
  const files = [...(places.files ?? [])];
  for (const dir of places.dirs ?? []) files.push(...(await filesUnder(dir)));
  for (const file of files) {
    const bytes = await readFile(file).catch(() => undefined);
    if (bytes) search(file, bytes.toString('latin1'));
  }
  for (const [place, text] of Object.entries(places.texts ?? {})) search(place, text);
  return found;
}

/** The command lines of every process, once (`ps -eo args`), for findSecrets' texts. */
export async function processListSnapshot(): Promise<string> {
  const {stdout} = await promisify(execFile)('ps', ['-eo', 'args'], {maxBuffer: 16 * 1024 * 1024});
  return stdout;
}
