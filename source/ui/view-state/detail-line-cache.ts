// Lines of the mailbox detail kept from one snapshot to the next. The detail is rebuilt for every
// snapshot (its counts and times move), but of a mailbox with thousands of folders and up to a
// thousand skipped and failed items each, only a few lines change between two snapshots: those
// are built again, the rest come from here. One cache per open detail view.

import type {FolderProgress, ItemRecord} from '../../engine/batch-model.js';
import type {Glyphs} from '../glyphs.js';
import type {DetailLine, LineTone} from './detail-lines.js';

interface KeptFolder {
  readonly folder: FolderProgress;
  readonly line: DetailLine;
}

interface KeptItem {
  readonly fields: ItemRecord;
  readonly tone: LineTone;
  readonly lines: DetailLine[];
}

function sameFolder(a: FolderProgress, b: FolderProgress): boolean {
  return a.target === b.target && a.total === b.total && a.done === b.done && a.skipped === b.skipped && a.failed === b.failed;
}

function sameItem(a: ItemRecord, b: ItemRecord): boolean {
  return a.folder === b.folder && a.uid === b.uid && a.size === b.size && a.subject === b.subject && a.reason === b.reason && a.count === b.count;
}

export class DetailLineCache {
  private emailAddress: string | undefined;
  private width = -1;
  private glyphs: Glyphs | undefined;
  private folders = new Map<string, KeptFolder>();
  // Keyed by the record: the engine hands out the same item records in each detail it builds.
  private items = new WeakMap<ItemRecord, KeptItem>();

  /** Lines depend on the width and glyphs (and belong to one mailbox): a change starts afresh. */
  prepare(emailAddress: string | undefined, width: number, glyphs: Glyphs): void {
    if (emailAddress === this.emailAddress && width === this.width && glyphs === this.glyphs) return;
    this.emailAddress = emailAddress;
    this.width = width;
    this.glyphs = glyphs;
    this.folders = new Map();
    this.items = new WeakMap();
  }

  folderLine(folder: FolderProgress, build: () => DetailLine): DetailLine {
    const kept = this.folders.get(folder.source);
    if (kept && sameFolder(kept.folder, folder)) return kept.line;
    const line = build();
    this.folders.set(folder.source, {folder: {...folder}, line});
    return line;
  }

  itemLines(item: ItemRecord, tone: LineTone, build: () => DetailLine[]): DetailLine[] {
    const kept = this.items.get(item);
    if (kept && kept.tone === tone && sameItem(kept.fields, item)) return kept.lines;
    const lines = build();
    this.items.set(item, {fields: {...item}, tone, lines});
    return lines;
  }
}
