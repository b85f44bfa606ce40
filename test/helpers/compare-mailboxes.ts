// Compares a migrated target mailbox with its source, folder by folder: the same messages byte for
// byte (multisets of sha256, so a duplicate on the target shows up), the same flags and internal
// dates, the same folder tree. The folder translation is worked out here from the test servers'
// own configuration, independently of the engine's mapping code, so a mapping bug cannot hide.

import type {DovecotServer} from './dovecot-pair.js';
import {openClient, serverFolderName, type StoredMessage} from './seed-mailbox.js';
import type {SpecialUseRole} from './dovecot-config.js';

export type MailboxContent = Map<string, StoredMessage[]>;

export interface ListedTestFolder {
  path: string;
  specialUse?: string;
  subscribed: boolean;
  selectable: boolean;
}

/** LIST (with SPECIAL-USE and subscription state) of one user's folders, sorted by path. */
export async function listFolders(server: DovecotServer, login: string): Promise<ListedTestFolder[]> {
  const client = await openClient(server, login);
  try {
    const folders = await client.list();
    return folders
      .filter((folder) => !folder.flags.has('\\NonExistent'))
      .map((folder) => ({
        path: folder.path,
        ...(folder.specialUse && folder.specialUseSource === 'extension' ? {specialUse: folder.specialUse} : {}),
        subscribed: Boolean(folder.subscribed),
        selectable: !folder.flags.has('\\Noselect'),
      }))
      .sort((a, b) => a.path.localeCompare(b.path));
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * The target folder a source folder should land in: special-use folders go to the target's folder
 * of the same role, everything else keeps its name with the target's separator and prefix.
 */
export function expectedTargetFolder(source: DovecotServer, target: DovecotServer, sourcePath: string): string {
  for (const [role, name] of Object.entries(source.specialUse) as [SpecialUseRole, string][]) {
    if (source.prefix + name === sourcePath) return serverFolderName(target, role);
  }
  if (sourcePath.toUpperCase() === 'INBOX') return 'INBOX';
  const relative = sourcePath.startsWith(source.prefix) ? sourcePath.slice(source.prefix.length) : sourcePath;
  return serverFolderName(target, relative.split(source.separator).join('/'));
}

function shortHash(sha: string): string {
  return sha.slice(0, 10);
}

function multiset(messages: readonly StoredMessage[]): Map<string, StoredMessage[]> {
  const bySha = new Map<string, StoredMessage[]>();
  for (const message of messages) {
    const list = bySha.get(message.sha256);
    if (list) list.push(message);
    else bySha.set(message.sha256, [message]);
  }
  return bySha;
}

export interface CompareOptions {
  /** Source folder path -> target folder path (default: identity). */
  mapFolder?: (sourcePath: string) => string;
  /** Source messages expected NOT to be on the target (skipped on purpose), by sha256. */
  notCopied?: ReadonlySet<string>;
  /** Compare flags and internal dates too (default true). */
  metadata?: boolean;
  /** Target folders allowed to exist without a source counterpart (e.g. auto-created special-use folders). */
  extraTargetFolders?: readonly string[];
}

/**
 * Every difference between source and target as a readable line; an empty list means the target
 * is an exact copy. Lines name the folder, the count and the first hashes so a failure is debuggable.
 */
export function compareMailboxes(source: MailboxContent, target: MailboxContent, options: CompareOptions = {}): string[] {
  const mapFolder = options.mapFolder ?? ((path: string) => path);
  const metadata = options.metadata ?? true;
  const problems: string[] = [];
  const mappedTargets = new Set<string>();
  for (const [sourcePath, sourceMessages] of source) {
    const targetPath = mapFolder(sourcePath);
    mappedTargets.add(targetPath);
    const targetMessages = target.get(targetPath);
    if (!targetMessages) {
      problems.push(`${sourcePath} -> ${targetPath}: folder missing on the target`);
      continue;
    }
    const wanted = multiset(sourceMessages.filter((message) => !options.notCopied?.has(message.sha256)));
    const have = multiset(targetMessages);
    const missing: string[] = [];
    const extra: string[] = [];
    for (const [sha, list] of wanted) {
      const got = have.get(sha)?.length ?? 0;
      for (let i = got; i < list.length; i++) missing.push(`${shortHash(sha)} (source UID ${list[i]!.uid})`);
    }
    for (const [sha, list] of have) {
      const want = wanted.get(sha)?.length ?? 0;
      for (let i = want; i < list.length; i++) extra.push(`${shortHash(sha)} (target UID ${list[i]!.uid})`);
    }
    if (missing.length > 0) problems.push(`${sourcePath} -> ${targetPath}: ${missing.length} message(s) missing: ${missing.slice(0, 5).join(', ')}`);
    if (extra.length > 0) problems.push(`${sourcePath} -> ${targetPath}: ${extra.length} extra or duplicate message(s): ${extra.slice(0, 5).join(', ')}`);
    if (!metadata) continue;
    for (const [sha, sourceCopies] of wanted) {
      const targetCopies = have.get(sha);
      if (!targetCopies) continue;
      // Identical bytes can legitimately appear twice; compare them as sorted lists of (flags, date).
      const describe = (message: StoredMessage) => `${message.flags.join(' ')}|${message.internalDate}`;
      const want = sourceCopies.map(describe).sort();
      const got = targetCopies.slice(0, sourceCopies.length).map(describe).sort();
      for (let i = 0; i < Math.min(want.length, got.length); i++) {
        if (want[i] !== got[i]) {
          const [wantFlags, wantDate] = want[i]!.split('|');
          const [gotFlags, gotDate] = got[i]!.split('|');
          problems.push(
            `${sourcePath} -> ${targetPath}: message ${shortHash(sha)} (source UID ${sourceCopies[0]!.uid}) has ` +
              `flags [${gotFlags}] date ${gotDate} on the target, [${wantFlags}] date ${wantDate} on the source`,
          );
        }
      }
    }
  }
  const allowed = new Set(options.extraTargetFolders ?? []);
  for (const targetPath of target.keys()) {
    if (!mappedTargets.has(targetPath) && !allowed.has(targetPath)) problems.push(`${targetPath}: folder on the target has no source folder`);
  }
  return problems;
}

/** Target messages beyond what the source holds, over all folders (0 = no duplicates). */
export function duplicateCount(source: MailboxContent, target: MailboxContent, mapFolder: (sourcePath: string) => string): number {
  let duplicates = 0;
  for (const [sourcePath, sourceMessages] of source) {
    const wanted = multiset(sourceMessages);
    for (const [sha, list] of multiset(target.get(mapFolder(sourcePath)) ?? [])) {
      duplicates += Math.max(0, list.length - (wanted.get(sha)?.length ?? 0));
    }
  }
  return duplicates;
}

export function messageCount(content: MailboxContent): number {
  let count = 0;
  for (const messages of content.values()) count += messages.length;
  return count;
}

/** "INBOX:21 Sent:6 ..." for diagnostics. */
export function folderCounts(content: MailboxContent): string {
  return [...content.entries()].map(([folder, messages]) => `${folder}:${messages.length}`).join(' ');
}
