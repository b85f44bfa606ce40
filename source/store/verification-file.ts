// Where the last verification of each mailbox is kept: <stateDir>/batches/<name>.verify/<mailbox>.json,
// one file per mailbox, written atomically (atomic-json-file.ts). Not in the state file: the
// process running the batch rewrites that file whole, and a `batch verify` from another shell (or
// a verification of another mailbox at the same time) must not race it. The directory's name does
// not end in .json, so batch listings never take it for a batch; `batch remove` deletes it with
// the state (batch-store.ts).

import {mkdir, readdir} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {AtomicJsonFile, errorCode} from './atomic-json-file.js';
import {mailboxKey} from './state-schema.js';
import type {MailboxVerification} from './verification-records.js';

// Every function takes the batch's state file (BatchStore.fileFor / store.file): the directory is beside it.

export function verificationDir(stateFile: string): string {
  return `${stateFile.replace(/\.json$/, '')}.verify`;
}

function fileFor(stateFile: string, emailAddress: string): string {
  // Addresses may hold characters a file name should not (a slash in a quoted local part).
  return join(verificationDir(stateFile), `${encodeURIComponent(mailboxKey(emailAddress))}.json`);
}

function parse(raw: unknown): MailboxVerification {
  if (typeof raw !== 'object' || raw === null || typeof (raw as {emailAddress?: unknown}).emailAddress !== 'string' || !Array.isArray((raw as {folders?: unknown}).folders)) {
    throw new Error('not a mailferry verification');
  }
  return raw as MailboxVerification;
}

export async function writeVerification(stateFile: string, verification: MailboxVerification): Promise<void> {
  const file = fileFor(stateFile, verification.emailAddress);
  await mkdir(dirname(file), {recursive: true, mode: 0o700});
  // No .bak rotation: a verification is redone in minutes, a state file is not.
  await new AtomicJsonFile<MailboxVerification>(file, {backupIntervalMs: Number.POSITIVE_INFINITY}).write(verification);
}

/** The last verification of one mailbox, or undefined when there is none (or it cannot be read). */
export async function readVerification(stateFile: string, emailAddress: string): Promise<MailboxVerification | undefined> {
  try {
    return (await new AtomicJsonFile<MailboxVerification>(fileFor(stateFile, emailAddress), {parse}).read()) ?? undefined;
  } catch {
    // A damaged file is as good as none: the next verification replaces it.
    return undefined;
  }
}

/** Every mailbox's last verification, by lower-cased address. */
export async function readVerifications(stateFile: string): Promise<Map<string, MailboxVerification>> {
  const found = new Map<string, MailboxVerification>();
  let files: string[];
  try {
    files = await readdir(verificationDir(stateFile));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return found;
    throw error;
  }
  for (const file of files.filter((entry) => entry.endsWith('.json')).sort()) {
    const email = decodeURIComponent(file.slice(0, -'.json'.length));
    const verification = await readVerification(stateFile, email);
    if (verification) found.set(mailboxKey(verification.emailAddress), verification);
  }
  return found;
}
