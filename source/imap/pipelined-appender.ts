// A target connection that only APPENDs, and pipelines them.
//
// imapflow keeps one command in flight per connection and sends literals as synchronizing ones
// above 4 KB (it waits for the server's "+" even when the server offers LITERAL+), so each APPEND
// of a real message costs two round trips: at 50 ms to the target that is 10 messages a second
// per connection whatever the bandwidth. With LITERAL+ (RFC 7888) a client may send the literal
// right behind the command and the next command right behind that; this connection does exactly
// that and nothing else: greeting, optional STARTTLS, CAPABILITY, login, then a stream of tagged
// APPENDs answered in order. It also writes the caller's Buffer straight to the socket, where
// imapflow copies a body twice while compiling the command.
//
// Servers without LITERAL+ get no PipelinedAppender (connect resolves undefined) and the engine
// uses imapflow connections instead. Errors mimic imapflow's shape (responseStatus, responseText,
// serverResponseCode, code) so translateError() treats both paths alike.

import net from 'node:net';
import tls from 'node:tls';
import type {EndpointConfig, LoginIdentity} from './endpoint.js';
import {encodeModifiedUtf7} from './modified-utf7.js';

interface Pending {
  tag: string;
  command: string;
  resolve: (line: string) => void;
  reject: (error: Error) => void;
  /** Called for "+" continuations (only for non-pipelined commands: login). */
  onContinue?: (text: string) => void;
}

export interface AppendOutcome {
  uid?: number;
  uidValidity?: bigint;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMAP date-time (RFC 3501 section 9), in UTC. */
export function imapDateTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** A quoted string, or undefined when the value needs a literal (CR, LF, NUL or 8-bit). */
function quoted(value: string): string | undefined {
  if (/[\r\n\0]/.test(value) || /[^\x01-\x7f]/.test(value)) return undefined;
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

const FLAG_ATOM = /^\\?[^\s(){%*"\\\]\x00-\x1f\x7f]+$/;

export class PipelinedAppender {
  private socket: net.Socket | tls.TLSSocket;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly queue: Pending[] = [];
  private tagCounter = 0;
  private closed = false;
  private closeError: Error | undefined;
  private greetingWaiter: {resolve: (line: string) => void; reject: (error: Error) => void} | undefined;
  private pendingLiteral: {bytes: number; line: string} | undefined;
  private lineParts: string[] = [];
  capabilities = new Set<string>();

  private constructor(socket: net.Socket | tls.TLSSocket, private readonly endpoint: EndpointConfig) {
    this.socket = socket;
    this.attach(socket);
  }

  /** Connects and logs in; undefined when the server does not offer LITERAL+. */
  static async connect(endpoint: EndpointConfig, identity: LoginIdentity): Promise<PipelinedAppender | undefined> {
    const socket = await openSocket(endpoint);
    const client = new PipelinedAppender(socket, endpoint);
    try {
      const greeting = await client.waitGreeting();
      if (/^\* BYE/i.test(greeting)) throw closedError(`server refused the connection: ${greeting.slice(6)}`);
      client.readCapabilities(greeting);
      if (endpoint.security === 'starttls') {
        if (client.capabilities.size === 0) await client.refreshCapabilities();
        if (!client.capabilities.has('STARTTLS')) throw Object.assign(new Error('Server does not offer STARTTLS'), {tlsFailed: true});
        await client.command('STARTTLS');
        await client.upgradeTls();
        client.capabilities.clear();
      }
      if (!/^\* PREAUTH/i.test(greeting)) {
        if (client.capabilities.size === 0) await client.refreshCapabilities();
        await client.login(identity);
      }
      await client.refreshCapabilities();
      if (!client.capabilities.has('LITERAL+')) {
        client.close();
        return undefined;
      }
      return client;
    } catch (error) {
      client.close();
      throw error;
    }
  }

  /** Sends at once; answers arrive in order. Resolves with APPENDUID when the server has UIDPLUS. */
  append(path: string, content: Buffer, flags: readonly string[], date?: Date): Promise<AppendOutcome> {
    if (this.closed) return Promise.reject(this.closeError ?? closedError('connection closed'));
    const mailbox = quoted(encodeModifiedUtf7(path)) ?? `"${encodeModifiedUtf7(path)}"`;
    const flagList = flags.filter((flag) => FLAG_ATOM.test(flag)).join(' ');
    const binary = content.includes(0) && this.capabilities.has('BINARY');
    const head = `APPEND ${mailbox} (${flagList})${date ? ` "${imapDateTime(date)}"` : ''} ${binary ? '~' : ''}{${content.length}+}`;
    return this.send(head, content).then((line) => {
      const match = /\[APPENDUID (\d+) (\d+)\]/i.exec(line);
      return match ? {uidValidity: BigInt(match[1]!), uid: Number(match[2])} : {};
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    if (!this.socket.destroyed && this.queue.length === 0) {
      // A polite goodbye when idle; the server does not need to wait for our reading it.
      this.socket.end(`Z${++this.tagCounter} LOGOUT\r\n`);
    }
    this.fail(closedError('connection closed by mailferry'));
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  // ---- protocol ----------------------------------------------------------------------------

  private send(text: string, literal?: Buffer, onContinue?: (text: string) => void): Promise<string> {
    const tag = `M${++this.tagCounter}`;
    return new Promise<string>((resolve, reject) => {
      const pending: Pending = {tag, command: `${tag} ${text.split(' ').slice(0, 2).join(' ')}`, resolve, reject};
      if (onContinue) pending.onContinue = onContinue;
      this.queue.push(pending);
      this.socket.write(`${tag} ${text}\r\n`);
      if (literal) {
        this.socket.write(literal);
        this.socket.write('\r\n');
      }
    });
  }

  private async command(text: string): Promise<string> {
    return this.send(text);
  }

  private async refreshCapabilities(): Promise<void> {
    const line = await this.command('CAPABILITY');
    this.readCapabilities(line);
  }

  private readCapabilities(line: string): void {
    const match = /\[CAPABILITY ([^\]]*)\]/i.exec(line) ?? /^\* CAPABILITY (.*)$/im.exec(line);
    if (!match) return;
    this.capabilities = new Set(match[1]!.trim().toUpperCase().split(/\s+/));
  }

  private async login(identity: LoginIdentity): Promise<void> {
    if (identity.accessToken) {
      const payload = Buffer.from(`user=${identity.user}\x01auth=Bearer ${identity.accessToken}\x01\x01`).toString('base64');
      await this.saslInitial('XOAUTH2', payload);
      return;
    }
    const password = identity.password ?? '';
    const wantPlain = identity.authzid !== undefined || this.endpoint.loginMechanism === 'PLAIN' ||
      (this.endpoint.loginMechanism === 'auto' && this.capabilities.has('AUTH=PLAIN'));
    if (wantPlain) {
      const payload = Buffer.from(`${identity.authzid ?? ''}\0${identity.user}\0${password}`).toString('base64');
      await this.saslInitial('PLAIN', payload);
      return;
    }
    const user = quoted(identity.user);
    const pass = quoted(password);
    if (user === undefined || pass === undefined) {
      // Non-ASCII credentials go as SASL PLAIN (UTF-8 by definition) rather than literals.
      const payload = Buffer.from(`\0${identity.user}\0${password}`).toString('base64');
      await this.saslInitial('PLAIN', payload);
      return;
    }
    await this.failAsAuth(this.command(`LOGIN ${user} ${pass}`));
  }

  private async saslInitial(mechanism: string, payload: string): Promise<void> {
    let payloadSent = this.capabilities.has('SASL-IR');
    const command = payloadSent ? `AUTHENTICATE ${mechanism} ${payload}` : `AUTHENTICATE ${mechanism}`;
    await this.failAsAuth(
      this.send(command, undefined, () => {
        // The first "+" asks for the initial response; a later one carries the server's error
        // (XOAUTH2/OAUTHBEARER, RFC 7628) and waits for an empty answer before the tagged NO.
        this.socket.write(payloadSent ? '\r\n' : `${payload}\r\n`);
        payloadSent = true;
      }),
    );
  }

  private async failAsAuth(work: Promise<string>): Promise<void> {
    try {
      await work;
    } catch (error) {
      throw Object.assign(error as Error, {authenticationFailed: true});
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
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: Error) => this.fail(error));
    socket.on('close', () => this.fail(closedError('the server closed the connection')));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.pendingLiteral) {
        if (this.buffer.length < this.pendingLiteral.bytes) return;
        // Literal content in a response (rare for APPEND): kept only as text for the log line.
        this.lineParts.push(this.buffer.subarray(0, this.pendingLiteral.bytes).toString('latin1'));
        this.buffer = this.buffer.subarray(this.pendingLiteral.bytes);
        this.pendingLiteral = undefined;
      }
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      const part = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 2);
      const literal = /\{(\d+)\}$/.exec(part);
      if (literal) {
        this.lineParts.push(part);
        this.pendingLiteral = {bytes: Number(literal[1]), line: part};
        continue;
      }
      const line = this.lineParts.length > 0 ? this.lineParts.join('') + part : part;
      this.lineParts = [];
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    if (this.greetingWaiter) {
      const waiter = this.greetingWaiter;
      this.greetingWaiter = undefined;
      waiter.resolve(line);
      return;
    }
    if (line.startsWith('+')) {
      this.queue[0]?.onContinue?.(line.slice(2));
      return;
    }
    if (line.startsWith('*')) {
      if (/^\* CAPABILITY /i.test(line)) this.readCapabilities(line);
      if (/^\* BYE/i.test(line)) this.closeError = closedError(`server said goodbye: ${line.slice(6)}`);
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
      pending!.resolve(rest);
      return;
    }
    const text = rest.replace(/^(NO|BAD)\s*/i, '');
    const code = /^\[([^\]\s]+)[^\]]*\]\s*/.exec(text);
    pending!.reject(
      Object.assign(new Error('Command failed'), {
        responseStatus: status === 'BAD' ? 'BAD' : 'NO',
        responseText: code ? text.slice(code[0].length) : text,
        ...(code ? {serverResponseCode: code[1]!.toUpperCase()} : {}),
        executedCommand: pending!.command,
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
    for (const pending of this.queue.splice(0)) pending.reject(reason);
  }
}

function isConnectionError(error: Error): boolean {
  return typeof (error as NodeJS.ErrnoException).code === 'string';
}

function closedError(message: string): Error {
  return Object.assign(new Error(message), {code: 'NoConnection'});
}

function tlsOptions(endpoint: EndpointConfig): tls.ConnectionOptions {
  return {
    rejectUnauthorized: !endpoint.acceptUntrusted,
    minVersion: 'TLSv1.2',
    ...(net.isIP(endpoint.host) ? {} : {servername: endpoint.host}),
  };
}

function openSocket(endpoint: EndpointConfig): Promise<net.Socket | tls.TLSSocket> {
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
