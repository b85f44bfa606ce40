// Typed events of the engine. Consumers: the headless line output, the log file, tests.
// The UI reads snapshots instead, so it is never re-rendered per message.

import type {ErrorRecord, ItemRecord, MailboxStatus} from './batch-model.js';

export interface EngineEvents {
  'status': {emailAddress: string; from: MailboxStatus; to: MailboxStatus; error?: ErrorRecord};
  'folder-progress': {emailAddress: string; folder: string; done: number; total: number};
  'item-skipped': {emailAddress: string; item: ItemRecord};
  'item-failed': {emailAddress: string; item: ItemRecord};
  /** Copied, but not byte for byte: the reason says what changed and why. */
  'item-changed': {emailAddress: string; item: ItemRecord};
  'error': {emailAddress: string; error: ErrorRecord};
  'throttled': {emailAddress: string; endpoint: 'source' | 'target'; waitMs: number; serverText?: string};
  'retry': {emailAddress: string; attempt: number; waitMs: number; error: ErrorRecord};
  'pass-finished': {emailAddress: string; kind: 'initial' | 'incremental' | 'final'; copied: number; flagsUpdated: number; ms: number};
  'batch-idle': {name: string};
  /** Mailboxes added to or removed from the batch while it runs (batch-membership.ts). */
  'membership': {added: string[]; removed: string[]; csvPath?: string};
}

export type EngineEventName = keyof EngineEvents;
export type EngineListener<K extends EngineEventName> = (payload: EngineEvents[K]) => void;

/** A tiny typed emitter: node's EventEmitter typing loses the payload types. */
export class TypedEmitter {
  private readonly listeners = new Map<EngineEventName, Set<(payload: never) => void>>();

  on<K extends EngineEventName>(event: K, listener: EngineListener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<K extends EngineEventName>(event: K, payload: EngineEvents[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) (listener as EngineListener<K>)(payload);
  }
}
