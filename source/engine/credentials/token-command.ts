// Runs the admin's token command (e.g. `get-token {email}`) and returns the access token it
// prints. No shell: the template is split into arguments once, with quotes respected, and
// `{email}` / `{login}` are put into each argument afterwards, so an address can never be
// re-split or interpreted. The token only ever travels through stdout, never the process list.

import {spawn, type ChildProcess} from 'node:child_process';
import {DEFAULT_TOKEN_TIMEOUT_MS} from '../../imap/endpoint.js';
import type {EndpointRole} from '../../imap/imap-error.js';
import {MigrationError} from '../../imap/imap-error.js';
import {redact, registerSecret} from '../../log/secret-redaction.js';

export const TOKEN_COMMAND_PLACEHOLDERS = ['{email}', '{login}'] as const;

/** An access token is a line of text; anything near this size is not one. */
const MAX_OUTPUT_BYTES = 64 * 1024;
/** How much of the command's stderr an error shows. */
const MAX_STDERR_CHARS = 400;

export class TokenCommandSyntaxError extends Error {}

/** The arguments of a command line, POSIX-shell style quoting (no expansion of any kind). */
export function splitCommand(template: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArgument = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < template.length; i++) {
    const char = template[i]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else current += char;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && i + 1 < template.length && '"\\$`'.includes(template[i + 1]!)) current += template[++i]!;
      else current += char;
      continue;
    }
    if (/\s/.test(char)) {
      if (inArgument) args.push(current);
      current = '';
      inArgument = false;
      continue;
    }
    inArgument = true;
    if (char === "'" || char === '"') quote = char;
    else if (char === '\\') {
      if (i + 1 >= template.length) throw new TokenCommandSyntaxError('it ends with a lone backslash');
      current += template[++i]!;
    } else current += char;
  }
  if (quote) throw new TokenCommandSyntaxError(`a ${quote === '"' ? 'double' : 'single'} quote is not closed`);
  if (inArgument) args.push(current);
  return args;
}

/** Why a token command cannot work, or undefined when it is fine. For settings screens and flags. */
export function tokenCommandProblem(template: string): string | undefined {
  let args: string[];
  try {
    args = splitCommand(template);
  } catch (error) {
    return `the token command cannot be read: ${(error as Error).message}`;
  }
  if (args.length === 0) return 'the token command is empty';
  const unknown = (template.match(/\{[^}\s]*\}/g) ?? []).filter(
    (placeholder) => !(TOKEN_COMMAND_PLACEHOLDERS as readonly string[]).includes(placeholder),
  );
  if (unknown.length > 0) return `the token command uses ${unknown.join(', ')}, which mailferry does not know; use ${TOKEN_COMMAND_PLACEHOLDERS.join(' or ')}`;
  return undefined;
}

/** The argv for one login: placeholders replaced inside each argument, in one pass. */
export function tokenCommandArgs(template: string, values: {email: string; login: string}): string[] {
  return splitCommand(template).map((arg) => arg.replace(/\{(email|login)\}/g, (_placeholder, name: 'email' | 'login') => values[name]));
}

export interface TokenRequest {
  /** The configured template, e.g. `get-token {email}`. */
  command: string;
  email: string;
  login: string;
  role: EndpointRole;
  /** The mailbox the token is for (errors name it). */
  mailbox?: string;
  timeoutMs?: number;
}

interface CommandOutcome {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The program could not be started (ENOENT, EACCES...). */
  spawnError?: NodeJS.ErrnoException;
  timedOut: boolean;
  tooMuchOutput: boolean;
}

/**
 * Runs one command in its own process group, stdin closed (a command that asks a question gets
 * end of file instead of waiting), and on timeout kills the whole group: a shell script's
 * children would otherwise keep stdout open and the run would never end.
 */
function runCommand(program: string, args: string[], timeoutMs: number): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const outcome: CommandOutcome = {stdout: '', stderr: '', exitCode: null, signal: null, timedOut: false, tooMuchOutput: false};
    let child: ChildProcess;
    try {
      child = spawn(program, args, {stdio: ['ignore', 'pipe', 'pipe'], detached: true, windowsHide: true});
    } catch (error) {
      resolve({...outcome, spawnError: error as NodeJS.ErrnoException});
      return;
    }
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      outcome.timedOut = true;
      killGroup();
    }, timeoutMs);
    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (outcome[stream].length + chunk.length > MAX_OUTPUT_BYTES) {
        outcome.tooMuchOutput = true;
        killGroup();
        return;
      }
      outcome[stream] += chunk.toString('utf8');
    };
    child.stdout!.on('data', collect('stdout'));
    child.stderr!.on('data', collect('stderr'));
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({...outcome, spawnError: error});
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({...outcome, exitCode: code, signal});
    });
  });
}

/** Runs the command for one login; the trimmed stdout is the token (registered for redaction). */
export async function runTokenCommand(request: TokenRequest): Promise<string> {
  const problem = tokenCommandProblem(request.command);
  if (problem) throw tokenError(request, 'config', `Cannot fetch the ${request.role} access token: ${problem}`, 'Fix the token command in the endpoint settings.');
  const [program, ...args] = tokenCommandArgs(request.command, request);
  const timeoutMs = request.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
  const outcome = await runCommand(program!, args, timeoutMs);
  const stderr = shownStderr(outcome.stderr);
  const what = `The ${request.role} token command \`${request.command}\``;
  if (outcome.spawnError) {
    const code = outcome.spawnError.code;
    if (code === 'ENOENT')
      throw tokenError(request, 'config', `${what} cannot run: program ${program} was not found`, `Install ${program} or give its full path in the token command.`);
    if (code === 'EACCES')
      throw tokenError(request, 'config', `${what} cannot run: ${program} is not executable by this user`, `Make ${program} executable (chmod +x) or run it through its interpreter.`);
    throw tokenError(request, 'config', `${what} cannot run (${code ?? 'unknown error'})`, 'Check the program named in the token command.');
  }
  if (outcome.timedOut)
    throw tokenError(
      request,
      'auth',
      `${what} did not finish within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`,
      'Check that the command works on its own and does not wait for input; raise --source-token-timeout / --target-token-timeout if it is just slow.',
      stderr,
      // A slow identity provider is often a passing problem: the batch retries the mailbox later.
      true,
    );
  if (outcome.tooMuchOutput)
    throw tokenError(request, 'auth', `${what} printed more than ${MAX_OUTPUT_BYTES / 1024} KB, which is not an access token`, 'The command must print only the access token on stdout.');
  if (outcome.exitCode !== 0) {
    const exit = outcome.exitCode !== null ? `exited with status ${outcome.exitCode}` : `was killed by ${outcome.signal ?? 'a signal'}`;
    throw tokenError(request, 'auth', `${what} ${exit}`, 'Run the command by hand for this user to see why; it must print a valid access token.', stderr);
  }
  const token = outcome.stdout.trim();
  if (token === '') throw tokenError(request, 'auth', `${what} printed no token`, 'The command must print the access token on stdout.', stderr);
  if (/[\r\n]/.test(token)) throw tokenError(request, 'auth', `${what} printed more than one line`, 'The command must print only the access token on stdout (messages go to stderr).');
  // Only a token that is used: a failing command's stdout ("error") registered as a secret would
  // blank that word out of every later log line.
  registerSecret(token);
  return token;
}

function shownStderr(stderr: string): string | undefined {
  const trimmed = redact(stderr.trim());
  if (trimmed === '') return undefined;
  return trimmed.length > MAX_STDERR_CHARS ? `${trimmed.slice(0, MAX_STDERR_CHARS)}…` : trimmed;
}

function tokenError(request: TokenRequest, kind: 'auth' | 'config', message: string, hint: string, stderr?: string, retryable = false): MigrationError {
  return new MigrationError({
    kind,
    message: `${message} for ${request.login}${stderr ? `; it said: ${stderr}` : ''}`,
    hint,
    retryable,
    endpoint: request.role,
    user: request.login,
    ...(request.mailbox ? {mailbox: request.mailbox} : {}),
  });
}
