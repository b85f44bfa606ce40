// A yes/no question in place of the footer, so the grid stays visible behind it. `y` answers yes;
// `n` or Esc answer no (the letter matters in tmux, where a bare Esc is delayed).

import React from 'react';
import {Box, Text} from 'ink';
import {tint, useDisplay} from '../display-options.js';
import {fit} from '../format/text-fit.js';
import {footerHints} from '../keymap.js';

export interface Question {
  readonly text: string;
  readonly onYes: () => void;
  readonly onNo?: () => void;
}

export function ConfirmDialog({question, width}: {question: Question; width: number}): React.JSX.Element {
  const display = useDisplay();
  return (
    <Box flexDirection="column" height={2} flexShrink={0}>
      <Text wrap="truncate" bold color={tint(display, 'yellow')} inverse={!display.color}>
        {fit(`${question.text} y/n`, width, display.glyphs.ellipsis)}
      </Text>
      <Text wrap="truncate" dimColor={display.color}>
        {fit(footerHints('confirm', display.glyphs.ascii, width), width, display.glyphs.ellipsis)}
      </Text>
    </Box>
  );
}
