// Every key, generated from the keymap that drives the input, so the help cannot go stale.
// The section for the screen the admin came from is listed first.

import React, {useCallback, useMemo, useState} from 'react';
import {Box, Text} from 'ink';
import {useDisplay} from '../display-options.js';
import {fit} from '../format/text-fit.js';
import {helpSections, type ActionId, type HelpSection} from '../keymap.js';
import {useKeys} from '../use-keys.js';
import {isMovement, scrollBy} from '../view-state/list-window.js';
import {Footer} from './Footer.js';

export function helpLines(sections: readonly HelpSection[], firstTitle: string | undefined, width: number, ellipsis: string): {text: string; heading: boolean}[] {
  const ordered = [...sections].sort((a, b) => Number(b.title === firstTitle) - Number(a.title === firstTitle));
  const keyWidth = Math.min(24, Math.max(8, ...sections.flatMap((section) => section.rows.map((row) => row.keys.length))) + 2);
  const lines: {text: string; heading: boolean}[] = [];
  for (const section of ordered) {
    if (lines.length > 0) lines.push({text: '', heading: false});
    lines.push({text: section.title, heading: true});
    for (const row of section.rows) lines.push({text: fit(`  ${fit(row.keys, keyWidth, ellipsis)}${row.help}`, width, ellipsis), heading: false});
  }
  return lines;
}

export interface HelpOverlayProps {
  width: number;
  height: number;
  /** Title of the keymap section to list first (the screen the admin came from). */
  firstSection?: string;
  isActive: boolean;
  onClose(): void;
  onInterrupt(): void;
}

export function HelpOverlay({width, height, firstSection, isActive, onClose, onInterrupt}: HelpOverlayProps): React.JSX.Element {
  const display = useDisplay();
  const lines = useMemo(
    () => helpLines(helpSections(display.glyphs.ascii), firstSection, width, display.glyphs.ellipsis),
    [display.glyphs, firstSection, width],
  );
  const [scrollTop, setScrollTop] = useState(0);
  const bodyHeight = Math.max(1, height - 3);
  const onAction = useCallback(
    (action: ActionId) => {
      if (action === 'back') onClose();
      else if (action === 'interrupt') onInterrupt();
      else if (isMovement(action)) {
        setScrollTop((current) => scrollBy(current, action, lines.length, bodyHeight));
      }
    },
    [onClose, onInterrupt, lines.length, bodyHeight],
  );
  useKeys('help', onAction, {isActive});
  const visible = lines.slice(scrollTop, scrollTop + bodyHeight);
  const position = lines.length > bodyHeight ? ` (${scrollTop + 1}-${Math.min(lines.length, scrollTop + bodyHeight)} of ${lines.length}, j/k to scroll)` : '';
  return (
    <Box flexDirection="column" height={height} flexShrink={0}>
      <Text wrap="truncate" bold inverse>
        {fit(`mailferry keys${position}`, width, display.glyphs.ellipsis)}
      </Text>
      <Box flexDirection="column" height={bodyHeight} flexShrink={0}>
        {visible.map((line, index) => (
          <Text key={scrollTop + index} wrap="truncate" bold={line.heading} underline={line.heading && display.color}>
            {line.text || ' '}
          </Text>
        ))}
      </Box>
      <Footer screen="help" width={width} />
    </Box>
  );
}
