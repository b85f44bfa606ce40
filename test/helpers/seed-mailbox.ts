// Fills a test server's mailbox over IMAP (as the master user, like an admin would) and reads it
// back as hashes, so tests can compare a migrated target with its source byte for byte.

import { createHash } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import type { DovecotServer } from './dovecot-pair.js';
import { defaultSpecialUse, type SpecialUseRole } from './dovecot-config.js';
import type { SeedSpec } from './realistic-mailbox.js';

export { buildMessage, type BuildMessageOptions } from './build-message.js';
export { realisticMailbox, EMPTY_FOLDER, type SeedMessage, type SeedSpec, type RealisticMailboxOptions } from './realistic-mailbox.js';

export interface StoredMessage {
  uid: number;
  /** sorted; \Recent is left out because it is session state, not a copyable flag */
  flags: string[];
  /** ISO 8601 (UTC) */
  internalDate: string;
  size: number;
  sha256: string;
}

/** An authenticated client for `login` on the server (via the master user unless asMaster is false). */
export async function openClient(
  server: DovecotServer,
  login: string,
  options: { asMaster?: boolean } = {},
): Promise<ImapFlow> {
  const asMaster = options.asMaster ?? true;
  const password = asMaster ? server.masterPassword : server.users[login];
  if (password === undefined) throw new Error(`openClient: ${login} is not a user of the ${server.role} test server`);
  const client = new ImapFlow({
    host: server.host,
    port: server.imapPort,
    secure: false,
    doSTARTTLS: false,
    logger: false,
    disableAutoIdle: true,
    auth: { user: asMaster ? `${login}${server.masterSeparator}${server.masterUser}` : login, pass: password },
  });
  await client.connect();
  return client;
}

/** What the server advertises to `login` after login, to check that a test server lacks what a test needs it to lack. */
export async function serverCapabilities(server: DovecotServer, login: string, options: { asMaster?: boolean } = {}): Promise<string[]> {
  const client = await openClient(server, login, options);
  try {
    return [...client.capabilities.keys()];
  } finally {
    await client.logout();
  }
}

/** Translates a seed folder ('Projects/2024', '\\Sent', 'INBOX') to the server's own name. */
export function serverFolderName(server: DovecotServer, folder: string): string {
  if (folder.startsWith('\\')) {
    const role = folder as SpecialUseRole;
    const name = server.specialUse[role] ?? defaultSpecialUse[role];
    if (!name) throw new Error(`seed folder ${folder}: not a special-use role (use \\Sent, \\Drafts, \\Trash, \\Junk or \\Archive)`);
    return server.prefix + name;
  }
  const parts = folder.split('/');
  if (parts[0]!.toUpperCase() === 'INBOX') {
    if (parts.length === 1) return 'INBOX';
    // With prefix 'INBOX.' every folder already lives under INBOX.
    if (server.prefix === 'INBOX.') parts.shift();
    else parts[0] = 'INBOX';
  }
  if (server.separator === '.' && parts.some((p) => p.includes('.'))) {
    throw new Error(`seed folder ${folder}: '.' is the hierarchy separator on this server, a name cannot contain it`);
  }
  return server.prefix + parts.join(server.separator);
}

function ancestors(folder: string): string[] {
  if (folder.startsWith('\\')) return [folder];
  const parts = folder.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

async function createFolder(client: ImapFlow, name: string): Promise<void> {
  if (name === 'INBOX') return;
  try {
    await client.mailboxCreate(name);
  } catch (error) {
    // Special-use folders are auto-created by the server config; ALREADYEXISTS is fine.
    const e = error as { serverResponseCode?: string; responseText?: string };
    if (e.serverResponseCode !== 'ALREADYEXISTS' && !/already exists/i.test(e.responseText ?? '')) {
      throw new Error(`seeding: CREATE ${name} failed: ${e.responseText ?? String(error)}`);
    }
  }
}

export async function seedMailbox(server: DovecotServer, login: string, spec: SeedSpec): Promise<void> {
  const client = await openClient(server, login);
  try {
    const created = new Set<string>();
    const allFolders = [...spec.folders, ...spec.messages.map((m) => m.folder)];
    for (const folder of allFolders) {
      for (const level of ancestors(folder)) {
        const name = serverFolderName(server, level);
        if (created.has(name)) continue;
        created.add(name);
        await createFolder(client, name);
      }
    }
    if (spec.subscribe) {
      // imapflow subscribes every folder it creates; the spec decides which stay subscribed.
      const wanted = new Set(spec.subscribe.map((f) => serverFolderName(server, f)));
      for (const name of created) {
        if (name !== 'INBOX' && !wanted.has(name)) await client.mailboxUnsubscribe(name);
      }
      for (const name of wanted) await client.mailboxSubscribe(name);
    }
    for (const message of spec.messages) {
      const name = serverFolderName(server, message.folder);
      const result = await client.append(name, message.raw, message.flags ?? [], message.internalDate);
      if (!result) throw new Error(`seeding: APPEND to ${name} for ${login} was refused`);
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

// Messages up to this size are fetched in one go, bigger ones in slices of this size, so a
// 30 MB message never sits in memory whole.
const CHUNK_BYTES = 4 * 1024 * 1024;

async function hashLargeMessage(client: ImapFlow, uid: number, size: number): Promise<string> {
  const hash = createHash('sha256');
  for (let start = 0; start < size; start += CHUNK_BYTES) {
    const part = await client.fetchOne(String(uid), { source: { start, maxLength: CHUNK_BYTES } }, { uid: true });
    if (!part || !part.source) throw new Error(`readMailbox: message UID ${uid} vanished while reading it`);
    hash.update(part.source);
  }
  return hash.digest('hex');
}

export async function readMailbox(server: DovecotServer, login: string): Promise<Map<string, StoredMessage[]>> {
  const client = await openClient(server, login);
  const result = new Map<string, StoredMessage[]>();
  try {
    const folders = (await client.list()).filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'));
    folders.sort((a, b) => a.path.localeCompare(b.path));
    for (const folder of folders) {
      const mailbox = await client.mailboxOpen(folder.path, { readOnly: true });
      const messages: StoredMessage[] = [];
      const large: StoredMessage[] = [];
      if (mailbox.exists > 0) {
        for await (const m of client.fetch('1:*', { uid: true, flags: true, internalDate: true, size: true }, { uid: false })) {
          messages.push({
            uid: m.uid,
            flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(),
            internalDate: new Date(m.internalDate ?? 0).toISOString(),
            size: m.size ?? 0,
            sha256: '',
          });
        }
        messages.sort((a, b) => a.uid - b.uid);
        const small = messages.filter((m) => m.size <= CHUNK_BYTES);
        large.push(...messages.filter((m) => m.size > CHUNK_BYTES));
        if (small.length > 0) {
          const byUid = new Map(small.map((m) => [m.uid, m]));
          for await (const m of client.fetch(small.map((s) => s.uid).join(','), { uid: true, source: true }, { uid: true })) {
            const entry = byUid.get(m.uid);
            if (entry && m.source) entry.sha256 = createHash('sha256').update(m.source).digest('hex');
          }
        }
        for (const entry of large) entry.sha256 = await hashLargeMessage(client, entry.uid, entry.size);
      }
      result.set(folder.path, messages);
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return result;
}
