// A table of error shapes imapflow 2.1.2 and Node really produce (most captured from Dovecot 2.3
// via imapflow; the provider texts are the ones Gmail, Microsoft 365 and Yahoo are known to send)
// and the kind, retryability and wording mailferry turns each into.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {translateError, type ErrorContext} from '../source/imap/error-translation.js';
import {makeEndpoint} from '../source/imap/endpoint.js';
import {MigrationError, formatError, type ErrorKind} from '../source/imap/imap-error.js';
import {registerSecret} from '../source/log/secret-redaction.js';

const tlsEndpoint = makeEndpoint({host: 'imap.example.test', port: 993, security: 'tls'});
const plainEndpoint = makeEndpoint({host: '127.0.0.1', port: 143, security: 'starttls'});

function errorWith(fields: Record<string, unknown>): Error {
  return Object.assign(new Error(String(fields['message'] ?? 'Command failed')), fields);
}

interface Row {
  name: string;
  error: unknown;
  context?: Partial<ErrorContext>;
  kind: ErrorKind;
  retryable: boolean;
  /** Parts the message must contain. */
  message?: RegExp;
  hint?: RegExp;
  serverText?: RegExp;
  retryAfterMs?: number;
}

const rows: Row[] = [
  // DNS and TCP
  {
    name: 'ENOTFOUND (captured)',
    error: errorWith({message: 'getaddrinfo ENOTFOUND nonexistent.invalid', errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'nonexistent.invalid'}),
    context: {endpoint: makeEndpoint({host: 'nonexistent.invalid'})},
    kind: 'dns',
    retryable: false,
    message: /nonexistent\.invalid.*does not resolve/,
    hint: /spelling/,
  },
  {name: 'EAI_AGAIN is temporary', error: errorWith({message: 'getaddrinfo EAI_AGAIN x', code: 'EAI_AGAIN'}), kind: 'dns', retryable: true, hint: /DNS/},
  {
    name: 'ECONNREFUSED (captured)',
    error: errorWith({message: 'connect ECONNREFUSED 127.0.0.1:1', errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 1}),
    kind: 'connect',
    retryable: false,
    message: /refused/,
    hint: /993 is implicit TLS.*143 is STARTTLS/,
  },
  {name: 'EHOSTUNREACH', error: errorWith({message: 'connect EHOSTUNREACH', code: 'EHOSTUNREACH'}), kind: 'connect', retryable: false, hint: /firewall/},
  {name: 'ENETUNREACH', error: errorWith({message: 'connect ENETUNREACH', code: 'ENETUNREACH'}), kind: 'connect', retryable: false, message: /cannot be reached/},
  // Timeouts
  {
    name: 'CONNECT_TIMEOUT',
    error: errorWith({message: 'Failed to establish connection in required time', code: 'CONNECT_TIMEOUT', details: {connectionTimeout: 15000}}),
    kind: 'timeout',
    retryable: true,
    message: /timed out/,
  },
  {
    name: 'GREETING_TIMEOUT on a plain connection to an implicit TLS port (captured)',
    error: errorWith({message: 'Failed to receive greeting from server in required time. Maybe should use TLS?', code: 'GREETING_TIMEOUT', details: {greetingTimeout: 1500}}),
    context: {endpoint: makeEndpoint({host: '127.0.0.1', port: 993, security: 'starttls'})},
    kind: 'timeout',
    retryable: true,
    message: /no IMAP greeting/,
    hint: /try security tls/,
  },
  {name: 'socket inactivity ETIMEOUT', error: errorWith({message: 'Socket timeout', code: 'ETIMEOUT'}), context: {phase: 'command', folder: 'Archive'}, kind: 'timeout', retryable: true, message: /stopped answering.*Archive/},
  {name: 'Node ETIMEDOUT', error: errorWith({message: 'connect ETIMEDOUT', code: 'ETIMEDOUT'}), kind: 'timeout', retryable: true},
  {name: 'STARTTLS upgrade timeout', error: errorWith({message: 'Failed to upgrade', code: 'UPGRADE_TIMEOUT'}), kind: 'timeout', retryable: true, message: /STARTTLS handshake/},
  // TLS
  {
    name: 'self-signed certificate (captured)',
    error: errorWith({message: 'self-signed certificate', code: 'DEPTH_ZERO_SELF_SIGNED_CERT'}),
    kind: 'tls',
    retryable: false,
    message: /is self-signed/,
    hint: /accept-untrusted only if you trust this server/,
  },
  {
    name: 'self-signed certificate during the STARTTLS upgrade (imapflow adds tlsFailed)',
    error: errorWith({message: 'self-signed certificate', code: 'DEPTH_ZERO_SELF_SIGNED_CERT', tlsFailed: true}),
    context: {endpoint: plainEndpoint},
    kind: 'tls',
    retryable: false,
    message: /is self-signed/,
  },
  {name: 'expired certificate', error: errorWith({message: 'certificate has expired', code: 'CERT_HAS_EXPIRED'}), kind: 'tls', retryable: false, message: /has expired/},
  {
    name: 'host name mismatch (captured)',
    error: errorWith({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      reason: "Host: wrong.example. is not in the cert's altnames: IP Address:127.0.0.1, DNS:localhost",
      host: 'wrong.example',
      message: "Hostname/IP does not match certificate's altnames: Host: wrong.example. is not in the cert's altnames: IP Address:127.0.0.1, DNS:localhost",
    }),
    kind: 'tls',
    retryable: false,
    message: /different host name/,
  },
  {name: 'unknown CA', error: errorWith({message: 'unable to verify the first certificate', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'}), kind: 'tls', retryable: false, message: /certificate authority/},
  {name: 'private CA in chain', error: errorWith({message: 'self-signed certificate in certificate chain', code: 'SELF_SIGNED_CERT_IN_CHAIN'}), kind: 'tls', retryable: false, message: /self-signed/},
  {
    name: 'TLS against the plain-text port (captured)',
    error: errorWith({
      message: '800C03183B7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
      library: 'SSL routines',
      reason: 'wrong version number',
      code: 'ERR_SSL_WRONG_VERSION_NUMBER',
    }),
    context: {endpoint: makeEndpoint({host: '127.0.0.1', port: 143, security: 'tls'})},
    kind: 'tls',
    retryable: false,
    message: /does not seem to speak TLS/,
    hint: /try security starttls/,
  },
  {
    name: 'packet length too long',
    error: errorWith({message: 'error:0A0000C6:SSL routines::packet length too long', code: 'ERR_SSL_PACKET_LENGTH_TOO_LONG', reason: 'packet length too long'}),
    context: {endpoint: tlsEndpoint},
    kind: 'tls',
    retryable: false,
    hint: /port/,
  },
  {name: 'ECONNRESET during the TLS handshake', error: errorWith({message: 'read ECONNRESET', code: 'ECONNRESET'}), context: {endpoint: tlsEndpoint, phase: 'connect'}, kind: 'tls', retryable: false, hint: /993/},
  {name: 'no common TLS version', error: errorWith({message: 'unsupported protocol', code: 'ERR_SSL_UNSUPPORTED_PROTOCOL', reason: 'unsupported protocol'}), kind: 'tls', retryable: false, hint: /TLS 1\.2/},
  {
    name: 'STARTTLS required but not offered',
    error: errorWith({message: 'Server does not support STARTTLS', tlsFailed: true}),
    context: {endpoint: plainEndpoint},
    kind: 'starttls',
    retryable: false,
    message: /does not offer STARTTLS/,
    hint: /security tls/,
  },
  {name: 'STARTTLS injection', error: errorWith({message: 'Server sent data after the STARTTLS response', code: 'STARTTLS_INJECTION'}), kind: 'starttls', retryable: false},
  // Greeting
  {
    name: 'BYE greeting',
    error: errorWith({message: 'Unexpected close', code: 'ClosedAfterConnectText', reason: 'Access denied for this client'}),
    context: {phase: 'connect'},
    kind: 'greeting',
    retryable: false,
    serverText: /Access denied/,
  },
  {name: 'closed before greeting', error: errorWith({message: 'Unexpected close', code: 'ClosedAfterConnectTLS'}), context: {phase: 'connect'}, kind: 'greeting', retryable: true, hint: /not speak IMAP/},
  {
    name: 'BYE greeting: too many connections',
    error: errorWith({message: 'Unexpected close', code: 'ClosedAfterConnectText', reason: 'Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)'}),
    context: {phase: 'connect'},
    kind: 'throttled',
    retryable: true,
  },
  {
    name: 'BYE after login (captured: Dovecot with a broken quota setup)',
    error: errorWith({message: 'Unexpected close', code: 'ClosedAfterConnectText', reason: 'Internal error occurred. Refer to server log for more information.'}),
    context: {phase: 'login'},
    kind: 'connection-lost',
    retryable: true,
    serverText: /Internal error/,
  },
  {name: 'closed without a word after the greeting', error: errorWith({message: 'Unexpected close', code: 'ClosedAfterConnectText'}), context: {phase: 'login'}, kind: 'connection-lost', retryable: true},
  {name: 'garbage instead of IMAP', error: errorWith({message: 'Invalid server response', code: 'InvalidResponse'}), context: {phase: 'connect'}, kind: 'greeting', retryable: false, message: /IMAP server/},
  // Authentication
  {
    name: 'wrong password via SASL PLAIN (captured)',
    error: errorWith({
      message: 'Command failed',
      response: '2 NO [AUTHENTICATIONFAILED] Authentication failed.',
      responseStatus: 'NO',
      executedCommand: '2 AUTHENTICATE PLAIN',
      responseText: 'Authentication failed.',
      serverResponseCode: 'AUTHENTICATIONFAILED',
      authenticationFailed: true,
    }),
    context: {user: 'alice'},
    kind: 'auth',
    retryable: false,
    message: /refused the login of alice/,
    hint: /app password.*OAuth2/,
    serverText: /\[AUTHENTICATIONFAILED\] Authentication failed\./,
  },
  {
    name: 'wrong password via LOGIN (captured)',
    error: errorWith({
      message: 'Command failed',
      response: '2 NO [AUTHENTICATIONFAILED] Authentication failed.',
      responseStatus: 'NO',
      executedCommand: '2 LOGIN "alice" "(* value hidden *)"',
      responseText: 'Authentication failed.',
      serverResponseCode: 'AUTHENTICATIONFAILED',
      authenticationFailed: true,
    }),
    kind: 'auth',
    retryable: false,
    hint: /user name and password/,
  },
  {
    name: 'Gmail: IMAP disabled',
    error: errorWith({responseStatus: 'NO', responseText: 'Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access.', serverResponseCode: 'ALERT', authenticationFailed: true}),
    kind: 'auth',
    retryable: false,
    message: /IMAP access is disabled/,
    hint: /Enable IMAP/,
  },
  {
    name: 'Gmail: application-specific password required',
    error: errorWith({responseStatus: 'NO', responseText: 'Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)', serverResponseCode: 'ALERT', authenticationFailed: true}),
    kind: 'auth',
    retryable: false,
  },
  {
    name: 'Microsoft 365: basic auth off',
    error: errorWith({responseStatus: 'NO', responseText: 'AUTHENTICATE failed.', authenticationFailed: true, response: '2 NO AUTHENTICATE failed.'}),
    kind: 'auth',
    retryable: false,
    hint: /Microsoft 365 needs OAuth2/,
  },
  {
    name: 'Exchange: authenticated but not connected',
    error: errorWith({message: 'Authentication failed', authenticationFailed: true, response: 'User is authenticated but not connected.'}),
    kind: 'auth',
    retryable: false,
    serverText: /not connected/,
  },
  {
    name: 'authorization identity refused',
    error: errorWith({responseStatus: 'NO', responseText: 'Not allowed to act as alice', serverResponseCode: 'AUTHORIZATIONFAILED', authenticationFailed: true}),
    kind: 'auth',
    retryable: false,
    message: /act as this user/,
  },
  {name: 'password expired', error: errorWith({responseStatus: 'NO', responseText: 'Password expired', serverResponseCode: 'EXPIRED', authenticationFailed: true}), kind: 'auth', retryable: false, message: /expired/},
  {name: 'privacy required', error: errorWith({responseStatus: 'NO', responseText: 'Plaintext authentication disallowed on non-secure connections.', serverResponseCode: 'PRIVACYREQUIRED', authenticationFailed: true}), kind: 'auth', retryable: false, hint: /starttls/},
  {name: 'LOGINDISABLED', error: errorWith({message: 'Login is disabled'}), context: {phase: 'login'}, kind: 'auth', retryable: false, hint: /starttls/},
  {name: 'temporary auth failure', error: errorWith({responseStatus: 'NO', responseText: 'Temporary authentication failure.', serverResponseCode: 'UNAVAILABLE', authenticationFailed: true}), kind: 'auth', retryable: true},
  {name: 'no password at all', error: errorWith({message: 'No password configured'}), context: {phase: 'login'}, kind: 'config', retryable: false},
  {name: 'no usable mechanism', error: errorWith({message: 'Unsupported authentication mechanism'}), context: {phase: 'login'}, kind: 'auth', retryable: false, hint: /login mechanism/},
  {
    name: 'Yahoo: too many connections at login',
    error: errorWith({responseStatus: 'NO', responseText: 'Server Unavailable. 15', serverResponseCode: 'LIMIT', authenticationFailed: true}),
    kind: 'throttled',
    retryable: true,
  },
  // Limits
  {
    name: 'Microsoft 365 ETHROTTLE',
    error: errorWith({message: 'Command failed', code: 'ETHROTTLE', throttleReset: 92415, throttleWaited: 5000, responseStatus: 'BAD', responseText: 'Request is throttled. Suggested Backoff Time: 92415 milliseconds'}),
    context: {phase: 'command'},
    kind: 'throttled',
    retryable: true,
    retryAfterMs: 92415,
    serverText: /Backoff Time/,
  },
  {name: 'Gmail THROTTLED code', error: errorWith({responseStatus: 'NO', responseText: 'Account exceeded command or bandwidth limits.', serverResponseCode: 'THROTTLED'}), context: {phase: 'command'}, kind: 'throttled', retryable: true},
  {name: 'INUSE', error: errorWith({responseStatus: 'NO', responseText: 'Mailbox is locked', serverResponseCode: 'INUSE'}), context: {phase: 'command'}, kind: 'throttled', retryable: true},
  {
    name: 'APPEND too large via [LIMIT] (captured)',
    error: errorWith({
      message: 'Command failed',
      response: 'D NO [LIMIT] Mail size is larger than the maximum size allowed by server configuration (0.001 + 0.000 secs).',
      responseStatus: 'NO',
      executedCommand: 'D APPEND INBOX "(* 5016B literal *)"',
      responseText: 'Mail size is larger than the maximum size allowed by server configuration (0.001 + 0.000 secs).',
      serverResponseCode: 'LIMIT',
    }),
    context: {phase: 'command', folder: 'INBOX'},
    kind: 'too-large',
    retryable: false,
    message: /too large for "INBOX"/,
    serverText: /\[LIMIT\] Mail size is larger/,
  },
  {name: 'APPEND [TOOBIG]', error: errorWith({responseStatus: 'NO', responseText: 'Message too big', serverResponseCode: 'TOOBIG', executedCommand: '5 APPEND Sent {40000000+}'}), context: {phase: 'command'}, kind: 'too-large', retryable: false},
  {name: 'imapflow APPENDLIMIT precheck', error: errorWith({message: 'Message content too big for APPENDLIMIT=1000', serverResponseCode: 'APPENDLIMIT'}), context: {phase: 'command'}, kind: 'too-large', retryable: false},
  {
    name: 'APPEND over quota (captured)',
    error: errorWith({
      message: 'Command failed',
      response: 'F NO [OVERQUOTA] Quota exceeded (mailbox for user is full) (0.001 + 0.000 secs).',
      responseStatus: 'NO',
      executedCommand: 'F APPEND INBOX "(* 616B literal *)"',
      responseText: 'Quota exceeded (mailbox for user is full) (0.001 + 0.000 secs).',
      serverResponseCode: 'OVERQUOTA',
    }),
    context: {phase: 'command'},
    kind: 'quota',
    retryable: false,
    hint: /quota/,
    serverText: /OVERQUOTA/,
  },
  {name: 'quota in text only', error: errorWith({responseStatus: 'NO', responseText: 'Mailbox quota exceeded', executedCommand: '9 APPEND INBOX {12}'}), context: {phase: 'command'}, kind: 'quota', retryable: false},
  // The server restarting in the middle of a login (captured: Dovecot 2.3 stopped with SIGTERM
  // while mailferry logged in; both clients flag the failed login command as authenticationFailed)
  {
    name: 'BYE Shutting down during a raw-session login (captured)',
    error: errorWith({message: 'server said goodbye: Shutting down', code: 'NoConnection', authenticationFailed: true}),
    context: {phase: 'login', user: 'rs1@example.test*admin'},
    kind: 'connection-lost',
    retryable: true,
    hint: /server restart/,
  },
  {
    name: "imapflow's Already logged out: the connection closed before the login (captured)",
    error: errorWith({message: 'Already logged out', authenticationFailed: true}),
    context: {phase: 'login', user: 'rs1@example.test*admin'},
    kind: 'connection-lost',
    retryable: true,
  },
  {
    name: 'a goodbye about invalid logins stays a refused login',
    error: errorWith({message: 'server said goodbye: Too many invalid login attempts', code: 'NoConnection', authenticationFailed: true}),
    context: {phase: 'login', user: 'alice'},
    kind: 'auth',
    retryable: false,
  },
  // A target that cannot write (captured from Dovecot 2.3 on a full tmpfs: ENOSPC on the message file or the uidlist)
  {
    name: 'APPEND on a full disk (captured)',
    error: errorWith({
      message: 'Command failed',
      response: 'A NO [SERVERBUG] Internal error occurred. Refer to server log for more information. [2026-12-04 19:05:08] (0.010 + 0.017 + 0.025 secs).',
      responseStatus: 'NO',
      executedCommand: 'A APPEND Projects "(* 1763167B literal *)"',
      responseText: 'Internal error occurred. Refer to server log for more information. [2026-12-04 19:05:08] (0.010 + 0.017 + 0.025 secs).',
      serverResponseCode: 'SERVERBUG',
    }),
    context: {phase: 'command', folder: 'Projects'},
    kind: 'storage',
    retryable: false,
    message: /failed to store mail in "Projects"/,
    hint: /disk is full.*resume the mailbox/,
    serverText: /SERVERBUG/,
  },
  {
    name: 'SELECT of a target folder on a full disk (captured)',
    error: errorWith({responseStatus: 'NO', responseText: 'Internal error occurred. Refer to server log for more information.', serverResponseCode: 'SERVERBUG', executedCommand: '5 SELECT Sent'}),
    context: {phase: 'command', folder: 'Sent'},
    kind: 'storage',
    retryable: false,
    message: /"Sent"/,
  },
  // Folders and rejected messages
  {
    name: 'APPEND to a missing folder (captured)',
    error: errorWith({
      message: 'Command failed',
      response: "C NO [TRYCREATE] Mailbox doesn't exist: Nope (0.001 + 0.000 secs).",
      responseStatus: 'NO',
      executedCommand: 'C APPEND Nope "(* 20B literal *)"',
      responseText: "Mailbox doesn't exist: Nope (0.001 + 0.000 secs).",
      serverResponseCode: 'TRYCREATE',
    }),
    context: {phase: 'command', folder: 'Nope'},
    kind: 'folder',
    retryable: false,
    message: /"Nope" does not exist/,
  },
  {
    name: 'SELECT of a missing folder (captured)',
    error: errorWith({
      message: 'Command failed',
      response: "8 NO Mailbox doesn't exist: Nope (0.001 + 0.000 secs).",
      responseStatus: 'NO',
      executedCommand: '8 SELECT Nope',
      responseText: "Mailbox doesn't exist: Nope (0.001 + 0.000 secs).",
      mailboxMissing: true,
    }),
    context: {phase: 'command', folder: 'Nope'},
    kind: 'folder',
    retryable: false,
    message: /refused SELECT on "Nope"/,
    serverText: /doesn't exist/,
  },
  {name: 'CREATE of an existing folder', error: errorWith({responseStatus: 'NO', responseText: 'Mailbox already exists', serverResponseCode: 'ALREADYEXISTS', executedCommand: '4 CREATE Sent'}), context: {phase: 'command'}, kind: 'folder', retryable: false, hint: /already exists/},
  {name: 'CREATE with a forbidden name', error: errorWith({responseStatus: 'NO', responseText: 'Invalid mailbox name', serverResponseCode: 'CANNOT', executedCommand: '4 CREATE "a/b"'}), context: {phase: 'command'}, kind: 'folder', retryable: false},
  {name: 'NOPERM on a folder', error: errorWith({responseStatus: 'NO', responseText: 'Permission denied', serverResponseCode: 'NOPERM', executedCommand: '7 UID FETCH 1:* (FLAGS)'}), context: {phase: 'command'}, kind: 'folder', retryable: false, hint: /ACL/},
  {
    name: 'APPEND refused for content',
    error: errorWith({responseStatus: 'NO', responseText: 'Message contains invalid header', executedCommand: '12 APPEND INBOX (\\Seen) "(* 3000B literal *)"'}),
    context: {phase: 'command', folder: 'INBOX'},
    kind: 'rejected',
    retryable: false,
    message: /refused to store a message in "INBOX"/,
    serverText: /invalid header/,
  },
  {name: 'BAD on an unknown command', error: errorWith({responseStatus: 'BAD', responseText: 'Error in IMAP command: Unknown command', executedCommand: '3 XFOO'}), context: {phase: 'command'}, kind: 'protocol', retryable: false},
  {name: 'NO on another command', error: errorWith({responseStatus: 'NO', responseText: 'Not now', executedCommand: '3 UID STORE 4 +FLAGS (\\Seen)'}), context: {phase: 'command'}, kind: 'rejected', retryable: false, message: /refused STORE/},
  // Connection loss
  {
    name: 'NoConnection after a restart (captured)',
    error: errorWith({message: 'Connection not available', code: 'NoConnection', cid: 'rnqzf91dum8oylc2s60p', rejectedFrom: 'noSocket', command: 'NOOP'}),
    context: {phase: 'command'},
    kind: 'connection-lost',
    retryable: true,
    hint: /reconnects/,
  },
  {
    name: 'BYE Server shutting down during a session',
    error: errorWith({message: 'Connection not available', code: 'NoConnection', reason: 'Server shutting down.'}),
    context: {phase: 'command'},
    kind: 'connection-lost',
    retryable: true,
    serverText: /shutting down/,
  },
  {name: 'ECONNRESET mid-session', error: errorWith({message: 'read ECONNRESET', code: 'ECONNRESET'}), context: {phase: 'command'}, kind: 'connection-lost', retryable: true},
  {name: 'EPIPE', error: errorWith({message: 'write EPIPE', code: 'EPIPE'}), context: {phase: 'command'}, kind: 'connection-lost', retryable: true},
  {name: 'EConnectionClosed', error: errorWith({message: 'Connection closed', code: 'EConnectionClosed'}), context: {phase: 'command'}, kind: 'connection-lost', retryable: true},
  {name: 'unexpected close without code', error: new Error('Unexpected close'), context: {phase: 'command'}, kind: 'connection-lost', retryable: true},
  {name: 'UNAVAILABLE during a session', error: errorWith({responseStatus: 'NO', responseText: 'Server is temporarily unavailable', serverResponseCode: 'UNAVAILABLE', executedCommand: '8 SELECT INBOX'}), context: {phase: 'command'}, kind: 'connection-lost', retryable: true},
  {name: 'NoConnection with the cause re-stamped', error: errorWith({message: 'x', cause: errorWith({message: 'read ECONNRESET', code: 'ECONNRESET'})}), context: {phase: 'command'}, kind: 'connection-lost', retryable: true},
  // Other
  {name: 'parser error mid-session', error: errorWith({message: 'Unexpected char', code: 'ParserError11'}), context: {phase: 'command'}, kind: 'protocol', retryable: false},
  {name: 'a string thrown', error: 'boom', kind: 'internal', retryable: false, message: /boom/},
  {name: 'undefined thrown', error: undefined, kind: 'internal', retryable: false},
];

for (const row of rows) {
  test(`translateError: ${row.name}`, () => {
    const context: ErrorContext = {role: 'target', endpoint: tlsEndpoint, ...row.context};
    const translated = translateError(row.error, context);
    assert.ok(translated instanceof MigrationError);
    assert.equal(translated.kind, row.kind, `kind for ${row.name}: ${translated.message}`);
    assert.equal(translated.retryable, row.retryable, `retryable for ${row.name}`);
    assert.equal(translated.endpoint, 'target');
    assert.equal(translated.host, context.endpoint.host);
    assert.ok(translated.hint.length > 10, 'every error carries a hint');
    if (row.message) assert.match(translated.message, row.message);
    if (row.hint) assert.match(translated.hint, row.hint);
    if (row.serverText) assert.match(translated.serverText ?? '', row.serverText);
    if (row.retryAfterMs !== undefined) assert.equal(translated.retryAfterMs, row.retryAfterMs);
    assert.equal(translated.cause, row.error, 'the original error stays as cause for the log');
  });
}

test('translateError: SERVERBUG on the source stays one folder\'s problem (the folder is listed as not migrated)', () => {
  const error = errorWith({responseStatus: 'NO', responseText: 'Internal error occurred. Refer to server log for more information.', serverResponseCode: 'SERVERBUG', executedCommand: '5 EXAMINE Broken'});
  const translated = translateError(error, {role: 'source', endpoint: plainEndpoint, phase: 'command', folder: 'Broken'});
  assert.equal(translated.kind, 'folder', translated.message);
});

test('translateError keeps the mailbox, folder and user context', () => {
  const error = translateError(errorWith({message: 'read ECONNRESET', code: 'ECONNRESET'}), {
    role: 'source',
    endpoint: plainEndpoint,
    user: 'alice*admin',
    mailbox: 'alice@example.test',
    folder: 'Sent',
    phase: 'command',
  });
  assert.deepEqual(
    {endpoint: error.endpoint, user: error.user, mailbox: error.mailbox, folder: error.folder},
    {endpoint: 'source', user: 'alice*admin', mailbox: 'alice@example.test', folder: 'Sent'},
  );
  assert.match(formatError(error), /^source \/ alice@example\.test \/ Sent: The connection to 127\.0\.0\.1:143 was lost/);
});

test('translateError passes a MigrationError through, adding missing context only', () => {
  const original = new MigrationError({kind: 'quota', message: 'over quota', hint: 'raise it', retryable: false, folder: 'INBOX'});
  const translated = translateError(original, {role: 'target', endpoint: plainEndpoint, mailbox: 'bob@example.test', folder: 'Other'});
  assert.equal(translated.kind, 'quota');
  assert.equal(translated.folder, 'INBOX');
  assert.equal(translated.mailbox, 'bob@example.test');
  assert.equal(translated.endpoint, 'target');
});

test('translateError never carries a registered secret, even when a server echoes it', () => {
  registerSecret('hunter2-secret');
  const translated = translateError(
    errorWith({responseStatus: 'NO', responseText: 'Login failed for password hunter2-secret', authenticationFailed: true, message: 'Command failed hunter2-secret'}),
    {role: 'source', endpoint: plainEndpoint, user: 'alice'},
  );
  const all = JSON.stringify(translated.toJSON()) + translated.message + formatError(translated);
  assert.ok(!all.includes('hunter2-secret'), all);
  assert.match(translated.serverText ?? '', /\*\*\*/);
});
