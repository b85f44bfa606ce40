// The batch settings form as plain data: fields, the problems in what was typed, and the
// BatchSettings (plus the two per-endpoint connection caps) it turns into.

import {DEFAULT_SETTINGS, type BatchSettings} from '../../engine/batch-model.js';
import {exclusionProblem} from '../../engine/folders/folder-exclusions.js';
import {DURATION_EXAMPLES, durationText, parseDuration} from '../../engine/duration-text.js';
import type {FormField} from './form-fields.js';

export interface SettingsDraft {
  readonly name: string;
  readonly maxConcurrentMigrations: string;
  readonly maxConcurrentIncrementalSyncs: string;
  readonly sourceMaxConnections: string;
  readonly targetMaxConnections: string;
  readonly appendConnectionsPerMailbox: string;
  readonly excludedFolders: string;
  readonly maxMessageMb: string;
  readonly maxItemsPerMailbox: string;
  readonly incrementalInterval: string;
  /** 'copy' (with \Deleted, the default) or 'skip' (left out, each listed as skipped). */
  readonly deletedMessages: string;
}

const MB = 1024 * 1024;

export function defaultBatchName(now: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `batch-${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}`;
}

export function settingsDraft(options: {name: string; sourceMaxConnections: number; targetMaxConnections: number; settings?: Partial<BatchSettings>}): SettingsDraft {
  const settings = {...DEFAULT_SETTINGS, ...options.settings};
  return {
    name: options.name,
    maxConcurrentMigrations: String(settings.maxConcurrentMigrations),
    maxConcurrentIncrementalSyncs: String(settings.maxConcurrentIncrementalSyncs),
    sourceMaxConnections: String(options.sourceMaxConnections),
    targetMaxConnections: String(options.targetMaxConnections),
    appendConnectionsPerMailbox: String(settings.appendConnectionsPerMailbox),
    excludedFolders: settings.excludedFolders.join(', '),
    maxMessageMb: String(Math.round((settings.maxMessageBytes / MB) * 100) / 100),
    maxItemsPerMailbox: String(settings.maxItemsPerMailbox),
    incrementalInterval: durationText(settings.incrementalIntervalMs),
    deletedMessages: settings.skipDeletedMessages ? 'skip' : 'copy',
  };
}

export const SETTINGS_FIELDS: readonly FormField[] = [
  {kind: 'text', id: 'name', label: 'Batch name', help: 'Letters, digits, dot, dash and underscore; names the state file and the headless commands.'},
  {kind: 'text', id: 'maxConcurrentMigrations', label: 'Max concurrent migrations', help: 'Mailboxes copied at the same time in their first pass (default 20).'},
  {kind: 'text', id: 'maxConcurrentIncrementalSyncs', label: 'Max concurrent incremental syncs', help: 'Mailboxes in an incremental pass at the same time (default 10).'},
  {kind: 'text', id: 'sourceMaxConnections', label: 'Source connection budget', help: 'Most connections to the source at once, over all mailboxes.'},
  {kind: 'text', id: 'targetMaxConnections', label: 'Target connection budget', help: 'Most connections to the target at once, over all mailboxes.'},
  {kind: 'text', id: 'appendConnectionsPerMailbox', label: 'Target connections per mailbox', help: 'Parallel APPEND connections for one mailbox (default 3).'},
  {kind: 'text', id: 'excludedFolders', label: 'Excluded folders', placeholder: 'e.g. Junk, Archive/*, \\Trash', help: 'Comma separated: a folder name, a subtree (Archive/*), or a special-use kind (\\Junk, \\Trash).'},
  {kind: 'text', id: 'maxMessageMb', label: 'Max message size (MB)', help: 'Bigger messages are skipped and listed with the reason (default 35).'},
  {kind: 'text', id: 'maxItemsPerMailbox', label: 'Max items per mailbox', help: 'Messages past this count are skipped and listed (default 500000).'},
  {kind: 'text', id: 'incrementalInterval', label: 'Incremental sync interval', help: 'Time between incremental passes after the first sync: 24h, 30m, 1h30m.'},
  {
    kind: 'choice',
    id: 'deletedMessages',
    label: 'Messages marked \\Deleted',
    choices: [
      {value: 'copy', label: 'copy'},
      {value: 'skip', label: 'skip'},
    ],
    help: 'Not yet expunged on the source. copy: they keep \\Deleted on the target (default); skip: left out, each listed as skipped (--skip-deleted).',
  },
  {kind: 'button', id: 'create', label: 'Create the batch and start', help: 'Writes the batch state (no passwords), opens the progress grid and starts the migration.'},
  {kind: 'button', id: 'back', label: 'Back', help: 'Back to the users.'},
];

/** Excluded folders as typed: commas separate patterns (folder names rarely contain one). */
export function splitExclusions(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function wholeNumber(text: string, min: number): number | undefined {
  const trimmed = text.trim().replace(/[_,]/g, '');
  return /^\d+$/.test(trimmed) && Number(trimmed) >= min ? Number(trimmed) : undefined;
}

export function settingsProblems(draft: SettingsDraft, existingNames: readonly string[] = []): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(draft.name)) problems['name'] = 'Use 1-64 letters, digits, dots, dashes or underscores.';
  else if (existingNames.includes(draft.name)) problems['name'] = `A batch named ${draft.name} exists already; choose another name.`;
  for (const id of ['maxConcurrentMigrations', 'maxConcurrentIncrementalSyncs', 'sourceMaxConnections', 'targetMaxConnections', 'appendConnectionsPerMailbox', 'maxItemsPerMailbox'] as const) {
    if (wholeNumber(draft[id], 1) === undefined) problems[id] = 'A whole number of at least 1.';
  }
  const mb = Number(draft.maxMessageMb.trim());
  if (!Number.isFinite(mb) || mb <= 0) problems['maxMessageMb'] = 'A size in MB greater than 0, e.g. 35 or 0.5.';
  for (const pattern of splitExclusions(draft.excludedFolders)) {
    const problem = exclusionProblem(pattern);
    if (problem) {
      problems['excludedFolders'] = problem;
      break;
    }
  }
  if (parseDuration(draft.incrementalInterval) === undefined) problems['incrementalInterval'] = `A duration with its unit, such as ${DURATION_EXAMPLES}.`;
  return problems;
}

export function settingsFromDraft(draft: SettingsDraft): {settings: BatchSettings; sourceMaxConnections: number; targetMaxConnections: number} {
  const number = (text: string) => Number(text.trim().replace(/[_,]/g, ''));
  return {
    settings: {
      maxConcurrentMigrations: number(draft.maxConcurrentMigrations),
      maxConcurrentIncrementalSyncs: number(draft.maxConcurrentIncrementalSyncs),
      excludedFolders: splitExclusions(draft.excludedFolders),
      maxMessageBytes: Math.round(Number(draft.maxMessageMb.trim()) * MB),
      maxItemsPerMailbox: number(draft.maxItemsPerMailbox),
      incrementalIntervalMs: parseDuration(draft.incrementalInterval) ?? DEFAULT_SETTINGS.incrementalIntervalMs,
      appendConnectionsPerMailbox: number(draft.appendConnectionsPerMailbox),
      skipDeletedMessages: draft.deletedMessages === 'skip',
    },
    sourceMaxConnections: number(draft.sourceMaxConnections),
    targetMaxConnections: number(draft.targetMaxConnections),
  };
}
