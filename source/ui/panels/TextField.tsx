// ink-text-input with two fixes, both for keys that arrive in unusual shapes:
// - It types the letter of Ctrl and Alt combinations (Ctrl-L would type "l"), which would corrupt
//   a field whenever the admin uses a global key while typing.
// - Keys that arrive in one read (held Backspace over a slow SSH link, tmux send-keys) come as
//   one string, and it would insert "\x7f\x7f" as text. Such runs are applied here instead.
// The guard listens first (it mounts before the input and never re-subscribes) and tells the
// field to drop the change ink-text-input makes for such a key.

import React, {useCallback, useEffect, useRef} from 'react';
import {useInput, type Key} from 'ink';
import TextInput from 'ink-text-input';
import {useDisplay} from '../display-options.js';

const ERASE = new Set(['\u007F', '\b']);

/**
 * A run of keys applied at the end of the text (where the cursor nearly always is when keys
 * pile up): Backspace erases, printable characters are typed, other control characters dropped.
 * Undefined when ink-text-input handles the input well itself.
 */
export function applyKeyRun(value: string, input: string): string | undefined {
  const chars = Array.from(input);
  // eslint-disable-next-line no-control-regex
  if (chars.length < 2 || !chars.some((char) => /[\u0000-\u001f\u007f]/.test(char)) || input.includes('\u001B')) return undefined;
  const result = Array.from(value);
  for (const char of chars) {
    if (ERASE.has(char)) result.pop();
    // eslint-disable-next-line no-control-regex
    else if (!/[\u0000-\u001f\u007f]/.test(char)) result.push(char);
  }
  return result.join('');
}

function KeyGuard({onKey, isActive}: {onKey(input: string, key: Key): void; isActive: boolean}): null {
  useInput(onKey, {isActive});
  return null;
}

export interface TextFieldProps {
  value: string;
  onChange(value: string): void;
  focus: boolean;
  mask?: string | undefined;
  placeholder?: string | undefined;
  /**
   * Told true once the field takes keys and false when it stops. Ink registers input listeners in
   * a passive effect, after the frame that shows the field is drawn: a key typed in between is
   * lost, so a form shows the field as focused only from this call on.
   */
  onListening?: ((listening: boolean) => void) | undefined;
}

export function TextField({value, onChange, focus, mask, placeholder, onListening}: TextFieldProps): React.JSX.Element {
  // ink-text-input draws its placeholder in grey, a colour: under NO_COLOR it is left out.
  const {color} = useDisplay();
  const shownPlaceholder = color ? placeholder : undefined;
  const suppress = useRef(false);
  const latest = useRef({value, onChange});
  latest.current = {value, onChange};
  const onKey = useCallback((input: string, key: Key) => {
    const run = key.ctrl || (key.meta && !key.escape) ? undefined : applyKeyRun(latest.current.value, input);
    // A lone LF is Enter typed before raw mode (see keyName); never text in a one-line field.
    if (!(key.ctrl || (key.meta && !key.escape) || run !== undefined || input === '\n')) return;
    suppress.current = true;
    // Every listener for this key runs synchronously; lift the guard before the next key arrives.
    queueMicrotask(() => {
      suppress.current = false;
    });
    if (run !== undefined && run !== latest.current.value) latest.current.onChange(run);
  }, []);
  const listening = useRef(onListening);
  listening.current = onListening;
  // Runs after the children's effects, so after the guard and the input listen.
  useEffect(() => {
    if (!focus) return;
    listening.current?.(true);
    return () => listening.current?.(false);
  }, [focus]);
  const guardedChange = useCallback(
    (next: string) => {
      if (suppress.current) return;
      onChange(next);
    },
    [onChange],
  );
  return (
    <>
      <KeyGuard onKey={onKey} isActive={focus} />
      <TextInput value={value} onChange={guardedChange} focus={focus} showCursor={focus} {...(mask ? {mask} : {})} {...(shownPlaceholder ? {placeholder: shownPlaceholder} : {})} />
    </>
  );
}
