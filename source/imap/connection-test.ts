// The connection test (mailferry's Test-MigrationServerAvailability). It walks DNS, TCP, TLS or
// STARTTLS, greeting and CAPABILITY itself on a raw socket, one step at a time, so that a failure
// names the exact step and the likely cause; login and folder list then go through the same
// client factory the migration uses, so a passing test means the migration can log in too.

import {lookup} from 'node:dns/promises';
import {connect as netConnect, isIP, type Socket} from 'node:net';
import {connect as tlsConnect, type PeerCertificate, type TLSSocket} from 'node:tls';
import type {Duplex} from 'node:stream';
import {closeClient, connectClient, loginMechanismUsed} from './client-factory.js';
import {summarizeCapabilities} from './capabilities.js';
import {describeIdentity, type EndpointConfig, type LoginIdentity, type Security} from './endpoint.js';
import {translateError} from './error-translation.js';
import type {EndpointRole} from './imap-error.js';
import {presetById} from './presets.js';
import type {Logger} from '../log/logger.js';
import {redact, registerSecret} from '../log/secret-redaction.js';

export type StepName = 'dns' | 'tcp' | 'tls' | 'greeting' | 'capability' | 'login' | 'folders';

export interface StepResult {
  step: StepName;
  label: string;
  status: 'running' | 'ok' | 'failed' | 'skipped';
  ms: number;
  detail?: string;
  diagnosis?: string;
  hint?: string;
  serverText?: string;
}

export interface ConnectionTestResult {
  ok: boolean;
  endpoint: {host: string; port: number; security: Security};
  steps: StepResult[];
  capabilities: ReturnType<typeof summarizeCapabilities>;
  /** Servers list most extensions only after login, so a test without a user sees fewer. */
  capabilitiesSeen?: 'before-login' | 'after-login';
  greeting?: string;
  folderCount?: number;
  failedStep?: StepName;
}

export interface ConnectionTestOptions {
  onStep?: (step: StepResult) => void;
  role?: EndpointRole;
  signal?: AbortSignal;
  /** Receives the login connection's protocol log (debug level, secrets redacted). */
  logger?: Logger;
}

/** A failed step: what to show, already in plain words. */
class StepFailure extends Error {
  constructor(
    readonly diagnosis: string,
    readonly hint: string,
    readonly serverText?: string,
    /** What the step did see before it failed (e.g. the certificate). */
    readonly detail?: string,
  ) {
    super(diagnosis);
  }
}

const PORT_HINT = '993 is implicit TLS (security tls); 143 is STARTTLS or plain text (security starttls or none).';
const MAX_LINE = 64 * 1024;
const MAX_BUFFERED = 4 * MAX_LINE;
/** The most a CAPABILITY or LOGOUT answer may take, all lines together (a real one is < 2 KiB). */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** Reads CRLF-terminated lines from a socket; detachable so the socket can be wrapped in TLS. */
class LineReader {
  private buffer = Buffer.alloc(0);
  private closed: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    // Nobody reads faster than a server can send an endless line: stop taking bytes until
    // readLine() has used these, so memory stays bounded whatever the server does.
    if (this.buffer.length > MAX_BUFFERED) this.socket.pause();
    this.wake?.();
  };
  private readonly onClose = () => {
    this.closed ??= new Error('closed');
    this.wake?.();
  };
  private readonly onError = (error: Error) => {
    this.closed = error;
    this.wake?.();
  };

  constructor(private readonly socket: Duplex) {
    socket.on('data', this.onData);
    socket.on('end', this.onClose);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onClose);
    this.socket.off('close', this.onClose);
    this.socket.off('error', this.onError);
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** The next line (without CRLF); or the raw bytes so far when they are clearly not a text line. */
  async readLine(timeoutMs: number, what: string): Promise<{line: string; raw: Buffer}> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end >= 0) {
        const raw = this.buffer.subarray(0, end);
        this.buffer = this.buffer.subarray(end + 2);
        return {line: raw.toString('utf8'), raw};
      }
      // TLS records and other binary greetings never contain CRLF in a useful place.
      if (this.buffer.length > 0 && looksBinary(this.buffer)) {
        const raw = this.buffer;
        this.buffer = Buffer.alloc(0);
        return {line: raw.toString('latin1'), raw};
      }
      if (this.buffer.length > MAX_LINE) throw new LineTooLongError(what, this.buffer.subarray(0, 200).toString('latin1'));
      if (this.socket.isPaused()) this.socket.resume();
      if (this.closed) {
        if (this.buffer.length > 0) {
          const raw = this.buffer;
          this.buffer = Buffer.alloc(0);
          return {line: raw.toString('utf8'), raw};
        }
        throw this.closed.message === 'closed' ? new ClosedError(what) : this.closed;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(what);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }
}

class TimeoutError extends Error {
  constructor(readonly what: string) {
    super(`timeout waiting for ${what}`);
  }
}
/** More than MAX_LINE bytes without CRLF: no IMAP server sends that before a literal. */
class LineTooLongError extends Error {
  constructor(
    readonly what: string,
    readonly start: string,
  ) {
    super(`a line longer than ${MAX_LINE / 1024} KiB without an end while waiting for ${what}`);
  }
}
class ClosedError extends Error {
  constructor(readonly what: string) {
    super(`connection closed while waiting for ${what}`);
  }
}

/**
 * Server text as it may reach a terminal: a port that sends garbage can send escape sequences
 * (ESC, 8-bit CSI) that would move the cursor or retitle the admin's terminal.
 */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}

function looksBinary(bytes: Buffer): boolean {
  const first = bytes[0];
  // 0x15/0x16: TLS alert/handshake record, what an implicit-TLS port sends back to plain text.
  if (first === 0x15 || first === 0x16) return true;
  const sample = bytes.subarray(0, 64);
  return sample.some((byte) => byte === 0 || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d));
}

function hostPort(endpoint: EndpointConfig): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

/** Which service answered, when it is not IMAP: enough to say "this is the SMTP port". */
function describeForeignGreeting(line: string, raw: Buffer): string | undefined {
  if (raw.length > 0 && (raw[0] === 0x15 || raw[0] === 0x16)) return 'TLS';
  if (/^\+OK/i.test(line)) return 'POP3';
  if (/^(220|421|554)[ -]/.test(line)) return 'SMTP or FTP';
  if (/^SSH-/i.test(line)) return 'SSH';
  if (/^HTTP\//i.test(line)) return 'HTTP';
  if (looksBinary(raw)) return 'a binary protocol';
  return undefined;
}

function certificateSummary(cert: PeerCertificate | undefined): string {
  if (!cert || Object.keys(cert).length === 0) return 'no certificate';
  const name = (part: unknown) => {
    if (!part || typeof part !== 'object') return '?';
    const fields = part as Record<string, unknown>;
    return String(fields['CN'] ?? fields['O'] ?? '?');
  };
  const altNames = cert.subjectaltname ? `, names ${cert.subjectaltname.replace(/DNS:|IP Address:/g, '')}` : '';
  return `certificate for ${name(cert.subject)}${altNames}, issued by ${name(cert.issuer)}, valid until ${cert.valid_to}`;
}

interface Session {
  socket: Socket | TLSSocket;
  /** Created on first read: a 'data' listener would swallow bytes a later TLS handshake needs. */
  reader?: LineReader;
}

function readerOf(session: Session): LineReader {
  session.reader ??= new LineReader(session.socket);
  return session.reader;
}

function stepFailureFrom(error: unknown, endpoint: EndpointConfig, role: EndpointRole, user?: string): StepFailure {
  if (error instanceof StepFailure) return error;
  const translated = translateError(error, {role, endpoint, phase: 'connect', ...(user ? {user} : {})});
  return new StepFailure(translated.message, translated.hint, translated.serverText);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => StepFailure): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function resolveHost(endpoint: EndpointConfig): Promise<string> {
  const addresses = await lookup(endpoint.host, {all: true});
  return addresses.map((entry) => entry.address).join(', ');
}

function openTcp(endpoint: EndpointConfig): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({host: endpoint.host, port: endpoint.port});
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function startTls(socket: Socket, endpoint: EndpointConfig): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // Certificates are checked by hand below (authorized / authorizationError), so the test can
    // say what is wrong with one, and report it even when accept-untrusted lets it pass.
    const secure = tlsConnect({
      socket,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ...(isIP(endpoint.host) === 0 ? {servername: endpoint.host} : {}),
    });
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

function checkCertificate(secure: TLSSocket, endpoint: EndpointConfig, role: EndpointRole): string {
  const summary = `${secure.getProtocol() ?? 'TLS'} ${secure.getCipher().standardName ?? secure.getCipher().name}; ${certificateSummary(secure.getPeerCertificate())}`;
  if (secure.authorized) return `${summary}; trusted`;
  const reason = String(secure.authorizationError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  const translated = translateError({code: reason, message: reason}, {role, endpoint});
  if (endpoint.acceptUntrusted) return `${summary}; NOT trusted (${translated.message.replace(/^The TLS certificate of \S+ /, '')}), accepted because accept-untrusted is on`;
  throw new StepFailure(`${translated.message} (${reason})`, translated.hint, undefined, summary);
}

export async function testConnection(endpoint: EndpointConfig, identity?: LoginIdentity, options: ConnectionTestOptions = {}): Promise<ConnectionTestResult> {
  const role = options.role ?? 'source';
  const where = hostPort(endpoint);
  const security = endpoint.security;
  if (identity) {
    registerSecret(identity.password);
    registerSecret(identity.accessToken);
  }
  const tlsLabel = security === 'starttls' ? 'STARTTLS' : 'TLS handshake';
  const plan: {step: StepName; label: string}[] = [
    {step: 'dns', label: `DNS lookup ${endpoint.host}`},
    {step: 'tcp', label: `TCP connect ${where}`},
    // The order steps really happen in: STARTTLS upgrades after the plain-text greeting.
    ...(security === 'starttls'
      ? [
          {step: 'greeting' as const, label: 'IMAP greeting'},
          {step: 'tls' as const, label: tlsLabel},
        ]
      : [
          {step: 'tls' as const, label: tlsLabel},
          {step: 'greeting' as const, label: 'IMAP greeting'},
        ]),
    {step: 'capability', label: 'CAPABILITY'},
    {step: 'login', label: identity ? `Login as ${describeIdentity(identity)}` : 'Login'},
    {step: 'folders', label: 'Folder list'},
  ];
  const steps: StepResult[] = [];
  const result: ConnectionTestResult = {ok: false, endpoint: {host: endpoint.host, port: endpoint.port, security}, steps, capabilities: []};
  let session: Session | undefined;
  const onAbort = () => session?.socket.destroy();
  options.signal?.addEventListener('abort', onAbort, {once: true});

  const emit = (step: StepResult) => {
    const copy = {...step};
    for (const key of ['detail', 'diagnosis', 'serverText'] as const) if (copy[key] !== undefined) copy[key] = printable(redact(copy[key]!));
    options.onStep?.(copy);
    return copy;
  };
  /** Runs one step: reports it running, then ok/skipped with the detail fn returns, or failed. */
  const run = async (step: StepName, body: () => Promise<{detail?: string; skipped?: boolean}>): Promise<boolean> => {
    const label = plan.find((entry) => entry.step === step)!.label;
    const started = performance.now();
    emit({step, label, status: 'running', ms: 0});
    try {
      if (options.signal?.aborted) throw new StepFailure('The test was cancelled', 'Run it again when ready.');
      const outcome = await body();
      const done: StepResult = {step, label, status: outcome.skipped ? 'skipped' : 'ok', ms: Math.round(performance.now() - started)};
      if (outcome.detail) done.detail = outcome.detail;
      steps.push(emit(done));
      return true;
    } catch (error) {
      const failure = options.signal?.aborted
        ? new StepFailure('The test was cancelled', 'Run it again when ready.')
        : stepFailureFrom(error, endpoint, role, identity ? describeIdentity(identity) : undefined);
      const failed: StepResult = {step, label, status: 'failed', ms: Math.round(performance.now() - started), diagnosis: failure.diagnosis, hint: failure.hint};
      if (failure.serverText) failed.serverText = failure.serverText;
      if (failure.detail) failed.detail = failure.detail;
      steps.push(emit(failed));
      result.failedStep = step;
      return false;
    }
  };

  const timeouts = endpoint.timeouts;
  let capabilityLine: string[] = [];
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;

  const bodies: Record<StepName, () => Promise<{detail?: string; skipped?: boolean}>> = {
    dns: async () => {
      if (isIP(endpoint.host) !== 0) return {detail: 'IP address, no lookup needed'};
      const addresses = await withTimeout(
        resolveHost(endpoint),
        timeouts.connectMs,
        () => new StepFailure(`The DNS lookup of "${endpoint.host}" took longer than ${timeouts.connectMs / 1000} s`, 'Check this machine\'s DNS settings (/etc/resolv.conf) and try again.'),
      );
      return {detail: addresses};
    },
    tcp: async () => {
      const socket = await withTimeout(
        openTcp(endpoint),
        timeouts.connectMs,
        () =>
          new StepFailure(
            `Connecting to ${where} got no answer within ${timeouts.connectMs / 1000} s`,
            'A firewall is probably dropping the packets, or the host is down. Check the host, the port and any firewall in between.',
          ),
      ).catch((error: unknown) => {
        throw stepFailureFrom(error, endpoint, role);
      });
      // Errors between steps surface through the reader or the TLS wrapper; without a listener
      // an 'error' event in between would crash the process.
      socket.on('error', () => undefined);
      session = {socket};
      return {detail: `connected to ${socket.remoteAddress}:${socket.remotePort}`};
    },
    tls: async () => {
      if (security === 'none') {
        return {skipped: true, detail: 'security none: no encryption; passwords and mail travel in clear text (use only on a trusted network)'};
      }
      const current = session!;
      if (security === 'starttls') {
        await sendCommand(current, 's1', 'CAPABILITY', timeouts.greetingMs).then((lines) => {
          const caps = capabilitiesFrom(lines);
          if (!caps.includes('STARTTLS')) {
            throw new StepFailure(
              `${where} does not offer STARTTLS`,
              'Use security tls (usually port 993) if the server offers implicit TLS; use security none only on a trusted network, since passwords then travel in clear text.',
            );
          }
        });
        const answer = await sendCommand(current, 's2', 'STARTTLS', timeouts.greetingMs);
        const tagged = answer[answer.length - 1] ?? '';
        if (!/^s2 OK/i.test(tagged)) throw new StepFailure(`${where} refused STARTTLS`, 'Use security tls (port 993) instead.', tagged.replace(/^s2 /, ''));
        if (readerOf(current).pending > 0) {
          throw new StepFailure(`${where} sent data between STARTTLS and the TLS handshake`, 'Something between mailferry and the server tampers with the connection; use security tls or check the network path.');
        }
      }
      current.reader?.detach();
      const secure = await withTimeout(
        startTls(current.socket as Socket, endpoint),
        timeouts.connectMs,
        () =>
          new StepFailure(
            `The TLS handshake with ${where} did not finish within ${timeouts.connectMs / 1000} s`,
            security === 'tls' ? `The port may expect plain text first. ${PORT_HINT}` : 'The server may be overloaded; try again.',
          ),
      ).catch((error: unknown) => {
        current.socket.destroy();
        throw stepFailureFrom(error, endpoint, role);
      });
      secure.on('error', () => undefined);
      session = {socket: secure};
      try {
        return {detail: checkCertificate(secure, endpoint, role)};
      } catch (error) {
        secure.destroy();
        throw error;
      }
    },
    greeting: async () => {
      const current = session!;
      let received: {line: string; raw: Buffer};
      try {
        received = await readerOf(current).readLine(timeouts.greetingMs, 'the greeting');
      } catch (error) {
        if (error instanceof TimeoutError) {
          throw new StepFailure(
            `${where} sent no greeting within ${timeouts.greetingMs / 1000} s`,
            security === 'tls'
              ? 'The server may be overloaded, or this port is not an IMAP port. Try again, then check the port.'
              : `The port probably expects TLS right away (implicit TLS): try security tls. ${PORT_HINT}`,
          );
        }
        if (error instanceof LineTooLongError) {
          throw new StepFailure(
            `${where} sent a greeting line longer than ${MAX_LINE / 1024} KiB without an end of line: this port does not speak IMAP`,
            `Check the host and port (something other than an IMAP server, or a broken proxy, answers there). ${PORT_HINT}`,
            error.start,
          );
        }
        if (error instanceof ClosedError) {
          throw new StepFailure(
            `${where} closed the connection without a greeting`,
            security === 'tls' ? `This port may not speak IMAP. ${PORT_HINT}` : `This port may expect TLS right away, or not speak IMAP. ${PORT_HINT}`,
          );
        }
        throw error;
      }
      const {line, raw} = received;
      const foreign = describeForeignGreeting(line, raw);
      if (foreign === 'TLS') {
        throw new StepFailure(`${where} answered with TLS data: this port expects implicit TLS, not plain text`, `Use security tls for this port. ${PORT_HINT}`);
      }
      if (/^\* BYE/i.test(line)) {
        const text = line.replace(/^\* BYE\s*/i, '');
        const limit = /too many|maximum number of connections|connection limit/i.test(text);
        throw new StepFailure(
          limit ? `${where} refused the connection: too many connections` : `${where} refused the session in its greeting`,
          limit ? 'Wait for other connections to this server to finish, or lower the endpoint\'s max connections.' : 'Read the server\'s reason; it may be refusing this client or address.',
          text,
        );
      }
      if (!/^\* (OK|PREAUTH)\b/i.test(line)) {
        throw new StepFailure(
          `This port does not speak IMAP${foreign ? ` (it looks like ${foreign})` : ''}`,
          `Check the port: IMAP is usually 143 (STARTTLS/plain) or 993 (TLS). ${PORT_HINT}`,
          line.slice(0, 200),
        );
      }
      result.greeting = line.replace(/^\* (OK|PREAUTH)\s*/i, '').replace(/^\[CAPABILITY [^\]]*\]\s*/i, '');
      const preauth = /^\* PREAUTH/i.test(line);
      return {detail: `${preauth ? 'PREAUTH (already logged in): ' : ''}${result.greeting || line}`};
    },
    capability: async () => {
      const lines = await sendCommand(session!, 'a1', 'CAPABILITY', timeouts.greetingMs);
      const tagged = lines[lines.length - 1] ?? '';
      if (!/^a1 OK/i.test(tagged)) throw new StepFailure(`${where} refused the CAPABILITY command`, 'The server does not behave like an IMAP server; check the port.', tagged);
      capabilityLine = capabilitiesFrom(lines);
      result.capabilities = summarizeCapabilities(capabilityLine);
      result.capabilitiesSeen = 'before-login';
      const auth = capabilityLine.filter((cap) => cap.startsWith('AUTH=')).map((cap) => cap.slice(5));
      const notes = [`${capabilityLine.length} capabilities`, `login mechanisms: ${auth.length ? auth.join(' ') : 'LOGIN command only'}`];
      if (capabilityLine.includes('LOGINDISABLED')) notes.push('LOGINDISABLED: the server refuses logins on this connection');
      if (!identity) notes.push('before login; many servers list more after login');
      await sendCommand(session!, 'a2', 'LOGOUT', 2_000).catch(() => undefined);
      return {detail: notes.join('; ')};
    },
    login: async () => {
    if (!identity) return {skipped: true, detail: 'no user given: login and folder list not tested'};
    try {
      client = await connectClient({endpoint, role, identity, ...(options.logger ? {logger: options.logger} : {})});
    } catch (error) {
      const translated = translateError(error, {role, endpoint, user: describeIdentity(identity), phase: 'login'});
      const preset = presetById(endpoint.preset);
      const presetHints = translated.kind === 'auth' && preset && preset.id !== 'other' ? ` ${preset.label}: ${preset.hints.join(' ')}` : '';
      throw new StepFailure(translated.message, translated.hint + presetHints, translated.serverText);
    }
    const mechanism = loginMechanismUsed(client) ?? 'PREAUTH';
    // Servers list most extensions (CONDSTORE, UIDPLUS, SPECIAL-USE...) only after login.
    result.capabilities = summarizeCapabilities(capabilityNames(client.capabilities));
    result.capabilitiesSeen = 'after-login';
    return {detail: `logged in as ${describeIdentity(identity)} (${mechanism})${security === 'none' ? `; the ${identity.tokenSource ? 'access token' : 'password'} was sent in clear text` : ''}`};
    },
    folders: async () => {
    if (!client) return {skipped: true, detail: 'no user given: login and folder list not tested'};
    try {
      const folders = await client.list();
      result.folderCount = folders.length;
      const special = folders.filter((folder) => folder.specialUse).map((folder) => `${folder.specialUse} ${folder.path}`);
      return {detail: `${folders.length} folder${folders.length === 1 ? '' : 's'}${special.length ? `; special-use: ${special.join(', ')}` : ''}`};
    } catch (error) {
      const translated = translateError(error, {role, endpoint, user: describeIdentity(identity!), phase: 'command'});
      throw new StepFailure(`Listing the folders failed: ${translated.message}`, translated.hint, translated.serverText);
    }
    },
  };

  try {
    let failed = false;
    for (const {step, label} of plan) {
      if (failed) {
        steps.push(emit({step, label, status: 'skipped', ms: 0, detail: 'not run: an earlier step failed'}));
        continue;
      }
      failed = !(await run(step, bodies[step]));
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    session?.socket.destroy();
    if (client) await closeClient(client);
  }
  result.ok = result.failedStep === undefined;
  return result;
}

/** Sends `tag command` and collects lines up to the tagged answer (the last element). */
async function sendCommand(session: Session, tag: string, command: string, timeoutMs: number): Promise<string[]> {
  session.socket.write(`${tag} ${command}\r\n`);
  const lines: string[] = [];
  // One deadline and one size bound for the whole answer: a server that sends untagged lines
  // forever would otherwise keep the test (and its memory) going for ever.
  const deadline = Date.now() + timeoutMs;
  let bytes = 0;
  const notImap = `The server does not behave like an IMAP server; check the host and port. ${PORT_HINT}`;
  for (;;) {
    let line: string;
    try {
      ({line} = await readerOf(session).readLine(Math.max(0, deadline - Date.now()), `the answer to ${command}`));
    } catch (error) {
      if (error instanceof TimeoutError) throw new StepFailure(`The server did not answer ${command} within ${timeoutMs / 1000} s`, 'The server may be overloaded; try again.');
      if (error instanceof ClosedError) throw new StepFailure(`The server closed the connection after ${command}`, 'The server may be refusing this client; check its log.');
      if (error instanceof LineTooLongError) throw new StepFailure(`The server answered ${command} with a line longer than ${MAX_LINE / 1024} KiB without an end of line`, notImap, error.start);
      throw error;
    }
    bytes += line.length + 2;
    if (bytes > MAX_ANSWER_BYTES) throw new StepFailure(`The server answered ${command} with more than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB and no end`, notImap, line.slice(0, 200));
    lines.push(line);
    if (line.toLowerCase().startsWith(`${tag.toLowerCase()} `)) return lines;
  }
}

function capabilitiesFrom(lines: string[]): string[] {
  const caps: string[] = [];
  for (const line of lines) {
    const match = line.match(/^\* CAPABILITY (.*)$/i) ?? line.match(/\[CAPABILITY ([^\]]*)\]/i);
    if (match?.[1]) caps.push(...match[1].trim().split(/\s+/).map((cap) => cap.toUpperCase()));
  }
  return [...new Set(caps)];
}

/** imapflow's capability map (APPENDLIMIT carries its number as the value) as CAPABILITY names. */
function capabilityNames(capabilities: Map<string, boolean | number>): string[] {
  return [...capabilities].map(([name, value]) => (typeof value === 'number' ? `${name}=${value}` : name));
}
