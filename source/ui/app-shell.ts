// What panels may ask of the process around them: repaint the screen, or end the UI with an exit
// code. run-ui provides the real ones; tests provide recorders.

import {createContext, useContext} from 'react';

export interface AppShell {
  /** Clear the terminal and draw every line again (Ctrl-L, after a resize). */
  repaint(): void;
  /** Leave the UI; runUi resolves with this exit code. */
  exit(code: number): void;
}

export const AppShellContext = createContext<AppShell>({repaint() {}, exit() {}});

export function useAppShell(): AppShell {
  return useContext(AppShellContext);
}
