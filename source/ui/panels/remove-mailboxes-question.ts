// The grid's "remove from batch" (D): asks first, says plainly that no mail is touched, then takes
// the mailboxes out of the batch's state through the BatchControl.

import type {BatchControl} from '../../engine/batch-control.js';
import type {Question} from './ConfirmDialog.js';
import type {StatusMessage} from './Footer.js';

export function removalQuestion(
  control: Pick<BatchControl, 'getSnapshot' | 'removeMailboxes'>,
  targets: readonly string[],
  run: (label: string, done: string, command: () => Promise<void>) => void,
  afterRemoval: () => void,
): Question | StatusMessage {
  if (targets.length === 0) return {text: 'No mailbox selected.', tone: 'warn'};
  const remove = control.removeMailboxes;
  if (!remove) return {text: 'This batch cannot remove mailboxes here; use: mailferry batch remove NAME --mailbox EMAIL --yes', tone: 'error'};
  const what = targets.length === 1 ? targets[0]! : `${targets.length} mailboxes`;
  return {
    text: `Remove ${what} from batch ${control.getSnapshot().name}? No mail is touched on the source or the target; a running one is stopped and its progress in the batch is forgotten.`,
    onYes: () =>
      run(`Removing ${what}`, `Removed ${what} from the batch (no mail touched).`, async () => {
        await remove.call(control, targets);
        afterRemoval();
      }),
  };
}
