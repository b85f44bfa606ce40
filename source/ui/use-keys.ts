// The input dispatcher: turns a key press into a keymap action for the screen in front of the
// admin. Only one screen listens at a time (isActive), so a key never does two things.
// Ctrl-L (repaint) is the same everywhere and handled here.

import {useCallback} from 'react';
import {useInput, type Key} from 'ink';
import {useAppShell} from './app-shell.js';
import {keyName, resolveKey, type ActionId, type Screen} from './keymap.js';

export function useKeys(screen: Screen, onAction: (action: ActionId) => void, options: {isActive?: boolean} = {}): void {
  const shell = useAppShell();
  const handler = useCallback(
    (input: string, key: Key) => {
      const action = resolveKey(screen, keyName(input, key));
      if (action === undefined) return;
      if (action === 'repaint') shell.repaint();
      else onAction(action);
    },
    [screen, onAction, shell],
  );
  useInput(handler, {isActive: options.isActive ?? true});
}
