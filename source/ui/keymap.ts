// THE keymap. The input dispatcher, the footer hints and the help overlay all read this table,
// so a key shown on screen is always a key that works. Habits follow k9s, lazygit and less.
// No F-keys (Ink 6 cannot read them) and every Esc action also has a letter, because tmux
// holds back a bare Esc for `escape-time` and some SSH clients swallow it.

import type {Key} from 'ink';

export const ACTIONS = [
  // global
  'interrupt',
  'repaint',
  // list movement
  'up',
  'down',
  'top',
  'bottom',
  'pageUp',
  'pageDown',
  // batch picker
  'openBatch',
  'openAndResume',
  'newBatch',
  'removeBatch',
  // grid
  'openDetail',
  'toggleMark',
  'markAll',
  'unmarkAll',
  'stop',
  'resume',
  'stopAll',
  'resumeAll',
  'syncNow',
  'verify',
  'complete',
  'addUsers',
  'removeFromBatch',
  'filter',
  'sort',
  'reverseSort',
  'openLog',
  'clear',
  'quit',
  'help',
  // sub-views
  'back',
  'nextSection',
  'logOpenDetail',
  // confirm dialog
  'confirmYes',
  'confirmNo',
  // text editing (filter, path)
  'applyText',
  'cancelText',
  // forms
  'nextField',
  'previousField',
  'activateField',
  'formBack',
  'choiceNext',
  'choicePrevious',
  // preset list
  'choosePreset',
  'presetBack',
  // connection test
  'retest',
  'testContinue',
  'testEdit',
  // users
  'testLogins',
  'editCsvPath',
  'addUser',
  'showProblems',
  'usersContinue',
  'usersBack',
  // message screen
  'dismiss',
] as const;
export type ActionId = (typeof ACTIONS)[number];

/** A context is a group of bindings; a screen is active in a chain of contexts (see SCREEN_CONTEXTS). */
export type KeyContext =
  | 'global'
  | 'list'
  | 'picker'
  | 'grid'
  | 'detail'
  | 'log'
  | 'help'
  | 'confirm'
  | 'text'
  | 'form'
  | 'form-choice'
  | 'preset-list'
  | 'connection-test'
  | 'users'
  | 'message';

export type Screen =
  | 'picker'
  | 'grid'
  | 'grid-filter'
  | 'detail'
  | 'log'
  | 'help'
  | 'confirm'
  | 'form-text'
  | 'form-choice'
  | 'preset-list'
  | 'connection-test'
  | 'users'
  | 'users-text'
  | 'message';

export const SCREEN_CONTEXTS: Record<Screen, readonly KeyContext[]> = {
  'picker': ['picker', 'list', 'global'],
  'grid': ['grid', 'list', 'global'],
  'grid-filter': ['text', 'global'],
  'detail': ['detail', 'list', 'global'],
  'log': ['log', 'list', 'global'],
  'help': ['help', 'list', 'global'],
  'confirm': ['confirm', 'global'],
  'form-text': ['form', 'global'],
  'form-choice': ['form-choice', 'form', 'global'],
  'preset-list': ['preset-list', 'global'],
  'connection-test': ['connection-test', 'list', 'global'],
  'users': ['users', 'list', 'global'],
  'users-text': ['text', 'global'],
  'message': ['message', 'global'],
};

export interface Binding {
  readonly action: ActionId;
  readonly context: KeyContext;
  /** Normalised key names, see keyName(): 'j', 'G', 'space', 'enter', 'esc', 'up', 'ctrl+l', ... */
  readonly keys: readonly string[];
  /** Short label for the footer; bindings without one are only listed in the help overlay. */
  readonly hint?: string;
  readonly help: string;
}

export const BINDINGS: readonly Binding[] = [
  {action: 'interrupt', context: 'global', keys: ['ctrl+c'], help: 'Quit (asks first while mailboxes are running)'},
  {action: 'repaint', context: 'global', keys: ['ctrl+l'], help: 'Repaint the whole screen'},

  {action: 'up', context: 'list', keys: ['k', 'up'], help: 'Move up'},
  {action: 'down', context: 'list', keys: ['j', 'down'], help: 'Move down'},
  {action: 'top', context: 'list', keys: ['g', 'home'], help: 'Go to the first row'},
  {action: 'bottom', context: 'list', keys: ['G', 'end'], help: 'Go to the last row'},
  {action: 'pageUp', context: 'list', keys: ['pageup', 'ctrl+u'], help: 'Page up'},
  {action: 'pageDown', context: 'list', keys: ['pagedown', 'ctrl+d'], help: 'Page down'},

  {action: 'openBatch', context: 'picker', keys: ['enter'], hint: 'open', help: 'Open the selected batch and continue it'},
  {action: 'openAndResume', context: 'picker', keys: ['r'], hint: 'open+resume', help: 'Open the selected batch and resume its stopped and failed mailboxes'},
  {action: 'newBatch', context: 'picker', keys: ['N'], hint: 'new batch', help: 'Set up a new batch'},
  {action: 'removeBatch', context: 'picker', keys: ['D'], hint: 'remove', help: 'Remove the selected batch state (asks first; never touches mail)'},
  {action: 'quit', context: 'picker', keys: ['q'], hint: 'quit', help: 'Quit'},
  {action: 'help', context: 'picker', keys: ['?'], hint: 'help', help: 'Show all keys'},

  {action: 'openDetail', context: 'grid', keys: ['enter'], hint: 'detail', help: 'Open the selected mailbox: folders, skipped and failed items, errors'},
  {action: 'toggleMark', context: 'grid', keys: ['space'], hint: 'mark', help: 'Mark or unmark the selected mailbox'},
  {action: 'markAll', context: 'grid', keys: ['a'], help: 'Mark all mailboxes shown (after the filter)'},
  {action: 'unmarkAll', context: 'grid', keys: ['u'], help: 'Unmark all'},
  {action: 'stop', context: 'grid', keys: ['s'], hint: 'stop', help: 'Stop the marked mailboxes, or the selected one'},
  {action: 'resume', context: 'grid', keys: ['r'], hint: 'resume', help: 'Resume the marked mailboxes, or the selected one'},
  {action: 'stopAll', context: 'grid', keys: ['S'], help: 'Stop all mailboxes (asks first)'},
  {action: 'resumeAll', context: 'grid', keys: ['R'], help: 'Resume all stopped and failed mailboxes (asks first)'},
  {action: 'syncNow', context: 'grid', keys: ['n'], hint: 'sync now', help: 'Run an incremental sync now on the marked or selected mailboxes'},
  {action: 'verify', context: 'grid', keys: ['v'], help: 'Verify the marked or selected mailboxes: compare source and target read-only (counts, sizes, keys, flags)'},
  {action: 'complete', context: 'grid', keys: ['c'], hint: 'complete', help: 'Complete the batch: one last sync, then no more syncing (asks first)'},
  {action: 'addUsers', context: 'grid', keys: ['A'], help: 'Add users to the batch: load a CSV by path, or type one user by hand (appended to a CSV)'},
  {action: 'removeFromBatch', context: 'grid', keys: ['D'], help: 'Remove the marked mailboxes, or the selected one, from the batch (asks first; never touches mail)'},
  {action: 'filter', context: 'grid', keys: ['/'], hint: 'filter', help: 'Filter rows by email or status'},
  {action: 'sort', context: 'grid', keys: ['o'], hint: 'sort', help: 'Cycle the sort column'},
  {action: 'reverseSort', context: 'grid', keys: ['O'], help: 'Reverse the sort order'},
  {action: 'openLog', context: 'grid', keys: ['l'], hint: 'log', help: 'Recent errors across the batch'},
  {action: 'clear', context: 'grid', keys: ['esc', 'x'], help: 'Clear the filter and the marks'},
  {action: 'quit', context: 'grid', keys: ['q'], hint: 'quit', help: 'Quit (running mailboxes stop and resume next time; state is saved)'},
  {action: 'help', context: 'grid', keys: ['?'], hint: 'help', help: 'Show all keys'},

  {action: 'back', context: 'detail', keys: ['q', 'esc', 'h', 'left'], hint: 'back', help: 'Back to the grid'},
  {action: 'stop', context: 'detail', keys: ['s'], hint: 'stop', help: 'Stop this mailbox'},
  {action: 'resume', context: 'detail', keys: ['r'], hint: 'resume', help: 'Resume this mailbox'},
  {action: 'syncNow', context: 'detail', keys: ['n'], hint: 'sync now', help: 'Sync this mailbox now'},
  {action: 'verify', context: 'detail', keys: ['v'], help: 'Verify this mailbox against its target (the result shows here)'},
  {action: 'nextSection', context: 'detail', keys: ['tab'], hint: 'next section', help: 'Jump to the next section'},
  {action: 'help', context: 'detail', keys: ['?'], hint: 'help', help: 'Show all keys'},

  {action: 'back', context: 'log', keys: ['q', 'esc', 'h', 'left'], hint: 'back', help: 'Back to the grid'},
  {action: 'logOpenDetail', context: 'log', keys: ['enter'], hint: 'detail', help: 'Open the mailbox of the selected error'},
  {action: 'help', context: 'log', keys: ['?'], hint: 'help', help: 'Show all keys'},

  {action: 'back', context: 'help', keys: ['q', 'esc', '?', 'h'], hint: 'close', help: 'Close the help'},

  {action: 'confirmYes', context: 'confirm', keys: ['y', 'Y'], hint: 'yes', help: 'Yes'},
  {action: 'confirmNo', context: 'confirm', keys: ['n', 'N', 'esc'], hint: 'no', help: 'No'},

  {action: 'applyText', context: 'text', keys: ['enter'], hint: 'apply', help: 'Apply what you typed'},
  {action: 'cancelText', context: 'text', keys: ['esc', 'ctrl+g'], hint: 'cancel', help: 'Cancel editing (Ctrl-G as in emacs/less, when Esc is slow)'},

  {action: 'nextField', context: 'form', keys: ['tab', 'down'], hint: 'next field', help: 'Next field'},
  {action: 'previousField', context: 'form', keys: ['shift+tab', 'up'], help: 'Previous field'},
  {action: 'activateField', context: 'form', keys: ['enter'], hint: 'confirm', help: 'Next field; on a button, press it'},
  {action: 'formBack', context: 'form', keys: ['esc', 'ctrl+g'], hint: 'back', help: 'Back to the previous step (also the Back button)'},
  {action: 'choiceNext', context: 'form-choice', keys: ['right', 'space', 'l'], hint: 'change', help: 'Next choice'},
  {action: 'choicePrevious', context: 'form-choice', keys: ['left', 'h'], help: 'Previous choice'},

  {action: 'choosePreset', context: 'preset-list', keys: ['enter'], hint: 'choose', help: 'Use this provider preset (↑/↓ or j/k move, 1-9 pick)'},
  {action: 'presetBack', context: 'preset-list', keys: ['esc', 'b'], hint: 'back', help: 'Back one step (on the first step: to the batch list, if there is one)'},
  {action: 'quit', context: 'preset-list', keys: ['q'], hint: 'leave', help: 'Leave the setup: to the batch list, or quit when there is none'},

  {action: 'testContinue', context: 'connection-test', keys: ['enter'], hint: 'continue', help: 'Continue to the next step'},
  {action: 'retest', context: 'connection-test', keys: ['t'], hint: 'test again', help: 'Run the connection test again'},
  {action: 'testEdit', context: 'connection-test', keys: ['esc', 'e'], hint: 'edit', help: 'Back to the endpoint fields'},
  {action: 'help', context: 'connection-test', keys: ['?'], hint: 'help', help: 'Show all keys'},

  {action: 'toggleMark', context: 'users', keys: ['space'], hint: 'mark', help: 'Mark or unmark the selected user'},
  {action: 'markAll', context: 'users', keys: ['a'], hint: 'all', help: 'Mark all users shown (after the filter)'},
  {action: 'unmarkAll', context: 'users', keys: ['u'], hint: 'none', help: 'Unmark all'},
  {action: 'filter', context: 'users', keys: ['/'], hint: 'filter', help: 'Filter users by email or login name'},
  {action: 'testLogins', context: 'users', keys: ['t'], hint: 'test logins', help: 'Test source and target logins of the marked users (or the selected one)'},
  {action: 'editCsvPath', context: 'users', keys: ['p'], hint: 'csv path', help: 'Load a migration CSV by path'},
  {action: 'addUser', context: 'users', keys: ['A'], help: 'Add a user by hand (appended to the CSV file)'},
  {action: 'showProblems', context: 'users', keys: ['P'], help: 'Show every problem found in the CSV'},
  {action: 'usersContinue', context: 'users', keys: ['enter'], hint: 'continue', help: 'Continue to the batch settings'},
  {action: 'usersBack', context: 'users', keys: ['esc', 'b'], hint: 'back', help: 'Back to the target endpoint'},
  {action: 'help', context: 'users', keys: ['?'], hint: 'help', help: 'Show all keys'},

  {action: 'dismiss', context: 'message', keys: ['enter', 'esc', 'b'], hint: 'back', help: 'Back from an error message'},
  {action: 'quit', context: 'message', keys: ['q'], hint: 'quit', help: 'Quit'},
];

/** Ink's (input, key) pair as one name, matching the strings in BINDINGS. Undefined for pastes. */
export function keyName(input: string, key: Key): string | undefined {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  // A lone LF is Enter too: Enter typed before mailferry put the terminal in raw mode (while it
  // starts, over a slow SSH link) arrives through the tty's ICRNL as "\n", and so does Ctrl-J.
  if (input === '\n') return 'enter';
  // Ink sets meta together with escape; check escape first so Esc is never read as Alt-something.
  if (key.escape) return 'esc';
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  // Ink 6 reports the Backspace key (DEL, 0x7f) as `delete`.
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl && input.length === 1) return `ctrl+${input.toLowerCase()}`;
  if (key.meta) return input.length === 1 ? `meta+${input}` : undefined;
  if (input === ' ') return 'space';
  if (Array.from(input).length === 1) return input;
  return undefined;
}

const bindingsByContext = new Map<KeyContext, Map<string, Binding>>();
for (const binding of BINDINGS) {
  let byKey = bindingsByContext.get(binding.context);
  if (!byKey) {
    byKey = new Map();
    bindingsByContext.set(binding.context, byKey);
  }
  for (const key of binding.keys) if (!byKey.has(key)) byKey.set(key, binding);
}

export function resolveKey(screen: Screen, name: string | undefined): ActionId | undefined {
  if (name === undefined) return undefined;
  for (const context of SCREEN_CONTEXTS[screen]) {
    const binding = bindingsByContext.get(context)?.get(name);
    if (binding) return binding.action;
  }
  return undefined;
}

export function bindingsFor(screen: Screen): Binding[] {
  return SCREEN_CONTEXTS[screen].flatMap((context) => BINDINGS.filter((binding) => binding.context === context));
}

const KEY_LABELS: Record<string, string> = {
  space: 'Space',
  enter: 'Enter',
  esc: 'Esc',
  tab: 'Tab',
  'shift+tab': 'Shift-Tab',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  home: 'Home',
  end: 'End',
  backspace: 'Backspace',
};

export function keyLabel(name: string, ascii: boolean): string {
  const arrows: Record<string, [string, string]> = {up: ['↑', 'Up'], down: ['↓', 'Down'], left: ['←', 'Left'], right: ['→', 'Right']};
  const arrow = arrows[name];
  if (arrow) return ascii ? arrow[1] : arrow[0];
  if (KEY_LABELS[name]) return KEY_LABELS[name];
  if (name.startsWith('ctrl+')) return `Ctrl-${name.slice(5).toUpperCase()}`;
  return name;
}

/** Actions whose hint is never dropped from a narrow footer: the ways out and the way to more help. */
const ESSENTIAL_HINTS: ReadonlySet<ActionId> = new Set(['help', 'quit', 'back', 'confirmYes', 'confirmNo', 'formBack', 'presetBack', 'usersBack', 'cancelText', 'dismiss']);

/**
 * "s stop  r resume  ? help" for the footer: bindings with a hint, first key of each, in table
 * order. When the width is short, the least essential hints (later in the table) are left out;
 * help and the way back or out always stay.
 */
export function footerHints(screen: Screen, ascii: boolean, width = Number.POSITIVE_INFINITY): string {
  const seen = new Set<string>();
  const parts: {text: string; essential: boolean}[] = [];
  for (const binding of bindingsFor(screen)) {
    if (!binding.hint || seen.has(binding.action)) continue;
    seen.add(binding.action);
    parts.push({text: `${keyLabel(binding.keys[0] ?? '', ascii)} ${binding.hint}`, essential: ESSENTIAL_HINTS.has(binding.action)});
  }
  const separator = '  ';
  let used = parts.filter((part) => part.essential).reduce((total, part) => total + part.text.length + separator.length, 0);
  const keep = new Set(parts.filter((part) => part.essential));
  for (const part of parts) {
    if (keep.has(part)) continue;
    if (used + part.text.length + separator.length > width + separator.length) continue;
    keep.add(part);
    used += part.text.length + separator.length;
  }
  return parts
    .filter((part) => keep.has(part))
    .map((part) => part.text)
    .join(separator);
}

export interface HelpSection {
  readonly title: string;
  readonly rows: readonly {keys: string; help: string}[];
}

const CONTEXT_TITLES: Record<KeyContext, string> = {
  'global': 'Everywhere',
  'list': 'Lists',
  'picker': 'Batch list',
  'grid': 'Progress grid',
  'detail': 'Mailbox detail',
  'log': 'Error log',
  'help': 'This help',
  'confirm': 'Questions',
  'text': 'Typing (filter, path)',
  'form': 'Setup forms',
  'form-choice': 'Setup forms: choice fields',
  'preset-list': 'Provider presets',
  'connection-test': 'Connection test',
  'users': 'Users',
  'message': 'Messages',
};

/** Every binding, grouped by context in the order of the table: the help overlay draws exactly this. */
export function helpSections(ascii: boolean): HelpSection[] {
  const order: KeyContext[] = [];
  for (const binding of BINDINGS) if (!order.includes(binding.context)) order.push(binding.context);
  return order.map((context) => ({
    title: CONTEXT_TITLES[context],
    rows: BINDINGS.filter((binding) => binding.context === context).map((binding) => ({
      keys: binding.keys.map((key) => keyLabel(key, ascii)).join(' '),
      help: binding.help,
    })),
  }));
}
