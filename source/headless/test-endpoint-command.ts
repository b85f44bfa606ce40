// `mailferry test-endpoint`: the connection test for scripts and for admins at a shell. Prints each
// step as it finishes, then the capabilities that matter for migration; exit code 0 ok, 1 a step
// failed, 2 wrong usage. There is deliberately no --password flag: the process list shows it.

import meow from 'meow';
import {testConnection, type ConnectionTestResult, type StepResult} from '../imap/connection-test.js';
import {
  DEFAULT_TIMEOUTS,
  DEFAULT_TOKEN_TIMEOUT_MS,
  defaultPortFor,
  type EndpointConfig,
  type LoginIdentity,
  type LoginMechanism,
  type OAuthMechanism,
  type SecretSource,
  type Security,
} from '../imap/endpoint.js';
import {MigrationError, formatError} from '../imap/imap-error.js';
import {PRESETS, endpointFromPreset, presetById} from '../imap/presets.js';
import {redact} from '../log/secret-redaction.js';
import {readSecret} from '../engine/credentials/secret-source.js';
import {oauthIdentity} from '../engine/credentials/oauth-identity.js';
import {tokenCommandProblem} from '../engine/credentials/token-command.js';

const HELP = `
  Usage
    $ mailferry test-endpoint --host HOST [--port PORT] [--security none|starttls|tls] [options]

  Tests one IMAP server step by step: DNS, TCP connect, TLS or STARTTLS, greeting,
  CAPABILITY, and with --user also login and folder list. Each step says what failed
  and what to do next.

  Options
    --host HOST               server name or IP address
    --port PORT               default 993 for tls, 143 for starttls and none
    --security MODE           none | starttls | tls (default tls, or the preset's)
    --accept-untrusted        accept a self-signed or otherwise untrusted certificate
    --preset ID               ${PRESETS.map((preset) => preset.id).join(' | ')}: fills host, port, security
    --user USER               log in as USER (e.g. alice, alice*admin, domain/admin/alice)
    --authzid USER            SASL PLAIN: --user authenticates and acts as this user
    --password-file FILE      read the password from the first line of FILE
    --password-env VAR        read the password from environment variable VAR
    --password-prompt         ask for the password on the terminal (not shown)
    --login-mechanism M       auto | LOGIN | PLAIN (default auto)
    --token-command CMD       OAuth2 instead of a password: CMD prints the access token of
                              --user, e.g. 'get-token {email}' ({email} and {login} = --user;
                              run without a shell)
    --oauth-admin ADMIN       the token command runs for ADMIN, whose token logs in as --user
                              (servers that allow it, e.g. Microsoft 365 app-only tokens)
    --oauth-mechanism M       auto | XOAUTH2 | OAUTHBEARER (default auto: OAUTHBEARER if offered)
    --token-timeout SECONDS   longest the token command may run (default ${DEFAULT_TOKEN_TIMEOUT_MS / 1000})
    --timeout SECONDS         per-step timeout (default ${DEFAULT_TIMEOUTS.connectMs / 1000})
    --json                    print the result as one JSON object
    --help, -h                show this help

  There is no --password option: a password on the command line is visible to every
  user of this machine in the process list.

  Exit codes
    0  every step passed
    1  a step failed
    2  wrong usage, or the password could not be read
`;

const KNOWN_FLAGS = new Set([
  'host',
  'port',
  'security',
  'acceptUntrusted',
  'preset',
  'user',
  'authzid',
  'passwordFile',
  'passwordEnv',
  'passwordPrompt',
  'loginMechanism',
  'tokenCommand',
  'oauthAdmin',
  'oauthMechanism',
  'tokenTimeout',
  'timeout',
  'json',
  'help',
  'h',
]);

export interface TestEndpointIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Where --password-prompt reads from (a terminal); defaults to process.stdin. */
  stdin?: NodeJS.ReadableStream;
}

class UsageError extends Error {}

interface Parsed {
  endpoint: EndpointConfig;
  user?: string;
  authzid?: string;
  secret?: SecretSource;
  oauthAdmin?: string;
  json: boolean;
}

function kebab(flag: string): string {
  return flag.length === 1 ? `-${flag}` : `--${flag.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

function parse(argv: string[]): Parsed | 'help' {
  const cli = meow(HELP, {
    argv,
    importMeta: import.meta,
    description: false,
    autoHelp: false,
    autoVersion: false,
    flags: {
      host: {type: 'string'},
      port: {type: 'string'},
      security: {type: 'string'},
      acceptUntrusted: {type: 'boolean'},
      preset: {type: 'string'},
      user: {type: 'string'},
      authzid: {type: 'string'},
      passwordFile: {type: 'string'},
      passwordEnv: {type: 'string'},
      passwordPrompt: {type: 'boolean'},
      loginMechanism: {type: 'string'},
      tokenCommand: {type: 'string'},
      oauthAdmin: {type: 'string'},
      oauthMechanism: {type: 'string'},
      tokenTimeout: {type: 'string'},
      timeout: {type: 'string'},
      json: {type: 'boolean'},
      help: {type: 'boolean', shortFlag: 'h'},
    },
  });
  const flags = cli.flags;
  if (flags.help) return 'help';

  const unknown = Object.keys(cli.unnormalizedFlags).filter((flag) => !KNOWN_FLAGS.has(flag));
  if (unknown.some((flag) => flag === 'password' || flag === 'p' || flag === 'pass')) {
    throw new UsageError(
      'there is no --password option, because a password on the command line shows up in the process list; use --password-file FILE, --password-env VAR or --password-prompt',
    );
  }
  if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.map(kebab).join(', ')}`);
  if (cli.input.length > 0) throw new UsageError(`unexpected argument "${cli.input[0]}"; give the server with --host`);

  const presetId = flags.preset ?? 'other';
  const preset = presetById(presetId);
  if (!preset) throw new UsageError(`--preset must be one of ${PRESETS.map((entry) => entry.id).join(', ')} (got "${presetId}")`);

  const host = flags.host ?? preset.host;
  if (!host) throw new UsageError('--host is required (or a --preset that has a host)');

  if (flags.security !== undefined && !['none', 'starttls', 'tls'].includes(flags.security)) {
    throw new UsageError(`--security must be none, starttls or tls (got "${flags.security}")`);
  }
  const security = (flags.security as Security | undefined) ?? preset.security;

  let port: number;
  if (flags.port !== undefined) {
    port = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || port < 1 || port > 65_535) throw new UsageError(`--port must be a number from 1 to 65535 (got "${flags.port}")`);
  } else {
    port = flags.security !== undefined || !flags.preset ? defaultPortFor(security) : preset.port;
  }

  if (flags.loginMechanism !== undefined && !['auto', 'LOGIN', 'PLAIN'].includes(flags.loginMechanism)) {
    throw new UsageError(`--login-mechanism must be auto, LOGIN or PLAIN (got "${flags.loginMechanism}")`);
  }

  let timeouts = DEFAULT_TIMEOUTS;
  if (flags.timeout !== undefined) {
    const seconds = Number(flags.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds (got "${flags.timeout}")`);
    const ms = Math.round(seconds * 1000);
    timeouts = {connectMs: ms, greetingMs: ms, socketMs: Math.max(ms, DEFAULT_TIMEOUTS.connectMs)};
  }

  const oauth = oauthFlags(flags);
  const endpoint = endpointFromPreset(preset, {
    ...oauth,
    host,
    port,
    security,
    acceptUntrusted: flags.acceptUntrusted === true,
    timeouts,
    ...(flags.loginMechanism ? {loginMechanism: flags.loginMechanism as LoginMechanism} : {}),
  });

  const sources: SecretSource[] = [];
  if (flags.passwordFile !== undefined) sources.push({from: 'file', path: flags.passwordFile});
  if (flags.passwordEnv !== undefined) sources.push({from: 'env', name: flags.passwordEnv});
  if (flags.passwordPrompt) sources.push({from: 'prompt'});
  if (sources.length > 1) throw new UsageError('give only one of --password-file, --password-env, --password-prompt');
  if (oauth.tokenCommand !== undefined) {
    if (flags.user === undefined) throw new UsageError('--token-command needs --user (the mailbox whose token it prints)');
    if (sources.length > 0 || flags.authzid !== undefined) throw new UsageError('--token-command logs in with a token: leave out the password and --authzid options');
  } else if (flags.oauthAdmin !== undefined || flags.oauthMechanism !== undefined || flags.tokenTimeout !== undefined) {
    throw new UsageError('--oauth-admin, --oauth-mechanism and --token-timeout need --token-command');
  } else if (flags.user === undefined) {
    if (sources.length > 0) throw new UsageError('a password was given but no --user to log in as');
    if (flags.authzid !== undefined) throw new UsageError('--authzid needs --user (the admin who authenticates) and its password');
  } else if (sources.length === 0) {
    throw new UsageError('--user needs a password: --password-file FILE, --password-env VAR or --password-prompt');
  }

  const parsed: Parsed = {endpoint, json: flags.json === true};
  if (flags.user !== undefined) parsed.user = flags.user;
  if (flags.authzid !== undefined) parsed.authzid = flags.authzid;
  if (sources[0]) parsed.secret = sources[0];
  if (flags.oauthAdmin !== undefined) parsed.oauthAdmin = flags.oauthAdmin;
  return parsed;
}

function oauthFlags(flags: {tokenCommand?: string | undefined; oauthMechanism?: string | undefined; tokenTimeout?: string | undefined}): Partial<EndpointConfig> {
  const result: Partial<EndpointConfig> = {};
  if (flags.tokenCommand !== undefined) {
    const problem = tokenCommandProblem(flags.tokenCommand);
    if (problem) throw new UsageError(`--token-command: ${problem}`);
    result.tokenCommand = flags.tokenCommand;
  }
  if (flags.oauthMechanism !== undefined) {
    if (!['auto', 'XOAUTH2', 'OAUTHBEARER'].includes(flags.oauthMechanism))
      throw new UsageError(`--oauth-mechanism must be auto, XOAUTH2 or OAUTHBEARER (got "${flags.oauthMechanism}")`);
    result.oauthMechanism = flags.oauthMechanism as OAuthMechanism;
  }
  if (flags.tokenTimeout !== undefined) {
    const seconds = Number(flags.tokenTimeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--token-timeout must be a positive number of seconds (got "${flags.tokenTimeout}")`);
    result.tokenTimeoutMs = Math.round(seconds * 1000);
  }
  return result;
}

interface Markers {
  ok: string;
  failed: string;
  skipped: string;
  yes: string;
  no: string;
  arrow: string;
}

function markersFor(stream: NodeJS.WritableStream): Markers {
  const tty = (stream as {isTTY?: boolean}).isTTY === true;
  // Pipes, log files and NO_COLOR terminals get words that grep and old terminals handle.
  if (!tty || process.env['NO_COLOR'] !== undefined || process.env['TERM'] === 'dumb') {
    return {ok: 'ok  ', failed: 'FAIL', skipped: 'skip', yes: 'yes', no: 'no ', arrow: 'next:'};
  }
  return {ok: '✓', failed: '✗', skipped: '–', yes: '✓', no: '·', arrow: '→'};
}

function formatStep(step: StepResult, markers: Markers): string {
  const marker = step.status === 'ok' ? markers.ok : step.status === 'failed' ? markers.failed : markers.skipped;
  const lines = [`${marker} ${step.label}  ${step.ms} ms${step.detail && step.status !== 'failed' ? `  ${step.detail}` : ''}`];
  if (step.status === 'failed') {
    if (step.diagnosis) lines.push(`    ${step.diagnosis}`);
    if (step.serverText) lines.push(`    server said: ${step.serverText}`);
    if (step.detail) lines.push(`    seen: ${step.detail}`);
    if (step.hint) lines.push(`    ${markers.arrow} ${step.hint}`);
  }
  return lines.join('\n') + '\n';
}

function formatCapabilities(result: ConnectionTestResult, markers: Markers): string {
  if (result.capabilities.length === 0) return '';
  const width = Math.max(...result.capabilities.map((cap) => cap.name.length));
  const rows = result.capabilities.map(
    (cap) => `  ${cap.present ? markers.yes : markers.no} ${(cap.name + (cap.value ? `=${cap.value}` : '')).padEnd(width)}  ${cap.why}`,
  );
  const when = result.capabilitiesSeen === 'before-login' ? ' (as listed before login; servers often add more after login, give --user to see them)' : '';
  return `\nCapabilities that matter for migration${when}:\n${rows.join('\n')}\n`;
}

/** `argv` is what follows `test-endpoint`. Resolves to the exit code. */
export async function runTestEndpoint(argv: string[], io: TestEndpointIo = {stdout: process.stdout, stderr: process.stderr}): Promise<number> {
  // Everything printed goes through redact(): secrets are registered the moment they are read.
  const out = (text: string) => io.stdout.write(redact(text));
  const err = (text: string) => io.stderr.write(redact(text));

  let parsed: Parsed | 'help';
  try {
    parsed = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`mailferry test-endpoint: ${error.message}\nRun "mailferry test-endpoint --help" for the options.\n`);
    return 2;
  }
  if (parsed === 'help') {
    out(HELP.replace(/^\n/, ''));
    return 0;
  }

  let identity: LoginIdentity | undefined;
  if (parsed.user !== undefined && parsed.endpoint.tokenCommand !== undefined) {
    const mode = parsed.oauthAdmin !== undefined ? ({kind: 'oauth2-admin', adminUser: parsed.oauthAdmin} as const) : ({kind: 'oauth2'} as const);
    identity = oauthIdentity(mode, {role: 'source', endpoint: parsed.endpoint, row: {emailAddress: parsed.user}, login: parsed.user});
  } else if (parsed.user !== undefined && parsed.secret) {
    try {
      const password = await readSecret(parsed.secret, `password of ${parsed.user}`, {input: io.stdin ?? process.stdin, output: io.stderr});
      identity = {user: parsed.user, password, ...(parsed.authzid ? {authzid: parsed.authzid} : {})};
    } catch (error) {
      if (!(error instanceof MigrationError)) throw error;
      err(`mailferry test-endpoint: ${formatError(error)}\n`);
      return 2;
    }
  }

  const {endpoint} = parsed;
  const markers = markersFor(io.stdout);
  if (!parsed.json) {
    // The preset's hints are not repeated here: a refused login carries them in its own hint.
    const preset = presetById(endpoint.preset);
    const presetNote = preset && preset.id !== 'other' ? `, preset ${preset.label}` : '';
    out(`Testing ${endpoint.host}:${endpoint.port} (security ${endpoint.security}${endpoint.acceptUntrusted ? ', accept-untrusted' : ''}${presetNote})\n`);
  }
  const result = await testConnection(endpoint, identity, {
    onStep: (step) => {
      if (!parsed.json && step.status !== 'running') out(formatStep(step, markers));
    },
  });

  if (parsed.json) {
    out(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    out(formatCapabilities(result, markers));
    out(
      result.ok
        ? `\nResult: ${endpoint.host}:${endpoint.port} passed${identity ? '' : ' (no --user: login and folder list not tested)'}\n`
        : `\nResult: FAILED at step ${result.failedStep}\n`,
    );
  }
  return result.ok ? 0 : 1;
}
