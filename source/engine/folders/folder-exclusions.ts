// The batch setting "excluded folders": which patterns exist, how they are written, and what
// they match. The rules are documented with the other folder rules at the top of
// folder-mapping.ts (rule 5); this file implements them.

import {SPECIAL_USES, type SpecialUse} from './special-use-names.js';

export type ExclusionRule =
  | {pattern: string; kind: 'exact'; segments: string[]}
  | {pattern: string; kind: 'subtree'; segments: string[]}
  | {pattern: string; kind: 'special-use'; use: SpecialUse};

export interface ExclusionMatch {
  rule: ExclusionRule;
  /** The rule also excludes every folder below the matched one. */
  coversChildren: boolean;
}

export interface ParseOptions {
  /** The source keeps personal folders under an `INBOX.`-style namespace prefix (Courier,
   *  Cyrus): admins copy names such as `INBOX/Archive` from such servers, which mean `Archive`. */
  inboxPrefixedSource?: boolean;
}

function isInbox(segment: string): boolean {
  return segment.toUpperCase() === 'INBOX';
}

function specialUseByKindName(text: string): SpecialUse | undefined {
  const wanted = text.toLowerCase();
  return SPECIAL_USES.find((use) => use.toLowerCase() === wanted);
}

/** Why a pattern cannot be used, in words for the admin; undefined when it is fine. */
export function exclusionProblem(pattern: string): string | undefined {
  const text = pattern.trim();
  if (text === '') return 'the excluded-folder pattern is empty; remove it or name a folder';
  if (text.startsWith('\\')) {
    return specialUseByKindName(text)
      ? undefined
      : `"${text}" is not a special-use kind; use one of ${SPECIAL_USES.join(', ')}`;
  }
  const body = text.replace(/^\/+/, '');
  if (body === '*' || body === '') {
    return `"${text}" would exclude every folder; name a folder such as "Archive" or "Archive/*"`;
  }
  const withoutTail = body.endsWith('/*') ? body.slice(0, -2) : body;
  if (withoutTail.includes('*') || withoutTail.includes('%')) {
    return `"${text}": wildcards are only understood at the end, as in "Archive/*"`;
  }
  return undefined;
}

/** Undefined for a pattern with a problem (see exclusionProblem); such patterns match nothing. */
export function parseExclusion(pattern: string, options: ParseOptions = {}): ExclusionRule | undefined {
  if (exclusionProblem(pattern) !== undefined) return undefined;
  const text = pattern.trim();
  if (text.startsWith('\\')) {
    return {pattern, kind: 'special-use', use: specialUseByKindName(text)!};
  }
  let body = text.replace(/^\/+/, '');
  let kind: 'exact' | 'subtree' = 'exact';
  if (body.endsWith('/*')) {
    body = body.slice(0, -2);
    kind = 'subtree';
  } else if (body.endsWith('/')) {
    body = body.replace(/\/+$/, '');
    kind = 'subtree';
  }
  let segments = body.split('/').map((segment) => segment.normalize('NFC'));
  if (isInbox(segments[0]!)) segments[0] = 'INBOX';
  if (options.inboxPrefixedSource && segments.length > 1 && segments[0] === 'INBOX') {
    segments = segments.slice(1);
  }
  return {pattern, kind, segments};
}

export function parseExclusions(patterns: readonly string[], options: ParseOptions = {}): ExclusionRule[] {
  const rules: ExclusionRule[] = [];
  for (const pattern of patterns) {
    const rule = parseExclusion(pattern, options);
    if (rule) rules.push(rule);
  }
  return rules;
}

function sameSegments(a: readonly string[], b: readonly string[], length: number): boolean {
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/**
 * The first rule (in the order the admin wrote them) that excludes a folder.
 * `segments` is the folder's logical name split on '/'. A subtree rule matches the folder it
 * names and everything below it by name alone; a special-use rule matches the folder of that
 * kind, and coversChildren tells the caller to exclude that folder's descendants as well.
 */
export function matchExclusion(
  rules: readonly ExclusionRule[],
  segments: readonly string[],
  specialUse?: SpecialUse,
): ExclusionMatch | undefined {
  const folder = segments.map((segment) => segment.normalize('NFC'));
  if (folder.length > 0 && isInbox(folder[0]!)) folder[0] = 'INBOX';
  for (const rule of rules) {
    if (rule.kind === 'special-use') {
      if (specialUse === rule.use) return {rule, coversChildren: true};
      continue;
    }
    const fits = rule.kind === 'subtree' ? rule.segments.length <= folder.length : rule.segments.length === folder.length;
    if (fits && sameSegments(rule.segments, folder, rule.segments.length)) {
      return {rule, coversChildren: rule.kind === 'subtree'};
    }
  }
  return undefined;
}

/** The reason recorded for an excluded folder in the mailbox report. */
export function exclusionReason(rule: ExclusionRule): string {
  return `excluded by batch setting "${rule.pattern}"`;
}
