// A deliberately minimal IMAP client for the ceiling measurement: it pipelines commands, counts
// FETCH responses and literal bytes and throws the literals away, and sends APPEND literals with
// LITERAL+ (RFC 7888) so nothing waits for a continuation. No parsing beyond what that needs, so
// the client costs as little as possible and the numbers show the servers' limit.

import net from 'node:net';

interface Pending {
  resolve: (line: string) => void;
  reject: (error: Error) => void;
}

export class RawImap {
  fetchResponses = 0;
  literalBytes = 0;
  private nextTag = 1;
  private readonly pending = new Map<string, Pending>();
  private partial: Buffer[] = [];
  private literalRemaining = 0;
  /** The line before ended in a literal: the next line continues that response. */
  private continuing = false;
  private greeting: Pending | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket, private readonly label: string) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(new Error(`${label}: ${error.message}`)));
    socket.on('close', () => this.fail(new Error(`${label}: connection closed by the server`)));
  }

  static connect(host: string, port: number, label: string, timeoutMs = 10_000): Promise<RawImap> {
    const socket = net.connect({host, port, noDelay: true});
    const client = new RawImap(socket, label);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: no greeting from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
      client.greeting = {
        resolve: () => {
          clearTimeout(timer);
          resolve(client);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  /** Sends one command (parts written in order, e.g. an APPEND line and its literal). */
  command(...parts: Array<string | Buffer>): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    const tag = `c${this.nextTag++}`;
    const promise = new Promise<string>((resolve, reject) => this.pending.set(tag, {resolve, reject}));
    this.socket.write(`${tag} `);
    for (const part of parts) this.socket.write(part);
    this.socket.write('\r\n');
    return promise;
  }

  /** Resolves when the socket can take more (backpressure for pipelined APPENDs). */
  drained(): Promise<void> {
    return this.socket.writableNeedDrain ? new Promise((resolve) => this.socket.once('drain', resolve)) : Promise.resolve();
  }

  async logout(): Promise<void> {
    await this.command('LOGOUT').catch(() => undefined);
    this.socket.destroy();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.greeting?.reject(error);
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  private onData(chunk: Buffer): void {
    let position = 0;
    while (position < chunk.length) {
      if (this.literalRemaining > 0) {
        const take = Math.min(this.literalRemaining, chunk.length - position);
        this.literalRemaining -= take;
        this.literalBytes += take;
        position += take;
        continue;
      }
      const newline = chunk.indexOf(0x0a, position);
      if (newline < 0) {
        this.partial.push(chunk.subarray(position));
        break;
      }
      const piece = chunk.subarray(position, newline + 1);
      const line = this.partial.length ? Buffer.concat([...this.partial, piece]) : piece;
      this.partial = [];
      position = newline + 1;
      this.onLine(line.toString('latin1'));
    }
  }

  private onLine(line: string): void {
    const continuation = this.continuing;
    const literal = /\{(\d+)\}\r\n$/.exec(line);
    this.continuing = literal !== null;
    if (literal) this.literalRemaining = Number(literal[1]);
    if (continuation) return;
    if (this.greeting) {
      const greeting = this.greeting;
      this.greeting = undefined;
      if (line.startsWith('* OK')) greeting.resolve(line);
      else greeting.reject(new Error(`${this.label}: unexpected greeting ${line.trim()}`));
      return;
    }
    if (line.startsWith('* ')) {
      if (/^\* \d+ FETCH /.test(line)) this.fetchResponses++;
      return;
    }
    if (line.startsWith('+')) return;
    const space = line.indexOf(' ');
    const pending = this.pending.get(line.slice(0, space));
    if (!pending) return;
    this.pending.delete(line.slice(0, space));
    if (line.slice(space + 1).startsWith('OK')) pending.resolve(line.trim());
    else pending.reject(new Error(`${this.label}: ${line.trim()}`));
  }
}

export function quoteString(value: string): string {
  if (/[\r\n"\\]/.test(value)) throw new Error(`cannot send ${JSON.stringify(value)} as an IMAP quoted string`);
  return `"${value}"`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3501 date-time for APPEND, e.g. "01-Jan-2024 10:00:00 +0000". */
export function imapDateTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `"${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000"`;
}
