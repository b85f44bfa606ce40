// One mailbox in full: its numbers, per-folder progress, skipped and failed items with reasons,
// recent errors with hints, folders not migrated and why. Scrolls; Tab jumps between sections.

import React, {useCallback, useMemo, useState} from 'react';
import {Box, Text} from 'ink';
import type {BatchControl} from '../../engine/batch-control.js';
import type {BatchSnapshot} from '../../engine/scheduler/batch-snapshot.js';
import {tint, useDisplay} from '../display-options.js';
import {fit} from '../format/text-fit.js';
import type {ActionId} from '../keymap.js';
import {useKeys} from '../use-keys.js';
import {DetailLineCache} from '../view-state/detail-line-cache.js';
import {detailDocument, nextSectionStart, type LineTone} from '../view-state/detail-lines.js';
import {isMovement, scrollBy} from '../view-state/list-window.js';
import {Footer, type StatusMessage} from './Footer.js';

const TONE_COLORS: Record<LineTone, string | undefined> = {heading: undefined, error: 'red', warn: 'yellow', dim: 'gray', ok: 'green', plain: undefined};

export interface MailboxDetailProps {
  control: BatchControl;
  snapshot: BatchSnapshot;
  emailAddress: string;
  width: number;
  height: number;
  status?: StatusMessage | undefined;
  isActive: boolean;
  onBack(): void;
  onCommand(action: 'stop' | 'resume' | 'syncNow' | 'verify', emails: string[]): void;
  onHelp(): void;
  onInterrupt(): void;
}

export function MailboxDetail(props: MailboxDetailProps): React.JSX.Element {
  const {control, snapshot, emailAddress, width, height} = props;
  const display = useDisplay();
  const [scrollTop, setScrollTop] = useState(0);
  const mailbox = snapshot.mailboxes.find((candidate) => candidate.emailAddress === emailAddress);
  // Re-read the detail whenever a new snapshot is published: it changes at the same pace.
  const detail = useMemo(() => control.getMailboxDetail(emailAddress), [control, emailAddress, snapshot.version]);
  // Most lines of a big mailbox (thousands of folders) are the same from one snapshot to the next.
  const [cache] = useState(() => new DetailLineCache());
  const document = useMemo(
    () => detailDocument(mailbox, detail, {width, glyphs: display.glyphs, now: new Date(snapshot.at), cache}),
    [mailbox, detail, width, display.glyphs, snapshot.at, cache],
  );
  const bodyHeight = Math.max(1, height - 3);
  const top = Math.min(scrollTop, Math.max(0, document.lines.length - bodyHeight));

  const onAction = useCallback(
    (action: ActionId) => {
      if (isMovement(action)) {
        setScrollTop((current) => scrollBy(Math.min(current, top), action, document.lines.length, bodyHeight));
        return;
      }
      switch (action) {
        case 'back':
          props.onBack();
          return;
        case 'nextSection':
          setScrollTop(Math.min(nextSectionStart(document.sections, top), Math.max(0, document.lines.length - bodyHeight)));
          return;
        case 'stop':
        case 'resume':
        case 'syncNow':
        case 'verify':
          props.onCommand(action, [emailAddress]);
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
    [props, top, document, bodyHeight, emailAddress],
  );
  useKeys('detail', onAction, {isActive: props.isActive});

  const visible = document.lines.slice(top, top + bodyHeight);
  const more = document.lines.length > bodyHeight ? ` (${top + 1}-${Math.min(document.lines.length, top + bodyHeight)} of ${document.lines.length})` : '';
  return (
    <Box flexDirection="column" height={height} flexShrink={0}>
      <Text wrap="truncate" bold inverse>
        {fit(`${emailAddress}${more}`, width, display.glyphs.ellipsis)}
      </Text>
      <Box flexDirection="column" height={bodyHeight} flexShrink={0}>
        {visible.map((line, index) => (
          <Text key={top + index} wrap="truncate" bold={line.tone === 'heading'} color={tint(display, TONE_COLORS[line.tone])}>
            {line.text || ' '}
          </Text>
        ))}
      </Box>
      <Footer screen="detail" width={width} status={props.status} />
    </Box>
  );
}
