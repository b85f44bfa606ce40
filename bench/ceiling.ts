// The ceiling: how fast this machine's source Dovecot can be drained (FETCH every body and
// discard it) and how fast the target can absorb (pipelined LITERAL+ APPENDs of the corpus
// files, read from the page cache, i.e. from memory). A copier cannot beat the slower of the two;
// mailferry's throughput is reported as a share of it.
//
// Runs as a child process of the bench, one connection per mailbox, N mailboxes at a time:
//   MAILFERRY_BENCH_PASSWORD=... node --import tsx bench/ceiling.ts drain|absorb \
//     --host 127.0.0.1 --port 143 --login-suffix '*admin' --corpus DIR --mailboxes a@x,b@x \
//     --concurrency 4 --connections-per-mailbox 1
// and prints one JSON line {messages, bytes, seconds}. Absorb can spread a mailbox over several
// connections, since a server that fsyncs every saved message absorbs faster with more of them.

import {readFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {messagePath, type Corpus, type CorpusFolder, type CorpusMailbox, type CorpusManifest, type CorpusMessage} from './corpus.js';
import {encodeModifiedUtf7} from '../source/imap/modified-utf7.js';
import {imapDateTime, quoteString, RawImap} from './raw-imap.js';
import {eachLimited} from './runners/tool-runner.js';

export const PASSWORD_ENV = 'MAILFERRY_BENCH_PASSWORD';

export interface CeilingResult {
  messages: number;
  bytes: number;
  seconds: number;
}

interface Target {
  host: string;
  port: number;
  loginSuffix: string;
  password: string;
}

async function login(server: Target, mailbox: CorpusMailbox, what: string): Promise<RawImap> {
  const client = await RawImap.connect(server.host, server.port, `${what} ${mailbox.login}`);
  await client.command(`LOGIN ${quoteString(mailbox.login + server.loginSuffix)} ${quoteString(server.password)}`);
  return client;
}

function imapName(name: string): string {
  return quoteString(name.split('/').map(encodeModifiedUtf7).join('/'));
}

async function drainMailbox(server: Target, mailbox: CorpusMailbox): Promise<{messages: number; bytes: number}> {
  const client = await login(server, mailbox, 'drain');
  for (const folder of mailbox.folders) {
    await client.command(`EXAMINE ${imapName(folder.name)}`);
    // What a copier needs of each message, so the source does the work it does for a copier.
    if (folder.messages.length) await client.command('UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])');
  }
  await client.logout();
  return {messages: client.fetchResponses, bytes: client.literalBytes};
}

// Enough APPENDs in flight to hide the round trip, bounded so memory stays flat.
const MAX_IN_FLIGHT_COMMANDS = 64;
const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;

/** Pipelined APPENDs of `items` on one connection. */
async function appendAll(client: RawImap, corpus: Corpus, mailbox: CorpusMailbox, items: Array<[CorpusFolder, CorpusMessage]>): Promise<number> {
  const inFlight = new Set<Promise<unknown>>();
  let inFlightBytes = 0;
  let bytes = 0;
  for (const [folder, message] of items) {
    while (inFlight.size >= MAX_IN_FLIGHT_COMMANDS || (inFlight.size > 0 && inFlightBytes >= MAX_IN_FLIGHT_BYTES)) {
      await Promise.race(inFlight);
    }
    const data = readFileSync(messagePath(corpus, mailbox.login, folder, message));
    const flags = [...message.flags.map((f) => `\\${f}`), ...message.keywords].join(' ');
    const done: Promise<unknown> = client
      .command(`APPEND ${imapName(folder.name)} (${flags}) ${imapDateTime(message.internalDate)} {${data.length}+}\r\n`, data)
      .finally(() => {
        inFlight.delete(done);
        inFlightBytes -= data.length;
      });
    inFlight.add(done);
    inFlightBytes += data.length;
    bytes += data.length;
    await client.drained();
  }
  await Promise.all(inFlight);
  return bytes;
}

/** Creates the folders, then APPENDs every message over `lanes` connections (round robin). */
async function absorbMailbox(server: Target, corpus: Corpus, mailbox: CorpusMailbox, lanes: number): Promise<{messages: number; bytes: number}> {
  const clients = await Promise.all(Array.from({length: lanes}, () => login(server, mailbox, 'absorb')));
  for (const folder of mailbox.folders) {
    if (folder.name === 'INBOX') continue;
    // Special-use folders may be auto-created already: ALREADYEXISTS is fine.
    await clients[0]!.command(`CREATE ${imapName(folder.name)}`).catch((error: Error) => {
      if (!/ALREADYEXISTS|already exists/i.test(error.message)) throw error;
    });
  }
  const items = mailbox.folders.flatMap((folder) => folder.messages.map((message): [CorpusFolder, CorpusMessage] => [folder, message]));
  const perLane = clients.map((_, lane) => items.filter((_, i) => i % lanes === lane));
  const bytes = await Promise.all(clients.map((client, lane) => appendAll(client, corpus, mailbox, perLane[lane]!)));
  await Promise.all(clients.map((client) => client.logout()));
  return {messages: items.length, bytes: bytes.reduce((sum, b) => sum + b, 0)};
}

export async function runCeiling(
  kind: 'drain' | 'absorb',
  server: Target,
  corpus: Corpus,
  logins: string[],
  concurrency: number,
  connectionsPerMailbox: number,
): Promise<CeilingResult> {
  const mailboxes = corpus.manifest.mailboxes.filter((m) => logins.includes(m.login));
  const started = performance.now();
  const results = await eachLimited(mailboxes, concurrency, (mailbox) =>
    kind === 'drain' ? drainMailbox(server, mailbox) : absorbMailbox(server, corpus, mailbox, connectionsPerMailbox),
  );
  return {
    seconds: (performance.now() - started) / 1000,
    messages: results.reduce((sum, r) => sum + r.messages, 0),
    bytes: results.reduce((sum, r) => sum + r.bytes, 0),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const kind = argv[0];
  if (kind !== 'drain' && kind !== 'absorb') throw new Error('usage: ceiling.ts drain|absorb --host H --port P --login-suffix S --corpus DIR --mailboxes a,b --concurrency N --connections-per-mailbox K');
  const option = (name: string) => {
    const index = argv.indexOf(name);
    if (index < 0 || argv[index + 1] === undefined) throw new Error(`ceiling: missing ${name}`);
    return argv[index + 1]!;
  };
  const password = process.env[PASSWORD_ENV];
  if (!password) throw new Error(`ceiling: set ${PASSWORD_ENV} to the server's password`);
  const dir = option('--corpus');
  const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as CorpusManifest;
  const result = await runCeiling(
    kind,
    {host: option('--host'), port: Number(option('--port')), loginSuffix: option('--login-suffix'), password},
    {dir, manifest},
    option('--mailboxes').split(','),
    Number(option('--concurrency')),
    Number(option('--connections-per-mailbox')),
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`ceiling: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
