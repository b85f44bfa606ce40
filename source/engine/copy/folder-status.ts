// When a folder counts as unchanged since the last pass, from what LIST-STATUS says of it. Its own
// module so the no-change check (unchanged-check.ts) loads without the copy paths behind
// folder-copy.ts: in the no-change pass that is about 20 ms of module loading saved.

import type {FolderCheckpoint} from '../../store/state-schema.js';

/** LIST-STATUS items of one folder, as far as the server gave them. */
export interface FolderStatusHint {
  uidValidity?: bigint | undefined;
  uidNext?: number | undefined;
  highestModseq?: bigint | undefined;
  messages?: number | undefined;
}

/** Nothing can have changed since the last pass: same UIDVALIDITY, UIDNEXT and MODSEQ. */
export function folderUnchanged(checkpoint: FolderCheckpoint | undefined, status: FolderStatusHint | undefined): boolean {
  if (!checkpoint || !status || checkpoint.inProgress || checkpoint.uidNext === undefined) return false;
  if (status.uidValidity === undefined || status.uidNext === undefined || status.highestModseq === undefined) return false;
  if (checkpoint.highestModseq === undefined) return false;
  return (
    status.uidValidity.toString() === checkpoint.sourceUidValidity &&
    status.uidNext === checkpoint.uidNext &&
    status.highestModseq.toString() === checkpoint.highestModseq
  );
}
