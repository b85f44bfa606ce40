// Columns and rows of the terminal, updated on resize. Tests (and the frame benchmark) pin a
// size through the provider instead of a real TTY.

import {createContext, useContext, useEffect, useState} from 'react';

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

export const TerminalSizeContext = createContext<TerminalSize>({columns: 80, rows: 24});

export function useTerminalSize(): TerminalSize {
  return useContext(TerminalSizeContext);
}

export function readTerminalSize(stream: Pick<NodeJS.WriteStream, 'columns' | 'rows'>): TerminalSize {
  // A size of 0 happens briefly on some terminals during a resize; fall back to the classic 80x24.
  return {columns: stream.columns || 80, rows: stream.rows || 24};
}

/** Follows `stream`'s resize events; `onResize` runs after the new size is known (for a full repaint). */
export function useStreamSize(stream: NodeJS.WriteStream, onResize?: () => void): TerminalSize {
  const [size, setSize] = useState(() => readTerminalSize(stream));
  useEffect(() => {
    const handle = () => {
      setSize(readTerminalSize(stream));
      onResize?.();
    };
    stream.on('resize', handle);
    return () => {
      stream.off('resize', handle);
    };
  }, [stream, onResize]);
  return size;
}
