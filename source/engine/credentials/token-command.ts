// Runs the admin's token command (e.g. `get-token {email}`) and returns the access token it
// prints. No shell: the template is split into arguments once, with quotes respected, and
// `{email}` / `{login}` are put into each argument afterwards, so an address can never be
// re-split or interpreted. The token only ever travels through stdout, never the process list.

import {execFile, type ExecFileException} from 'node:child_process';
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

/** Runs the command for one login; the trimmed stdout is the token (registered for redaction). */
export async function runTokenCommand(request: TokenRequest): Promise<string> {
  const problem = tokenCommandProblem(request.command);
  if (problem) throw tokenError(request, 'config', `Cannot fetch the ${request.role} access token: ${problem}`, 'Fix the token command in the endpoint settings.');
  const [program, ...args] = tokenCommandArgs(request.command, request);
  const timeoutMs = request.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
  const outcome = await new Promise<{error: ExecFileException | null; stdout: string; stderr: string}>((resolve) => {
    execFile(
      program!,
      args,
      {timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8', windowsHide: true},
      (error, stdout, stderr) => resolve({error, stdout: String(stdout), stderr: String(stderr)}),
    );
  });
  const token = outcome.stdout.trim();
  // Registered even when the command failed: a half-printed token must not reach the log either.
  registerSecret(token);
  const stderr = shownStderr(outcome.stderr);
  const what = `The ${request.role} token command \`${request.command}\``;
  const { error } = outcome;
  if (error) {
    if (error.code === 'ENOENT')
      throw tokenError(request, 'config', `${what} cannot run: program ${program} was not found`, `Install ${program} or give its full path in the token command.`);
    if (error.code === 'EACCES')
      throw tokenError(request, 'config', `${what} cannot run: ${program} is not executable by this user`, `Make ${program} executable (chmod +x) or run it through its interpreter.`);
    if (error.killed || error.signal === 'SIGKILL')
      throw tokenError(request, 'auth', `${what} did not finish within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`, 'Check that the command works on its own and does not wait for input; raise --source-token-timeout / --target-token-timeout if it is just slow.', stderr,
        // A slow identity provider is often a passing problem: the batch retries the mailbox later.
        true);
    if (error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
      throw tokenError(request, 'auth', `${what} printed more than ${MAX_OUTPUT_BYTES / 1024} KB, which is not an access token`, 'The command must print only the access token on stdout.', stderr);
    const exit = typeof error.code === 'number' ? `exited with status ${error.code}` : `failed (${error.signal ? `signal ${error.signal}` : error.message})`;
    throw tokenError(request, 'auth', `${what} ${exit}`, 'Run the command by hand for this user to see why; it must print a valid access token.', stderr);
  }
  if (token === '') throw tokenError(request, 'auth', `${what} printed no token`, 'The command must print the access token on stdout.', stderr);
  if (/[\r\n]/.test(token)) throw tokenError(request, 'auth', `${what} printed more than one line`, 'The command must print only the access token on stdout (messages go to stderr).');
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
