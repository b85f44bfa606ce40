// Waiting for a target folder to stop growing before it is compared with the source.
//
// A copy that was cut off (the process killed with SIGKILL, a lane's connection failed or was
// closed by mailferry mid-APPEND) leaves commands the target has received but not yet run: with
// LITERAL+ (RFC 7888) a whole MULTIAPPEND is written without waiting for the server, so several
// of them sit in the socket buffers and in Dovecot's input buffer. Dovecot keeps reading and
// committing complete commands after the client is gone (measured: 210 messages on disk at the
// kill, 1,200-1,950 a few seconds later). Comparing the folder while that goes on misses the
// late ones, and the resumed copy appends them a second time. So the folder is compared only
// once its message count has stayed the same for a settle period.

export interface QuietWaitOptions {
  /** The folder's message count now (for IMAP: NOOP on a session that has it selected). */
  read(): Promise<number>;
  /** Unchanged this long counts as quiet. */
  settleMs: number;
  /** Never waits longer than this (mail may be arriving for other reasons, e.g. live delivery). */
  maxMs: number;
  /** Time between reads. */
  pollMs: number;
  signal?: AbortSignal;
  now?(): number;
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface QuietWaitResult {
  /** The count at the last read. */
  messages: number;
  /** The count at the first read. */
  firstMessages: number;
  /** False when maxMs ran out while the count still changed. */
  quiet: boolean;
  waitedMs: number;
}

export const QUIET_SETTLE_MS = 2_000;
export const QUIET_MAX_MS = 120_000;
export const QUIET_POLL_MS = 250;

export async function waitUntilQuiet(options: QuietWaitOptions): Promise<QuietWaitResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const started = now();
  const firstMessages = await options.read();
  let messages = firstMessages;
  let stableSince = now();
  for (;;) {
    const at = now();
    if (at - stableSince >= options.settleMs) return {messages, firstMessages, quiet: true, waitedMs: at - started};
    if (at - started >= options.maxMs) return {messages, firstMessages, quiet: false, waitedMs: at - started};
    await sleep(options.pollMs, options.signal);
    const count = await options.read();
    if (count !== messages) {
      messages = count;
      stableSince = now();
    }
  }
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, {once: true});
  });
}
