// State whose newest value is readable at once, before React renders it. Key handlers act on
// what the admin sees *after* the keys already typed: under load a render can trail the input
// by a hundred milliseconds, and `j` then `s` must stop the row `j` moved to, not the old one.

import {useCallback, useRef, useState} from 'react';

export type SyncedSetter<T> = (next: T | ((current: T) => T)) => T;

export function useSyncedState<T>(initial: T | (() => T)): [T, SyncedSetter<T>, {readonly current: T}] {
  const [state, setState] = useState(initial);
  const ref = useRef(state);
  const set = useCallback<SyncedSetter<T>>((next) => {
    const value = typeof next === 'function' ? (next as (current: T) => T)(ref.current) : next;
    ref.current = value;
    setState(value);
    return value;
  }, []);
  return [state, set, ref];
}
