// Recent errors across the batch, newest first. The selected entry's hint (what to do next) is
// shown in full at the bottom; Enter opens that mailbox's detail.

import React, {useCallback, useMemo} from 'react';
import {Box, Text} from 'ink';
import type {BatchSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import {tint, useDisplay} from '../display-options.js';
import {fit, singleLine, wrapText} from '../format/text-fit.js';
import {formatClock} from '../format/units.js';
import type {ActionId} from '../keymap.js';
import {useKeys} from '../use-keys.js';
import {useSyncedState} from '../use-synced-state.js';
import {collectLogEntries, type LogEntry} from '../view-state/error-log.js';
import {isMovement, moveIndex, windowAround} from '../view-state/list-window.js';
import {Footer} from './Footer.js';

export interface LogViewProps {
  snapshot: BatchSnapshot;
  ring: readonly LogEntry[];
  width: number;
  height: number;
  isActive: boolean;
  onBack(): void;
  onOpenDetail(emailAddress: string): void;
  onHelp(): void;
  onInterrupt(): void;
}

export function LogView(props: LogViewProps): React.JSX.Element {
  const {snapshot, ring, width, height} = props;
  const display = useDisplay();
  const {glyphs} = display;
  const entries = useMemo(() => collectLogEntries(ring, snapshot.mailboxes), [ring, ring.length, snapshot]);
  const [position, setPosition, positionRef] = useSyncedState({cursor: 0, scrollTop: 0});
  const bodyHeight = Math.max(1, height - 6);
  const window = windowAround(position.cursor, position.scrollTop, entries.length, bodyHeight);
  const now = new Date(snapshot.at);

  const onAction = useCallback(
    (action: ActionId) => {
      const current = windowAround(positionRef.current.cursor, positionRef.current.scrollTop, entries.length, bodyHeight);
      if (isMovement(action)) {
        const next = moveIndex(current.cursor, action, entries.length, bodyHeight);
        setPosition({cursor: next, scrollTop: windowAround(next, current.start, entries.length, bodyHeight).start});
        return;
      }
      switch (action) {
        case 'logOpenDetail': {
          const entry = entries[current.cursor];
          if (entry) props.onOpenDetail(entry.emailAddress);
          return;
        }
        case 'back':
          props.onBack();
          return;
        case 'help':
          props.onHelp();
          return;
        case 'interrupt':
          props.onInterrupt();
          return;
        default:
          return;
      }
    },
    [props, positionRef, setPosition, entries, bodyHeight],
  );
  useKeys('log', onAction, {isActive: props.isActive});

  const selected = entries[window.cursor];
  return (
    <Box flexDirection="column" height={height} flexShrink={0}>
      <Text wrap="truncate" bold inverse>
        {fit(`Recent errors in batch ${snapshot.name} (${entries.length})`, width, glyphs.ellipsis)}
      </Text>
      <Box flexDirection="column" height={bodyHeight} flexShrink={0}>
        {entries.length === 0 ? <Text wrap="truncate">No errors so far.</Text> : null}
        {entries.slice(window.start, window.end).map((entry, offset) => {
          const index = window.start + offset;
          const isSelected = index === window.cursor;
          const where = [entry.error.endpoint, entry.error.folder].filter(Boolean).join(' / ');
          const retry = entry.attempt ? ` (retry #${entry.attempt})` : '';
          const text = `${isSelected ? glyphs.selected : ' '} ${formatClock(entry.error.at, now)} ${entry.emailAddress} ${where ? `${where}: ` : ''}${singleLine(entry.error.message)}${retry}`;
          return (
            <Text key={`${index}`} wrap="truncate" inverse={isSelected} color={tint(display, entry.error.retryable ? 'yellow' : 'red')}>
              {fit(text, width, glyphs.ellipsis)}
            </Text>
          );
        })}
      </Box>
      <Text wrap="truncate" dimColor={display.color}>
        {fit(selected?.error.serverText ? `server said: ${singleLine(selected.error.serverText)}` : '', width, glyphs.ellipsis)}
      </Text>
      {[0, 1].map((index) => (
        <Text key={index} wrap="truncate">
          {fit(selected ? (wrapText(`${glyphs.arrow} ${singleLine(selected.error.hint)}`, width, {indent: '  ', maxLines: 2, ellipsis: glyphs.ellipsis})[index] ?? '') : '', width, glyphs.ellipsis)}
        </Text>
      ))}
      <Footer screen="log" width={width} />
    </Box>
  );
}
