// Compares two client views (client-view.ts) of a migrated mailbox and names every difference by
// the corpus case it hits: the folder tree, subscriptions, and per folder the messages as a
// multiset of (BODY[], BINARY[]) hashes, so a duplicate counts twice, then flags with keywords
// and INTERNALDATE instants of the copies that match. What the migration listed with a reason
// (skipped, failed, changed, dropped keywords, unmigrated folders) is excused, and only that.

import type {ClientView, ViewMessage} from './client-view.js';
import type {CaseIndex} from './hostile-corpus-seed.js';

export interface ViewCompareOptions {
  /** Source folder path -> target folder path; undefined when the folder is listed as not migrated. */
  mapFolder: (sourcePath: string) => string | undefined;
  caseIndex: CaseIndex;
  /** Why a source message may be absent from the target ('skipped: ...'), or undefined. */
  notCopied?: (sourcePath: string, uid: number) => string | undefined;
  /** Why a source message may be on the target in another form ('changed: ...'), or undefined. */
  changed?: (sourcePath: string, uid: number) => string | undefined;
  /** Keywords the migration listed as not storable, per target folder. */
  droppedKeywords?: (targetPath: string) => ReadonlySet<string>;
  /** Target folders that may exist without a source folder (the target's own auto-created ones). */
  extraTargetFolders?: readonly string[];
  /** Compare messages only in these source folders (all when left out). */
  messageFolders?: (sourcePath: string) => boolean;
}

const keyOf = (message: ViewMessage) => `${message.body}/${message.binary}`;

function groupByKey(messages: readonly ViewMessage[]): Map<string, ViewMessage[]> {
  const groups = new Map<string, ViewMessage[]>();
  for (const message of messages) {
    const list = groups.get(keyOf(message));
    if (list) list.push(message);
    else groups.set(keyOf(message), [message]);
  }
  return groups;
}

export function compareClientViews(source: ClientView, target: ClientView, options: ViewCompareOptions): string[] {
  const problems: string[] = [];
  const caseOf = (folder: string, uid: number) => options.caseIndex.get(folder)?.get(uid) ?? `uid ${uid} (no case)`;
  const mapped = new Map<string, string>();

  for (const folder of source.folders.values()) {
    const targetPath = options.mapFolder(folder.path);
    if (targetPath === undefined) continue;
    mapped.set(folder.path, targetPath);
    const counterpart = target.folders.get(targetPath);
    if (!counterpart) {
      problems.push(`folder ${JSON.stringify(folder.path)} -> ${JSON.stringify(targetPath)}: missing on the target`);
      continue;
    }
    if (folder.selectable && !counterpart.selectable) problems.push(`folder ${JSON.stringify(folder.path)} -> ${JSON.stringify(targetPath)}: \\Noselect on the target`);
    if (!folder.selectable) continue;
    if (options.messageFolders && !options.messageFolders(folder.path)) continue;

    const expected: ViewMessage[] = [];
    let changedCount = 0;
    for (const message of folder.messages) {
      if (options.notCopied?.(folder.path, message.uid) !== undefined) continue;
      expected.push(message);
      if (options.changed?.(folder.path, message.uid) !== undefined) changedCount++;
    }
    const want = groupByKey(expected);
    const have = groupByKey(counterpart.messages);
    const unmatchedTarget: ViewMessage[] = [];
    const missing: string[] = [];
    for (const [key, list] of have) {
      const wanted = want.get(key)?.length ?? 0;
      unmatchedTarget.push(...list.slice(wanted));
    }
    for (const [key, list] of want) {
      const got = have.get(key)?.length ?? 0;
      for (const message of list.slice(got)) {
        // A message listed as changed is there in another form: it accounts for one unmatched target message.
        if (options.changed?.(folder.path, message.uid) !== undefined) continue;
        const onlyBinary = [...have.keys()].some((k) => k.startsWith(`${message.body}/`));
        missing.push(`${caseOf(folder.path, message.uid)}${onlyBinary ? ' (BODY[] equal, BINARY[] differs)' : ''}`);
      }
    }
    const changedUnmatched = Math.min(changedCount, unmatchedTarget.length);
    const extra = unmatchedTarget.slice(changedUnmatched);
    if (missing.length) problems.push(`folder ${JSON.stringify(folder.path)}: ${missing.length} message(s) missing or different on the target: ${missing.slice(0, 12).join(', ')}`);
    if (extra.length) {
      // A duplicate has the bytes of a source message: name its case.
      const described = extra.map((m) => {
        const original = want.get(keyOf(m))?.[0];
        return original ? `${caseOf(folder.path, original.uid)} again as target UID ${m.uid}` : `target UID ${m.uid} (no source counterpart)`;
      });
      const uids = extra.map((m) => m.uid);
      problems.push(
        `folder ${JSON.stringify(folder.path)} -> ${JSON.stringify(targetPath)}: ${extra.length} extra or duplicate message(s) on the target ` +
          `(target UIDs ${Math.min(...uids)}..${Math.max(...uids)}): ${described.slice(0, 3).join(', ')}${extra.length > 3 ? `, ..., ${described[described.length - 1]}` : ''}`,
      );
    }

    const dropped = options.droppedKeywords?.(targetPath) ?? new Set<string>();
    const describe = (message: ViewMessage, strip: boolean) =>
      `[${message.flags.filter((f) => !strip || !dropped.has(f)).join(' ')}] ${message.internalDate}`;
    for (const [key, copies] of want) {
      const targetCopies = have.get(key);
      if (!targetCopies) continue;
      const wanted = copies.map((m) => ({text: describe(m, true), message: m})).sort((a, b) => a.text.localeCompare(b.text));
      const got = targetCopies.slice(0, copies.length).map((m) => describe(m, false)).sort();
      for (let i = 0; i < Math.min(wanted.length, got.length); i++) {
        const sourceCopy = wanted[i]!;
        if (sourceCopy.text === got[i]) continue;
        if (options.changed?.(folder.path, sourceCopy.message.uid) !== undefined) continue;
        problems.push(`${caseOf(folder.path, sourceCopy.message.uid)} in ${JSON.stringify(folder.path)}: target has ${got[i]}, source ${sourceCopy.text}`);
      }
    }
  }

  const allowed = new Set(options.extraTargetFolders ?? []);
  const images = new Set(mapped.values());
  for (const targetPath of target.folders.keys()) {
    if (!images.has(targetPath) && !allowed.has(targetPath)) problems.push(`folder ${JSON.stringify(targetPath)} on the target has no source folder`);
  }

  // Subscriptions of folders that exist on the source, mapped; LSUB on both sides.
  const wantedSubscriptions = new Set<string>();
  for (const name of source.subscriptions) {
    const targetPath = mapped.get(name);
    if (targetPath !== undefined) wantedSubscriptions.add(targetPath);
  }
  for (const name of wantedSubscriptions) {
    if (!target.subscriptions.has(name)) problems.push(`subscription: ${JSON.stringify(name)} is subscribed on the source, not on the target`);
  }
  for (const name of target.subscriptions) {
    if (images.has(name) && !wantedSubscriptions.has(name)) problems.push(`subscription: ${JSON.stringify(name)} is subscribed on the target, not on the source`);
  }
  return problems;
}

/** Messages over all folders (for diagnostics and count checks). */
export function viewMessageCount(view: ClientView): number {
  let count = 0;
  for (const folder of view.folders.values()) count += folder.messages.length;
  return count;
}
