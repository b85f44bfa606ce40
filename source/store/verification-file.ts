// Where the last verification of each mailbox is kept: <stateDir>/batches/<name>.verify/<mailbox>.json,
// one file per mailbox, written atomically (atomic-json-file.ts). Not in the state file: the
// process running the batch rewrites that file whole, and a `batch verify` from another shell (or
// a verification of another mailbox at the same time) must not race it. The directory's name does
// not end in .json, so batch listings never take it for a batch.

import {mkdir, readdir, rm} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {AtomicJsonFile, errorCode} from './atomic-json-file.js';
import {BatchStore} from './batch-store.js';
import {mailboxKey} from './state-schema.js';
import type {MailboxVerification} from './verification-records.js';

export function verificationDir(stateDir: string, name: string): string {
  return `${BatchStore.fileFor(stateDir, name).slice(0, -'.json'.length)}.verify`;
}

function fileFor(stateDir: string, name: string, emailAddress: string): string {
  // Addresses may hold characters a file name should not (a slash in a quoted local part).
  return join(verificationDir(stateDir, name), `${encodeURIComponent(mailboxKey(emailAddress))}.json`);
}

function parse(raw: unknown): MailboxVerification {
  if (typeof raw !== 'object' || raw === null || typeof (raw as {emailAddress?: unknown}).emailAddress !== 'string' || !Array.isArray((raw as {folders?: unknown}).folders)) {
    throw new Error('not a mailferry verification');
  }
  return raw as MailboxVerification;
}

export async function writeVerification(stateDir: string, name: string, verification: MailboxVerification): Promise<void> {
  const file = fileFor(stateDir, name, verification.emailAddress);
  await mkdir(dirname(file), {recursive: true, mode: 0o700});
  // No .bak rotation: a verification is redone in minutes, a state file is not.
  await new AtomicJsonFile<MailboxVerification>(file, {backupIntervalMs: Number.POSITIVE_INFINITY}).write(verification);
}

/** The last verification of one mailbox, or undefined when there is none (or it cannot be read). */
export async function readVerification(stateDir: string, name: string, emailAddress: string): Promise<MailboxVerification | undefined> {
  try {
    return (await new AtomicJsonFile<MailboxVerification>(fileFor(stateDir, name, emailAddress), {parse}).read()) ?? undefined;
  } catch {
    // A damaged file is as good as none: the next verification replaces it.
    return undefined;
  }
}

/** Every mailbox's last verification, by lower-cased address. */
export async function readVerifications(stateDir: string, name: string): Promise<Map<string, MailboxVerification>> {
  const found = new Map<string, MailboxVerification>();
  let files: string[];
  try {
    files = await readdir(verificationDir(stateDir, name));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return found;
    throw error;
  }
  for (const file of files.filter((entry) => entry.endsWith('.json')).sort()) {
    const email = decodeURIComponent(file.slice(0, -'.json'.length));
    const verification = await readVerification(stateDir, name, email);
    if (verification) found.set(mailboxKey(verification.emailAddress), verification);
  }
  return found;
}

/** With the batch: a later batch of the same name must not show these. */
export async function removeVerifications(stateDir: string, name: string): Promise<void> {
  await rm(verificationDir(stateDir, name), {recursive: true, force: true});
}
