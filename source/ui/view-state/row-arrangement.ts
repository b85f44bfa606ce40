// The grid's rows filtered and sorted, kept from one snapshot to the next so that 10,000 mailboxes
// cost little per frame: the filter reads a lowercased email cached per address and a per-status
// verdict computed once per filter text; the sort compares precomputed keys and starts from the
// previous order, which is nearly sorted already (a snapshot moves a few rows), so the sort
// (TimSort in V8) mostly confirms it in one pass. The result is the same as arrangeRows in
// grid-view.ts, which stays the plain reference (test/ui/row-arrangement.test.ts compares them).

import {MAILBOX_STATUSES, type MailboxStatus} from '../../engine/batch-model.js';
import type {MailboxSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import {STATUS_RANK, STATUS_SHORT, type GridView, type SortKey} from './grid-view.js';

export type ArrangeView = Pick<GridView, 'filter' | 'sortKey' | 'descending'>;

export interface Arrangement {
  readonly mailboxes: readonly MailboxSnapshot[];
  readonly filter: string;
  readonly sortKey: SortKey;
  readonly descending: boolean;
  /** The rows shown, top to bottom. */
  readonly rows: readonly MailboxSnapshot[];
  /** Their email addresses. */
  readonly order: readonly string[];
}

interface Kept extends Arrangement {
  readonly needle: string;
  /** Positions in `mailboxes` of the rows matching the filter, ascending; undefined: all. */
  readonly matched: readonly number[] | undefined;
  /** Positions in `mailboxes` of `rows`; undefined in CSV order (the next sort starts afresh). */
  readonly positions: readonly number[] | undefined;
}

// String.prototype.localeCompare without locales or options is this collator's compare (ECMA-402),
// without building one per call.
const collator = new Intl.Collator();

/** The statuses a filter text matches (matchesFilter looks at the status and its short name). */
function statusVerdicts(needle: string): Record<MailboxStatus, boolean> {
  return Object.fromEntries(
    MAILBOX_STATUSES.map((status) => [status, status.toLowerCase().includes(needle) || STATUS_SHORT[status].toLowerCase().includes(needle)]),
  ) as Record<MailboxStatus, boolean>;
}

function progressOf(mailbox: MailboxSnapshot): number {
  return mailbox.itemsTotal > 0 ? mailbox.itemsDone / mailbox.itemsTotal : 0;
}

/** The number a row sorts by, for the numeric sort keys (same order as grid-view's compare). */
function numericKey(mailbox: MailboxSnapshot, key: SortKey): number {
  switch (key) {
    case 'status':
      return STATUS_RANK[mailbox.status];
    case 'progress':
      return progressOf(mailbox);
    case 'rate':
      return mailbox.messagesPerSecond;
    case 'eta':
      // Unknown ETAs sort after known ones in ascending order.
      return mailbox.etaSeconds ?? Number.POSITIVE_INFINITY;
    case 'errors':
      return mailbox.errorCount;
    default:
      return 0;
  }
}

export class RowArranger {
  private kept: Kept | undefined;
  /** Lowercased email addresses; an address is lowercased once, not once per snapshot. */
  private lowered = new Map<string, string>();

  arrange(mailboxes: readonly MailboxSnapshot[], view: ArrangeView): Arrangement {
    const kept = this.kept;
    if (kept && kept.mailboxes === mailboxes && kept.filter === view.filter && kept.sortKey === view.sortKey && kept.descending === view.descending) return kept;
    const needle = view.filter.trim().toLowerCase();
    const matched = this.match(mailboxes, needle, kept);
    let positions: number[] | undefined;
    let rows: MailboxSnapshot[];
    if (view.sortKey === 'csv') {
      // The snapshot's own order: no positions to keep, a copy (or a filtered copy) of the rows.
      rows = matched ? matched.map((position) => mailboxes[position]!) : mailboxes.slice();
      if (view.descending) rows.reverse();
    } else {
      positions = this.sort(mailboxes, matched, view, kept);
      rows = positions.map((position) => mailboxes[position]!);
    }
    this.kept = {mailboxes, filter: view.filter, sortKey: view.sortKey, descending: view.descending, rows, order: rows.map((row) => row.emailAddress), needle, matched, positions};
    return this.kept;
  }

  private lower(email: string): string {
    let lowered = this.lowered.get(email);
    if (lowered === undefined) {
      // Addresses of mailboxes removed from the batch would otherwise stay for good.
      if (this.lowered.size > 2 * (this.kept?.mailboxes.length ?? 0) + 1000) this.lowered = new Map();
      lowered = email.toLowerCase();
      this.lowered.set(email, lowered);
    }
    return lowered;
  }

  private match(mailboxes: readonly MailboxSnapshot[], needle: string, kept: Kept | undefined): readonly number[] | undefined {
    if (!needle) return undefined;
    if (kept && kept.mailboxes === mailboxes && kept.needle === needle) return kept.matched;
    const statuses = statusVerdicts(needle);
    const matches = (position: number) => {
      const mailbox = mailboxes[position]!;
      return statuses[mailbox.status] || this.lower(mailbox.emailAddress).includes(needle);
    };
    // Typing one more character narrows the rows: only the previous matches can still match.
    if (kept && kept.mailboxes === mailboxes && kept.matched && kept.needle && needle.includes(kept.needle)) return kept.matched.filter(matches);
    const result: number[] = [];
    for (let position = 0; position < mailboxes.length; position++) if (matches(position)) result.push(position);
    return result;
  }

  private sort(mailboxes: readonly MailboxSnapshot[], matched: readonly number[] | undefined, view: ArrangeView, kept: Kept | undefined): number[] {
    let all = matched;
    if (!all) {
      const every: number[] = new Array<number>(mailboxes.length);
      for (let position = 0; position < mailboxes.length; position++) every[position] = position;
      all = every;
    }
    const start = kept?.positions ? startingOrder(all, kept.positions, mailboxes.length) : [...all];
    const sign = view.descending ? -1 : 1;
    // Ties keep CSV order, ascending or descending (as arrangeRows does).
    if (view.sortKey === 'email' || view.sortKey === 'lastSynced') {
      const keys: string[] = new Array<string>(mailboxes.length);
      for (const position of all) keys[position] = view.sortKey === 'email' ? mailboxes[position]!.emailAddress : (mailboxes[position]!.lastSyncedAt ?? '');
      return start.sort((a, b) => sign * collator.compare(keys[a]!, keys[b]!) || a - b);
    }
    const keys = new Float64Array(mailboxes.length);
    for (const position of all) keys[position] = numericKey(mailboxes[position]!, view.sortKey);
    // NaN (Infinity minus Infinity: two unknown ETAs) counts as a tie, as in grid-view's compare.
    return start.sort((a, b) => sign * (keys[a]! - keys[b]!) || a - b);
  }
}

/**
 * The previous order of the rows that still match, then the newly matching ones: a permutation of
 * `all` that is nearly sorted when little changed. Only a starting point: the comparator decides
 * the result, so a stale one (rows added or removed) costs time, never correctness.
 */
function startingOrder(all: readonly number[], previous: readonly number[], count: number): number[] {
  const wanted = new Uint8Array(count);
  for (const position of all) wanted[position] = 1;
  const order: number[] = [];
  for (const position of previous) {
    if (position < count && wanted[position] === 1) {
      order.push(position);
      wanted[position] = 2;
    }
  }
  for (const position of all) if (wanted[position] === 1) order.push(position);
  return order;
}
