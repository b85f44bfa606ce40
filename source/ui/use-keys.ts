// The input dispatcher: turns a key press into a keymap action for the screen in front of the
// admin. Only one screen listens at a time (isActive), so a key never does two things.
// Ctrl-L (repaint) is the same everywhere and handled here.

import {useCallback, useLayoutEffect, useRef} from 'react';
import {useInput, type Key} from 'ink';
import {useAppShell} from './app-shell.js';
import {keyName, resolveKey, type ActionId, type Screen} from './keymap.js';

const CONTROL_CHARACTER_NAMES: Record<string, string> = {'\r': 'enter', '\n': 'enter', '\t': 'tab', ' ': 'space', '\u007F': 'backspace'};

/**
 * Names of the keys in one input event. Ink delivers keys that arrive in one read as a single
 * string (tmux send-keys, key repeat over a slow SSH link: "jjj"); outside text fields each
 * character is its own key press.
 */
export function keyNames(input: string, key: Key): string[] {
  const single = keyName(input, key);
  if (single !== undefined) return [single];
  if (key.ctrl || key.meta || input.includes('\u001B')) return [];
  return Array.from(input).map((char) => CONTROL_CHARACTER_NAMES[char] ?? char);
}

/**
 * The listener is registered once and calls the newest `onAction`, and whether the screen is
 * active is switched at commit time (layout effect), not a frame later as Ink's own `isActive`
 * would: keys typed right after a screen change go to the screen that is now in front.
 */
export function useKeys(screen: Screen, onAction: (action: ActionId) => void, options: {isActive?: boolean} = {}): void {
  const shell = useAppShell();
  const latest = useRef({screen, onAction, active: options.isActive ?? true});
  useLayoutEffect(() => {
    latest.current = {screen, onAction, active: options.isActive ?? true};
  });
  const handler = useCallback(
    (input: string, key: Key) => {
      for (const name of keyNames(input, key)) {
        const {screen: current, onAction: act, active} = latest.current;
        if (!active) return;
        const action = resolveKey(current, name);
        if (action === undefined) continue;
        if (action === 'repaint') shell.repaint();
        else act(action);
      }
    },
    [shell],
  );
  useInput(handler);
}
