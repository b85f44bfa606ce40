// Entry point of the full-screen UI. Owns the terminal: refuses without one, switches to the
// alternate screen, renders with Ink (incremental, Ctrl-C handled by the UI), and restores the
// terminal on every way out: quit, Ctrl-C, a crash, SIGTERM, and SIGHUP when the SSH session
// drops. A batch that is open when a signal arrives is closed first, so its state is saved.

import React, {useCallback, useMemo, useRef, useState} from 'react';
import {Box, render} from 'ink';
import type {BatchControl} from '../engine/batch-control.js';
import type {Logger} from '../log/logger.js';
import {silentLogger} from '../log/logger.js';
import {redact} from '../log/secret-redaction.js';
import {enterAlternateScreen} from './alternate-screen.js';
import {App} from './App.js';
import {AppShellContext, type AppShell} from './app-shell.js';
import {DisplayContext, displayOptionsFrom, type DisplayOptions} from './display-options.js';
import {engineServices} from './engine-services.js';
import {frameFixStream} from './frame-fix-stream.js';
import {TerminalSizeContext, useStreamSize} from './terminal-size.js';
import type {UiPrefill} from './ui-prefill.js';
import type {UiServices} from './ui-services.js';

export interface RunUiOptions {
  stateDir: string;
  batchName?: string;
  prefill?: UiPrefill;
  services?: UiServices;
  logger?: Logger;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
  argv?: readonly string[];
}

export const NO_TTY_MESSAGE =
  'mailferry: the full-screen UI needs an interactive terminal (stdin and stdout must be a TTY).\n' +
  'For scripts, cron and pipes use the headless commands instead: mailferry batch --help\n';

/** How long a signal-triggered shutdown waits for running mailboxes to stop and state to be saved. */
const SHUTDOWN_GRACE_MS = 20_000;
/** Ink renders at most this often; the engine publishes snapshots far less often than that. */
const MAX_FPS = 30;
/** Long enough for Ink's render throttle (1000 / MAX_FPS ms) to draw the full-height frame. */
const REPAINT_FRAME_MS = 3 * Math.ceil(1000 / MAX_FPS);

const SIGNAL_EXIT_CODES: Record<string, number> = {SIGHUP: 129, SIGINT: 130, SIGTERM: 143};

interface RootProps {
  stdout: NodeJS.WriteStream;
  display: DisplayOptions;
  shell: Omit<AppShell, 'repaint'>;
  children: React.ReactNode;
}

/**
 * Provides size, display options and the shell. Repaint works through Ink's own full-screen path:
 * a frame as tall as the terminal makes Ink clear the screen and write every line of the next
 * frame, which is exactly a repaint. So Ctrl-L (and a resize) draws one full-height frame, then
 * the normal one a few frames later.
 */
function Root({stdout, display, shell, children}: RootProps): React.JSX.Element {
  const [fullHeight, setFullHeight] = useState(false);
  const timer = useRef<NodeJS.Timeout | undefined>(undefined);
  const repaint = useCallback(() => {
    setFullHeight(true);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setFullHeight(false), REPAINT_FRAME_MS);
  }, []);
  const size = useStreamSize(stdout, repaint);
  const value = useMemo<AppShell>(() => ({...shell, repaint}), [shell, repaint]);
  return (
    <AppShellContext.Provider value={value}>
      <DisplayContext.Provider value={display}>
        <TerminalSizeContext.Provider value={size}>
          <Box flexDirection="column" width={size.columns} height={fullHeight ? size.rows : size.rows - 1} overflow="hidden">
            {children}
          </Box>
        </TerminalSizeContext.Provider>
      </DisplayContext.Provider>
    </AppShellContext.Provider>
  );
}

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug';

/** Library chatter on the console would scribble over the full-screen layout; send it to the log. */
function divertConsole(logger: Logger): () => void {
  const methods: ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug'];
  const saved = methods.map((method) => [method, console[method]] as const);
  for (const method of methods) {
    console[method] = (...args: unknown[]) => {
      const text = redact(args.map((arg) => (typeof arg === 'string' ? arg : arg instanceof Error ? arg.stack ?? arg.message : JSON.stringify(arg))).join(' '));
      (method === 'error' ? logger.error : method === 'warn' ? logger.warn : logger.debug).call(logger, `console.${method}: ${text}`);
    };
  }
  return () => {
    for (const [method, original] of saved) console[method] = original;
  };
}

export async function runUi(options: RunUiOptions): Promise<number> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  if (!stdin.isTTY || !stdout.isTTY) {
    stderr.write(NO_TTY_MESSAGE);
    return 2;
  }
  const env = options.env ?? process.env;
  const display = displayOptionsFrom(env, options.argv ?? process.argv.slice(2));
  const services = options.services ?? engineServices();
  const logger = options.logger ?? silentLogger;

  let control: BatchControl | undefined;
  let exitCode: number | undefined;
  let shuttingDown: Promise<void> | undefined;
  // Raw mode from the start, not from Ink's first input effect: keys typed while the first
  // screens are built (an admin over a slow SSH link types ahead) then wait unechoed and uncooked
  // in the tty until Ink reads them. Ink turns raw mode off again when it unmounts.
  stdin.setRawMode(true);
  // Listed before the first frame, for the same reason (see App's initialBatches); a failure is
  // left to App, which lists again and explains it.
  const initialBatches =
    options.batchName || options.prefill?.startWithSetup ? undefined : await services.listBatches(options.stateDir).catch(() => undefined);
  const screen = enterAlternateScreen(stdout);
  const restoreConsole = divertConsole(logger);
  // A dropped SSH session turns every write into EIO/EPIPE; that must not become a crash.
  const ignoreWriteErrors = () => {};
  stdout.on('error', ignoreWriteErrors);

  const shell: Omit<AppShell, 'repaint'> = {
    exit(code) {
      exitCode ??= code;
      instance.unmount();
    },
  };
  const instance = render(
    <Root stdout={stdout} display={display} shell={shell}>
      <App stateDir={options.stateDir} services={services} batchName={options.batchName} prefill={options.prefill} initialBatches={initialBatches} onControl={(next) => (control = next)} />
    </Root>,
    {stdout: frameFixStream(stdout), stdin, stderr, exitOnCtrlC: false, patchConsole: false, incrementalRendering: true, maxFps: MAX_FPS},
  );

  const cleanup = () => {
    // Also when Ink never got as far as taking over the terminal.
    if (stdin.isTTY) stdin.setRawMode(false);
    screen.restore();
    restoreConsole();
    for (const [signal, handler] of signalHandlers) process.off(signal, handler);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    stdout.off('error', ignoreWriteErrors);
  };

  /** Signals and crashes: leave the screen, stop the batch cleanly (bounded), then end the process. */
  const shutdown = (code: number, message?: string): Promise<void> => {
    shuttingDown ??= stopEverything(code, message);
    return shuttingDown;
  };
  const stopEverything = async (code: number, message?: string) => {
    try {
      instance.unmount();
    } catch {
      // Ink may already be gone; the terminal is restored below either way.
    }
    cleanup();
    if (message) stderr.write(message);
    const open = control;
    if (open) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        open.close().catch((error: unknown) => logger.error('closing the batch after a signal failed', {error: String(error)})),
        new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS))),
      ]);
      clearTimeout(timer);
    }
    process.exit(code);
  };

  const signalHandlers: [NodeJS.Signals, () => void][] = (['SIGTERM', 'SIGHUP', 'SIGINT'] as const).map((signal) => [
    signal,
    () => {
      logger.warn(`received ${signal}; stopping the batch and saving state`);
      void shutdown(SIGNAL_EXIT_CODES[signal] ?? 1);
    },
  ]);
  for (const [signal, handler] of signalHandlers) process.on(signal, handler);
  const onCrash = (error: unknown) => {
    const text = redact(error instanceof Error ? (error.stack ?? error.message) : String(error));
    logger.error('the UI crashed', {error: text});
    void shutdown(1, `mailferry: internal error, the UI stopped (state is saved):\n${text}\n`);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  try {
    await instance.waitUntilExit();
  } catch (error) {
    exitCode ??= 1;
    cleanup();
    stderr.write(`mailferry: the UI stopped: ${redact(error instanceof Error ? error.message : String(error))}\n`);
    return exitCode;
  }
  // A signal also unmounts Ink; the shutdown then owns the end (it closes the batch and exits).
  if (shuttingDown) await shuttingDown;
  cleanup();
  return exitCode ?? 0;
}
