// Per-mailbox totals are derived from the folder checkpoints, never kept as separate running
// counters, so a retried or reconciled folder cannot be counted twice. In store/ because the
// summary shards (sharded-state.ts) persist them, and the engine's snapshots show them.

import type {MailboxState} from './state-schema.js';

export interface MailboxTotals {
  itemsDone: number;
  itemsTotal: number;
  itemsSkipped: number;
  itemsFailed: number;
  bytesDone: number;
  bytesTotal: number;
}

export function mailboxTotals(state: MailboxState): MailboxTotals {
  const totals: MailboxTotals = {itemsDone: 0, itemsTotal: 0, itemsSkipped: 0, itemsFailed: 0, bytesDone: 0, bytesTotal: 0};
  for (const folder of Object.values(state.folders)) {
    totals.itemsDone += folder.doneCount;
    totals.itemsTotal += folder.total;
    totals.itemsSkipped += folder.skipped;
    totals.itemsFailed += folder.failed;
    totals.bytesDone += folder.bytesDone;
    totals.bytesTotal += folder.bytesTotal;
  }
  return totals;
}
