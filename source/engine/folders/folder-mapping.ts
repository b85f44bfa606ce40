/*
 * Folder mapping: which source folders are migrated, to which target folders, and why not.
 * planFolders() is pure: the per-mailbox sync lists both ends, calls it, then creates the target
 * folders in the order given and copies messages. The rules below are the documented behaviour;
 * test/folder-mapping.test.ts and test/folder-exclusions.test.ts hold one table row per rule.
 *
 * 1. Logical names. A source path loses the source's personal-namespace prefix (`INBOX.` on
 *    Courier/Cyrus-style servers) and is split on the source delimiter into segments; the target
 *    path is the segments joined with the target delimiter behind the target prefix. INBOX is
 *    INBOX on both ends whatever its case (`Inbox`, `inbox`). On a source without a prefix,
 *    `INBOX/Sub` is a child of INBOX and stays one: `INBOX/Sub` on an unprefixed target,
 *    `INBOX.Sub` on an `INBOX.`-prefixed one (where it meets a top-level `Sub`: rule 6 applies).
 *    On a prefixed source a folder literally named `INBOX` under the prefix (`INBOX.INBOX`) is an
 *    ordinary folder. Folders outside the personal namespace (Cyrus `user.*`, shared or public
 *    namespaces passed as source.otherNamespaces) are not migrated and are listed as unmigrated;
 *    the namespace root itself (`Mail` for prefix `Mail/`) is just hierarchy and is ignored,
 *    unless it is selectable (it may hold messages): then it is listed as unmigrated.
 *    A target without a hierarchy delimiter (flat) gets the segments joined with '/'.
 *
 * 2. UserRoot (`/users/terry.adams`, always '/'-separated, leading and trailing '/' optional)
 *    is joined with the source delimiter (`users.terry.adams` on Courier) and matched as a path
 *    prefix, both against the path as listed and against the path without the personal-namespace
 *    prefix, so `INBOX.users.terry.adams.Sent` and `users.terry.adams.Sent` both match. The match is
 *    on the joined string because user names contain the delimiter ('terry.adams'). Only folders
 *    under the root are migrated, with the root stripped: `…terry.adams.Sent` becomes `Sent`, and
 *    a child named INBOX is the inbox. Everything outside the root belongs to other users and is
 *    ignored entirely (not even listed as unmigrated). The root folder itself, when it is listed
 *    and holds messages, is the user's inbox (Courier keeps a user's inbox in the root of their
 *    maildir) and maps to INBOX, unless the root also has a child named INBOX and the root's own
 *    name is not INBOX: then the root's messages go to a top-level folder named after the root's
 *    last segment (`terry.adams`, rule 6 applied) and that is reported as renamed.
 *
 * 3. Special-use. A source folder is of a kind (\Sent \Drafts \Trash \Junk \Archive, and the
 *    virtual \All \Flagged \Important) by its RFC 6154 attribute (in `flags`, or `specialUse`
 *    when imapflow says it came from the server or a user hint; imapflow's own name guesses are
 *    ignored so that this file alone decides). For a kind that no source folder carries as a flag,
 *    a folder is of that kind by name (special-use-names.ts: English and the localized names of
 *    common clients) when it sits at top level, directly under INBOX, or, on a source that is
 *    Gmail (sourceIsGmail: it advertises X-GM-EXT-1), directly under [Gmail] / [Google Mail].
 *    On any other server [Gmail] is a folder like any other: nothing below it is special by name.
 *    One source folder per kind, the designated one, is mapped onto the target's folder of that
 *    kind whatever either is called (`Sent Items` → `Sent`), and its children move with it
 *    (`Sent Items/2019` → `Sent/2019`). Designation prefers a flag over a name, then the shallower
 *    folder, then the better-ranked name, then path order; it ignores message counts so that it
 *    stays the same on every run. Other folders of the kind keep their logical names.
 *    The target's folder of a kind is the one flagged with it (best by the same order). When no
 *    target folder carries the flag: the target folder the designated folder's own name maps to,
 *    if it exists; else the best target folder named like the kind that no other source folder
 *    maps to by its name. (Without those two conditions the folders a first run created could be
 *    matched differently on the next run, sending mail into the wrong folder.)
 *    When the target has no folder of the kind:
 *    - with CREATE-SPECIAL-USE, the designated folder keeps its logical name (one directly under
 *      Gmail's [Gmail] / [Google Mail] goes to the top level, `[Gmail]/Spam` → `Spam`, since no
 *      other server has that container) and createSpecialUse asks for the attribute
 *      (`CREATE name (USE (\Junk))`, RFC 6154 section 3);
 *    - without it, the designated folder goes to the kind's conventional name (Sent, Drafts,
 *      Trash, Junk, Archive: RFC 6154's names, Dovecot's special_use defaults, what clients look
 *      for), `Gesendete Elemente` → `Sent`, and is listed in `renamed` with specialUse set; the
 *      sync then asks the target whether it marks the new folder and says so in that entry,
 *      which later runs keep (carryCreatedSpecialUse). If another source folder lands on the
 *      conventional name by its own name, the designated folder keeps its logical name.
 *    Folders that are \Noselect or \NonExistent are never of a kind.
 *
 * 4. Virtual folders (\All "All Mail", \Flagged "Starred", \Important) show messages stored in
 *    other folders; copying them would duplicate mail, so they are not migrated and are listed
 *    as unmigrated with the reason. A folder is virtual by the server's RFC 6154 / RFC 8457
 *    attribute, or by Gmail's names directly under [Gmail] on a Gmail source; never by a name
 *    alone on any other server. Folders flagged \NonExistent are listed as unmigrated too.
 *
 * 5. Exclusions (batch setting; folder-exclusions.ts). Patterns name logical source folders
 *    ('/'-separated, after the namespace prefix and the UserRoot are removed):
 *    `Archive/2019` is that folder only; `Archive/*` and `Archive/` are Archive itself and
 *    everything below it (both spellings mean the same, as batch-model.ts documents them);
 *    `\Junk` (any case) is every folder of that kind and everything below it. Names are
 *    case-sensitive except INBOX, and compared in Unicode NFC. On an `INBOX.`-prefixed source a
 *    leading `INBOX/` is dropped (admins copy `INBOX.Archive` from such servers). A leading '/' is
 *    ignored. Excluded folders are listed as unmigrated with `excluded by batch setting "<pattern>"`;
 *    the first pattern that matches (in the order written) is the one named.
 *
 * 6. Names that cannot be created as they are, each listed in `renamed` with the reason:
 *    - a segment containing the target delimiter (`a.b` from a '/' source to a '.' target): the
 *      delimiter is replaced by '_' (by '-' when the target delimiter is '_');
 *    - an empty segment (`a//b`): '_';
 *    - two folders landing on the same target folder (names differing only in case on a
 *      case-insensitive target; anything landing on INBOX, which is case-insensitive everywhere;
 *      `INBOX/Sub` and `Sub` on an `INBOX.` target; a folder whose name the designated special
 *      folder took): the first in plan order keeps the name, later ones get " (2)", " (3)"… on
 *      their last segment, skipping names other folders would naturally take.
 *    Children follow a renamed parent and are not listed themselves. Leading and trailing spaces
 *    are kept (IMAP allows them and most servers keep them). Other refusals (over-long names,
 *    characters the target forbids) are only known at CREATE time: fallbackFolderName() gives
 *    the names to try next, and after it gives up the sync reports the folder as unmigrated with
 *    the server's answer.
 *
 * 7. Parents. Every target folder's parent is either already on the target or comes earlier in
 *    `entries`. When the source lists `A/B/C` without `A/B`, or `A/B` is not migrated (excluded,
 *    virtual, \NonExistent, \Noselect), an entry with `selectable: false` is added for it: create
 *    it if createOnTarget, copy nothing into it. `sourceListed` is false for parents the source did
 *    not list (their `source` is the path they would have). A \Noselect source folder with
 *    nothing below it to migrate is not created (it holds no messages) and is listed as
 *    unmigrated with that reason; Gmail's `[Gmail]` goes that way once its system folders are
 *    mapped onto the target's own. Every listed source folder thus ends up in `entries` or in
 *    `unmigrated`, except those outside the UserRoot (rule 2) and namespace roots (rule 1).
 *
 * 8. Subscriptions mirror the source, INBOX included (`subscribe` is the source's own state);
 *    unlisted parents are not subscribed. The sync subscribes on the target what the source has
 *    subscribed, and unsubscribes only folders its own CREATE left subscribed; target folders
 *    that existed before keep their subscription otherwise.
 *
 * 9. Target folders that already exist are reused (createOnTarget false), matched exactly or,
 *    on a case-insensitive target, ignoring case (the target's spelling is then used). A target
 *    folder that exists only as \Noselect is created again when messages must go into it.
 *
 * 10. Deterministic: the same input gives the same plan. Entries are in source logical order
 *    (INBOX and its children first, then segment by segment in code-point order), which puts
 *    every parent before its children on the target too. Renames depend only on the source
 *    listing and the target's special folders, never on which other target folders exist, so a
 *    second run reuses exactly what the first created, as long as nobody changes the target's
 *    special-use flags in between (the sync may keep the first plan's targets in its checkpoints
 *    to be safe even then).
 */

import type {RenamedFolder, UnmigratedFolder} from '../batch-model.js';
import {exclusionReason, matchExclusion, parseExclusions, type ExclusionMatch} from './folder-exclusions.js';
import {
  CONVENTIONAL_NAMES,
  GMAIL_ROOTS,
  MAPPED_SPECIAL_USES,
  SPECIAL_USES,
  VIRTUAL_SPECIAL_USES,
  specialUseForName,
  type SpecialUse,
} from './special-use-names.js';

export type {SpecialUse} from './special-use-names.js';

export interface ListedFolder {
  path: string;
  delimiter: string;
  flags: string[];
  specialUse?: string;
  /** imapflow's MailboxObject.specialUseSource: 'name' guesses are ignored (rule 3). */
  specialUseSource?: 'user' | 'extension' | 'name';
  subscribed?: boolean;
}

export interface NamespaceInfo {
  prefix: string;
  delimiter: string;
}

export interface FolderPlanInput {
  source: {
    folders: ListedFolder[];
    namespace: NamespaceInfo;
    /** Other users' and shared namespaces (client.namespace.other/.shared): never migrated
     *  unless the UserRoot points into them. */
    otherNamespaces?: NamespaceInfo[];
  };
  target: {
    folders: ListedFolder[];
    namespace: NamespaceInfo;
    /** Exchange-like; default false, but INBOX is always case-insensitive */
    caseInsensitive?: boolean;
    supportsCreateSpecialUse?: boolean;
  };
  /** The source advertises X-GM-EXT-1: only then are [Gmail] / [Google Mail] Gmail's system
   *  container and its "All Mail", "Important", "Starred" virtual by name (rules 3, 4). */
  sourceIsGmail?: boolean;
  /** The same for the target's folder names. */
  targetIsGmail?: boolean;
  /** e.g. '/users/terry.adams' (always '/'-separated in the CSV) */
  userRoot?: string;
  /** batch setting, see rule 5 */
  excluded: string[];
}

export interface FolderPlanEntry {
  /** source path as listed (for an unlisted parent: the path it would have) */
  source: string;
  /** target path to use (Unicode; imapflow encodes) */
  target: string;
  /** what this folder is, by flag or by name */
  specialUse?: SpecialUse;
  /** not yet on the target */
  createOnTarget: boolean;
  /** ask for CREATE ... (USE (...)) when the target supports it and has none of that kind */
  createSpecialUse?: SpecialUse;
  /** subscribed on the source */
  subscribe: boolean;
  /** false: create for hierarchy only, copy no messages */
  selectable: boolean;
  /** false for a parent the source did not list (rule 7) */
  sourceListed: boolean;
}

export interface FolderPlan {
  /** parents before children; INBOX first */
  entries: FolderPlanEntry[];
  unmigrated: UnmigratedFolder[];
  renamed: RenamedFolder[];
}

type Placement = {segments: string[]; inboxRooted: boolean; rootAsFolder?: boolean} | {outside: string} | 'ignore';

interface FolderNode {
  key: string;
  segments: string[];
  inboxRooted: boolean;
  rootAsFolder: boolean;
  parent?: FolderNode;
  folder?: ListedFolder;
  sourcePath: string;
  delimiter: string;
  specialUse?: SpecialUse;
  flagged: boolean;
  exclusion?: ExclusionMatch;
  skipReason?: string;
  /** some migrated folder needs this one as its parent on the target */
  needed: boolean;
  target?: string;
  renameReasons: string[];
}

const VIRTUAL_REASONS: Record<string, string> = {
  '\\All':
    'virtual folder (\\All): it shows every message of the other folders, which are migrated themselves; copying it would duplicate all mail',
  '\\Flagged':
    'virtual folder (\\Flagged, e.g. Gmail "Starred"): it shows the flagged messages of other folders, which are migrated with their flags',
  '\\Important':
    'virtual folder (\\Important): it shows messages of other folders, which are migrated themselves; copying it would duplicate mail',
};
const NONEXISTENT_REASON = 'listed by the source as \\NonExistent (a name without a folder); nothing to migrate';

function isInbox(name: string): boolean {
  return name.toUpperCase() === 'INBOX';
}

function hasFlag(folder: ListedFolder, flag: string): boolean {
  const wanted = flag.toLowerCase();
  return folder.flags.some((f) => f.toLowerCase() === wanted);
}

function isSelectable(folder: ListedFolder): boolean {
  return !hasFlag(folder, '\\Noselect') && !hasFlag(folder, '\\NonExistent');
}

function flaggedUse(folder: ListedFolder): SpecialUse | undefined {
  const byFlag = SPECIAL_USES.find((use) => hasFlag(folder, use));
  if (byFlag) return byFlag;
  if (folder.specialUse && (folder.specialUseSource === 'extension' || folder.specialUseSource === 'user')) {
    const wanted = folder.specialUse.toLowerCase();
    return SPECIAL_USES.find((use) => use.toLowerCase() === wanted);
  }
  return undefined;
}

function splitPath(path: string, delimiter: string): string[] {
  return delimiter ? path.split(delimiter) : [path];
}

function isInboxPrefix(prefix: string, delimiter: string): boolean {
  return delimiter !== '' && prefix.toUpperCase() === `INBOX${delimiter}`.toUpperCase();
}

/** The path without the namespace prefix, or undefined when it is not under it (INBOX part case-insensitive). */
function stripPrefix(path: string, prefix: string): string | undefined {
  if (!prefix) return path;
  if (path.startsWith(prefix)) return path.slice(prefix.length);
  if (prefix.toUpperCase().startsWith('INBOX') && isInbox(path.slice(0, 5)) && path.slice(5).startsWith(prefix.slice(5))) {
    return path.slice(prefix.length);
  }
  return undefined;
}

function namespaceRoot(prefix: string, delimiter: string): string | undefined {
  return delimiter && prefix.endsWith(delimiter) ? prefix.slice(0, -delimiter.length) : undefined;
}

function nodeKey(inboxRooted: boolean, segments: readonly string[], rootAsFolder = false): string {
  return `${inboxRooted ? 'I' : 'F'}${rootAsFolder ? 'R' : '-'}${segments.join('\u0000')}`;
}

function compareNodes(a: FolderNode, b: FolderNode): number {
  if (a.inboxRooted !== b.inboxRooted) return a.inboxRooted ? -1 : 1;
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const x = a.segments[i]!;
    const y = b.segments[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  if (a.segments.length !== b.segments.length) return a.segments.length - b.segments.length;
  return Number(a.rootAsFolder) - Number(b.rootAsFolder);
}

/**
 * The special-use kind a folder's name stands for (rule 3), or undefined.
 * `path` is relative to the personal namespace (a leading INBOX + delimiter is fine, as in
 * Courier's `INBOX.Sent`); only names at top level, directly under INBOX or directly under
 * [Gmail] / [Google Mail] count.
 */
export function specialUseByName(path: string, delimiter: string, gmail = false): SpecialUse | undefined {
  return nameMatch(splitPath(path, delimiter), false, gmail)?.use;
}

/**
 * inboxRooted: segments[0] is the inbox itself (not a folder literally named INBOX under a prefix).
 * gmail: the server is Gmail (X-GM-EXT-1); elsewhere [Gmail] is an ordinary folder and the names
 * below it mean nothing special, since a name alone must not make a folder virtual (issue 12).
 */
function nameMatch(segments: readonly string[], inboxRooted: boolean, gmail: boolean): {use: SpecialUse; rank: number} | undefined {
  if (segments.length === 1 && !isInbox(segments[0]!)) return specialUseForName(segments[0]!);
  if (segments.length === 2) {
    if (isInbox(segments[0]!) && (inboxRooted || !GMAIL_ROOTS.includes(segments[0]!))) {
      return specialUseForName(segments[1]!);
    }
    if (gmail && GMAIL_ROOTS.includes(segments[0]!)) return specialUseForName(segments[1]!, true);
  }
  return undefined;
}

interface Candidate {
  flagged: boolean;
  depth: number;
  rank: number;
  order: number;
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.flagged !== b.flagged) return a.flagged;
  if (a.depth !== b.depth) return a.depth < b.depth;
  if (a.rank !== b.rank) return a.rank < b.rank;
  return a.order < b.order;
}

/** Places a source folder in the logical tree (rules 1 and 2). */
function placeSource(
  folder: ListedFolder,
  input: FolderPlanInput,
  rootSegments: string[] | undefined,
): Placement {
  const ns = input.source.namespace;
  const delimiter = folder.delimiter || ns.delimiter;
  const path = folder.path;

  if (rootSegments) {
    const rootText = rootSegments.join(delimiter || '/');
    const bodies = [path];
    const withoutPrefix = stripPrefix(path, ns.prefix);
    if (ns.prefix && withoutPrefix !== undefined) bodies.push(withoutPrefix);
    for (const other of input.source.otherNamespaces ?? []) {
      const rest = other.prefix ? stripPrefix(path, other.prefix) : undefined;
      if (rest !== undefined) bodies.push(rest);
    }
    for (const body of bodies) {
      if (body === rootText) return {segments: [], inboxRooted: false};
      if (delimiter && body.startsWith(rootText + delimiter)) {
        const segments = splitPath(body.slice(rootText.length + delimiter.length), delimiter);
        const inboxRooted = isInbox(segments[0]!);
        if (inboxRooted) segments[0] = 'INBOX';
        return {segments, inboxRooted};
      }
    }
    return 'ignore';
  }

  if (isInbox(path)) return {segments: ['INBOX'], inboxRooted: true};
  for (const other of input.source.otherNamespaces ?? []) {
    if (!other.prefix) continue;
    if (stripPrefix(path, other.prefix) !== undefined || path === namespaceRoot(other.prefix, other.delimiter)) {
      return {
        outside: `in the "${other.prefix}" namespace (other users' or shared folders), not the user's own; only personal folders are migrated (set UserRoot to migrate a shared subtree)`,
      };
    }
  }
  if (ns.prefix) {
    const rest = stripPrefix(path, ns.prefix);
    if (rest === undefined) {
      if (path === namespaceRoot(ns.prefix, ns.delimiter)) {
        // Just hierarchy, unless the server lets it hold messages: then it must not vanish unsaid.
        return isSelectable(folder)
          ? {outside: `the root of the personal namespace "${ns.prefix}", which holds messages of its own; it has no place on the target (copy them into a folder below it to migrate them)`}
          : 'ignore';
      }
      if (delimiter && !isInboxPrefix(ns.prefix, ns.delimiter) && isInbox(path.slice(0, 5)) && path.slice(5).startsWith(delimiter)) {
        const segments = splitPath(path, delimiter);
        segments[0] = 'INBOX';
        return {segments, inboxRooted: true};
      }
      return {
        outside: `outside the personal namespace "${ns.prefix}" (other users' or shared folders); only personal folders are migrated (set UserRoot to migrate a shared subtree)`,
      };
    }
    if (rest === '') return 'ignore';
    return {segments: splitPath(rest, delimiter), inboxRooted: false};
  }
  const segments = splitPath(path, delimiter);
  const inboxRooted = isInbox(segments[0]!);
  if (inboxRooted) segments[0] = 'INBOX';
  return {segments, inboxRooted};
}

/** The target's folders of each kind (rule 3): the best flagged one, and for kinds no target
 *  folder is flagged with, the folders whose names say so, best first. */
function findTargetSpecials(input: FolderPlanInput): {
  flagged: Map<SpecialUse, string>;
  named: Map<SpecialUse, string[]>;
} {
  const ns = input.target.namespace;
  const best = new Map<SpecialUse, {candidate: Candidate; path: string}>();
  const named = new Map<SpecialUse, {candidate: Candidate; path: string}[]>();
  const selectable = input.target.folders
    .filter((folder) => isSelectable(folder) && !isInbox(folder.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  selectable.forEach((folder, order) => {
    const delimiter = folder.delimiter || ns.delimiter;
    const segments = splitPath(stripPrefix(folder.path, ns.prefix) ?? folder.path, delimiter);
    const byName = nameMatch(segments, false, input.targetIsGmail === true);
    const byFlag = flaggedUse(folder);
    if (byFlag) {
      const rank = byName?.use === byFlag ? byName.rank : Number.MAX_SAFE_INTEGER;
      const candidate: Candidate = {flagged: true, depth: segments.length, rank, order};
      const current = best.get(byFlag);
      if (!current || better(candidate, current.candidate)) best.set(byFlag, {candidate, path: folder.path});
    } else if (byName) {
      const list = named.get(byName.use) ?? [];
      list.push({candidate: {flagged: false, depth: segments.length, rank: byName.rank, order}, path: folder.path});
      named.set(byName.use, list);
    }
  });
  const flagged = new Map<SpecialUse, string>();
  for (const [use, {path}] of best) flagged.set(use, path);
  const namedPaths = new Map<SpecialUse, string[]>();
  for (const [use, list] of named) {
    if (flagged.has(use)) continue;
    list.sort((a, b) => (better(a.candidate, b.candidate) ? -1 : better(b.candidate, a.candidate) ? 1 : 0));
    namedPaths.set(use, list.map((item) => item.path));
  }
  return {flagged, named: namedPaths};
}

function substituteFor(delimiter: string): string {
  return delimiter === '_' ? '-' : '_';
}

/** Rule 6: a segment the target cannot hold as it is. */
function sanitizeSegment(segment: string, delimiter: string): {segment: string; reasons: string[]} {
  if (segment === '') {
    return {segment: '_', reasons: ['empty folder name (two delimiters in a row on the source); named "_"']};
  }
  if (delimiter && segment.includes(delimiter)) {
    const substitute = substituteFor(delimiter);
    return {
      segment: segment.split(delimiter).join(substitute),
      reasons: [`the name contains "${delimiter}", the target's hierarchy delimiter; replaced by "${substitute}"`],
    };
  }
  return {segment, reasons: []};
}

export function planFolders(input: FolderPlanInput): FolderPlan {
  const sourceNs = input.source.namespace;
  const targetNs = input.target.namespace;
  const targetDelimiter = targetNs.delimiter;
  const joiner = targetDelimiter || '/';
  const caseInsensitive = input.target.caseInsensitive === true;
  const sourceIsGmail = input.sourceIsGmail === true;

  const rootSegments = input.userRoot?.split('/').filter((segment) => segment !== '');
  const userRoot = rootSegments && rootSegments.length > 0 ? rootSegments : undefined;

  const targetKey = (path: string): string => {
    if (caseInsensitive) return path.toLowerCase();
    const segments = splitPath(path, targetDelimiter);
    if (isInbox(segments[0]!)) segments[0] = 'INBOX';
    return segments.join(targetDelimiter);
  };

  // --- the source tree (rules 1, 2, 7) ---
  const nodes = new Map<string, FolderNode>();
  const outside: UnmigratedFolder[] = [];
  let rootFolder: ListedFolder | undefined;

  const ensureNode = (inboxRooted: boolean, segments: string[], sourcePath: string, delimiter: string, rootAsFolder = false): FolderNode => {
    const key = nodeKey(inboxRooted, segments, rootAsFolder);
    let node = nodes.get(key);
    if (!node) {
      node = {
        key,
        segments,
        inboxRooted,
        rootAsFolder,
        sourcePath,
        delimiter,
        flagged: false,
        needed: false,
        renameReasons: [],
      };
      nodes.set(key, node);
    }
    return node;
  };

  const addListed = (folder: ListedFolder, segments: string[], inboxRooted: boolean, rootAsFolder = false): void => {
    const delimiter = folder.delimiter || sourceNs.delimiter;
    const node = ensureNode(inboxRooted, segments, folder.path, delimiter, rootAsFolder);
    node.folder = folder;
    node.sourcePath = folder.path;
  };

  const placed: {folder: ListedFolder; segments: string[]; inboxRooted: boolean}[] = [];
  for (const folder of input.source.folders) {
    const placement = placeSource(folder, input, userRoot);
    if (placement === 'ignore') continue;
    if ('outside' in placement) {
      outside.push({source: folder.path, reason: placement.outside});
      continue;
    }
    if (placement.segments.length === 0) {
      rootFolder = folder;
      continue;
    }
    placed.push({folder, segments: placement.segments, inboxRooted: placement.inboxRooted});
  }

  // Rule 2: the UserRoot folder's own messages.
  let rootAsFolderName: string | undefined;
  if (rootFolder && isSelectable(rootFolder) && userRoot) {
    const rootNamedInbox = isInbox(userRoot[userRoot.length - 1]!);
    const hasInboxChild = placed.some((p) => p.inboxRooted && p.segments.length === 1);
    if (rootNamedInbox) {
      // The root is the inbox; a child named INBOX is then just a folder with that name.
      for (const p of placed) {
        if (p.inboxRooted) p.inboxRooted = false;
      }
      placed.push({folder: rootFolder, segments: ['INBOX'], inboxRooted: true});
    } else if (!hasInboxChild) {
      placed.push({folder: rootFolder, segments: ['INBOX'], inboxRooted: true});
    } else {
      rootAsFolderName = userRoot[userRoot.length - 1]!;
    }
  }

  for (const p of placed) addListed(p.folder, p.segments, p.inboxRooted);
  if (rootAsFolderName !== undefined && rootFolder) {
    addListed(rootFolder, [rootAsFolderName], false, true);
    nodes.get(nodeKey(false, [rootAsFolderName], true))!.renameReasons.push(
      `the UserRoot folder holds messages of its own and the root also has an INBOX; its messages go to a folder named after the root`,
    );
  }

  // Parents the source did not list, and parent links.
  for (const node of [...nodes.values()]) {
    let child = node;
    for (let length = node.segments.length - 1; length >= 1; length--) {
      const segments = node.segments.slice(0, length);
      const cut = child.delimiter ? child.sourcePath.lastIndexOf(child.delimiter) : -1;
      const parentPath = cut >= 0 ? child.sourcePath.slice(0, cut) : child.sourcePath;
      const parent = ensureNode(node.inboxRooted, segments, parentPath, node.delimiter);
      child.parent = parent;
      child = parent;
    }
  }

  const ordered = [...nodes.values()].sort(compareNodes);

  // --- special-use on the source (rule 3) ---
  const isInboxItself = (node: FolderNode): boolean => node.inboxRooted && node.segments.length === 1;
  const flaggedKinds = new Set<SpecialUse>();
  for (const node of ordered) {
    if (!node.folder || !isSelectable(node.folder) || isInboxItself(node)) continue;
    const use = flaggedUse(node.folder);
    if (use) {
      node.specialUse = use;
      node.flagged = true;
      flaggedKinds.add(use);
    }
  }
  const nameRanks = new Map<FolderNode, number>();
  for (const node of ordered) {
    if (!node.folder || !isSelectable(node.folder) || isInboxItself(node) || node.rootAsFolder) continue;
    const named = nameMatch(node.segments, node.inboxRooted, sourceIsGmail);
    if (!named) continue;
    if (node.flagged) {
      if (named.use === node.specialUse) nameRanks.set(node, named.rank);
    } else if (!flaggedKinds.has(named.use)) {
      node.specialUse = named.use;
      nameRanks.set(node, named.rank);
    }
  }

  const designated = new Map<SpecialUse, FolderNode>();
  {
    const best = new Map<SpecialUse, Candidate>();
    ordered.forEach((node, order) => {
      if (!node.specialUse || !MAPPED_SPECIAL_USES.includes(node.specialUse)) return;
      const candidate: Candidate = {
        flagged: node.flagged,
        depth: node.segments.length,
        rank: nameRanks.get(node) ?? Number.MAX_SAFE_INTEGER,
        order,
      };
      const current = best.get(node.specialUse);
      if (!current || better(candidate, current)) {
        best.set(node.specialUse, candidate);
        designated.set(node.specialUse, node);
      }
    });
  }

  // --- exclusions, virtual and nonexistent folders (rules 4, 5) ---
  const rules = parseExclusions(input.excluded, {
    inboxPrefixedSource: !userRoot && isInboxPrefix(sourceNs.prefix, sourceNs.delimiter),
  });
  for (const node of ordered) {
    const inherited = node.parent?.exclusion?.coversChildren ? node.parent.exclusion : undefined;
    node.exclusion = inherited ?? matchExclusion(rules, node.segments, node.specialUse);
    if (!node.folder) continue;
    if (node.exclusion) node.skipReason = exclusionReason(node.exclusion.rule);
    else if (hasFlag(node.folder, '\\NonExistent')) node.skipReason = NONEXISTENT_REASON;
    else if (node.specialUse && VIRTUAL_SPECIAL_USES.includes(node.specialUse)) {
      node.skipReason = VIRTUAL_REASONS[node.specialUse];
    }
  }
  const migrates = (node: FolderNode): boolean =>
    node.folder !== undefined && node.skipReason === undefined && isSelectable(node.folder);

  // --- target names (rules 3, 6, 9) ---
  const existing = new Map<string, ListedFolder>();
  for (const folder of input.target.folders) {
    if (hasFlag(folder, '\\NonExistent')) continue;
    const key = targetKey(folder.path);
    if (!existing.has(key)) existing.set(key, folder);
  }
  const inboxKey = targetKey('INBOX');
  existing.set(inboxKey, existing.get(inboxKey) ?? {path: 'INBOX', delimiter: targetDelimiter, flags: []});

  // Where each folder lands by its name alone (no special-use mapping, no rule 6 suffixes).
  const plain = new Map<FolderNode, string>();
  const plainOf = (node: FolderNode): string => {
    const known = plain.get(node);
    if (known !== undefined) return known;
    const segment = sanitizeSegment(node.segments[node.segments.length - 1]!, targetDelimiter).segment;
    const path = isInboxItself(node) ? 'INBOX' : node.parent ? plainOf(node.parent) + joiner + segment : targetNs.prefix + segment;
    plain.set(node, path);
    return path;
  };
  // Gmail keeps its system folders under [Gmail], a container no other server has: a designated
  // folder there with no counterpart on the target goes to the top level under its own name.
  const underGmail = (node: FolderNode): boolean =>
    sourceIsGmail && !node.inboxRooted && node.segments.length === 2 && GMAIL_ROOTS.includes(node.segments[0]!);
  const ownName = (node: FolderNode): string =>
    underGmail(node)
      ? targetNs.prefix + sanitizeSegment(node.segments[1]!, targetDelimiter).segment
      : plainOf(node);

  // The designated folder of each kind maps onto the target's folder of that kind and claims
  // that name before anything else, so an ordinary folder of the same name yields (rule 6).
  // Without a flagged folder of the kind on the target, the designated folder first keeps a
  // target folder of its own name, and never takes a name-matched folder that another source
  // folder lands on by name: otherwise the folders a first run created would be matched
  // differently on the next run, and mail would be copied into the wrong folder.
  // INBOX is taken even when the source did not list it: the target always has one.
  const claims = new Map<string, FolderNode | 'INBOX'>();
  claims.set(inboxKey, nodes.get(nodeKey(true, ['INBOX'])) ?? 'INBOX');
  const targetSpecials = findTargetSpecials(input);
  const specialTargets = new Map<FolderNode, string>();
  const targetHasKind = new Set<SpecialUse>();
  /** Designated folders that go to a new target folder under their kind's conventional name. */
  const conventional = new Map<FolderNode, SpecialUse>();
  for (const use of MAPPED_SPECIAL_USES) {
    const node = designated.get(use);
    if (!node || !migrates(node)) continue;
    let path = targetSpecials.flagged.get(use);
    if (path !== undefined) {
      targetHasKind.add(use);
    } else if (existing.has(targetKey(ownName(node)))) {
      path = ownName(node);
      targetHasKind.add(use);
    } else {
      const taken = new Set<string>();
      for (const other of ordered) if (other !== node) taken.add(targetKey(plainOf(other)));
      path = targetSpecials.named.get(use)?.find((candidate) => !taken.has(targetKey(candidate)));
      if (path !== undefined) targetHasKind.add(use);
      else if (!input.target.supportsCreateSpecialUse) {
        // No folder of the kind and no way to ask for the attribute: the conventional name is
        // the one the target (Dovecot's special_use blocks) or its users' clients take for the
        // kind, unless another source folder lands on it by name (then the next run could not
        // tell which folder was created for what).
        const name = targetNs.prefix + CONVENTIONAL_NAMES[use as keyof typeof CONVENTIONAL_NAMES];
        if (!taken.has(targetKey(name)) && !claims.has(targetKey(name))) {
          path = name;
          if (targetKey(name) !== targetKey(plainOf(node))) conventional.set(node, use);
        } else if (underGmail(node)) path = ownName(node);
      } else if (underGmail(node)) path = ownName(node);
    }
    if (path === undefined) continue;
    const key = targetKey(path);
    if (claims.has(key)) continue;
    claims.set(key, node);
    specialTargets.set(node, path);
  }

  // Names every folder would take without rule 6's suffixes; suffixes avoid them.
  const naturalKeys = new Set<string>();
  const natural = new Map<FolderNode, string>();
  const naturalOf = (node: FolderNode): string => {
    const known = natural.get(node);
    if (known !== undefined) return known;
    let path: string;
    if (isInboxItself(node)) path = 'INBOX';
    else if (specialTargets.has(node)) path = specialTargets.get(node)!;
    else {
      const segment = sanitizeSegment(node.segments[node.segments.length - 1]!, targetDelimiter).segment;
      path = node.parent ? naturalOf(node.parent) + joiner + segment : targetNs.prefix + segment;
    }
    natural.set(node, path);
    return path;
  };
  for (const node of ordered) naturalKeys.add(targetKey(naturalOf(node)));

  const describeClash = (owner: FolderNode | 'INBOX', path: string): string => {
    if (owner === 'INBOX' || targetKey(path) === inboxKey) {
      return `"${path}" would be INBOX on the target (INBOX ignores case); renamed`;
    }
    const ownerTarget = owner.target ?? specialTargets.get(owner) ?? path;
    const how = caseInsensitive && ownerTarget !== path ? ' (the target ignores case)' : '';
    return `"${owner.sourcePath}" already goes to "${ownerTarget}"${how}; renamed`;
  };

  const targetOf = (node: FolderNode): string => {
    if (node.target !== undefined) return node.target;
    let path: string;
    if (isInboxItself(node)) {
      path = 'INBOX';
    } else if (specialTargets.has(node)) {
      path = specialTargets.get(node)!;
    } else {
      const parentPath = node.parent ? targetOf(node.parent) : undefined;
      if (node.parent) node.parent.needed = true;
      const {segment, reasons} = sanitizeSegment(node.segments[node.segments.length - 1]!, targetDelimiter);
      node.renameReasons.push(...reasons);
      const base = parentPath !== undefined ? parentPath + joiner + segment : targetNs.prefix + segment;
      path = base;
      const owner = claims.get(targetKey(base));
      if (owner && owner !== node) {
        for (let n = 2; ; n++) {
          const candidate = `${base} (${n})`;
          const key = targetKey(candidate);
          if (!claims.has(key) && !naturalKeys.has(key)) {
            path = candidate;
            break;
          }
        }
        node.renameReasons.push(describeClash(owner, base));
      }
      claims.set(targetKey(path), node);
    }
    // Reuse the target's own spelling of a folder it already has (rule 9).
    const present = existing.get(targetKey(path));
    if (present && !isInboxItself(node)) path = present.path;
    node.target = path;
    return path;
  };

  for (const node of ordered) {
    if (migrates(node)) targetOf(node);
  }

  // --- the plan ---
  const entries: FolderPlanEntry[] = [];
  const renamed: RenamedFolder[] = [];
  const unmigrated: UnmigratedFolder[] = [];
  for (const node of ordered) {
    const folder = node.folder;
    if (folder && node.skipReason !== undefined) unmigrated.push({source: folder.path, reason: node.skipReason});
    const selectable = migrates(node);
    if (!selectable && !node.needed) {
      // A container the source lists without messages and with nothing below it to migrate.
      if (folder && node.skipReason === undefined) unmigrated.push({source: folder.path, reason: emptyContainerReason(node, sourceIsGmail)});
      continue;
    }
    const target = node.target!;
    const present = existing.get(targetKey(target));
    const createOnTarget = !present || (selectable && !isSelectable(present));
    if (!selectable && !folder && !createOnTarget) continue;
    const entry: FolderPlanEntry = {
      source: node.sourcePath,
      target,
      createOnTarget,
      subscribe: folder?.subscribed === true,
      selectable,
      sourceListed: folder !== undefined,
    };
    if (node.specialUse) entry.specialUse = node.specialUse;
    const use = node.specialUse;
    if (
      selectable &&
      use &&
      designated.get(use) === node &&
      !targetHasKind.has(use) &&
      createOnTarget &&
      input.target.supportsCreateSpecialUse
    ) {
      entry.createSpecialUse = use;
    }
    entries.push(entry);
    const kind = conventional.get(node);
    if (kind && createOnTarget) {
      node.renameReasons.push(
        `created "${target}" for this ${kind} folder: the target had no ${kind} folder and no CREATE-SPECIAL-USE (RFC 6154 section 3) to create one under the source's name, so the kind's conventional name is used`,
      );
    }
    if (node.renameReasons.length > 0) {
      renamed.push({source: node.sourcePath, target, reason: node.renameReasons.join('; '), ...(kind && createOnTarget ? {specialUse: kind} : {})});
    }
  }
  outside.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  unmigrated.push(...outside);
  return {entries, unmigrated, renamed};
}

function emptyContainerReason(node: FolderNode, sourceIsGmail: boolean): string {
  const gmailRoot = sourceIsGmail && !node.inboxRooted && node.segments.length === 1 && GMAIL_ROOTS.includes(node.segments[0]!);
  return gmailRoot
    ? "Gmail's container of its system folders (\\Noselect, no messages of its own): the folders below it go to the target's own folders of their kind or are listed here; not created on the target"
    : 'a container without messages of its own (\\Noselect) and nothing below it is migrated; not created on the target';
}

/**
 * The renamed list a pass records: the plan's, plus the notes of earlier passes on how a
 * special-use folder was created (conventional name, CREATE-SPECIAL-USE) while the plan still
 * sends that source folder to the folder created then. The plan cannot say so itself: on the
 * next run the folder exists and is simply the target's folder of its kind.
 */
export function carryCreatedSpecialUse(previous: readonly RenamedFolder[], plan: FolderPlan): RenamedFolder[] {
  const result = [...plan.renamed];
  for (const note of previous) {
    if (note.specialUse === undefined || result.some((entry) => entry.source === note.source)) continue;
    const entry = plan.entries.find((candidate) => candidate.source === note.source);
    if (entry && entry.target === note.target && !entry.createOnTarget && entry.selectable) result.push({...note});
  }
  return result;
}

// --- CREATE refused by the target ---

const SAFE_NAME_CHARACTER = /[A-Za-z0-9 _\-()+,&']/;
const MAX_FALLBACK_SEGMENT = 40;

function shortHash(text: string): string {
  // FNV-1a: only needs to tell apart names that sanitize to nothing, not to be secure.
  let hash = 0x811c9dc5;
  for (const char of text) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0').slice(0, 6);
}

function conservativeName(name: string): string {
  const plain = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  let result = '';
  for (const char of plain) result += SAFE_NAME_CHARACTER.test(char) ? char : '_';
  result = result.replace(/\s+/g, ' ').trim();
  return /[A-Za-z0-9]/.test(result) ? result : `Folder ${shortHash(name)}`;
}

/**
 * When the target refuses CREATE for `target`, the next name to try (attempt 1, 2...), or
 * undefined to give up and skip the folder. Only the last segment changes: its parents were
 * created already. Attempt 1 keeps letters (accents dropped), digits, space and _-()+,&' and
 * replaces everything else with '_' (a name with nothing left becomes "Folder <hash>"); attempt 2
 * also cuts it to 40 characters. Attempts that would repeat an earlier name are skipped.
 * Children of a folder created under another name follow it: see retargetChildren().
 */
export function fallbackFolderName(target: string, delimiter: string, attempt: number): string | undefined {
  const cut = delimiter ? target.lastIndexOf(delimiter) : -1;
  const parent = cut >= 0 ? target.slice(0, cut + delimiter.length) : '';
  const leaf = target.slice(parent.length);
  const sanitized = conservativeName(leaf);
  const truncated = sanitized.slice(0, MAX_FALLBACK_SEGMENT).trim();
  const candidates: string[] = [];
  for (const name of [sanitized, truncated]) {
    if (name !== leaf && !candidates.includes(name)) candidates.push(name);
  }
  const chosen = Number.isInteger(attempt) && attempt >= 1 ? candidates[attempt - 1] : undefined;
  return chosen === undefined ? undefined : parent + chosen;
}

/** The entries with every target at or below `from` moved below `to` (after a fallback name). */
export function retargetChildren(entries: readonly FolderPlanEntry[], from: string, to: string, delimiter: string): FolderPlanEntry[] {
  const below = from + (delimiter || '/');
  return entries.map((entry) => {
    if (entry.target === from) return {...entry, target: to};
    if (entry.target.startsWith(below)) return {...entry, target: to + entry.target.slice(from.length)};
    return entry;
  });
}
