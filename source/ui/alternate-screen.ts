// The full-screen UI lives in the terminal's alternate screen buffer (like less, vim, k9s), so the
// admin's shell scrollback is intact when mailferry ends. Ink 6 has no option for it: these are
// the xterm sequences, and restoring them is registered for every way the process can end.

export const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h\u001B[H';
export const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l';
export const SHOW_CURSOR = '\u001B[?25h';
export const CLEAR_SCREEN = '\u001B[2J\u001B[3J\u001B[H';

export interface AlternateScreen {
  /** Back to the normal screen with a visible cursor. Safe to call more than once. */
  restore(): void;
}

export function enterAlternateScreen(stream: NodeJS.WritableStream & {fd?: number}): AlternateScreen {
  let active = true;
  stream.write(ENTER_ALTERNATE_SCREEN);
  const restore = () => {
    if (!active) return;
    active = false;
    process.off('exit', restore);
    try {
      stream.write(LEAVE_ALTERNATE_SCREEN + SHOW_CURSOR);
    } catch {
      // The terminal is gone (SSH dropped); nothing left to restore.
    }
  };
  // 'exit' handlers run for process.exit() and for normal ends; signal and crash paths in run-ui
  // call restore() themselves before exiting.
  process.on('exit', restore);
  return {restore};
}
