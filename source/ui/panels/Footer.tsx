// The two bottom lines of every screen: a status line (what just happened, or what is selected)
// and the key hints, generated from the keymap for the screen in front of the admin.

import React from 'react';
import {Box, Text} from 'ink';
import {tint, useDisplay} from '../display-options.js';
import {truncate} from '../format/text-fit.js';
import {footerHints, type Screen} from '../keymap.js';

export type Tone = 'info' | 'ok' | 'warn' | 'error';

export interface StatusMessage {
  readonly text: string;
  readonly tone: Tone;
}

const TONE_COLORS: Record<Tone, string | undefined> = {info: undefined, ok: 'green', warn: 'yellow', error: 'red'};

export function Footer({screen, width, status, extraHints}: {screen: Screen; width: number; status?: StatusMessage | undefined; extraHints?: string}): React.JSX.Element {
  const display = useDisplay();
  const hints = footerHints(screen, display.glyphs.ascii, width - (extraHints ? extraHints.length + 2 : 0));
  return (
    <Box flexDirection="column" height={2} flexShrink={0}>
      <Text wrap="truncate" color={tint(display, status ? TONE_COLORS[status.tone] : undefined)}>
        {truncate(status?.text ?? '', width, display.glyphs.ellipsis) || ' '}
      </Text>
      <Text wrap="truncate" dimColor={display.color}>
        {truncate(extraHints ? `${extraHints}  ${hints}` : hints, width, display.glyphs.ellipsis)}
      </Text>
    </Box>
  );
}
