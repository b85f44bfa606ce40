// The only place that constructs an ImapFlow. Every connection mailferry opens gets the same
// policy: no stdout logging, no auto-IDLE, explicit TLS/STARTTLS behaviour, certificate checks
// unless the endpoint opts out, bounded timeouts, and errors translated into MigrationError.

import {readFileSync} from 'node:fs';
import {isIP} from 'node:net';
import type {ImapFlow, ImapFlowOptions} from 'imapflow';
import {describeIdentity, type EndpointConfig, type LoginIdentity} from './endpoint.js';
import {MigrationError, type EndpointRole} from './imap-error.js';
import {translateError} from './error-translation.js';
import {silentLogger, type Logger} from '../log/logger.js';
import {redact, registerSecret} from '../log/secret-redaction.js';
import {chooseOAuthMechanism, withAccessToken} from './oauth-login.js';
import {MAX_LINE_BYTES} from './raw-session.js';

export interface ClientOptions {
  endpoint: EndpointConfig;
  role: EndpointRole;
  identity: LoginIdentity;
  logger?: Logger;
  /** Mailbox context for errors. */
  mailbox?: string;
}

const LOGOUT_BOUND_MS = 2_000;

let cachedVersion: string | undefined;
function mailferryVersion(): string {
  if (cachedVersion === undefined) {
    try {
      // source/imap/ and dist/imap/ are both two levels below the package root.
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version?: string};
      cachedVersion = pkg.version ?? '0.0.0';
    } catch {
      cachedVersion = '0.0.0';
    }
  }
  return cachedVersion;
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

function authOptions(endpoint: EndpointConfig, identity: LoginIdentity): NonNullable<ImapFlowOptions['auth']> {
  if (identity.accessToken) return {user: identity.user, accessToken: identity.accessToken};
  const pass = identity.password ?? '';
  // An authorization identity only exists in SASL PLAIN; any other method would log in as the
  // admin itself and silently migrate the wrong mailbox.
  if (identity.authzid) return {user: identity.user, pass, authzid: identity.authzid, loginMethod: 'AUTH=PLAIN'};
  if (endpoint.loginMechanism === 'PLAIN') return {user: identity.user, pass, loginMethod: 'AUTH=PLAIN'};
  if (endpoint.loginMechanism === 'LOGIN') return {user: identity.user, pass, loginMethod: 'LOGIN'};
  return {user: identity.user, pass};
}

let imapflowModule: Promise<typeof import('imapflow')> | undefined;

/**
 * imapflow and its dependencies take longer to load (~0.15 s) than a whole no-change pass takes
 * to run, so it is loaded on the first connection rather than with the engine.
 */
function loadImapFlow(): Promise<typeof import('imapflow')> {
  imapflowModule ??= import('imapflow');
  return imapflowModule;
}

export async function buildClient(options: ClientOptions): Promise<ImapFlow> {
  const {ImapFlow} = await loadImapFlow();
  const {endpoint, identity} = options;
  registerSecret(identity.password);
  registerSecret(identity.accessToken);
  const logger = options.logger ?? silentLogger;
  const tls: NonNullable<ImapFlowOptions['tls']> = {
    rejectUnauthorized: !endpoint.acceptUntrusted,
    minVersion: 'TLSv1.2',
  };
  if (isIP(endpoint.host) === 0) tls.servername = endpoint.host;
  const client = new ImapFlow({
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.security === 'tls',
    // true: imapflow fails with "Server does not support STARTTLS" (tlsFailed) instead of
    // carrying on in clear text when the server does not offer it (imap-flow.js _failSTARTTLS).
    // false: never upgrade, even if offered, because the admin asked for a plain connection.
    doSTARTTLS: endpoint.security === 'starttls' ? true : endpoint.security === 'none' ? false : undefined,
    tls,
    auth: authOptions(endpoint, identity),
    // imapflow's default pino logger writes JSON to stdout and would wreck the full-screen UI.
    logger: false,
    emitLogs: true,
    disableAutoIdle: true,
    // COMPRESS=DEFLATE costs CPU on both ends and saves nothing on a loopback link.
    disableCompression: isLoopbackHost(endpoint.host),
    connectionTimeout: endpoint.timeouts.connectMs,
    greetingTimeout: endpoint.timeouts.greetingMs,
    socketTimeout: endpoint.timeouts.socketMs,
    // imapflow's default (1 GB) lets a server that never ends a line fill the memory first.
    maxLineLength: MAX_LINE_BYTES,
    clientInfo: {name: 'mailferry', version: mailferryVersion()},
  });
  if (identity.accessToken) enforceOAuthMechanism(client, options);
  const context = {role: options.role, host: endpoint.host, user: describeIdentity(identity), ...(options.mailbox ? {mailbox: options.mailbox} : {})};
  client.on('log', (entry: Record<string, unknown>) => {
    // trace carries one line per FETCH response: far too much for a log file.
    if (entry['level'] === 'trace') return;
    const fields: Record<string, unknown> = {...context, imapLevel: entry['level'], cid: entry['cid']};
    if (entry['src']) fields['src'] = entry['src'];
    if (entry['comment']) fields['comment'] = entry['comment'];
    const err = entry['err'] as Record<string, unknown> | undefined;
    if (err && typeof err === 'object') fields['err'] = redact(`${String(err['code'] ?? '')} ${String(err['message'] ?? '')}`.trim());
    logger.debug(redact(`imap: ${String(entry['msg'] ?? '')}`), fields);
  });
  return client;
}

/**
 * Connects and logs in. Any failure becomes a MigrationError (the half-open client is closed).
 * The client keeps an 'error' listener: imapflow emits 'error' for late socket failures, and an
 * EventEmitter 'error' without a listener would crash the whole migration.
 */
export async function connectClient(options: ClientOptions): Promise<ImapFlow> {
  return withAccessToken(options.identity, (identity) => connectOnce({...options, identity}), {
    endpoint: options.endpoint,
    role: options.role,
    ...(options.mailbox ? {mailbox: options.mailbox} : {}),
  });
}

/**
 * imapflow takes OAUTHBEARER whenever offered and fails vaguely when neither token mechanism is:
 * the choice (and its error) is made here, just before imapflow authenticates, from the
 * capabilities it has read by then. Forcing XOAUTH2 hides OAUTHBEARER from imapflow's choice.
 */
function enforceOAuthMechanism(client: ImapFlow, options: ClientOptions): void {
  const internal = client as unknown as {authenticate: () => Promise<unknown>; capabilities: Map<string, unknown>};
  const original = internal.authenticate.bind(client);
  internal.authenticate = async () => {
    const mechanism = chooseOAuthMechanism(internal.capabilities, options.endpoint.oauthMechanism, {
      endpoint: options.endpoint,
      role: options.role,
      user: describeIdentity(options.identity),
      ...(options.mailbox ? {mailbox: options.mailbox} : {}),
    });
    if (mechanism === 'XOAUTH2') internal.capabilities.delete('AUTH=OAUTHBEARER');
    return original();
  };
}

async function connectOnce(options: ClientOptions): Promise<ImapFlow> {
  const client = await buildClient(options);
  const logger = options.logger ?? silentLogger;
  const context = {
    role: options.role,
    endpoint: options.endpoint,
    user: describeIdentity(options.identity),
    ...(options.mailbox ? {mailbox: options.mailbox} : {}),
  };
  client.on('error', (error: unknown) => {
    const translated = translateError(error, {...context, phase: 'command'});
    logger.warn(`imap connection error: ${translated.message}`, {kind: translated.kind, role: options.role, host: options.endpoint.host, serverText: translated.serverText});
  });
  // imapflow logs a greeting it cannot parse and keeps waiting for a good one until the greeting
  // timeout; a server that sends garbage will not send IMAP later, so the first one ends it.
  let unreadableGreeting: unknown;
  const onGreetingLog = (entry: Record<string, unknown>) => {
    const err = entry['err'] as {code?: unknown} | undefined;
    if (unreadableGreeting || !err || typeof err.code !== 'string' || !err.code.startsWith('ParserError')) return;
    if ((client as unknown as {greetingReceived?: boolean}).greetingReceived) return;
    unreadableGreeting = err;
    client.close();
  };
  client.on('log', onGreetingLog);
  try {
    await client.connect();
  } catch (error) {
    client.close();
    // imapflow does connect, greeting and login in one call; what it got through says which
    // phase failed (a BYE before the greeting is a refusal, after the login a server problem).
    const phase = !client.greeting ? 'connect' : 'login';
    throw translateError(unreadableGreeting ?? error, {...context, phase});
  } finally {
    client.off('log', onGreetingLog);
  }
  if (options.identity.authzid && !usedSaslPlain(client)) {
    // imapflow falls back to the LOGIN command when the server advertises no SASL mechanism,
    // and LOGIN has no authorization identity: we would now be the admin, not the user.
    client.close();
    throw new MigrationError({
      kind: 'auth',
      message: `${options.endpoint.host} does not offer SASL PLAIN, so the admin cannot act as ${options.identity.authzid}`,
      hint: 'Use a master-user login name (e.g. user*admin) or per-user passwords for this server.',
      retryable: false,
      endpoint: options.role,
      host: options.endpoint.host,
      user: describeIdentity(options.identity),
      ...(options.mailbox ? {mailbox: options.mailbox} : {}),
    });
  }
  return client;
}

/**
 * The login mechanism that succeeded: imapflow keeps an untyped `authCapabilities` map of the
 * advertised AUTH= mechanisms (false) and the one it used (true; 'LOGIN' for the LOGIN command).
 */
export function loginMechanismUsed(client: ImapFlow): string | undefined {
  const used = (client as unknown as {authCapabilities?: Map<string, unknown>}).authCapabilities;
  if (!(used instanceof Map)) return undefined;
  for (const [name, value] of used) if (value === true) return String(name);
  return undefined;
}

function usedSaslPlain(client: ImapFlow): boolean {
  return loginMechanismUsed(client) === 'AUTH=PLAIN';
}

/** Says goodbye politely if the server answers quickly, then drops the socket. Never throws. */
export async function closeClient(client: ImapFlow): Promise<void> {
  try {
    if (client.usable) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.logout().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, LOGOUT_BOUND_MS);
        }),
      ]);
      clearTimeout(timer);
    }
  } catch {
    // A dead connection cannot log out; close() below is all that is left to do.
  }
  try {
    client.close();
  } catch {
    // Already closed.
  }
}
