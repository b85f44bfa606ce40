// Reads a secret (an admin password, usually) from where the admin said it lives: a file, an
// environment variable, or a prompt on the terminal. Never from a visible command-line flag, which
// every user on the machine could read in the process list.

import {readFile, stat} from 'node:fs/promises';
import type {SecretSource} from '../../imap/endpoint.js';
import {MigrationError} from '../../imap/imap-error.js';
import {registerSecret} from '../../log/secret-redaction.js';
import {fileReadReason} from '../csv/file-read-error.js';

export interface SecretPromptIo {
  /** Defaults to process.stdin; must be a terminal for a prompt. */
  input?: NodeJS.ReadableStream;
  /** Where the prompt text goes; defaults to process.stderr so stdout stays clean for --json. */
  output?: NodeJS.WritableStream;
}

export function describeSecretSource(source: SecretSource): string {
  switch (source.from) {
    case 'file':
      return `file ${source.path}`;
    case 'env':
      return `env ${source.name}`;
    case 'prompt':
      return 'prompt';
  }
}

/**
 * `what` names the secret for the admin ("target admin password"); it appears in the prompt and in
 * errors, the secret itself never does. The secret is registered for redaction before it is returned.
 */
export async function readSecret(source: SecretSource, what: string, io: SecretPromptIo = {}): Promise<string> {
  const secret =
    source.from === 'file' ? await readFromFile(source.path, what) : source.from === 'env' ? readFromEnv(source.name, what) : await prompt(what, io);
  registerSecret(secret);
  return secret;
}

/** A file holding secrets that other users of the machine can read. */
export interface ExposedSecretFile {
  path: string;
  /** Names the file for the admin: "migration CSV". */
  what: string;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  /** The whole warning, with the chmod to run. */
  message: string;
}

/**
 * A warning (not an error: a group of operators may share the file on purpose) when a file that
 * holds secrets can be read by group or others; undefined when the mode is private or the file
 * cannot be examined.
 */
export async function checkSecretFileMode(path: string, what: string): Promise<ExposedSecretFile | undefined> {
  try {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o044) === 0) return undefined;
    const who = (mode & 0o004) !== 0 ? 'every user on this machine' : 'its group';
    const message = `The ${what} ${path} holds passwords and can be read by ${who} (mode ${mode.toString(8).padStart(4, '0')}); restrict it with: chmod 600 ${path}`;
    return {path, what, mode, message};
  } catch {
    return undefined;
  }
}

const OTHER_WAYS = 'a file (first line), an environment variable, or the interactive prompt';

function configError(message: string, hint: string, cause?: unknown): MigrationError {
  return new MigrationError({kind: 'config', message, hint, retryable: false}, cause === undefined ? undefined : {cause});
}

async function readFromFile(path: string, what: string): Promise<string> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = fileReadReason(cause);
    throw configError(
      `Cannot read the ${what} from file ${path}: ${reason}`,
      `Put the ${what} on the first line of that file (readable by this user, mode 600), or supply it through ${OTHER_WAYS}.`,
      cause,
    );
  }
  // Only the first line counts, so `echo secret > file` (trailing newline) and CRLF editors both work;
  // anything else on the line, spaces included, is part of the secret.
  const firstLine = (content.replace(/^\uFEFF/, '').split('\n')[0] ?? '').replace(/\r$/, '');
  if (firstLine === '')
    throw configError(`The ${what} file ${path} is empty (its first line has no text)`, `Write the ${what} on the first line of ${path}.`);
  return firstLine;
}

function readFromEnv(name: string, what: string): string {
  const value = process.env[name];
  if (value === undefined)
    throw configError(
      `Cannot read the ${what}: environment variable ${name} is not set`,
      `Set ${name} in the environment that runs mailferry (export ${name}=...), or supply the ${what} through ${OTHER_WAYS}.`,
    );
  if (value === '')
    throw configError(`Cannot read the ${what}: environment variable ${name} is empty`, `Give ${name} the ${what} as its value.`);
  return value;
}

type TtyInput = NodeJS.ReadableStream & {isTTY?: boolean; isRaw?: boolean; setRawMode?: (mode: boolean) => unknown};

/** Reads one line from the terminal without echoing it. */
function prompt(what: string, io: SecretPromptIo): Promise<string> {
  const input = (io.input ?? process.stdin) as TtyInput;
  const output = io.output ?? process.stderr;
  if (input.isTTY !== true || typeof input.setRawMode !== 'function')
    return Promise.reject(
      configError(
        `Cannot prompt for the ${what}: standard input is not a terminal`,
        `When running from a script or cron, supply the ${what} through a file or an environment variable instead of the prompt.`,
      ),
    );
  const setRawMode = input.setRawMode.bind(input);

  return new Promise((resolve, reject) => {
    const wasRaw = input.isRaw === true;
    let typed = '';
    let escape: 'none' | 'start' | 'sequence' = 'none';

    const finish = (error?: MigrationError) => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const cancelled = () =>
      configError(`Entering the ${what} was cancelled`, `Run the command again and type the ${what}, or supply it through a file or an environment variable.`);

    const onData = (chunk: Buffer | string) => {
      for (const char of String(chunk)) {
        // Arrow and function keys arrive as ESC [ ... final-byte; they are not part of a password.
        if (escape === 'start') {
          escape = char === '[' ? 'sequence' : 'none';
          continue;
        }
        if (escape === 'sequence') {
          if (char >= '@' && char <= '~') escape = 'none';
          continue;
        }
        if (char === '\r' || char === '\n') {
          if (typed === '') return finish(configError(`No ${what} was entered`, `Run the command again and type the ${what} before pressing Enter.`));
          return finish();
        }
        if (char === '\u0003') return finish(cancelled());
        if (char === '\u0004') return typed === '' ? finish(cancelled()) : finish();
        if (char === '\u001b') escape = 'start';
        else if (char === '\u007f' || char === '\b') typed = Array.from(typed).slice(0, -1).join('');
        else if (char === '\u0015') typed = '';
        else if (char >= ' ') typed += char;
      }
    };
    const onEnd = () => finish(cancelled());

    output.write(`Enter the ${what} (not shown): `);
    setRawMode(true);
    input.on('data', onData);
    input.once('end', onEnd);
    input.resume();
  });
}
