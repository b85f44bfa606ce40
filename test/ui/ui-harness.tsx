// Renders a UI tree the way run-ui does (display options, pinned terminal size, app shell) into
// ink-testing-library, and offers key presses by name plus waiting for a frame to show something.

import React, {useLayoutEffect, useState} from 'react';
import {render} from 'ink-testing-library';
import {AppShellContext, type AppShell} from '../../source/ui/app-shell.js';
import {DisplayContext} from '../../source/ui/display-options.js';
import {ASCII_GLYPHS, UNICODE_GLYPHS} from '../../source/ui/glyphs.js';
import {TerminalSizeContext} from '../../source/ui/terminal-size.js';

export const KEYS: Record<string, string> = {
  enter: '\r',
  esc: '\u001B',
  space: ' ',
  tab: '\t',
  'shift+tab': '\u001B[Z',
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  pageup: '\u001B[5~',
  pagedown: '\u001B[6~',
  backspace: '\u007F',
  'ctrl+c': '\u0003',
  'ctrl+l': '\u000C',
  'ctrl+g': '\u0007',
};

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;

export interface RecordingShell extends AppShell {
  readonly exits: number[];
  repaints: number;
}

/**
 * Renders nothing; lets the harness wait until React has processed every key written so far:
 * a state change here is committed no earlier than the updates the keys caused.
 */
interface ProbeHandle {
  bump?: () => void;
  committed?: () => void;
}

function Probe({handle}: {handle: ProbeHandle}): null {
  const [count, setCount] = useState(0);
  handle.bump = () => setCount((value) => value + 1);
  useLayoutEffect(() => {
    handle.committed?.();
  }, [count, handle]);
  return null;
}

export function renderUi(node: React.ReactElement, options: {columns?: number; rows?: number; ascii?: boolean; color?: boolean} = {}) {
  const shell: RecordingShell = {
    exits: [],
    repaints: 0,
    repaint() {
      shell.repaints += 1;
    },
    exit(code: number) {
      shell.exits.push(code);
    },
  };
  const probe: ProbeHandle = {};
  const size = {columns: options.columns ?? 80, rows: options.rows ?? 24};
  const display = {glyphs: options.ascii ? ASCII_GLYPHS : UNICODE_GLYPHS, color: options.color ?? false};
  const instance = render(
    <AppShellContext.Provider value={shell}>
      <DisplayContext.Provider value={display}>
        <TerminalSizeContext.Provider value={size}>
          {node}
          <Probe handle={probe} />
        </TerminalSizeContext.Provider>
      </DisplayContext.Provider>
    </AppShellContext.Provider>,
  );
  const frame = () => (instance.lastFrame() ?? '').replace(ANSI, '');
  const settle = () => new Promise((resolve) => setTimeout(resolve, 15));
  /** Until every key written so far has been handled, rendered, and its effects have run. */
  const flush = async () => {
    // A lone Esc is held back by Ink for one turn, in case more of a sequence follows.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => {
      probe.committed = resolve;
      probe.bump?.();
    });
    probe.committed = undefined;
    // React runs passive effects (Ink re-subscribing input handlers) from a setImmediate after the
    // commit; let a whole event-loop turn pass so the next key meets the new handlers, as it
    // would coming from a real terminal read.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    ...instance,
    shell,
    frame,
    lines: () => frame().split('\n'),
    settle,
    /** Press keys one at a time: names from KEYS, or literal characters. */
    flush,
    async press(...keys: string[]) {
      // A screen that just appeared subscribes to input in an effect; let that happen first.
      await flush();
      for (const key of keys) {
        instance.stdin.write(KEYS[key] ?? key);
        await flush();
      }
    },
    async type(text: string) {
      await flush();
      for (const char of text) {
        instance.stdin.write(char);
        await flush();
      }
    },
    async waitFor(predicate: (frame: string) => boolean, what = 'the expected frame'): Promise<string> {
      // A bound in time, not in attempts: under load 200 polls of 15 ms (3 s) was too short.
      const deadline = Date.now() + 20_000;
      while (Date.now() <= deadline) {
        const current = frame();
        if (predicate(current)) return current;
        await settle();
      }
      throw new Error(`timed out waiting for ${what}; last frame:\n${frame()}`);
    },
  };
}
