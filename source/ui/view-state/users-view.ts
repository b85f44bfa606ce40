// View state of the users table: selection, scroll, filter and marks over CSV rows. Rows are keyed
// by their CSV line number, which is unique even when the file has duplicate addresses.

import type {MigrationRow} from '../../engine/csv/migration-csv.js';
import type {ListWindow} from './list-window.js';
import {listCursor, listWindow, markedListReducer, type MarkedList, type MarkedListAction} from './marked-list.js';

export type UsersView = MarkedList<number>;

export const INITIAL_USERS_VIEW: UsersView = {scrollTop: 0, filter: '', marks: new Set()};

export type UsersAction = MarkedListAction | {type: 'reset'};

export interface UsersContext {
  /** Line numbers of the rows shown (after the filter), top to bottom. */
  readonly order: readonly number[];
  readonly pageSize: number;
}

export function filterUsers(rows: readonly MigrationRow[], filter: string): MigrationRow[] {
  const needle = filter.trim().toLowerCase();
  if (!needle) return [...rows];
  return rows.filter(
    (row) =>
      row.emailAddress.toLowerCase().includes(needle) ||
      row.userName.toLowerCase().includes(needle) ||
      (row.targetUserName ?? '').toLowerCase().includes(needle),
  );
}

export function usersCursor(view: UsersView, order: readonly number[]): number {
  return listCursor(view, order);
}

export function usersWindow(view: UsersView, order: readonly number[], height: number): ListWindow {
  return listWindow(view, order, height);
}

export function usersReducer(state: UsersView, action: UsersAction, context: UsersContext): UsersView {
  if (action.type === 'reset') return INITIAL_USERS_VIEW;
  return markedListReducer(state, action, context.order, context.pageSize);
}

/** What `t` tests: the marked rows, else the selected one. */
export function usersTargets(view: UsersView, order: readonly number[]): number[] {
  if (view.marks.size > 0) return [...view.marks].sort((a, b) => a - b);
  const line = order[usersCursor(view, order)];
  return line === undefined ? [] : [line];
}
