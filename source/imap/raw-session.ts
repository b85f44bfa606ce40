// A minimal IMAP session for the copy path's hot loops, where imapflow costs too much: it keeps
// one command in flight, sends literals above 4 KB as synchronizing ones (two round trips per
// APPEND) and collects every fetched literal as a list of socket chunks that it then
// concatenates, so each body is copied twice and the collector runs hot.
//
// This session connects (plain, TLS or STARTTLS), logs in, then pipelines tagged commands whose
// answers arrive in order. Literals in responses can be handed, chunk by chunk, straight to a
// consumer (the copy path writes them into an APPEND on the target), which may pause reading for
// backpressure. Commands may be written in pieces (MULTIAPPEND with LITERAL+, streamed).
//
// Errors mimic imapflow's shape (responseStatus, responseText, serverResponseCode, code) so
// translateError() treats both alike.

import net from 'node:net';
import tls from 'node:tls';
import type {EndpointConfig, LoginIdentity} from './endpoint.js';
import type {EndpointRole} from './imap-error.js';
import {chooseOAuthMechanism, oauthPayload, withAccessToken} from './oauth-login.js';
import {registerSecret} from '../log/secret-redaction.js';
import {encodeModifiedUtf7} from './modified-utf7.js';
import {isPooled, release, retain, takeSlab} from './read-buffer-pool.js';

export interface TaggedResult {
  /** The tagged line after the status word, e.g. "[APPENDUID 7 12] Append completed." */
  text: string;
  /**
   * Untagged lines received while this command was the oldest one in flight (unless handled).
   * Servers may run pipelined commands side by side (Dovecot does for FETCH): a response can
   * belong to a later command, so callers that pipeline must not rely on the attribution.
   */
  untagged: string[];
}

/** Takes the bytes of one literal in a response as they arrive. */
export interface LiteralConsumer {
  /** A piece of the literal; return a promise to stop reading until it resolves (backpressure). */
  data(chunk: Buffer): void | Promise<void>;
  /** The literal is complete. */
  end(): void;
}

export interface CommandOptions {
  /** Receives untagged lines instead of collecting them (long responses, e.g. FETCH). */
  onUntagged?: (line: string) => void;
  /**
   * Called when a literal starts in an untagged response to this command: `prefix` is the
   * response text before the literal (e.g. "* 3 FETCH (UID 17 BODY[] "). Return a consumer to
   * stream it; undefined keeps it (it is then part of the line's text).
   */
  onLiteral?: (prefix: string, size: number) => LiteralConsumer | undefined;
  /** Called for "+" continuation requests that arrive while this command is the oldest unanswered. */
  onContinue?: (text: string) => void;
}

interface Pending extends CommandOptions {
  tag: string;
  /** Tag and command name only: what an error may show (never the arguments, e.g. a password). */
  label: string;
  untagged: string[];
  resolve: (result: TaggedResult) => void;
  reject: (error: Error) => void;
}

/** A quoted string, or undefined when the value needs a literal (CR, LF, NUL or 8-bit). */
export function imapQuoted(value: string): string | undefined {
  if (/[\r\n\0]/.test(value) || /[^\x01-\x7f]/.test(value)) return undefined;
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** A folder name as a command argument: modified UTF-7 (RFC 3501 5.1.3), quoted. */
export function mailboxArgument(path: string): string {
  const encoded = encodeModifiedUtf7(path);
  return imapQuoted(encoded) ?? `"${encoded}"`;
}

/**
 * The longest line (literals aside) a server may send: far above any real response (a UID SEARCH
 * of 500,000 messages is ~4 MB), low enough that a server sending an endless line fails the
 * session instead of filling memory. A greeting is a short line.
 */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;
const MAX_GREETING_BYTES = 64 * 1024;

/** Bytes written but not yet taken by the kernel before a writer should wait for 'drain'. */
const WRITE_HIGH_WATER = 512 * 1024;

export class RawImapSession {
  capabilities = new Set<string>();
  private socket: net.Socket | tls.TLSSocket;
  private readonly queue: Pending[] = [];
  private tagCounter = 0;
  private closed = false;
  private closeError: Error | undefined;
  private greetingWaiter: {resolve: (line: string) => void; reject: (error: Error) => void} | undefined;
  /** Chunks received but not parsed yet (reading is paused while a consumer catches up). */
  private readonly inbox: Buffer[] = [];
  private paused = false;
  /** The current line so far: text parts (literals kept inline) and an unfinished tail. */
  private lineParts: string[] = [];
  private lineTail: Buffer[] = [];
  private lineBytes = 0;
  private literal: {remaining: number; consumer: LiteralConsumer | undefined; kept: Buffer[]} | undefined;

  private constructor(socket: net.Socket | tls.TLSSocket, private readonly endpoint: EndpointConfig) {
    this.socket = socket;
    this.attach(socket);
  }

  /**
   * Connects, upgrades to TLS when asked, and logs in. With an OAuth2 token source, a refused
   * token is fetched again and the whole connection opened once more (oauth-login.ts).
   */
  static async open(endpoint: EndpointConfig, identity: LoginIdentity, role?: EndpointRole): Promise<RawImapSession> {
    return withAccessToken(identity, (withToken) => RawImapSession.openOnce(endpoint, withToken, role), {endpoint, ...(role ? {role} : {})});
  }

  private static async openOnce(endpoint: EndpointConfig, identity: LoginIdentity, role: EndpointRole | undefined): Promise<RawImapSession> {
    let session: RawImapSession | undefined;
    const socket = await openSocket(endpoint, (chunk) => session?.receive(chunk));
    session = new RawImapSession(socket, endpoint);
    try {
      const greeting = await session.waitGreeting();
      if (/^\* BYE/i.test(greeting)) throw closedError(`server refused the connection: ${greeting.slice(6)}`);
      session.readCapabilities(greeting);
      if (endpoint.security === 'starttls') {
        if (session.capabilities.size === 0) await session.refreshCapabilities();
        if (!session.capabilities.has('STARTTLS')) throw Object.assign(new Error('Server does not offer STARTTLS'), {tlsFailed: true});
        await session.command('STARTTLS');
        await session.upgradeTls();
        session.capabilities.clear();
      }
      const beforeLogin = session.capabilities;
      if (!/^\* PREAUTH/i.test(greeting)) {
        if (session.capabilities.size === 0) await session.refreshCapabilities();
        await session.login(identity, role);
      }
      // Servers usually send the post-login capabilities with the login's OK; ask only otherwise.
      if (session.capabilities === beforeLogin) await session.refreshCapabilities();
      return session;
    } catch (error) {
      session.close();
      throw error;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a whole command; answers arrive in order. */
  command(text: string, options: CommandOptions = {}): Promise<TaggedResult> {
    return this.begin(`${text}\r\n`, options);
  }

  /** Runs `issue` with writes gathered into as few packets as possible (many small commands). */
  corked(issue: () => void): void {
    this.socket.cork();
    try {
      issue();
    } finally {
      this.socket.uncork();
    }
  }

  /**
   * Writes the start of a command (no line end) and queues it for its answer; the caller writes
   * the rest with write(), ending with "\r\n". After a synchronizing literal's "{n}\r\n" the
   * caller must write nothing more to the session until the server's "+" (onContinue).
   */
  begin(text: string, options: CommandOptions = {}): Promise<TaggedResult> {
    if (this.closed) return Promise.reject(this.closeError ?? closedError('connection closed'));
    const tag = `M${++this.tagCounter}`;
    return new Promise<TaggedResult>((resolve, reject) => {
      this.queue.push({...options, tag, label: `${tag} ${text.trim().split(' ', 2).join(' ')}`, untagged: [], resolve, reject});
      this.socket.write(`${tag} ${text}`);
    });
  }

  /** Writes part of a command begun with begin(); false when the caller should await drained(). */
  write(data: Buffer | string): boolean {
    if (this.closed) return false;
    if (typeof data !== 'string' && isPooled(data)) {
      // Written from the reader's slab: it may not be reused before the kernel has the bytes.
      retain(data);
      this.socket.write(data, () => release(data));
    } else {
      this.socket.write(data);
    }
    return this.socket.writableLength < WRITE_HIGH_WATER;
  }

  /** Resolves once written data has gone to the kernel (or the connection is gone). */
  drained(): Promise<void> {
    if (this.closed || this.socket.writableLength < WRITE_HIGH_WATER) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Why the session ended, once it has. */
  get failure(): Error | undefined {
    return this.closed ? this.closeError : undefined;
  }

  close(): void {
    if (this.closed) return;
    if (!this.socket.destroyed && this.queue.length === 0) {
      // A polite goodbye when idle; the server does not need to wait for our reading it.
      this.socket.end(`Z${++this.tagCounter} LOGOUT\r\n`);
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else {
      // Mid-command, a plain close would still deliver what the kernel holds (whole APPEND
      // batches, committed after a stop); a reset discards it and the server drops the command.
      resetSocket(this.socket);
    }
    this.fail(closedError('connection closed by mailferry'));
  }

  // ---- login -------------------------------------------------------------------------------

  private async refreshCapabilities(): Promise<void> {
    const result = await this.command('CAPABILITY');
    for (const line of result.untagged) this.readCapabilities(line);
    this.readCapabilities(result.text);
  }

  private readCapabilities(line: string): void {
    const match = /\[CAPABILITY ([^\]]*)\]/i.exec(line) ?? /^\* CAPABILITY (.*)$/im.exec(line);
    if (!match) return;
    this.capabilities = new Set(match[1]!.trim().toUpperCase().split(/\s+/));
  }

  private async login(identity: LoginIdentity, role: EndpointRole | undefined): Promise<void> {
    if (identity.accessToken) {
      registerSecret(identity.accessToken);
      const mechanism = chooseOAuthMechanism(this.capabilities, this.endpoint.oauthMechanism, {endpoint: this.endpoint, user: identity.user, ...(role ? {role} : {})});
      const payload = Buffer.from(oauthPayload(mechanism, identity.user, identity.accessToken, this.endpoint)).toString('base64');
      // After a refusal the server sends its error as a "+" challenge (RFC 7628 3.2.2) and waits:
      // OAUTHBEARER's answer is a lone %x01, XOAUTH2's an empty line.
      await this.saslInitial(mechanism, payload, mechanism === 'OAUTHBEARER' ? 'AQ==' : '');
      return;
    }
    const password = identity.password ?? '';
    const wantPlain = identity.authzid !== undefined || this.endpoint.loginMechanism === 'PLAIN' ||
      (this.endpoint.loginMechanism === 'auto' && this.capabilities.has('AUTH=PLAIN'));
    const user = imapQuoted(identity.user);
    const pass = imapQuoted(password);
    // Non-ASCII credentials go as SASL PLAIN (UTF-8 by definition) rather than literals.
    if (wantPlain || user === undefined || pass === undefined) {
      const payload = Buffer.from(`${identity.authzid ?? ''}\0${identity.user}\0${password}`).toString('base64');
      await this.saslInitial('PLAIN', payload);
      return;
    }
    await failAsAuth(this.command(`LOGIN ${user} ${pass}`));
  }

  private async saslInitial(mechanism: string, payload: string, errorAnswer = ''): Promise<void> {
    let payloadSent = this.capabilities.has('SASL-IR');
    let serverError: string | undefined;
    try {
      await failAsAuth(
        this.command(payloadSent ? `AUTHENTICATE ${mechanism} ${payload}` : `AUTHENTICATE ${mechanism}`, {
          onContinue: (text) => {
            // The first "+" asks for the initial response (without SASL-IR); a later one carries
            // the server's error (XOAUTH2/OAUTHBEARER, RFC 7628) and waits for our answer before
            // the tagged NO.
            if (payloadSent) serverError = decodedChallenge(text);
            this.socket.write(payloadSent ? `${errorAnswer}\r\n` : `${payload}\r\n`);
            payloadSent = true;
          },
        }),
      );
    } catch (error) {
      // E.g. {"status":"invalid_token"}: said next to the server's tagged NO text.
      if (serverError) Object.assign(error as Error, {responseText: `${(error as {responseText?: string}).responseText ?? ''} ${serverError}`.trim()});
      throw error;
    }
  }

  private waitGreeting(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.greetingWaiter = {resolve, reject};
      setTimeout(() => {
        if (this.greetingWaiter) {
          this.greetingWaiter = undefined;
          reject(Object.assign(new Error('No greeting from the server'), {code: 'GREETING_TIMEOUT'}));
        }
      }, this.endpoint.timeouts.greetingMs).unref();
    });
  }

  private async upgradeTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    this.socket = await wrapTls(plain, this.endpoint);
    this.attach(this.socket);
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.setTimeout(this.endpoint.timeouts.socketMs, () => {
      socket.destroy(Object.assign(new Error('Socket timed out'), {code: 'ETIMEOUT'}));
    });
    // Pooled plain sockets deliver through receive() (see openSocket); TLS ones emit 'data'.
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error: Error) => this.fail(error));
    socket.on('close', () => this.fail(closedError('the server closed the connection')));
  }

  // ---- responses ---------------------------------------------------------------------------

  private receive(chunk: Buffer): void {
    if (this.closed) {
      // A failed session reads nothing more (an endless line would keep growing its tail).
      release(chunk);
      return;
    }
    this.inbox.push(chunk);
    if (!this.paused) this.parse();
  }

  private parse(): void {
    while (this.inbox.length > 0 && !this.paused) {
      const chunk = this.inbox.shift()!;
      const rest = this.parseChunk(chunk);
      if (rest) this.inbox.unshift(rest);
      else release(chunk);
    }
  }

  /** Parses one chunk; returns its unparsed remainder when a consumer asked to pause. */
  private parseChunk(chunk: Buffer): Buffer | undefined {
    let position = 0;
    while (position < chunk.length) {
      if (this.literal) {
        const literal = this.literal;
        const take = Math.min(literal.remaining, chunk.length - position);
        const piece = chunk.subarray(position, position + take);
        position += take;
        literal.remaining -= take;
        let wait: void | Promise<void> = undefined;
        if (literal.consumer) wait = literal.consumer.data(piece);
        else literal.kept.push(Buffer.from(piece));
        if (literal.remaining === 0) {
          this.literal = undefined;
          if (literal.consumer) literal.consumer.end();
          else this.lineParts.push(Buffer.concat(literal.kept).toString('utf8'));
        }
        if (wait) {
          this.pauseUntil(wait);
          return position < chunk.length ? chunk.subarray(position) : undefined;
        }
        continue;
      }
      const newline = chunk.indexOf(0x0a, position);
      if (newline < 0) {
        this.lineBytes += chunk.length - position;
        if (this.lineBytes > (this.greetingWaiter ? MAX_GREETING_BYTES : MAX_LINE_BYTES)) {
          this.lineTooLong();
          return undefined;
        }
        // Copied: the chunk's slab goes back to the pool before the line is complete.
        this.lineTail.push(Buffer.from(chunk.subarray(position)));
        return undefined;
      }
      const piece = chunk.subarray(position, newline + 1);
      position = newline + 1;
      const bytes = this.lineTail.length > 0 ? Buffer.concat([...this.lineTail, piece]) : piece;
      this.lineTail = [];
      this.lineBytes = 0;
      this.onLinePart(bytes.toString('utf8').replace(/\r?\n$/, ''));
    }
    return undefined;
  }

  private onLinePart(part: string): void {
    const literal = /\{(\d+)\}$/.exec(part);
    if (!literal) {
      const line = this.lineParts.length > 0 ? this.lineParts.join('') + part : part;
      this.lineParts = [];
      this.onLine(line);
      return;
    }
    const size = Number(literal[1]);
    const prefix = this.lineParts.join('') + part.slice(0, literal.index);
    this.lineParts.push(`${part}\r\n`);
    // The first command that takes literals: pipelined commands may be answered side by side.
    const consumer = this.queue.find((pending) => pending.onLiteral)?.onLiteral?.(prefix, size);
    if (size === 0) {
      consumer?.end();
      return;
    }
    this.literal = {remaining: size, consumer, kept: []};
  }

  private pauseUntil(wait: Promise<void>): void {
    this.paused = true;
    this.socket.pause();
    const resume = () => {
      this.paused = false;
      if (!this.closed) this.socket.resume();
      this.parse();
    };
    wait.then(resume, (error: unknown) => {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      this.socket.destroy();
    });
  }

  /** Fails the session (code LineTooLarge, as imapflow's) and stops reading: the rest is not IMAP. */
  private lineTooLong(): void {
    const limit = this.greetingWaiter ? MAX_GREETING_BYTES : MAX_LINE_BYTES;
    this.lineTail = [];
    this.lineBytes = 0;
    this.fail(Object.assign(new Error(`The server sent a line longer than ${limit} bytes without an end`), {code: 'LineTooLarge'}));
    resetSocket(this.socket);
  }

  private onLine(line: string): void {
    if (this.greetingWaiter) {
      const waiter = this.greetingWaiter;
      this.greetingWaiter = undefined;
      // Anything else on a fresh connection is another protocol (or garbage): carrying on would
      // wait for a CAPABILITY answer that never comes, for the whole socket timeout.
      if (!/^\* (OK|PREAUTH|BYE)\b/i.test(line)) {
        const error = Object.assign(new Error('The server greeted with something that is not IMAP'), {code: 'InvalidResponse'});
        this.fail(error);
        waiter.reject(error);
        resetSocket(this.socket);
        return;
      }
      waiter.resolve(line);
      return;
    }
    const head = this.queue[0];
    if (line.startsWith('+')) {
      head?.onContinue?.(line.slice(2));
      return;
    }
    if (line.startsWith('*')) {
      if (/^\* BYE/i.test(line)) this.closeError = closedError(`server said goodbye: ${line.slice(6)}`);
      if (!head) return;
      if (head.onUntagged) head.onUntagged(line);
      else head.untagged.push(line);
      return;
    }
    const space = line.indexOf(' ');
    const tag = line.slice(0, space);
    const index = this.queue.findIndex((pending) => pending.tag === tag);
    if (index < 0) return;
    const [pending] = this.queue.splice(index, 1);
    const rest = line.slice(space + 1);
    const status = rest.slice(0, 3).toUpperCase().trim();
    if (status === 'OK') {
      this.readCapabilities(rest);
      pending!.resolve({text: rest.replace(/^OK\s*/i, ''), untagged: pending!.untagged});
      return;
    }
    const text = rest.replace(/^(NO|BAD)\s*/i, '');
    const code = /^\[([^\]\s]+)[^\]]*\]\s*/.exec(text);
    pending!.reject(
      Object.assign(new Error('Command failed'), {
        responseStatus: status === 'BAD' ? 'BAD' : 'NO',
        responseText: code ? text.slice(code[0].length) : text,
        ...(code ? {serverResponseCode: code[1]!.toUpperCase()} : {}),
        executedCommand: pending!.label,
      }),
    );
  }

  private fail(error: Error): void {
    if (this.closed && this.queue.length === 0 && !this.greetingWaiter) return;
    this.closed = true;
    const reason = this.closeError ?? (isConnectionError(error) ? error : closedError(error.message));
    this.closeError = reason;
    this.greetingWaiter?.reject(reason);
    this.greetingWaiter = undefined;
    if (this.literal?.consumer) this.literal = undefined;
    for (const chunk of this.inbox.splice(0)) release(chunk);
    for (const pending of this.queue.splice(0)) pending.reject(reason);
  }
}

function resetSocket(socket: net.Socket | tls.TLSSocket): void {
  // TLS sockets cannot reset their own handle; the TCP socket under them can.
  const tcp = socket instanceof tls.TLSSocket ? (socket as tls.TLSSocket & {_parent?: net.Socket})._parent : socket;
  try {
    if (tcp && !tcp.destroyed) tcp.resetAndDestroy();
  } catch {
    // Not connected any more: nothing left to discard.
  }
  socket.destroy();
}

async function failAsAuth(work: Promise<TaggedResult>): Promise<void> {
  try {
    await work;
  } catch (error) {
    throw Object.assign(error as Error, {authenticationFailed: true});
  }
}

/** A base64 SASL challenge as text, when it is printable (an OAuth2 error is JSON). */
function decodedChallenge(text: string): string | undefined {
  const decoded = Buffer.from(text.trim(), 'base64').toString('utf8');
  return decoded !== '' && /^[\x20-\x7e]+$/.test(decoded) ? decoded.slice(0, 200) : undefined;
}

function isConnectionError(error: Error): boolean {
  return typeof (error as NodeJS.ErrnoException).code === 'string';
}

export function closedError(message: string): Error {
  return Object.assign(new Error(message), {code: 'NoConnection'});
}

function tlsOptions(endpoint: EndpointConfig): tls.ConnectionOptions {
  return {
    rejectUnauthorized: !endpoint.acceptUntrusted,
    minVersion: 'TLSv1.2',
    ...(net.isIP(endpoint.host) ? {} : {servername: endpoint.host}),
  };
}

/**
 * Plain TCP reads go into pooled slabs and reach `deliver` (see read-buffer-pool.ts); TLS sockets
 * and those that may become TLS (STARTTLS) read the usual way and emit 'data'.
 */
function openSocket(endpoint: EndpointConfig, deliver: (chunk: Buffer) => void): Promise<net.Socket | tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('Connection timed out'), {code: 'CONNECT_TIMEOUT'}));
    }, endpoint.timeouts.connectMs);
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    const socket =
      endpoint.security === 'tls'
        ? tls.connect({host: endpoint.host, port: endpoint.port, ...tlsOptions(endpoint)}, () => done())
        : endpoint.security === 'none'
          ? pooledConnect(endpoint, deliver, () => done())
          : net.connect({host: endpoint.host, port: endpoint.port}, () => done());
    const done = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    };
    socket.once('error', onError);
  });
}

/** A plain socket reading into pooled slabs; the slab waiting for the next read goes back on close. */
function pooledConnect(endpoint: EndpointConfig, deliver: (chunk: Buffer) => void, onConnect: () => void): net.Socket {
  let waiting: Buffer | undefined;
  const socket = net.connect({
    host: endpoint.host,
    port: endpoint.port,
    onread: {
      buffer: () => (waiting = takeSlab()),
      callback: (bytes, slab) => {
        waiting = undefined;
        deliver((slab as Buffer).subarray(0, bytes));
        return true;
      },
    },
  }, onConnect);
  socket.once('close', () => {
    if (waiting) release(waiting);
    waiting = undefined;
  });
  return socket;
}

function wrapTls(plain: net.Socket, endpoint: EndpointConfig): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(Object.assign(error, {tlsFailed: true}));
    const secure = tls.connect({socket: plain, ...tlsOptions(endpoint)}, () => {
      secure.off('error', onError);
      resolve(secure);
    });
    secure.once('error', onError);
  });
}
