// The table of mailboxes. Only the rows inside the scroll window are built, and each row is a
// memoised component, so a snapshot of 10,000 mailboxes costs a screenful of rows to draw.

import React, {memo} from 'react';
import {Box, Text} from 'ink';
import type {MailboxSnapshot} from '../../engine/batch-snapshot.js';
import {tint, useDisplay} from '../display-options.js';
import {COLUMN_GAP, cellText, headerText, type Column} from '../view-state/grid-columns.js';
import type {ListWindow} from '../view-state/list-window.js';
import {STATUS_COLORS} from './BatchHeader.js';

interface RowProps {
  mailbox: MailboxSnapshot;
  columns: readonly Column[];
  selected: boolean;
  marked: boolean;
  /** Snapshot time, for "last synced 3m ago". */
  at: string;
}

const GridRow = memo(function GridRow({mailbox, columns, selected, marked, at}: RowProps): React.JSX.Element {
  const display = useDisplay();
  const context = {glyphs: display.glyphs, now: new Date(at), selected, marked};
  return (
    <Text wrap="truncate" inverse={selected}>
      {columns.map((column, index) => {
        const text = cellText(column, mailbox, context);
        const gap = index > 1 ? COLUMN_GAP : '';
        if (column.id === 'status') {
          return (
            <Text key={column.id}>
              {gap}
              <Text color={tint(display, STATUS_COLORS[mailbox.status])}>{text}</Text>
            </Text>
          );
        }
        if (column.id === 'error' && mailbox.lastError) {
          return (
            <Text key={column.id}>
              {gap}
              <Text color={tint(display, 'red')}>{text}</Text>
            </Text>
          );
        }
        return <Text key={column.id}>{gap + text}</Text>;
      })}
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
            at={at}
          />
        ))
      )}
    </Box>
  );
}
