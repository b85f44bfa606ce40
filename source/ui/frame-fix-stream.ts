// Works around an off-by-one in Ink 6.8's incremental renderer (build/log-update.js,
// createIncremental). After a frame that ends with a newline (every frame shorter than the
// terminal, which is how mailferry keeps Ink from clearing the screen on each update) the cursor
// sits on the row below the frame, but the next diff moves up only `lines - 1` rows, so every
// changed line lands one row too low. We add the missing row to that first cursor-up.
// When the previous frame did not end with a newline (right after a full-screen repaint) the
// extra row is absorbed by the top of the screen: the frame always starts on row 1 of the
// alternate screen, and a cursor-up stops at the top margin.

// eslint-disable-next-line no-control-regex
const DIFF_FRAME_START = /^\u001B\[(\d+)A(?=\u001B\[E|\u001B\[1G)/;

export function fixIncrementalFrame(chunk: string): string {
  const match = DIFF_FRAME_START.exec(chunk);
  if (!match) return chunk;
  return `\u001B[${Number(match[1]) + 1}A${chunk.slice(match[0].length)}`;
}

/**
 * The terminal stream as Ink sees it: every property, event and size of the real stream (through
 * the prototype chain, so `columns`, `rows` and 'resize' stay live), with diff frames corrected.
 */
export function frameFixStream(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  const wrapper = Object.create(stream) as NodeJS.WriteStream;
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  Object.defineProperty(wrapper, 'write', {
    value: (chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? fixIncrementalFrame(chunk) : chunk, ...rest),
  });
  return wrapper;
}
