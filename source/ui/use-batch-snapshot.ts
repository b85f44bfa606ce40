// The grid reads the engine through its published snapshots only. The engine publishes a few
// times a second at most, so the UI renders a few frames a second however many messages move.

import {useCallback, useSyncExternalStore} from 'react';
import type {BatchControl} from '../engine/batch-control.js';
import type {BatchSnapshot} from '../engine/scheduler/batch-snapshot.js';

export function useBatchSnapshot(control: BatchControl): BatchSnapshot {
  const subscribe = useCallback((listener: () => void) => control.subscribe(listener), [control]);
  const getSnapshot = useCallback(() => control.getSnapshot(), [control]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
