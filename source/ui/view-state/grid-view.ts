// View state of the progress grid: selection, scroll, filter, sort and marks. Pure: the grid
// component holds one of these in useReducer and derives the visible rows from each snapshot.
// The selection follows an email address, not a row number, because rows move as statuses
// change under a sort.

import type {MailboxStatus} from '../../engine/batch-model.js';
import type {MailboxSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import {scrollToShow, type ListWindow} from './list-window.js';
import {listCursor, listWindow, markedListReducer, type MarkedList, type MarkedListAction} from './marked-list.js';

export const SORT_KEYS = ['csv', 'email', 'status', 'progress', 'rate', 'eta', 'errors', 'lastSynced'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export const SORT_LABELS: Record<SortKey, string> = {
  csv: 'CSV order',
  email: 'email',
  status: 'status',
  progress: 'progress',
  rate: 'rate',
  eta: 'ETA',
  errors: 'errors',
  lastSynced: 'last synced',
};

export interface GridView extends MarkedList<string> {
  readonly sortKey: SortKey;
  readonly descending: boolean;
}

export const INITIAL_GRID_VIEW: GridView = {scrollTop: 0, filter: '', sortKey: 'csv', descending: false, marks: new Set()};

export type GridAction =
  | MarkedListAction
  | {type: 'select'; email: string}
  | {type: 'cycleSort'}
  | {type: 'reverseSort'}
  | {type: 'clear'};

/** What the reducer needs to know about the rows on screen right now. */
export interface GridContext {
  /** Emails of the rows after filter and sort, top to bottom. */
  readonly order: readonly string[];
  /** Rows the grid can show at once. */
  readonly pageSize: number;
}

/** Problems first: an admin scanning a sorted grid wants failures and stops at the top. */
export const STATUS_RANK: Record<MailboxStatus, number> = {
  Failed: 0,
  Stopping: 1,
  Stopped: 2,
  Starting: 3,
  Syncing: 4,
  IncrementalSyncing: 5,
  Completing: 6,
  Queued: 7,
  Synced: 8,
  Completed: 9,
};

export const STATUS_SHORT: Record<MailboxStatus, string> = {
  Queued: 'Queued',
  Starting: 'Starting',
  Syncing: 'Syncing',
  Synced: 'Synced',
  IncrementalSyncing: 'Incr.sync',
  Stopping: 'Stopping',
  Stopped: 'Stopped',
  Completing: 'Completing',
  Completed: 'Completed',
  Failed: 'Failed',
};

export function selectedIndex(view: GridView, order: readonly string[]): number {
  return listCursor(view, order);
}

export function gridWindow(view: GridView, order: readonly string[], height: number): ListWindow {
  return listWindow(view, order, height);
}

export function gridReducer(state: GridView, action: GridAction, context: GridContext): GridView {
  const {order, pageSize} = context;
  switch (action.type) {
    case 'select': {
      const index = order.indexOf(action.email);
      if (index < 0) return state;
      return {...state, selected: action.email, scrollTop: scrollToShow(state.scrollTop, index, order.length, pageSize)};
    }
    case 'cycleSort': {
      const next = SORT_KEYS[(SORT_KEYS.indexOf(state.sortKey) + 1) % SORT_KEYS.length] ?? 'csv';
      // Numbers read best largest first (fastest, most errors, most done); names A to Z.
      const descending = next === 'rate' || next === 'errors' || next === 'progress';
      return {...state, sortKey: next, descending};
    }
    case 'reverseSort':
      return {...state, descending: !state.descending};
    case 'clear':
      return {...state, filter: '', marks: new Set(), scrollTop: 0};
    default:
      return markedListReducer(state, action, order, pageSize);
  }
}

export function matchesFilter(mailbox: MailboxSnapshot, filter: string): boolean {
  const needle = filter.trim().toLowerCase();
  if (!needle) return true;
  return (
    mailbox.emailAddress.toLowerCase().includes(needle) ||
    mailbox.status.toLowerCase().includes(needle) ||
    STATUS_SHORT[mailbox.status].toLowerCase().includes(needle)
  );
}

function progressOf(mailbox: MailboxSnapshot): number {
  return mailbox.itemsTotal > 0 ? mailbox.itemsDone / mailbox.itemsTotal : 0;
}

function compare(a: MailboxSnapshot, b: MailboxSnapshot, key: SortKey): number {
  switch (key) {
    case 'csv':
      return 0;
    case 'email':
      return a.emailAddress.localeCompare(b.emailAddress);
    case 'status':
      return STATUS_RANK[a.status] - STATUS_RANK[b.status];
    case 'progress':
      return progressOf(a) - progressOf(b);
    case 'rate':
      return a.messagesPerSecond - b.messagesPerSecond;
    case 'eta':
      // Unknown ETAs sort after known ones in ascending order.
      return (a.etaSeconds ?? Number.POSITIVE_INFINITY) - (b.etaSeconds ?? Number.POSITIVE_INFINITY) || 0;
    case 'errors':
      return a.errorCount - b.errorCount;
    case 'lastSynced':
      return (a.lastSyncedAt ?? '').localeCompare(b.lastSyncedAt ?? '');
  }
}

/** The rows the grid shows, in order: filtered, then sorted stably (ties keep CSV order). */
export function arrangeRows(
  mailboxes: readonly MailboxSnapshot[],
  view: Pick<GridView, 'filter' | 'sortKey' | 'descending'>,
): MailboxSnapshot[] {
  const rows = view.filter.trim() ? mailboxes.filter((mailbox) => matchesFilter(mailbox, view.filter)) : [...mailboxes];
  if (view.sortKey === 'csv') return view.descending ? rows.reverse() : rows;
  const indexed = rows.map((mailbox, index) => ({mailbox, index}));
  const sign = view.descending ? -1 : 1;
  indexed.sort((a, b) => {
    const order = compare(a.mailbox, b.mailbox, view.sortKey);
    return order !== 0 && !Number.isNaN(order) ? sign * order : a.index - b.index;
  });
  return indexed.map((entry) => entry.mailbox);
}

/** What `s`, `r` and `n` act on: the marked mailboxes, or else the selected one. */
export function actionTargets(view: GridView, order: readonly string[]): string[] {
  if (view.marks.size > 0) return [...view.marks];
  const selected = order[selectedIndex(view, order)];
  return selected === undefined ? [] : [selected];
}
