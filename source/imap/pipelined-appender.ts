// Target connections that only APPEND, and pipeline them (over raw-session.ts).
//
// imapflow keeps one command in flight per connection and sends literals as synchronizing ones
// above 4 KB (it waits for the server's "+" even when the server offers LITERAL+), so each APPEND
// of a real message costs two round trips: at 50 ms to the target that is 10 messages a second
// per connection whatever the bandwidth. With LITERAL+ (RFC 7888) a client may send the literal
// right behind the command and the next command right behind that.
//
// PipelinedAppender appends whole Buffers (the buffered path, one message per command). Without
// LITERAL+ it still beats imapflow: it waits for the server's "+" before each body, but the next
// command goes out right behind the body (one round trip per message, not two), and the body is
// written from the caller's Buffer, where imapflow copies it twice (its compiled command and the
// line end appended to it): three times a 30 MB message's memory, and most of a process's peak.
// AppendStreamWriter appends messages whose bytes arrive in pieces (streamed from the source's
// FETCH) and, when the server offers MULTIAPPEND (RFC 3502), groups them into one APPEND command
// per batch: the server stores a batch in one transaction, which costs Dovecot a third less CPU
// than one transaction per message, and a batch is atomic (a cut connection stores none of it).
// It needs LITERAL+ (openAppendSession resolves undefined without it): a body streamed from the
// source cannot wait for a continuation half way.

import type {EndpointConfig, LoginIdentity} from './endpoint.js';
import {closedError, mailboxArgument, RawImapSession, type TaggedResult} from './raw-session.js';

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

const FLAG_ATOM = /^\\?[^\s(){%*"\\\]\x00-\x1f\x7f]+$/;

/** The source's INTERNALDATE passed on as written (its zone kept); anything else is not used. */
const DATE_TIME = /^[ \d]\d-[A-Za-z]{3}-\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

/** A date as the server wrote it if well-formed, else re-written; undefined if unreadable. */
function passOnDate(date: string): string | undefined {
  if (DATE_TIME.test(date)) return date;
  const parsed = Date.parse(date.replace(/-/g, ' '));
  return Number.isNaN(parsed) ? undefined : imapDateTime(new Date(parsed));
}

/** " (flags) "date"" for one message of an APPEND; flags that are not atoms are left out. */
function appendOptions(flags: readonly string[], date: Date | string | undefined): string {
  const flagList = flags.filter((flag) => FLAG_ATOM.test(flag)).join(' ');
  const dateTime = typeof date === 'string' ? passOnDate(date) : date ? imapDateTime(date) : undefined;
  return ` (${flagList})${dateTime ? ` "${dateTime}"` : ''}`;
}

function outcomeOf(result: TaggedResult): AppendOutcome {
  const match = /\[APPENDUID (\d+) (\d+)\]/i.exec(result.text);
  return match ? {uidValidity: BigInt(match[1]!), uid: Number(match[2])} : {};
}

/** Opens a session for APPENDs; undefined when the server does not offer LITERAL+. */
export async function openAppendSession(endpoint: EndpointConfig, identity: LoginIdentity): Promise<RawImapSession | undefined> {
  const session = await RawImapSession.open(endpoint, identity);
  if (session.capabilities.has('LITERAL+')) return session;
  session.close();
  return undefined;
}

/** RFC 7888: LITERAL- allows a non-synchronizing literal up to this size. */
const LITERAL_MINUS_MAX = 4096;

export class PipelinedAppender {
  /** Without LITERAL+: the body that waits for the server's "+" (at most one at a time). */
  private awaitingContinuation: (() => void) | undefined;
  /** Without LITERAL+: resolves once the last command's body is written (or refused unsent). */
  private bodyWritten: Promise<void> = Promise.resolve();

  private constructor(readonly session: RawImapSession) {}

  /** Connects and logs in. */
  static async connect(endpoint: EndpointConfig, identity: LoginIdentity): Promise<PipelinedAppender> {
    return new PipelinedAppender(await RawImapSession.open(endpoint, identity));
  }

  get capabilities(): Set<string> {
    return this.session.capabilities;
  }

  /** True with LITERAL+: commands go out at once, bodies never wait for the server. */
  get pipelined(): boolean {
    return this.session.capabilities.has('LITERAL+');
  }

  /** Answers arrive in order. Resolves with APPENDUID when the server has UIDPLUS. */
  append(path: string, content: Buffer, flags: readonly string[], date?: Date): Promise<AppendOutcome> {
    const binary = content.includes(0) && this.session.capabilities.has('BINARY');
    const command = `APPEND ${mailboxArgument(path)}${appendOptions(flags, date)} ${binary ? '~' : ''}{${content.length}`;
    if (this.pipelined) {
      const started = this.session.begin(`${command}+}\r\n`);
      this.session.write(content);
      this.session.write('\r\n');
      return started.then(outcomeOf);
    }
    const synchronizing = !(this.session.capabilities.has('LITERAL-') && content.length <= LITERAL_MINUS_MAX);
    // A command sent while an earlier body waits for its "+" would be read as part of that body.
    const previous = this.bodyWritten;
    let written!: () => void;
    this.bodyWritten = new Promise((resolve) => (written = resolve));
    return previous.then(() => {
      const sendBody = () => {
        this.session.write(content);
        this.session.write('\r\n');
        written();
      };
      if (synchronizing) this.awaitingContinuation = sendBody;
      const result = this.session.begin(`${command}${synchronizing ? '' : '+'}}\r\n`, {onContinue: this.onContinue});
      if (!synchronizing) sendBody();
      // A refusal before the "+" (no such folder, too large) means the body is never sent.
      void result
        .catch(() => {})
        .finally(() => {
          if (this.awaitingContinuation === sendBody) this.awaitingContinuation = undefined;
          written();
        });
      return result.then(outcomeOf);
    });
  }

  /**
   * The session hands a "+" to its oldest unanswered command, which may be an earlier APPEND of
   * ours whose body went out already; the one body that waits is the right one either way.
   */
  private readonly onContinue = (): void => {
    const send = this.awaitingContinuation;
    this.awaitingContinuation = undefined;
    send?.();
  };

  get isClosed(): boolean {
    return this.session.isClosed;
  }

  close(): void {
    this.session.close();
  }
}

export interface AppendBatch {
  /** Caller's ids of the messages in this command, in order (source UIDs). */
  ids: number[];
  bytes: number;
  /** The server's answer for the whole command. */
  result: Promise<AppendOutcome>;
  /** Ended with withdrawMessage(): the server should have refused it and stored none of it. */
  withdrawn?: boolean;
}

export interface AppendStreamLimits {
  /** Messages in the first APPEND command; each next one may hold twice as many, up to maxMessages. */
  firstMessages: number;
  /** Messages per APPEND command (1 without MULTIAPPEND). */
  maxMessages: number;
  /** Bytes after which a batch is closed at the next message boundary. */
  maxBytes: number;
}

/**
 * Streams messages into APPEND commands on one session: startMessage(), data() for each piece,
 * endMessage(); flush() closes the open batch. Every closed command is handed to `onBatch`.
 */
export class AppendStreamWriter {
  private open: {ids: number[]; bytes: number; result: Promise<TaggedResult>; withdrawn?: boolean} | undefined;
  private remaining = 0;
  private readonly multi: boolean;
  private batchLimit: number;

  constructor(
    private readonly session: RawImapSession,
    private readonly path: string,
    private readonly limits: AppendStreamLimits,
    private readonly onBatch: (batch: AppendBatch) => void,
  ) {
    this.multi = session.capabilities.has('MULTIAPPEND') && limits.maxMessages > 1;
    // Small batches first: the first messages of a folder show up (and count as done) at once,
    // larger ones later keep the target's per-transaction cost low.
    this.batchLimit = Math.max(1, Math.min(limits.firstMessages, limits.maxMessages));
  }

  /** Writes one message's part of the command up to its literal; `size` bytes must follow. */
  startMessage(id: number, size: number, flags: readonly string[], date: Date | string | undefined): void {
    if (this.remaining !== 0) throw new Error('AppendStreamWriter: the previous message is not complete');
    const part = `${appendOptions(flags, date)} {${size}+}\r\n`;
    if (!this.open) {
      const result = this.session.begin(`APPEND ${mailboxArgument(this.path)}${part}`);
      // Answered through flush(); a batch cut short by a closed connection is never flushed.
      result.catch(() => {});
      this.open = {ids: [], bytes: 0, result};
    } else {
      this.session.write(part);
    }
    this.open.ids.push(id);
    this.open.bytes += size;
    this.remaining = size;
  }

  /** A piece of the current message; a promise when the caller should wait before the next. */
  data(chunk: Buffer): void | Promise<void> {
    if (chunk.length > this.remaining) throw new Error('AppendStreamWriter: more bytes than the literal announced');
    this.remaining -= chunk.length;
    if (this.session.write(chunk)) return undefined;
    return this.session.isClosed ? Promise.reject(this.session.failure ?? closedError('connection closed')) : this.session.drained();
  }

  endMessage(): void {
    if (this.remaining !== 0) throw new Error(`AppendStreamWriter: message ended ${this.remaining} bytes short`);
    const batch = this.open!;
    if (!this.multi || batch.ids.length >= this.batchLimit || batch.bytes >= this.limits.maxBytes) this.flush();
  }

  /**
   * Ends the current message like endMessage(), but so that the target stores none of the
   * command it is in: its bytes went out already (a literal cannot be taken back), and they are
   * not what the source stores (see imap/nul-bytes.ts). The command ends with ")" where only SP
   * or CRLF may follow a literal (RFC 3501 section 9, append; RFC 3502), a syntax error: the
   * server answers BAD and, as for any failed MULTIAPPEND, appends none of its messages. Dovecot
   * 2.3.19 does so (then answers the rest of the line with an untagged BAD, harmless here).
   * The batch is handed over with `withdrawn`, for the caller to copy its messages another way.
   * A NOOP goes right behind it: Dovecot disconnects after 20 commands in a row with errors
   * (CLIENT_MAX_BAD_COMMANDS), and a folder of such messages would withdraw one after another.
   */
  withdrawMessage(): void {
    if (this.remaining !== 0) throw new Error(`AppendStreamWriter: message ended ${this.remaining} bytes short`);
    this.open!.withdrawn = true;
    this.flush();
    this.session.command('NOOP').catch(() => {});
  }

  /** Ends the open command, if any. */
  flush(): void {
    if (this.remaining !== 0) throw new Error('AppendStreamWriter: cannot end a batch inside a message');
    const batch = this.open;
    if (!batch) return;
    this.open = undefined;
    this.batchLimit = Math.min(this.limits.maxMessages, this.batchLimit * 2);
    this.session.write(batch.withdrawn ? ')\r\n' : '\r\n');
    this.onBatch({ids: batch.ids, bytes: batch.bytes, result: batch.result.then(outcomeOf), ...(batch.withdrawn ? {withdrawn: true} : {})});
  }

  /** True while a message's bytes are still owed: the session can only be closed, not reused. */
  get midMessage(): boolean {
    return this.remaining !== 0;
  }
}
