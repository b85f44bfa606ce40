// ink-text-input with one fix: it inserts the letter of Ctrl and Alt combinations (Ctrl-L would
// type "l"), which would corrupt a field whenever the admin uses a global key while typing. The
// guard listens first (it mounts before the input and never re-subscribes) and tells the field to
// drop the change that comes from such a key.

import React, {useCallback, useRef} from 'react';
import {useInput, type Key} from 'ink';
import TextInput from 'ink-text-input';

function KeyGuard({onModifiedKey, isActive}: {onModifiedKey(): void; isActive: boolean}): null {
  const handler = useCallback(
    (_input: string, key: Key) => {
      if (key.ctrl || (key.meta && !key.escape)) onModifiedKey();
    },
    [onModifiedKey],
  );
  useInput(handler, {isActive});
  return null;
}

export interface TextFieldProps {
  value: string;
  onChange(value: string): void;
  focus: boolean;
  mask?: string | undefined;
  placeholder?: string | undefined;
}

export function TextField({value, onChange, focus, mask, placeholder}: TextFieldProps): React.JSX.Element {
  const suppress = useRef(false);
  const onModifiedKey = useCallback(() => {
    suppress.current = true;
    // Every listener for this key runs synchronously; lift the guard before the next key arrives.
    queueMicrotask(() => {
      suppress.current = false;
    });
  }, []);
  const guardedChange = useCallback(
    (next: string) => {
      if (suppress.current) return;
      onChange(next);
    },
    [onChange],
  );
  return (
    <>
      <KeyGuard onModifiedKey={onModifiedKey} isActive={focus} />
      <TextInput value={value} onChange={guardedChange} focus={focus} showCursor={focus} {...(mask ? {mask} : {})} {...(placeholder ? {placeholder} : {})} />
    </>
  );
}
