// A userspace TCP proxy on loopback that adds a fixed one-way delay in each direction.
// This kernel has no netem, so the latency variants of the benchmark put this in front of the
// source or the target. Each chunk is held for `delayMs` and then written in arrival order, so the
// link behaves like a long pipe (bandwidth preserved, round trip = 2 x delay), not a serialiser
// that would pay the delay once per chunk.
//
// Run in-process via startDelayProxy(), or as a child process (what the bench does, so the proxy's
// work does not share an event loop with the bench's bookkeeping):
//   node --import tsx bench/delay-proxy.ts --upstream-port 10143 --delay-ms 25
// It prints `LISTENING <port>` on stdout, and stops by itself when its stdin closes (the bench
// ended or died), on SIGTERM/SIGINT, or after --max-lifetime-s.

import {spawn} from 'node:child_process';
import net from 'node:net';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';

export interface DelayProxyOptions {
  upstreamHost?: string;
  upstreamPort: number;
  delayMs: number;
  /** Bytes held per direction per connection before reading from the sender pauses. */
  maxBufferedBytes?: number;
}

export interface DelayProxyStats {
  connections: number;
  maxConcurrentConnections: number;
  /** Most bytes held for one direction of one connection (queued + not yet taken by the socket). */
  peakBufferedBytes: number;
  bytesToUpstream: number;
  bytesToClient: number;
}

export interface DelayProxy {
  host: string;
  port: number;
  stats(): DelayProxyStats;
  stop(): Promise<void>;
}

// The bench must never touch anything but this machine.
const LOOPBACK = new Set(['127.0.0.1', '::1']);

// 16 MB covers the bandwidth-delay product of a loopback IMAP stream (hundreds of MB/s x 25 ms)
// without letting a stalled peer grow the proxy without bound.
const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;

type QueueItem = {due: number; chunk: Buffer} | {due: number; end: true};

/** Copies `from` to `to`, every chunk (and the final FIN) delivered `delayMs` after it arrived. */
function delayedPipe(
  from: net.Socket,
  to: net.Socket,
  delayMs: number,
  maxBuffered: number,
  count: (n: number) => void,
  buffered: (n: number) => void,
): void {
  const queue: QueueItem[] = [];
  let head = 0;
  let queuedBytes = 0;
  let timer: NodeJS.Timeout | undefined;

  const overLimit = () => queuedBytes + to.writableLength > maxBuffered;
  const maybeResume = () => {
    if (from.isPaused() && !from.destroyed && queuedBytes + to.writableLength <= maxBuffered / 2) from.resume();
  };

  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (head < queue.length && queue[head]!.due <= now) {
      const item = queue[head++]!;
      if (to.destroyed) continue;
      if ('end' in item) {
        to.end();
      } else {
        queuedBytes -= item.chunk.length;
        count(item.chunk.length);
        to.write(item.chunk);
      }
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    maybeResume();
    schedule();
  };

  const schedule = () => {
    if (timer || head >= queue.length) return;
    timer = setTimeout(flush, Math.max(0, queue[head]!.due - performance.now()));
  };

  from.on('data', (chunk: Buffer) => {
    queue.push({due: performance.now() + delayMs, chunk});
    queuedBytes += chunk.length;
    buffered(queuedBytes + to.writableLength);
    if (overLimit()) from.pause();
    schedule();
  });
  from.on('end', () => {
    queue.push({due: performance.now() + delayMs, end: true});
    schedule();
  });
  to.on('drain', maybeResume);
  // Nobody left to deliver to: drop what is held and stop the sender rather than queue forever.
  to.on('close', () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    queue.length = 0;
    head = 0;
    queuedBytes = 0;
    if (!from.readableEnded) from.destroy();
  });
}

export function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const upstreamHost = options.upstreamHost ?? '127.0.0.1';
  if (!LOOPBACK.has(upstreamHost)) {
    return Promise.reject(new Error(`delay proxy: upstream ${upstreamHost} is not loopback; the bench only talks to 127.0.0.1 or ::1`));
  }
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  const sockets = new Set<net.Socket>();
  const stats: DelayProxyStats = {connections: 0, maxConcurrentConnections: 0, peakBufferedBytes: 0, bytesToUpstream: 0, bytesToClient: 0};
  const buffered = (n: number) => {
    if (n > stats.peakBufferedBytes) stats.peakBufferedBytes = n;
  };
  let open = 0;

  const server = net.createServer({allowHalfOpen: true, noDelay: true}, (client) => {
    const upstream = net.connect({host: upstreamHost, port: options.upstreamPort, allowHalfOpen: true, noDelay: true});
    stats.connections++;
    open++;
    stats.maxConcurrentConnections = Math.max(stats.maxConcurrentConnections, open);
    sockets.add(client);
    sockets.add(upstream);
    let closed = 0;
    const onClose = (socket: net.Socket, peer: net.Socket) => (hadError: boolean) => {
      sockets.delete(socket);
      if (++closed === 2) open--;
      if (hadError) peer.destroy();
    };
    // A reset or error on either side ends both (a refused upstream ends the client at once).
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', onClose(client, upstream));
    upstream.on('close', onClose(upstream, client));
    delayedPipe(client, upstream, options.delayMs, maxBuffered, (n) => (stats.bytesToUpstream += n), buffered);
    delayedPipe(upstream, client, options.delayMs, maxBuffered, (n) => (stats.bytesToClient += n), buffered);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        host: '127.0.0.1',
        port: address.port,
        stats: () => ({...stats}),
        stop: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

function parseArgs(argv: string[]): {upstreamPort: number; upstreamHost: string; delayMs: number; maxLifetimeS: number} {
  const value = (name: string, fallback?: string) => {
    const index = argv.indexOf(name);
    const found = index >= 0 ? argv[index + 1] : fallback;
    if (found === undefined) throw new Error(`delay proxy: missing ${name}`);
    return found;
  };
  return {
    upstreamPort: Number(value('--upstream-port')),
    upstreamHost: value('--upstream-host', '127.0.0.1'),
    delayMs: Number(value('--delay-ms', '25')),
    maxLifetimeS: Number(value('--max-lifetime-s', '7200')),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const proxy = await startDelayProxy(args);
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    await proxy.stop();
    process.stdout.write(`STATS ${JSON.stringify({...proxy.stats(), stoppedBecause: why})}\n`);
    process.exit(0);
  };
  process.stdout.write(`LISTENING ${proxy.port}\n`);
  // The parent holds our stdin open; when it ends (bench finished, crashed or was killed) so do we.
  process.stdin.on('end', () => void stop('stdin closed'));
  process.stdin.on('error', () => void stop('stdin error'));
  process.stdin.resume();
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  setTimeout(() => void stop('max lifetime reached'), args.maxLifetimeS * 1000);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`delay proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

export interface DelayProxyProcess {
  port: number;
  /** Ends the proxy (closing its stdin) and returns what it saw. */
  stop(): Promise<DelayProxyStats | undefined>;
}

/** Starts the proxy as a child process; it also stops by itself if this process dies. */
export function spawnDelayProxy(upstreamPort: number, delayMs: number, maxLifetimeS: number): Promise<DelayProxyProcess> {
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), '--upstream-port', String(upstreamPort), '--delay-ms', String(delayMs), '--max-lifetime-s', String(maxLifetimeS)],
    {stdio: ['pipe', 'pipe', 'inherit']},
  );
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => (output += text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<DelayProxyStats | undefined> => {
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
    const line = /^STATS (.*)$/m.exec(output)?.[1];
    return line ? (JSON.parse(line) as DelayProxyStats) : undefined;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('delay proxy did not start within 20 s'));
    }, 20_000);
    child.stdout.on('data', () => {
      const port = /^LISTENING (\d+)$/m.exec(output)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve({port: Number(port), stop});
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`delay proxy exited during startup (code ${code})`));
    });
  });
}
