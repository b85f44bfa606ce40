// Turns whatever imapflow or Node threw into a MigrationError an admin can act on.
//
// imapflow 2.1.2 error shapes (read from node_modules/imapflow/dist/esm):
// - socket/DNS/TLS errors pass through with Node's `code` (ECONNREFUSED, ENOTFOUND,
//   DEPTH_ZERO_SELF_SIGNED_CERT, ERR_SSL_WRONG_VERSION_NUMBER, ...);
// - its own failures carry `code` from ImapFlowErrorCode (CONNECT_TIMEOUT, GREETING_TIMEOUT,
//   NoConnection, ClosedAfterConnectText, ETHROTTLE + `throttleReset`, ...), plus `reason` with the
//   server's BYE text when the server hung up;
// - tagged NO/BAD: message 'Command failed', `responseStatus`, `responseText` (the server's words),
//   `serverResponseCode` (e.g. AUTHENTICATIONFAILED, OVERQUOTA), `executedCommand` (password masked),
//   `response` (the parsed line, or its text once a command module enhanced it);
// - login failures: `authenticationFailed: true`; STARTTLS required but not offered: `tlsFailed: true`.

import type {EndpointConfig} from './endpoint.js';
import {MigrationError, type EndpointRole, type ErrorInfo, type ErrorKind} from './imap-error.js';
import {redact} from '../log/secret-redaction.js';

export interface ErrorContext {
  role: EndpointRole;
  endpoint: EndpointConfig;
  user?: string;
  mailbox?: string;
  folder?: string;
  phase?: 'connect' | 'login' | 'command';
}

interface ErrorShape {
  message: string;
  code?: string;
  /** Node's TLS/OpenSSL `reason`, or imapflow's BYE text: which one depends on `code`. */
  reason?: string;
  responseStatus?: string;
  responseText?: string;
  serverResponseCode?: string;
  responseString?: string;
  executedCommand?: string;
  authenticationFailed: boolean;
  tlsFailed: boolean;
  throttleReset?: number;
  hostname?: string;
}

type Verdict = Pick<ErrorInfo, 'kind' | 'message' | 'hint' | 'retryable'> & {serverText?: string; retryAfterMs?: number};

const CERTIFICATE_CODES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'is signed by a self-signed (private) certificate authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'is issued by a certificate authority this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT: 'is issued by a certificate authority this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'is issued by a certificate authority this machine does not know',
  CERT_UNTRUSTED: 'is not trusted',
  CERT_HAS_EXPIRED: 'has expired',
  CERT_NOT_YET_VALID: 'is not valid yet (check this machine\'s clock)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'was issued for a different host name',
  HOSTNAME_MISMATCH: 'was issued for a different host name',
  CERT_REVOKED: 'has been revoked',
  CERT_SIGNATURE_FAILURE: 'has an invalid signature',
};

const PORT_HINT = 'Is the port right for this security mode? 993 is implicit TLS (security tls), 143 is STARTTLS or plain text (security starttls or none).';
const AUTH_HINT =
  'Check the user name and password. Gmail and Yahoo need an app password; Microsoft 365 needs OAuth2 and IMAP enabled for the mailbox.';
const IMAP_DISABLED_HINT =
  'Enable IMAP for this mailbox at the provider (Gmail: Settings > Forwarding and POP/IMAP; Microsoft 365: Exchange admin center > mailbox > Email apps), then try again.';

const WRONG_PORT_TLS = /wrong version number|packet length too long|unknown protocol|http request|record layer failure|unexpected eof while reading/i;
const THROTTLE_TEXT = /too many (simultaneous |concurrent )?connections|maximum number of connections|connection limit|rate limit|throttl|bandwidth limit|try again later/i;
const IMAP_DISABLED_TEXT = /not enabled for imap|imap (access )?(is )?(disabled|not enabled)|imap use|enable imap|web ?browser|application-specific password required/i;
const SHUTDOWN_TEXT = /shutting down|server (is )?(restarting|shutdown)|maintenance/i;

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** Reads an unknown thrown value; follows `cause`/`_err` only for the network codes they wrap. */
function shapeOf(error: unknown): ErrorShape {
  if (typeof error !== 'object' || error === null) {
    return {message: String(error), authenticationFailed: false, tlsFailed: false};
  }
  const e = error as Record<string, unknown>;
  const shape: ErrorShape = {
    message: stringField(e['message']) ?? 'unknown error',
    authenticationFailed: e['authenticationFailed'] === true,
    tlsFailed: e['tlsFailed'] === true,
  };
  const assign = (key: keyof ErrorShape, value: unknown) => {
    const text = stringField(value);
    if (text !== undefined) (shape as unknown as Record<string, unknown>)[key] = text;
  };
  assign('code', e['code']);
  assign('reason', e['reason']);
  assign('responseStatus', e['responseStatus']);
  assign('responseText', e['responseText']);
  assign('serverResponseCode', e['serverResponseCode']);
  assign('responseString', e['response']);
  assign('executedCommand', e['executedCommand']);
  assign('hostname', e['hostname']);
  if (typeof e['throttleReset'] === 'number' && Number.isFinite(e['throttleReset'])) shape.throttleReset = e['throttleReset'];
  // A CONNECT_TIMEOUT keeps the original in `_err`, a re-stamped NoConnection in `cause`:
  // the code that says what really happened is on the inner one.
  if (!shape.code) {
    const inner = e['_err'] ?? e['cause'];
    if (typeof inner === 'object' && inner !== null) {
      const innerShape = shapeOf(inner);
      return {...innerShape, ...stripUndefined(shape), message: shape.message === 'unknown error' ? innerShape.message : shape.message};
    }
  }
  return shape;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== false)) as Partial<T>;
}

/** The IMAP command a NO/BAD answered, from imapflow's masked `executedCommand` ("5 APPEND ..."). */
function commandOf(shape: ErrorShape): string | undefined {
  const match = shape.executedCommand?.match(/^\S+\s+(?:UID\s+)?([A-Za-z]+)/);
  return match?.[1]?.toUpperCase();
}

/** The response code in brackets: imapflow's field, else parsed from the text. */
function responseCodeOf(shape: ErrorShape): string | undefined {
  if (shape.serverResponseCode) return shape.serverResponseCode.toUpperCase();
  const match = (shape.responseText ?? shape.responseString ?? '').match(/\[([A-Za-z-]+)/);
  return match?.[1]?.toUpperCase();
}

function serverTextOf(shape: ErrorShape): string | undefined {
  if (shape.responseText) {
    const code = shape.serverResponseCode;
    // imapflow drops the bracketed code from responseText; put it back, admins search for it.
    return code && !shape.responseText.toUpperCase().includes(`[${code.toUpperCase()}`) ? `[${code}] ${shape.responseText}` : shape.responseText;
  }
  if (shape.responseString) return shape.responseString.replace(/^\S+\s+(NO|BAD|OK|BYE)\s+/i, '');
  return undefined;
}

function hostPort(endpoint: EndpointConfig): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

function classify(shape: ErrorShape, context: ErrorContext): Verdict {
  const {endpoint} = context;
  const where = hostPort(endpoint);
  const code = shape.code ?? '';
  const message = shape.message;
  const serverText = serverTextOf(shape);
  const responseCode = responseCodeOf(shape);
  const text = `${serverText ?? ''} ${message}`;
  const folderName = context.folder ? ` "${context.folder}"` : '';

  // DNS
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    const temporary = code === 'EAI_AGAIN';
    return {
      kind: 'dns',
      message: temporary ? `The DNS lookup of "${endpoint.host}" failed for now` : `The host name "${endpoint.host}" does not resolve`,
      hint: temporary
        ? 'The DNS server did not answer; check this machine\'s DNS settings and try again.'
        : 'Check the spelling of the host name, or use the server\'s IP address.',
      retryable: temporary,
    };
  }

  // TCP
  if (code === 'ECONNREFUSED') {
    return {
      kind: 'connect',
      message: `Connection to ${where} was refused`,
      hint: `Nothing accepts connections on that port: check the host, the port and any firewall. ${PORT_HINT}`,
      retryable: false,
    };
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL' || code === 'EHOSTDOWN') {
    return {
      kind: 'connect',
      message: `${where} cannot be reached (${code})`,
      hint: 'Check the host address, this machine\'s network route and any firewall between them.',
      retryable: false,
    };
  }

  // Timeouts
  if (code === 'GREETING_TIMEOUT') {
    return {
      kind: 'timeout',
      message: `${where} accepted the connection but sent no IMAP greeting in time`,
      hint:
        endpoint.security === 'tls'
          ? 'The server may be overloaded, or this port does not speak IMAP. Try again, then check the port.'
          : `The port may expect TLS right away (implicit TLS, usually 993): try security tls. ${PORT_HINT}`,
      retryable: true,
    };
  }
  if (code === 'CONNECT_TIMEOUT' || code === 'UPGRADE_TIMEOUT' || code === 'ETIMEDOUT') {
    return {
      kind: 'timeout',
      message: code === 'UPGRADE_TIMEOUT' ? `The STARTTLS handshake with ${where} timed out` : `Connecting to ${where} timed out`,
      hint: 'A firewall may be dropping the packets, or the server is overloaded. Check the host, port and firewall, then try again.',
      retryable: true,
    };
  }
  if (code === 'ETIMEOUT') {
    return {
      kind: 'timeout',
      message: `${where} stopped answering${folderName ? ` while working on${folderName}` : ''}`,
      hint: 'The connection went quiet for longer than the socket timeout; mailferry retries. If it keeps happening, raise the timeout or lower the connection count.',
      retryable: true,
    };
  }

  // Certificates
  const certificateProblem = CERTIFICATE_CODES[code];
  if (certificateProblem) {
    return {
      kind: 'tls',
      message: `The TLS certificate of ${endpoint.host} ${certificateProblem}`,
      hint: endpoint.acceptUntrusted
        ? 'The certificate is rejected even with accept-untrusted on; check the server\'s certificate.'
        : 'Install a trusted certificate on the server, or, for this endpoint, turn on accept-untrusted only if you trust this server.',
      retryable: false,
    };
  }

  // Plain text where TLS was expected (and vice versa)
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || WRONG_PORT_TLS.test(message) || (code === 'ECONNRESET' && context.phase === 'connect' && endpoint.security === 'tls')) {
    const wrongPort = WRONG_PORT_TLS.test(`${message} ${shape.reason ?? ''}`) || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'ECONNRESET';
    return {
      kind: 'tls',
      message: wrongPort ? `The TLS handshake with ${where} failed: the port does not seem to speak TLS` : `The TLS handshake with ${where} failed (${shape.reason ?? message})`,
      hint: wrongPort
        ? `Port ${endpoint.port} probably expects plain text or STARTTLS: try security starttls, or port 993 for implicit TLS. ${PORT_HINT}`
        : 'The server and mailferry found no common TLS version or cipher (mailferry needs TLS 1.2 or newer). Check the server\'s TLS settings.',
      retryable: false,
    };
  }

  // STARTTLS
  // imapflow also marks certificate and handshake failures during the upgrade with tlsFailed,
  // which the checks above have already claimed; what is left is "not offered".
  if (/does not support STARTTLS/i.test(message) || (shape.tlsFailed && !code)) {
    return {
      kind: 'starttls',
      message: `${where} does not offer STARTTLS`,
      hint: 'Use security tls (usually port 993) if the server offers implicit TLS. Use security none only on a trusted network: passwords then travel in clear text.',
      retryable: false,
    };
  }
  if (code === 'STARTTLS_INJECTION') {
    return {
      kind: 'starttls',
      message: `${where} sent data between STARTTLS and the TLS handshake`,
      hint: 'Something between mailferry and the server tampers with the connection. Use security tls, or check the network path.',
      retryable: false,
    };
  }

  // Before the login and the server-side limits: these are our parser's verdicts on bytes it
  // could not take (a login command's answer included), never a server's refusal of a login
  // or of a message as too large (the parser's own text says "exceeds maximum allowed size").
  if (code.startsWith('ParserError') || ['InvalidResponse', 'UnexpectedTag', 'LineTooLarge', 'LiteralTooLarge', 'ResponseTooLarge', 'MAX_IMAP_NESTING_REACHED', 'ResponseProcessingFailed'].includes(code)) {
    const endless = code === 'LineTooLarge' ? ' (it sent a line of many megabytes without an end of line)' : '';
    return {
      kind: context.phase === 'connect' ? 'greeting' : 'protocol',
      message: context.phase === 'connect' ? `${where} does not answer like an IMAP server${endless}` : `${endpoint.host} sent a response mailferry could not read (${code})${endless}`,
      hint: context.phase === 'connect' ? `Check that this port is the IMAP port. ${PORT_HINT}` : 'Report it with the log file; resuming the mailbox may get past it.',
      retryable: false,
    };
  }

  // Authentication. A server going down mid-login (Dovecot's "* BYE Shutting down", a reset)
  // fails the login command too, and both clients flag that as a failed authentication; with no
  // answer to the login itself it is a lost connection (retried below), not a refused password.
  // A goodbye that names the login ("too many invalid logins") stays the login's failure.
  const lostDuringLogin =
    !shape.responseStatus && responseCode === undefined && isConnectionLoss(code, message) && !/password|credential|invalid|auth/i.test(`${message} ${shape.reason ?? ''}`);
  if (!lostDuringLogin && (shape.authenticationFailed || responseCode === 'AUTHENTICATIONFAILED' || responseCode === 'AUTHORIZATIONFAILED' || context.phase === 'login')) {
    if (IMAP_DISABLED_TEXT.test(text)) {
      return {kind: 'auth', message: `IMAP access is disabled at the provider for ${context.user ?? 'this user'}`, hint: IMAP_DISABLED_HINT, retryable: false, ...(serverText ? {serverText} : {})};
    }
    if (responseCode === 'UNAVAILABLE' || (responseCode === undefined && /temporar/i.test(text))) {
      return {
        kind: 'auth',
        message: `${endpoint.host} could not check the login right now`,
        hint: 'The server\'s login backend is unavailable; mailferry retries. If it persists, ask the server\'s admin.',
        retryable: true,
        ...(serverText ? {serverText} : {}),
      };
    }
    if (responseCode === 'LIMIT' || THROTTLE_TEXT.test(text)) {
      return throttled(shape, serverText, endpoint);
    }
    if (responseCode === 'AUTHORIZATIONFAILED') {
      return {
        kind: 'auth',
        message: `${endpoint.host} authenticated the admin but refused to let it act as this user`,
        hint: 'Give the admin the right to act for other users (Dovecot: master user / auth_master_user_separator; Exchange/Microsoft 365: FullAccess), and check the authorization identity.',
        retryable: false,
        ...(serverText ? {serverText} : {}),
      };
    }
    if (responseCode === 'EXPIRED') {
      return {kind: 'auth', message: `The password of ${context.user ?? 'this user'} has expired`, hint: 'Set a new password for the account, then try again.', retryable: false, ...(serverText ? {serverText} : {})};
    }
    if (responseCode === 'PRIVACYREQUIRED' || /Login is disabled/i.test(message) || /LOGINDISABLED/i.test(text)) {
      return {
        kind: 'auth',
        message: `${endpoint.host} refuses logins over an unencrypted connection`,
        hint: 'Use security starttls (port 143) or tls (port 993).',
        retryable: false,
        ...(serverText ? {serverText} : {}),
      };
    }
    if (/No password configured|Please configure the login/i.test(message)) {
      return {kind: 'config', message: 'No password or token was given for this login', hint: 'Supply the password (file, environment variable or prompt) or configure a token command.', retryable: false};
    }
    if (/Unsupported authentication mechanism|No matching authentication method/i.test(message)) {
      return {
        kind: 'auth',
        message: `${endpoint.host} offers no login mechanism mailferry can use for this identity`,
        hint: 'Set the login mechanism to auto, or LOGIN for servers without SASL PLAIN; OAuth2 tokens need a server offering XOAUTH2 or OAUTHBEARER.',
        retryable: false,
      };
    }
    if (shape.authenticationFailed || responseCode === 'AUTHENTICATIONFAILED' || shape.responseStatus) {
      return {kind: 'auth', message: `${endpoint.host} refused the login of ${context.user ?? 'this user'}`, hint: AUTH_HINT, retryable: false, ...(serverText ? {serverText} : {})};
    }
    // phase 'login' but a network-level failure: fall through to the checks below.
  }

  // Server-side limits
  if (code === 'ETHROTTLE' || responseCode === 'THROTTLED' || (responseCode === 'LIMIT' && !isTooLarge(text)) || responseCode === 'INUSE' || THROTTLE_TEXT.test(`${text} ${shape.reason ?? ''}`)) {
    return throttled(shape, serverText ?? shape.reason, endpoint);
  }
  if (responseCode === 'TOOBIG' || responseCode === 'APPENDLIMIT' || isTooLarge(text)) {
    return {
      kind: 'too-large',
      message: `${endpoint.host} refused a message as too large${folderName ? ` for${folderName}` : ''}`,
      hint: 'The message is recorded as skipped. Raise the server\'s size limit and resume to copy it, or lower the batch\'s max message size to skip such messages up front.',
      retryable: false,
      ...(serverText ? {serverText} : {}),
    };
  }
  if (responseCode === 'OVERQUOTA' || /quota/i.test(text)) {
    return {
      kind: 'quota',
      message: `The mailbox on ${endpoint.host} is over its quota`,
      hint: 'Raise the mailbox quota on the target server (or free space), then resume the mailbox.',
      retryable: false,
      ...(serverText ? {serverText} : {}),
    };
  }

  // Connection loss (and server restarts, which look the same from here)
  const byeText = code === 'NoConnection' || code.startsWith('ClosedAfterConnect') || code === 'EConnectionClosed' ? shape.reason : undefined;
  if (code.startsWith('ClosedAfterConnect') && context.phase === 'login' && byeText) {
    // Dovecot, for one, logs the user in and then says "BYE Internal error occurred" when the
    // mailbox itself cannot be opened (storage, quota or permission problems on the server).
    return {
      kind: 'connection-lost',
      message: `${where} ended the session right after login`,
      hint: 'The server could not open this mailbox; its log has the reason (storage, quota or permissions). mailferry retries.',
      retryable: true,
      serverText: byeText,
    };
  }
  if (code.startsWith('ClosedAfterConnect') && context.phase !== 'command' && context.phase !== 'login') {
    if (byeText && SHUTDOWN_TEXT.test(byeText)) {
      return {kind: 'greeting', message: `${where} is shutting down and refused the connection`, hint: 'Wait for the server to come back; mailferry retries.', retryable: true, serverText: byeText};
    }
    return {
      kind: 'greeting',
      message: byeText ? `${where} refused the session in its greeting` : `${where} closed the connection before the IMAP session started`,
      hint: byeText
        ? 'Read the server\'s reason; the server may be refusing this client or this address.'
        : `This port may not speak IMAP, or the server dropped the connection. ${PORT_HINT}`,
      retryable: !byeText,
      ...(byeText ? {serverText: byeText} : {}),
    };
  }
  if (isConnectionLoss(code, message)) {
    return {
      kind: 'connection-lost',
      message: `The connection to ${where} was lost${folderName ? ` while working on${folderName}` : ''}`,
      hint: 'Usually a network blip or a server restart; mailferry reconnects and carries on from the last checkpoint.',
      retryable: true,
      ...(byeText ? {serverText: byeText} : {}),
    };
  }
  if (responseCode === 'UNAVAILABLE' || SHUTDOWN_TEXT.test(text)) {
    return {
      kind: 'connection-lost',
      message: `${endpoint.host} is temporarily unavailable`,
      hint: 'The server is restarting or overloaded; mailferry retries after a pause.',
      retryable: true,
      ...(serverText ? {serverText} : {}),
    };
  }

  // A target that cannot write answers every APPEND, SELECT and CREATE alike (Dovecot on a full
  // disk: "NO [SERVERBUG] Internal error occurred"). Taken as one message's or one folder's
  // refusal, that ended the mailbox Synced without them; it is the mailbox's failure instead.
  if (context.role === 'target' && shape.responseStatus === 'NO' && (responseCode === 'SERVERBUG' || /Internal error occurred/i.test(text))) {
    return {
      kind: 'storage',
      message: `${endpoint.host} failed to store mail${folderName ? ` in${folderName}` : ''} (an error on the server)`,
      hint: 'Most often the target\'s disk is full or the mailbox is over a quota; the server\'s log has the cause. Free space or fix the cause, then resume the mailbox: what was copied is not copied again.',
      retryable: false,
      ...(serverText ? {serverText} : {}),
    };
  }

  // Tagged NO/BAD on an established session
  if (shape.responseStatus === 'NO' || shape.responseStatus === 'BAD') {
    const command = commandOf(shape);
    const folderCodes = ['NONEXISTENT', 'CANNOT', 'ALREADYEXISTS', 'TRYCREATE', 'NOPERM', 'CONTACTADMIN'];
    if (command === 'APPEND') {
      if (responseCode === 'TRYCREATE' || responseCode === 'NONEXISTENT') {
        return folderVerdict(`The target folder${folderName} does not exist on ${endpoint.host}`, 'mailferry creates folders before copying; resume the mailbox to create it again.', serverText);
      }
      return {
        kind: 'rejected',
        message: `${endpoint.host} refused to store a message${folderName ? ` in${folderName}` : ''}`,
        hint: 'The message is recorded as failed with the server\'s answer; the rest of the mailbox carries on.',
        retryable: false,
        ...(serverText ? {serverText} : {}),
      };
    }
    if ((responseCode && folderCodes.includes(responseCode)) || ['SELECT', 'EXAMINE', 'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'STATUS', 'LIST', 'LSUB'].includes(command ?? '')) {
      return folderVerdict(
        `${endpoint.host} refused ${command ?? 'a folder command'}${folderName ? ` on${folderName}` : ''}`,
        responseCode === 'NOPERM'
          ? 'The user lacks the rights for this folder; check its ACL on the server.'
          : responseCode === 'ALREADYEXISTS'
            ? 'A folder with that name already exists; check the folder mapping.'
            : 'Check that the folder exists and that its name is valid on this server (separator, characters, namespace prefix).',
        serverText,
      );
    }
    if (shape.responseStatus === 'BAD') {
      return {
        kind: 'protocol',
        message: `${endpoint.host} did not understand ${command ?? 'a command'}`,
        hint: 'This is a protocol mismatch between mailferry and the server; report it with the log file.',
        retryable: false,
        ...(serverText ? {serverText} : {}),
      };
    }
    return {
      kind: 'rejected',
      message: `${endpoint.host} refused ${command ?? 'a command'}${folderName ? ` on${folderName}` : ''}`,
      hint: 'Read the server\'s answer; the mailbox can be resumed once the cause is fixed.',
      retryable: false,
      ...(serverText ? {serverText} : {}),
    };
  }

  if (code === 'MissingServerExtension') {
    return {kind: 'protocol', message: `${endpoint.host} lacks an IMAP extension mailferry needs`, hint: 'See the connection test\'s capability list.', retryable: false};
  }

  return {
    kind: 'internal',
    message: `Unexpected error talking to ${where}: ${message}`,
    hint: 'Try again; if it repeats, report it with the log file.',
    retryable: false,
    ...(serverText ? {serverText} : {}),
  };
}

/** The connection is gone (reset, closed, the server's BYE), whatever command was running. */
function isConnectionLoss(code: string, message: string): boolean {
  return (
    ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'NoConnection', 'EConnectionClosed', 'StateLogout'].includes(code) ||
    code.startsWith('ClosedAfterConnect') ||
    // imapflow's "Already logged out": its connection closed before it could send the login.
    /Connection not available|Unexpected close|Socket is already closed|Connection closed|Already logged out/i.test(message)
  );
}

function isTooLarge(text: string): boolean {
  return /too (large|big)|larger than|exceeds? (the )?(maximum|max|size)|size limit|message size/i.test(text);
}

function throttled(shape: ErrorShape, serverText: string | undefined, endpoint: EndpointConfig): Verdict {
  return {
    kind: 'throttled',
    message: `${endpoint.host} is limiting mailferry (too many connections or requests)`,
    hint: 'mailferry waits and retries. If this keeps happening, lower the endpoint\'s max connections or the batch\'s concurrency.',
    retryable: true,
    ...(shape.throttleReset !== undefined ? {retryAfterMs: shape.throttleReset} : {}),
    ...(serverText ? {serverText} : {}),
  };
}

function folderVerdict(message: string, hint: string, serverText: string | undefined): Verdict {
  return {kind: 'folder', message, hint, retryable: false, ...(serverText ? {serverText} : {})};
}

function withContext(error: MigrationError, context: ErrorContext): MigrationError {
  const missing: Partial<ErrorInfo> = {};
  if (error.endpoint === undefined) missing.endpoint = context.role;
  if (error.host === undefined) missing.host = context.endpoint.host;
  if (error.user === undefined && context.user !== undefined) missing.user = context.user;
  if (error.mailbox === undefined && context.mailbox !== undefined) missing.mailbox = context.mailbox;
  if (error.folder === undefined && context.folder !== undefined) missing.folder = context.folder;
  if (Object.keys(missing).length === 0) return error;
  return new MigrationError({...error.toJSON(), ...missing}, {cause: error.cause});
}

export function translateError(error: unknown, context: ErrorContext): MigrationError {
  if (error instanceof MigrationError) return withContext(error, context);
  const verdict = classify(shapeOf(error), context);
  const info: ErrorInfo = {
    kind: verdict.kind as ErrorKind,
    message: redact(verdict.message),
    hint: verdict.hint,
    retryable: verdict.retryable,
    endpoint: context.role,
    host: context.endpoint.host,
  };
  if (context.user !== undefined) info.user = context.user;
  if (context.mailbox !== undefined) info.mailbox = context.mailbox;
  if (context.folder !== undefined) info.folder = context.folder;
  if (verdict.serverText !== undefined) info.serverText = redact(verdict.serverText);
  if (verdict.retryAfterMs !== undefined) info.retryAfterMs = verdict.retryAfterMs;
  // The original stays as `cause` for the log file's stack trace. It never holds the password:
  // imapflow masks sensitive arguments in `executedCommand`, and auth errors carry only the reply.
  return new MigrationError(info, {cause: error});
}
