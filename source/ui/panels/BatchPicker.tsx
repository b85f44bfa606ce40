// Starting mailferry when batches exist: one line per batch with its size, counts per status and
// when it last changed. Enter opens (and continues) it; `r` opens and resumes what was stopped.

import React, {useCallback} from 'react';
import {Box, Text} from 'ink';
import {MAILBOX_STATUSES} from '../../engine/batch-model.js';
import type {BatchListing} from '../../engine/batch-engine.js';
import {tint, useDisplay} from '../display-options.js';
import {fit} from '../format/text-fit.js';
import {formatClock} from '../format/units.js';
import type {ActionId} from '../keymap.js';
import {useKeys} from '../use-keys.js';
import {useSyncedState} from '../use-synced-state.js';
import {isMovement, moveIndex, windowAround} from '../view-state/list-window.js';
import {STATUS_SHORT} from '../view-state/grid-view.js';
import {Footer, type StatusMessage} from './Footer.js';

/** listBatches() also reports batches whose state file cannot be read, with the reason. */
export type PickerBatch = BatchListing & {error?: string};

export function countsText(counts: BatchListing['counts']): string {
  return MAILBOX_STATUSES.filter((status) => (counts[status] ?? 0) > 0)
    .map((status) => `${STATUS_SHORT[status]} ${counts[status]}`)
    .join('  ');
}

export interface BatchPickerProps {
  batches: readonly PickerBatch[];
  width: number;
  height: number;
  status?: StatusMessage | undefined;
  isActive: boolean;
  onOpen(name: string, resume: boolean): void;
  onNew(): void;
  onRemove(name: string): void;
  onHelp(): void;
  onQuit(): void;
}

export function BatchPicker(props: BatchPickerProps): React.JSX.Element {
  const {batches, width, height} = props;
  const display = useDisplay();
  const {glyphs} = display;
  const [position, setPosition, positionRef] = useSyncedState({cursor: 0, scrollTop: 0});
  const bodyHeight = Math.max(1, height - 4);
  const window = windowAround(position.cursor, position.scrollTop, batches.length, bodyHeight);
  const now = new Date();

  const onAction = useCallback(
    (action: ActionId) => {
      const current = windowAround(positionRef.current.cursor, positionRef.current.scrollTop, batches.length, bodyHeight);
      const selected = batches[current.cursor];
      if (isMovement(action)) {
        const next = moveIndex(current.cursor, action, batches.length, bodyHeight);
        setPosition({cursor: next, scrollTop: windowAround(next, current.start, batches.length, bodyHeight).start});
        return;
      }
      switch (action) {
        case 'openBatch':
        case 'openAndResume':
          if (selected && !selected.error) props.onOpen(selected.name, action === 'openAndResume');
          return;
        case 'newBatch':
          props.onNew();
          return;
        case 'removeBatch':
          if (selected) props.onRemove(selected.name);
          return;
        case 'help':
          props.onHelp();
          return;
        case 'quit':
        case 'interrupt':
          props.onQuit();
          return;
        default:
          return;
      }
    },
    [batches, positionRef, setPosition, bodyHeight, props],
  );
  useKeys('picker', onAction, {isActive: props.isActive});

  const nameWidth = Math.min(28, Math.max(10, ...batches.map((batch) => batch.name.length)));
  return (
    <Box flexDirection="column" height={height} flexShrink={0}>
      <Text wrap="truncate" bold inverse>
        {fit(`mailferry: ${batches.length} batch${batches.length === 1 ? '' : 'es'} (Enter opens, N sets up a new one)`, width, glyphs.ellipsis)}
      </Text>
      <Text wrap="truncate" bold>
        {fit(`  ${fit('Batch', nameWidth, glyphs.ellipsis)}  ${'Boxes'.padStart(6)}  ${fit('Updated', 16, glyphs.ellipsis)}  Status`, width, glyphs.ellipsis)}
      </Text>
      <Box flexDirection="column" height={bodyHeight} flexShrink={0}>
        {batches.slice(window.start, window.end).map((batch, offset) => {
          const index = window.start + offset;
          const selected = index === window.cursor;
          const running = batch.runningPid ? `running in process ${batch.runningPid}  ` : '';
          const summary = batch.error ? `cannot read: ${batch.error}` : running + countsText(batch.counts);
          const text = `${selected ? glyphs.selected : ' '} ${fit(batch.name, nameWidth, glyphs.ellipsis)}  ${String(batch.mailboxes).padStart(6)}  ${fit(formatClock(batch.updatedAt, now), 16, glyphs.ellipsis)}  ${summary}`;
          return (
            <Text key={batch.name} wrap="truncate" inverse={selected} color={tint(display, batch.error ? 'red' : batch.runningPid ? 'yellow' : undefined)}>
              {fit(text, width, glyphs.ellipsis)}
            </Text>
          );
        })}
      </Box>
      <Footer screen="picker" width={width} status={props.status} />
    </Box>
  );
}
