// A tiny TCP server on 127.0.0.1 that is not an IMAP server: it greets with seeded garbage, or
// with "* OK " followed by an endless line (no CRLF, ever, megabytes as fast as the client reads),
// or greets properly and answers the first command with an endless line. What a port that
// belongs to something else, or a broken proxy, looks like to mailferry.

import net from 'node:net';
import {SeededRandom} from '../../bench/seeded-random.js';

export type HostileMode = 'garbage' | 'endless line' | 'endless answer';

export interface HostileServer {
  port: number;
  /** Bytes sent to all clients so far. */
  sent(): number;
  connections(): number;
  stop(): Promise<void>;
}

const CHUNK = 64 * 1024;

export async function startHostileServer(mode: HostileMode, seed: number): Promise<HostileServer> {
  let sent = 0;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    const random = new SeededRandom(seed + connections);
    if (mode === 'garbage') {
      // Seeded bytes, some of them CRLF-separated "lines"; then silence, or (seeded) a hang-up.
      const bytes = random.fill(Buffer.alloc(random.int(1, 4096)));
      if (random.chance(0.5)) for (let i = random.int(1, 40); i < bytes.length; i += random.int(20, 400)) bytes.write('\r\n', i, 'latin1');
      sent += bytes.length;
      socket.write(bytes);
      if (random.chance(0.3)) socket.end();
      return;
    }
    const filler = Buffer.alloc(CHUNK, 'A');
    const pump = () => {
      // Only as fast as the client reads: the server's own memory stays flat.
      while (!socket.destroyed && socket.writable) {
        sent += CHUNK;
        if (!socket.write(filler)) return;
      }
    };
    socket.on('drain', pump);
    if (mode === 'endless line') {
      sent += 5;
      socket.write('* OK ');
      pump();
      return;
    }
    const greeting = '* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN-REFERRALS] hostile ready\r\n';
    sent += greeting.length;
    socket.write(greeting);
    socket.once('data', () => {
      sent += 2;
      socket.write('* ');
      pump();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sent: () => sent,
    connections: () => connections,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
