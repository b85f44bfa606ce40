// View state of the users table: selection, scroll, filter and marks over CSV rows. Rows are keyed
// by their CSV line number, which is unique even when the file has duplicate addresses.

import type {MigrationRow} from '../../engine/migration-csv.js';
import {moveIndex, scrollToShow, windowAround, type ListWindow, type Movement} from './list-window.js';

export interface UsersView {
  readonly selected?: number;
  readonly scrollTop: number;
  readonly filter: string;
  readonly marks: ReadonlySet<number>;
}

export const INITIAL_USERS_VIEW: UsersView = {scrollTop: 0, filter: '', marks: new Set()};

export type UsersAction =
  | {type: 'move'; movement: Movement}
  | {type: 'toggleMark'}
  | {type: 'markAll'}
  | {type: 'unmarkAll'}
  | {type: 'setFilter'; filter: string}
  | {type: 'reset'};

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
  if (order.length === 0) return -1;
  if (view.selected === undefined) return 0;
  const index = order.indexOf(view.selected);
  return index >= 0 ? index : 0;
}

export function usersWindow(view: UsersView, order: readonly number[], height: number): ListWindow {
  return windowAround(usersCursor(view, order), view.scrollTop, order.length, height);
}

export function usersReducer(state: UsersView, action: UsersAction, context: UsersContext): UsersView {
  const {order, pageSize} = context;
  switch (action.type) {
    case 'move': {
      const next = moveIndex(usersCursor(state, order), action.movement, order.length, pageSize);
      if (next < 0) return state;
      const start = usersWindow(state, order, pageSize).start;
      return {...state, selected: order[next], scrollTop: scrollToShow(start, next, order.length, pageSize)};
    }
    case 'toggleMark': {
      const index = usersCursor(state, order);
      const line = order[index];
      if (line === undefined) return state;
      const marks = new Set(state.marks);
      if (marks.has(line)) marks.delete(line);
      else marks.add(line);
      const next = Math.min(order.length - 1, index + 1);
      return {...state, marks, selected: order[next], scrollTop: scrollToShow(state.scrollTop, next, order.length, pageSize)};
    }
    case 'markAll':
      return {...state, marks: new Set([...state.marks, ...order])};
    case 'unmarkAll':
      return state.marks.size === 0 ? state : {...state, marks: new Set()};
    case 'setFilter':
      return {...state, filter: action.filter, scrollTop: 0};
    case 'reset':
      return INITIAL_USERS_VIEW;
  }
}

/** What `t` tests: the marked rows, else the selected one. */
export function usersTargets(view: UsersView, order: readonly number[]): number[] {
  if (view.marks.size > 0) return [...view.marks].sort((a, b) => a - b);
  const line = order[usersCursor(view, order)];
  return line === undefined ? [] : [line];
}
