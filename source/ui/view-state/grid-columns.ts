// Which columns the grid shows at a given width, and the text of each cell. At 80 columns the
// grid shows what matters most (email, status, folder, items, progress, ETA); wider terminals
// add rate, bytes, last synced and the error text. Every cell is cut to its width here, so a
// row is exactly as wide as the terminal and never wraps.

import type {MailboxSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import type {Glyphs} from '../glyphs.js';
import {fit, singleLine} from '../format/text-fit.js';
import {progressBar} from '../format/progress-bar.js';
import {formatAge, formatByteRate, formatBytes, formatCount, formatDuration, formatMessageRate, formatPercent} from '../format/units.js';
import {STATUS_SHORT} from './grid-view.js';

export type ColumnId = 'mark' | 'email' | 'status' | 'folder' | 'items' | 'progress' | 'eta' | 'rate' | 'byteRate' | 'bytes' | 'lastSynced' | 'error';

export interface Column {
  readonly id: ColumnId;
  readonly title: string;
  readonly width: number;
  readonly align: 'left' | 'right';
}

interface ColumnSpec {
  readonly id: ColumnId;
  readonly title: string;
  readonly min: number;
  /** Extra width this column soaks up when the terminal is wide (0 = fixed). */
  readonly max: number;
  readonly align: 'left' | 'right';
}

const BASE: readonly ColumnSpec[] = [
  {id: 'mark', title: '', min: 2, max: 2, align: 'left'},
  {id: 'email', title: 'Mailbox', min: 18, max: 40, align: 'left'},
  {id: 'status', title: 'Status', min: 10, max: 10, align: 'left'},
  {id: 'folder', title: 'Folder', min: 10, max: 24, align: 'left'},
  {id: 'items', title: 'Items', min: 11, max: 11, align: 'right'},
  {id: 'progress', title: 'Progress', min: 12, max: 22, align: 'left'},
  {id: 'eta', title: 'ETA', min: 6, max: 6, align: 'right'},
];

/** Added in this order while there is room. */
const OPTIONAL: readonly ColumnSpec[] = [
  {id: 'rate', title: 'Msg/s', min: 7, max: 7, align: 'right'},
  {id: 'bytes', title: 'Bytes', min: 11, max: 11, align: 'right'},
  {id: 'lastSynced', title: 'Synced', min: 8, max: 8, align: 'right'},
  {id: 'byteRate', title: 'Rate', min: 8, max: 8, align: 'right'},
  {id: 'error', title: 'Last error', min: 20, max: 1000, align: 'left'},
];

/** Display order, whichever columns made it in. */
const ORDER: readonly ColumnId[] = ['mark', 'email', 'status', 'folder', 'items', 'bytes', 'progress', 'rate', 'byteRate', 'eta', 'lastSynced', 'error'];

const GAP = 1;

function usedWidth(specs: readonly ColumnSpec[], widths: ReadonlyMap<ColumnId, number>): number {
  // No gap after the mark column: the marker sits right against the email.
  return specs.reduce((total, spec) => total + (widths.get(spec.id) ?? spec.min), 0) + Math.max(0, specs.length - 2) * GAP;
}

export function gridColumns(width: number): Column[] {
  const chosen: ColumnSpec[] = [...BASE];
  const widths = new Map<ColumnId, number>(chosen.map((spec) => [spec.id, spec.min]));
  for (const spec of OPTIONAL) {
    if (usedWidth(chosen, widths) + GAP + spec.min <= width) {
      chosen.push(spec);
      widths.set(spec.id, spec.min);
    }
  }
  // Share what is left: the email first (long addresses), then folder names, then the error
  // text takes the rest; without an error column the progress bar and email soak it up.
  let spare = width - usedWidth(chosen, widths);
  const hasError = chosen.some((spec) => spec.id === 'error');
  const caps: [ColumnId, number][] = [
    ['email', 26],
    ['folder', 16],
    ['error', Number.POSITIVE_INFINITY],
    ['progress', 22],
    ['email', 40],
    ['folder', 24],
  ];
  for (const [id, cap] of caps) {
    const spec = chosen.find((candidate) => candidate.id === id);
    if (!spec || spare <= 0) continue;
    if (id !== 'error' && hasError && cap > 30) continue;
    const current = widths.get(id) ?? spec.min;
    const grow = Math.max(0, Math.min(spare, cap - current));
    widths.set(id, current + grow);
    spare -= grow;
  }
  // Narrower than the minimum layout: shrink the flexible columns rather than wrap.
  let deficit = usedWidth(chosen, widths) - width;
  for (const id of ['folder', 'email', 'progress'] as const) {
    if (deficit <= 0) break;
    const current = widths.get(id) ?? 0;
    const shrink = Math.min(deficit, current - 4);
    if (shrink > 0) {
      widths.set(id, current - shrink);
      deficit -= shrink;
    }
  }
  const byId = new Map(chosen.map((spec) => [spec.id, spec]));
  return ORDER.filter((id) => byId.has(id)).map((id) => {
    const spec = byId.get(id)!;
    return {id, title: spec.title, width: widths.get(id) ?? spec.min, align: spec.align};
  });
}

export interface CellContext {
  readonly glyphs: Glyphs;
  readonly now: Date;
  readonly selected: boolean;
  readonly marked: boolean;
}

function rawCell(column: Column, mailbox: MailboxSnapshot, context: CellContext): string {
  const {glyphs} = context;
  switch (column.id) {
    case 'mark':
      return `${context.selected ? glyphs.selected : ' '}${context.marked ? glyphs.marked : ' '}`;
    case 'email':
      return mailbox.emailAddress;
    case 'status':
      if (mailbox.verifying !== undefined) return 'Verifying';
      return mailbox.retrying ? `Retry #${mailbox.retrying.attempt}` : STATUS_SHORT[mailbox.status];
    case 'folder':
      return mailbox.currentFolder ? singleLine(mailbox.currentFolder) : '';
    case 'items':
      return mailbox.itemsTotal > 0 || mailbox.itemsDone > 0 ? `${formatCount(mailbox.itemsDone)}/${formatCount(mailbox.itemsTotal)}` : '-';
    case 'bytes':
      return mailbox.bytesTotal > 0 || mailbox.bytesDone > 0 ? `${formatBytes(mailbox.bytesDone)}/${formatBytes(mailbox.bytesTotal)}` : '-';
    case 'progress': {
      const percent = formatPercent(mailbox.itemsDone, mailbox.itemsTotal);
      const barWidth = Math.max(1, column.width - 5);
      return `${progressBar(mailbox.itemsDone, mailbox.itemsTotal, barWidth, glyphs)} ${percent.padStart(4)}`;
    }
    case 'eta':
      return mailbox.status === 'Syncing' || mailbox.status === 'IncrementalSyncing' ? formatDuration(mailbox.etaSeconds) : '';
    case 'rate':
      return formatMessageRate(mailbox.messagesPerSecond);
    case 'byteRate':
      return formatByteRate(mailbox.bytesPerSecond);
    case 'lastSynced':
      return formatAge(mailbox.lastSyncedAt, context.now);
    case 'error':
      return mailbox.lastError ? singleLine(mailbox.lastError.message) : '';
  }
}

export function cellText(column: Column, mailbox: MailboxSnapshot, context: CellContext): string {
  return fit(rawCell(column, mailbox, context), column.width, context.glyphs.ellipsis, column.align);
}

export function headerText(column: Column, ellipsis: string): string {
  return fit(column.title, column.width, ellipsis, column.align);
}

export const COLUMN_GAP = ' '.repeat(GAP);
