// The batch model the engine works with: the records the state file persists (owned by
// store/batch-records.ts, where a change is a change of the file format) under the engine's name,
// so the UI and the headless commands import the engine only.

export * from '../store/batch-records.js';
