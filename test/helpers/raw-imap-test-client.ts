// A small IMAP client for tests that must see exactly what a server sends and send exactly the
// bytes they mean: literal8 (`~{n}`, RFC 3516) in both directions, which imapflow 2.1.2 neither
// sends nor parses, pipelined commands, and responses kept as raw tokens. It shares no code with
// source/imap/raw-session.ts on purpose, so a parser bug there cannot hide in a comparison here.

import net from 'node:net';
import type {DovecotServer} from './dovecot-pair.js';

/** A parsed response item: atom or quoted string (latin1 text), literal bytes, a list, or NIL. */
export type Token = string | Buffer | Token[] | null;

export interface TaggedAnswer {
  status: 'OK' | 'NO' | 'BAD';
  /** The tagged line after the status, e.g. "[APPENDUID 7 12] Append completed." */
  text: string;
  /** Untagged responses received while this command was the oldest in flight, as tokens after "*". */
  untagged: Token[][];
}

interface Waiting {
  tag: string;
  untagged: Token[][];
  resolve: (answer: TaggedAnswer) => void;
  reject: (error: Error) => void;
}

/** A literal's announcement at the end of a line: {n}, {n+}, ~{n} or ~{n+}. */
const LITERAL_AT_END = /~?\{(\d+)\+?\}$/;

export class RawTestClient {
  capabilities = new Set<string>();
  private buffer: Buffer = Buffer.alloc(0);
  private readonly queue: Waiting[] = [];
  private tagCounter = 0;
  private greeting: ((line: string) => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket, private readonly label: string) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const waiting of this.queue.splice(0)) waiting.reject(this.failure);
    };
    socket.on('error', fail);
    // A rejection nobody waits for (the LOGOUT's, once the server has closed) is not an error.
    socket.on('end', () => socket.destroy());
    socket.on('close', () => fail(new Error(`${this.label}: connection closed`)));
  }

  /** Logs in as `login` through the server's master user (like an admin's migration tool). */
  static async open(server: DovecotServer, login: string): Promise<RawTestClient> {
    const socket = net.connect({host: server.host, port: server.imapPort});
    const client = new RawTestClient(socket, `${server.role} ${login}`);
    await new Promise<void>((resolve, reject) => {
      client.greeting = () => resolve();
      socket.once('error', reject);
    });
    const user = `${login}${server.masterSeparator}${server.masterUser}`;
    await client.ok(`LOGIN ${quoteAscii(user)} ${quoteAscii(server.masterPassword)}`);
    const capability = await client.ok('CAPABILITY');
    for (const response of capability.untagged) {
      if (response[0] === 'CAPABILITY') for (const name of response.slice(1)) client.capabilities.add(String(name).toUpperCase());
    }
    return client;
  }

  /** Sends one command (text and literal bytes already framed by the caller, without the tag). */
  send(...parts: (string | Buffer)[]): Promise<TaggedAnswer> {
    if (this.failure) return Promise.reject(this.failure);
    const tag = `T${++this.tagCounter}`;
    return new Promise((resolve, reject) => {
      this.queue.push({tag, untagged: [], resolve, reject});
      this.socket.cork();
      this.socket.write(`${tag} `);
      for (const part of parts) this.socket.write(part);
      this.socket.write('\r\n');
      this.socket.uncork();
    });
  }

  /** Like send(), but throws unless the answer is OK. */
  async ok(...parts: (string | Buffer)[]): Promise<TaggedAnswer> {
    const answer = await this.send(...parts);
    if (answer.status !== 'OK') {
      const head = typeof parts[0] === 'string' ? parts[0].slice(0, 120) : '(bytes)';
      throw new Error(`${this.label}: ${head} answered ${answer.status} ${answer.text}`);
    }
    return answer;
  }

  async logout(): Promise<void> {
    await this.send('LOGOUT').catch(() => undefined);
    this.socket.destroy();
  }

  private parse(): void {
    for (;;) {
      const response = this.takeResponse();
      if (!response) return;
      this.dispatch(response);
    }
  }

  /** One whole response (its lines and literals) from the buffer, or undefined when incomplete. */
  private takeResponse(): {text: string; tokens: () => Token[]} | undefined {
    const segments: (string | Buffer)[] = [];
    let position = 0;
    for (;;) {
      const end = this.buffer.indexOf('\r\n', position, 'latin1');
      if (end < 0) return undefined;
      const line = this.buffer.subarray(position, end).toString('latin1');
      const literal = LITERAL_AT_END.exec(line);
      if (!literal) {
        segments.push(line);
        this.buffer = this.buffer.subarray(end + 2);
        const first = segments[0] as string;
        return {text: first, tokens: () => tokenize(segments)};
      }
      const size = Number(literal[1]);
      if (this.buffer.length < end + 2 + size) return undefined;
      segments.push(line.slice(0, literal.index));
      // A copy: the socket's chunk must not stay referenced by long-lived results.
      segments.push(Buffer.from(this.buffer.subarray(end + 2, end + 2 + size)));
      position = end + 2 + size;
    }
  }

  private dispatch(response: {text: string; tokens: () => Token[]}): void {
    const {text} = response;
    if (this.greeting) {
      const done = this.greeting;
      this.greeting = undefined;
      done(text);
      return;
    }
    if (text.startsWith('+')) return; // continuation: every literal this client sends is LITERAL+ or follows one
    if (text.startsWith('* ')) {
      this.queue[0]?.untagged.push(response.tokens().slice(1));
      return;
    }
    const match = /^(\S+) (OK|NO|BAD) ?(.*)$/i.exec(text);
    const waiting = this.queue[0];
    if (!match || !waiting || match[1] !== waiting.tag) {
      this.failure ??= new Error(`${this.label}: unexpected response ${JSON.stringify(text.slice(0, 200))}`);
      this.socket.destroy();
      return;
    }
    this.queue.shift();
    waiting.resolve({status: match[2]!.toUpperCase() as TaggedAnswer['status'], text: match[3] ?? '', untagged: waiting.untagged});
  }
}

/** Tokens of a response made of text segments and the literals between them. */
function tokenize(segments: readonly (string | Buffer)[]): Token[] {
  const root: Token[] = [];
  const stack: Token[][] = [root];
  for (const segment of segments) {
    if (typeof segment !== 'string') {
      stack[stack.length - 1]!.push(segment);
      continue;
    }
    let i = 0;
    while (i < segment.length) {
      const c = segment[i]!;
      if (c === ' ') {
        i++;
      } else if (c === '(') {
        const list: Token[] = [];
        stack[stack.length - 1]!.push(list);
        stack.push(list);
        i++;
      } else if (c === ')') {
        if (stack.length > 1) stack.pop();
        i++;
      } else if (c === '"') {
        let value = '';
        i++;
        while (i < segment.length && segment[i] !== '"') {
          if (segment[i] === '\\') i++;
          value += segment[i] ?? '';
          i++;
        }
        i++;
        stack[stack.length - 1]!.push(value);
      } else {
        // Atoms may hold brackets (BODY[], BINARY[]); a section with a space is never requested.
        let end = i;
        while (end < segment.length && !' ()"'.includes(segment[end]!)) end++;
        const atom = segment.slice(i, end);
        stack[stack.length - 1]!.push(atom.toUpperCase() === 'NIL' ? null : atom);
        i = end;
      }
    }
  }
  return root;
}

/** An ASCII value as a quoted string (RFC 3501 quoted: backslash and quote escaped). */
export function quoteAscii(value: string): string {
  if (/[^\x20-\x7e]/.test(value)) throw new Error(`quoteAscii: ${JSON.stringify(value)} is not printable ASCII`);
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** Folder name to modified UTF-7 (RFC 3501 5.1.3), written here independently of the engine's. */
export function encodeFolderName(name: string): string {
  let out = '';
  let pending = '';
  const flush = () => {
    if (!pending) return;
    const utf16be = Buffer.from(pending, 'utf16le').swap16();
    out += `&${utf16be.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = '';
  };
  for (const char of name) {
    const code = char.codePointAt(0)!;
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += char === '&' ? '&-' : char;
    } else {
      pending += char;
    }
  }
  flush();
  return out;
}

export function decodeFolderName(encoded: string): string {
  return encoded.replace(/&([^-]*)-/g, (_, base64: string) => {
    if (base64 === '') return '&';
    return Buffer.from(base64.replace(/,/g, '/'), 'base64').swap16().toString('utf16le');
  });
}

/** A folder name as a command argument. */
export function folderArgument(name: string): string {
  return quoteAscii(encodeFolderName(name));
}

/** Token as text (atoms, quoted strings and literals alike). */
export function tokenText(token: Token | undefined): string {
  if (token === null || token === undefined) return '';
  if (Buffer.isBuffer(token)) return token.toString('latin1');
  if (Array.isArray(token)) return token.map(tokenText).join(' ');
  return token;
}
