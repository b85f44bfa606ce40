// Selection, scroll, filter and marks over a list whose rows are keyed (the grid by email, the
// users table by CSV line). Both lists behave the same way for these keys, so they share this
// reducer; each adds its own actions (sort, select, reset) around it.

import type {ActionId} from '../keymap.js';
import {isMovement, moveIndex, scrollToShow, windowAround, type ListWindow, type Movement} from './list-window.js';

export interface MarkedList<K> {
  readonly selected?: K;
  readonly scrollTop: number;
  readonly filter: string;
  readonly marks: ReadonlySet<K>;
}

export type MarkedListAction =
  | {type: 'move'; movement: Movement}
  | {type: 'toggleMark'}
  | {type: 'markAll'}
  | {type: 'unmarkAll'}
  | {type: 'setFilter'; filter: string};

/** Index of the selected row in `order`; the first row when the selection is gone (filtered out). */
export function listCursor<K>(view: MarkedList<K>, order: readonly K[]): number {
  if (order.length === 0) return -1;
  if (view.selected === undefined) return 0;
  const index = order.indexOf(view.selected);
  return index >= 0 ? index : 0;
}

export function listWindow<K>(view: MarkedList<K>, order: readonly K[], height: number): ListWindow {
  return windowAround(listCursor(view, order), view.scrollTop, order.length, height);
}

export function markedListReducer<K, S extends MarkedList<K>>(state: S, action: MarkedListAction, order: readonly K[], pageSize: number): S {
  switch (action.type) {
    case 'move': {
      const next = moveIndex(listCursor(state, order), action.movement, order.length, pageSize);
      if (next < 0) return state;
      const start = listWindow(state, order, pageSize).start;
      return {...state, selected: order[next], scrollTop: scrollToShow(start, next, order.length, pageSize)};
    }
    case 'toggleMark': {
      const index = listCursor(state, order);
      const key = order[index];
      if (key === undefined) return state;
      const marks = new Set(state.marks);
      if (marks.has(key)) marks.delete(key);
      else marks.add(key);
      // Moving down after a mark lets the admin mark a run of rows with repeated Space.
      const next = Math.min(order.length - 1, index + 1);
      return {...state, marks, selected: order[next], scrollTop: scrollToShow(state.scrollTop, next, order.length, pageSize)};
    }
    case 'markAll':
      return {...state, marks: new Set([...state.marks, ...order])};
    case 'unmarkAll':
      return state.marks.size === 0 ? state : {...state, marks: new Set()};
    case 'setFilter':
      return {...state, filter: action.filter, scrollTop: 0};
  }
}

/** The list action a key action stands for (cursor movement and marks), if any. */
export function markedListActionFor(action: ActionId): MarkedListAction | undefined {
  if (isMovement(action)) return {type: 'move', movement: action};
  switch (action) {
    case 'toggleMark':
    case 'markAll':
    case 'unmarkAll':
      return {type: action};
    default:
      return undefined;
  }
}
