// Three lines above the grid: which batch and its state, how many mailboxes are in each status,
// and how fast it goes (items, bytes, rate, sparkline, ETA). Everything is cut to the width.

import React from 'react';
import {Box, Text} from 'ink';
import {MAILBOX_STATUSES, type MailboxStatus} from '../../engine/batch-model.js';
import type {BatchSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import {tint, useDisplay} from '../display-options.js';
import {fit} from '../format/text-fit.js';
import type {Glyphs} from '../glyphs.js';
import {sparkline} from '../format/sparkline.js';
import {formatByteRate, formatBytes, formatClock, formatCount, formatDuration, formatMessageRate, formatPercent} from '../format/units.js';
import {STATUS_SHORT} from '../view-state/grid-view.js';

export const STATUS_COLORS: Record<MailboxStatus, string | undefined> = {
  Queued: 'gray',
  Starting: 'cyan',
  Syncing: 'cyan',
  Synced: 'green',
  IncrementalSyncing: 'cyan',
  Stopping: 'yellow',
  Stopped: 'yellow',
  Completing: 'cyan',
  Completed: 'green',
  Failed: 'red',
};

export function batchState(snapshot: BatchSnapshot): string {
  if (snapshot.completed) return 'completed';
  if (snapshot.completing) return 'completing';
  return snapshot.running ? 'running' : 'idle';
}

export function titleLine(snapshot: BatchSnapshot, width: number, ellipsis: string): string {
  const now = new Date(snapshot.at);
  const left = `mailferry  batch ${snapshot.name}  ${batchState(snapshot)}  ${snapshot.totals.mailboxes} mailboxes`;
  const right = `last synced ${formatClock(snapshot.lastSyncedAt, now)}`;
  if (left.length + 2 + right.length <= width) return left + ' '.repeat(width - left.length - right.length) + right;
  return fit(left, width, ellipsis);
}

export function statusCounts(snapshot: BatchSnapshot): {status: MailboxStatus; label: string; count: number}[] {
  return MAILBOX_STATUSES.filter((status) => (snapshot.counts[status] ?? 0) > 0).map((status) => ({
    status,
    label: STATUS_SHORT[status],
    count: snapshot.counts[status] ?? 0,
  }));
}

/** Items, bytes, rates, sparkline and ETA; the sparkline takes whatever width is left (up to 24). */
export function throughputLine(snapshot: BatchSnapshot, width: number, glyphs: Glyphs): string {
  const {totals} = snapshot;
  const items = `items ${formatCount(totals.itemsDone)}/${formatCount(totals.itemsTotal)} ${formatPercent(totals.itemsDone, totals.itemsTotal)}`;
  const problems = totals.itemsSkipped || totals.itemsFailed ? `  skipped ${formatCount(totals.itemsSkipped)} failed ${formatCount(totals.itemsFailed)}` : '';
  const bytes = `  ${formatBytes(totals.bytesDone)}/${formatBytes(totals.bytesTotal)}`;
  const rate = `  ${formatMessageRate(snapshot.messagesPerSecond)} ${formatByteRate(snapshot.bytesPerSecond)}`;
  const eta = `  ETA ${formatDuration(snapshot.etaSeconds)}`;
  const fixed = items + problems + bytes + rate + eta;
  const room = width - fixed.length - 2;
  if (room >= 6 && snapshot.throughputHistory.length > 0) {
    const spark = sparkline(snapshot.throughputHistory, Math.min(24, room, Math.max(1, snapshot.throughputHistory.length)), glyphs);
    return fit(items + problems + bytes + rate + '  ' + spark + eta, width, glyphs.ellipsis);
  }
  return fit(fixed, width, glyphs.ellipsis);
}

export function BatchHeader({snapshot, width}: {snapshot: BatchSnapshot; width: number}): React.JSX.Element {
  const display = useDisplay();
  const {glyphs} = display;
  const counts = statusCounts(snapshot);
  let used = 0;
  const shown: typeof counts = [];
  for (const entry of counts) {
    const length = `${entry.label} ${entry.count}  `.length;
    if (used + length > width) break;
    used += length;
    shown.push(entry);
  }
  return (
    <Box flexDirection="column" height={3} flexShrink={0}>
      <Text wrap="truncate" bold>
        {titleLine(snapshot, width, glyphs.ellipsis)}
      </Text>
      <Text wrap="truncate">
        {shown.length === 0 ? 'no mailboxes' : ''}
        {shown.map((entry) => (
          <Text key={entry.status}>
            <Text color={tint(display, STATUS_COLORS[entry.status])}>{entry.label}</Text>
            {` ${entry.count}  `}
          </Text>
        ))}
      </Text>
      <Text wrap="truncate">{throughputLine(snapshot, width, glyphs).trimEnd()}</Text>
    </Box>
  );
}
