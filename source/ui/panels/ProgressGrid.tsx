// The table of mailboxes. Only the rows inside the scroll window are built, and each row is a
// memoised component, so a snapshot of 10,000 mailboxes costs a screenful of rows to draw.

import React, {memo} from 'react';
import {Box, Text} from 'ink';
import type {MailboxSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import {tint, useDisplay} from '../display-options.js';
import {COLUMN_GAP, cellText, headerText, type Column} from '../view-state/grid-columns.js';
import type {ListWindow} from '../view-state/list-window.js';
import {STATUS_COLORS} from './BatchHeader.js';

interface RowProps {
  mailbox: MailboxSnapshot;
  columns: readonly Column[];
  selected: boolean;
  marked: boolean;
  /** Snapshot time, for "last synced 3m ago"; empty when that column is not shown. */
  at: string;
}

interface Segment {
  text: string;
  color?: string | undefined;
}

/**
 * The row as few text runs as possible: uncoloured cells are joined into one string, so Ink has a
 * handful of nodes per row to lay out instead of one per cell (it matters on big terminals).
 */
export function rowSegments(mailbox: MailboxSnapshot, columns: readonly Column[], context: Parameters<typeof cellText>[2], color: boolean): Segment[] {
  const segments: Segment[] = [];
  let plain = '';
  columns.forEach((column, index) => {
    const text = (index > 1 ? COLUMN_GAP : '') + cellText(column, mailbox, context);
    const cellColor = !color ? undefined : column.id === 'status' ? STATUS_COLORS[mailbox.status] : column.id === 'error' && mailbox.lastError ? 'red' : undefined;
    if (cellColor === undefined) {
      plain += text;
      return;
    }
    if (plain) segments.push({text: plain});
    plain = '';
    segments.push({text, color: cellColor});
  });
  // Trailing blanks cost Ink work per character on wide terminals; only the selected row keeps
  // them, so its inverse bar spans the whole width.
  if (!context.selected) plain = plain.trimEnd();
  if (plain) segments.push({text: plain});
  return segments;
}

const GridRow = memo(function GridRow({mailbox, columns, selected, marked, at}: RowProps): React.JSX.Element {
  const display = useDisplay();
  const segments = rowSegments(mailbox, columns, {glyphs: display.glyphs, now: at ? new Date(at) : new Date(0), selected, marked}, display.color);
  return (
    <Text wrap="truncate" inverse={selected}>
      {segments.map((segment, index) =>
        segment.color ? (
          <Text key={index} color={tint(display, segment.color)}>
            {segment.text}
          </Text>
        ) : (
          segment.text
        ),
      )}
    </Text>
  );
});

export interface ProgressGridProps {
  rows: readonly MailboxSnapshot[];
  window: ListWindow;
  columns: readonly Column[];
  marks: ReadonlySet<string>;
  height: number;
  at: string;
  emptyText: string;
}

export function ProgressGrid({rows, window, columns, marks, height, at, emptyText}: ProgressGridProps): React.JSX.Element {
  const display = useDisplay();
  const header = columns.map((column, index) => (index > 1 ? COLUMN_GAP : '') + headerText(column, display.glyphs.ellipsis)).join('');
  const visible = rows.slice(window.start, window.end);
  // Only the "last synced" column reads the time: without it a row whose mailbox did not change
  // is not drawn again for a new snapshot.
  const rowTime = columns.some((column) => column.id === 'lastSynced') ? at : '';
  return (
    <Box flexDirection="column" height={height + 1} flexShrink={0}>
      <Text wrap="truncate" bold underline={display.color}>
        {header}
      </Text>
      {visible.length === 0 ? (
        <Text wrap="truncate" dimColor={display.color}>
          {emptyText}
        </Text>
      ) : (
        visible.map((mailbox, offset) => (
          <GridRow
            key={mailbox.emailAddress}
            mailbox={mailbox}
            columns={columns}
            selected={window.start + offset === window.cursor}
            marked={marks.has(mailbox.emailAddress)}
            at={rowTime}
          />
        ))
      )}
    </Box>
  );
}
