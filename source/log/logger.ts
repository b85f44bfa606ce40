// The log file: one line per event, appended, secrets redacted. Never written to stdout/stderr,
// which belong to the full-screen UI or to the headless command's own output.

import {appendFileSync, mkdirSync} from 'node:fs';
import {dirname} from 'node:path';
import {redact} from './secret-redaction.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40};

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * Appends JSON lines to `path`. Synchronous appends keep ordering simple and survive a crash right
 * after the line; log volume is per event (status changes, skipped items, errors), never per
 * message body. Nothing is buffered in this process, so there is nothing to flush before exit:
 * a line is in the kernel when the call returns, whatever ends the process next (SIGTERM included).
 * The file is created at once, so a run that logs nothing yet still leaves its log where it is said to be.
 */
export function createFileLogger(path: string, level: LogLevel = 'info', base: Record<string, unknown> = {}): Logger {
  try {
    mkdirSync(dirname(path), {recursive: true, mode: 0o700});
    appendFileSync(path, '', {mode: 0o600});
  } catch (error) {
    // Said before anything runs: a run whose log cannot be written would leave no record.
    throw new Error(`cannot write the log file ${path} (${(error as Error).message}); make its directory writable, or give --log FILE elsewhere`);
  }
  return fileLogger(path, level, base);
}

function fileLogger(path: string, level: LogLevel, base: Record<string, unknown>): Logger {
  const write = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const line = JSON.stringify({t: new Date().toISOString(), level: lvl, msg: message, ...base, ...fields}, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    try {
      appendFileSync(path, redact(line) + '\n', {mode: 0o600});
    } catch {
      // A full disk must not crash a migration; the state file is what matters.
    }
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => fileLogger(path, level, {...base, ...fields}),
  };
}
