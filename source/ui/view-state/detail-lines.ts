// The mailbox detail as a list of lines, so the view can scroll it with the same window as any
// list and jump between sections. Built from the mailbox's snapshot row and its MailboxDetail.

import type {ErrorRecord, FolderProgress, ItemRecord} from '../../engine/batch-model.js';
import type {MailboxDetail, MailboxSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import type {Glyphs} from '../glyphs.js';
import {fit, singleLine, truncate, wrapText} from '../format/text-fit.js';
import type {DetailLineCache} from './detail-line-cache.js';
import {verificationSection} from './verification-lines.js';
import {formatAge, formatByteRate, formatBytes, formatClock, formatCount, formatDuration, formatMessageRate} from '../format/units.js';

export type LineTone = 'heading' | 'error' | 'warn' | 'dim' | 'ok' | 'plain';

export interface DetailLine {
  readonly text: string;
  readonly tone: LineTone;
}

export interface DetailDocument {
  readonly lines: readonly DetailLine[];
  /** Line index where each section starts (Tab jumps between them). */
  readonly sections: readonly number[];
}

/** Long reasons and hints are what the admin opened the detail for: wrap them, up to 3 lines. */
function wrapped(text: string, tone: LineTone, width: number, glyphs: Glyphs, indent: string, maxLines = 3): DetailLine[] {
  return wrapText(text, width, {indent, maxLines, ellipsis: glyphs.ellipsis}).map((line) => ({text: line, tone}));
}

function itemLines(item: ItemRecord, tone: LineTone, width: number, glyphs: Glyphs): DetailLine[] {
  const count = item.count && item.count > 1 ? ` (${formatCount(item.count)} messages)` : '';
  const subject = item.subject ? ` "${singleLine(item.subject)}"` : '';
  const where = `${item.folder} uid ${item.uid} ${formatBytes(item.size)}`;
  return wrapped(`  ${where}${count}: ${singleLine(item.reason)}${subject}`, tone, width, glyphs, '      ');
}

function errorLines(error: ErrorRecord, now: Date, width: number, glyphs: Glyphs): DetailLine[] {
  const where = [error.endpoint, error.folder].filter(Boolean).join(' / ');
  const server = error.serverText ? ` (server said: ${singleLine(error.serverText)})` : '';
  return [
    ...wrapped(`  ${formatClock(error.at, now)} ${where ? `${where}: ` : ''}${singleLine(error.message)}${server}`, 'error', width, glyphs, '        '),
    ...wrapped(`    ${glyphs.arrow} ${singleLine(error.hint)}`, 'dim', width, glyphs, '      '),
  ];
}

export function detailDocument(
  mailbox: MailboxSnapshot | undefined,
  detail: MailboxDetail | undefined,
  options: {width: number; glyphs: Glyphs; now: Date; cache?: DetailLineCache | undefined},
): DetailDocument {
  const {width, glyphs, now, cache} = options;
  cache?.prepare(detail?.emailAddress ?? mailbox?.emailAddress, width, glyphs);
  const items = (item: ItemRecord, tone: LineTone) => (cache ? cache.itemLines(item, tone, () => itemLines(item, tone, width, glyphs)) : itemLines(item, tone, width, glyphs));
  const lines: DetailLine[] = [];
  const sections: number[] = [];
  const section = (title: string) => {
    sections.push(lines.length);
    lines.push({text: truncate(title, width, glyphs.ellipsis), tone: 'heading'});
  };
  const push = (text: string, tone: LineTone = 'plain') => lines.push({text: truncate(text, width, glyphs.ellipsis), tone});

  if (mailbox) {
    section(`Status ${mailbox.status}${mailbox.retrying ? `, retry #${mailbox.retrying.attempt} at ${formatClock(mailbox.retrying.nextAt, now)}` : ''}`);
    push(
      `  items ${formatCount(mailbox.itemsDone)}/${formatCount(mailbox.itemsTotal)}  skipped ${formatCount(mailbox.itemsSkipped)}  failed ${formatCount(mailbox.itemsFailed)}  bytes ${formatBytes(mailbox.bytesDone)}/${formatBytes(mailbox.bytesTotal)}`,
    );
    push(
      `  rate ${formatMessageRate(mailbox.messagesPerSecond)} ${formatByteRate(mailbox.bytesPerSecond)}  ETA ${formatDuration(mailbox.etaSeconds)}  last synced ${formatAge(mailbox.lastSyncedAt, now)}${mailbox.initialSyncMs !== undefined ? `  first pass took ${formatDuration(mailbox.initialSyncMs / 1000)}` : ''}`,
    );
    if (mailbox.currentFolder) push(`  now copying ${singleLine(mailbox.currentFolder)}`);
    if (mailbox.lastError) lines.push(...errorLines(mailbox.lastError, now, width, glyphs));
  }

  // Right under the status: after a `v` the admin looks for the result here.
  const verification = verificationSection(mailbox, detail, {width, glyphs, now});
  if (verification.length > 0) {
    sections.push(lines.length);
    lines.push(...verification);
  }

  if (!detail) {
    push('');
    push('No detail recorded for this mailbox yet.', 'dim');
    return {lines, sections};
  }

  const folders = detail.folders;
  section(`Folders (${folders.length})`);
  if (folders.length === 0) push('  none yet', 'dim');
  else {
    const countsWidth = 24;
    const nameWidth = Math.max(10, width - countsWidth - 2);
    push(`  ${fit('source ' + glyphs.arrow + ' target', nameWidth, glyphs.ellipsis)}${fit('done/total skip fail', countsWidth, glyphs.ellipsis, 'right')}`, 'dim');
    const folderLine = (folder: FolderProgress): DetailLine => {
      const name = folder.source === folder.target ? folder.source : `${folder.source} ${glyphs.arrow} ${folder.target}`;
      const counts = `${formatCount(folder.done)}/${formatCount(folder.total)} ${formatCount(folder.skipped).padStart(4)} ${formatCount(folder.failed).padStart(4)}`;
      const tone: LineTone = folder.failed > 0 ? 'error' : folder.total > 0 && folder.done + folder.skipped >= folder.total ? 'ok' : 'plain';
      return {text: truncate(`  ${fit(name, nameWidth, glyphs.ellipsis)}${fit(counts, countsWidth, glyphs.ellipsis, 'right')}`, width, glyphs.ellipsis), tone};
    };
    for (const folder of folders) lines.push(cache ? cache.folderLine(folder, () => folderLine(folder)) : folderLine(folder));
  }

  if (detail.renamedFolders.length > 0) {
    const specialUse = detail.renamedFolders.some((folder) => folder.specialUse !== undefined);
    section(`${specialUse ? 'Renamed and special-use folders' : 'Renamed folders'} (${detail.renamedFolders.length})`);
    // Wrapped: the reason says what the target did (e.g. whether it marks a folder \Sent).
    for (const folder of detail.renamedFolders) lines.push(...wrapped(`  ${folder.source} ${glyphs.arrow} ${folder.target}: ${singleLine(folder.reason)}`, 'plain', width, glyphs, '      ', 6));
  }

  section(`Folders not migrated (${detail.unmigratedFolders.length})`);
  if (detail.unmigratedFolders.length === 0) push('  none', 'dim');
  for (const folder of detail.unmigratedFolders) lines.push(...wrapped(`  ${folder.source}: ${singleLine(folder.reason)}`, 'warn', width, glyphs, '      ', 6));

  section(`Skipped items (${detail.skipped.length})`);
  if (detail.skipped.length === 0) push('  none', 'dim');
  for (const item of detail.skipped) lines.push(...items(item, 'warn'));

  section(`Failed items (${detail.failed.length})`);
  if (detail.failed.length === 0) push('  none', 'dim');
  for (const item of detail.failed) lines.push(...items(item, 'error'));

  // Only when there are some: most mailboxes never have one, and the section would be noise.
  const changed = detail.changed ?? [];
  if (changed.length > 0) {
    section(`Copied but changed in transit (${changed.length})`);
    for (const item of changed) lines.push(...items(item, 'warn'));
  }

  section(`Recent errors (${detail.errors.length})`);
  if (detail.errors.length === 0) push('  none', 'dim');
  // Newest first: the admin opens the detail to see what just went wrong.
  for (const error of [...detail.errors].reverse()) lines.push(...errorLines(error, now, width, glyphs));

  // Only after a folder was compared with an already-filled target (a lost state file, mail put
  // there by another tool): what matched how, and each target message nothing matched.
  const reconciled = detail.reconciled ?? [];
  if (reconciled.length > 0) section(`Reconciled with the target (${reconciled.length} folders)`);
  for (const entry of reconciled) {
    push(`  ${entry.folder}: ${entry.matched} target messages matched (headers+date+size ${entry.exact}, date rewritten ${entry.dateRewritten}, size changed ${entry.sizeChanged}), ${entry.unmatched} unmatched`, entry.unmatched > 0 ? 'warn' : undefined);
    for (const message of entry.unmatchedListed) push(`    unmatched UID ${message.uid} ${message.messageId ?? '(no Message-ID)'} ${message.size} bytes`, 'warn');
    if (entry.unmatched > entry.unmatchedListed.length) push(`    ... ${entry.unmatched - entry.unmatchedListed.length} more`, 'warn');
  }

  if (detail.droppedKeywords.length > 0) {
    section(`Keywords the target could not store (${detail.droppedKeywords.length} folders)`);
    for (const entry of detail.droppedKeywords) push(`  ${entry.folder}: ${entry.keywords.join(' ')}`);
  }

  return {lines, sections};
}

/** The next section start after `scrollTop`, wrapping to the first. */
export function nextSectionStart(sections: readonly number[], scrollTop: number): number {
  return sections.find((start) => start > scrollTop) ?? sections[0] ?? 0;
}
