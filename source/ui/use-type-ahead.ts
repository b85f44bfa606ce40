// Keys typed while a screen is loading ("Opening batch …": reading the state file, resolving
// passwords, logging in can take seconds over a slow link) are held and handed to the screen that
// comes next, in order, as if typed now. Ink keeps reading stdin as long as any handler is
// subscribed, so without this they reach only the loading line, which ignores them.

import {useEffect, useLayoutEffect, useRef} from 'react';
import {useStdin} from 'ink';

const CTRL_C = '\u0003';

/**
 * `holding`: the screen in front takes no keys, hold them. `replay`: the screen that follows may
 * have them; when false (an error message, where a typed-ahead Enter would dismiss the error
 * unread, or a password prompt) the held keys are dropped.
 */
export function useTypeAhead(holding: boolean, replay: boolean): void {
  const {internal_eventEmitter: emitter} = useStdin();
  const held = useRef<string[]>([]);
  const state = useRef({holding, replaying: false});
  // At commit, like useKeys: a key read right after the loading line went away is not held.
  useLayoutEffect(() => {
    state.current.holding = holding;
  });
  useEffect(() => {
    const record = (input: string) => {
      // Ctrl-C is answered at once by the loading screen (it quits); never replay it.
      if (state.current.holding && !state.current.replaying && input !== CTRL_C) held.current.push(input);
    };
    emitter.on('input', record);
    return () => {
      emitter.off('input', record);
    };
  }, [emitter]);
  // Passive effects run children first: the next screen's input handlers are subscribed by now.
  useEffect(() => {
    if (holding || held.current.length === 0) return;
    const keys = held.current;
    held.current = [];
    if (!replay) return;
    state.current.replaying = true;
    try {
      for (const input of keys) emitter.emit('input', input);
    } finally {
      state.current.replaying = false;
    }
  }, [holding, replay, emitter]);
}
