// The fault campaign's proxy against a plain TCP peer on loopback: a cut forwards exactly the
// planned bytes before its FIN or RST, counting starts at the arming text, a stall and a slow link
// hold data back for at least as long as planned, and a refusal refuses.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {startFaultProxy, type FaultPlan} from './faults/fault-proxy.js';

/** A peer that sends `greeting` on connect and records what it receives and how it ended. */
interface Peer {
  port: number;
  sessions: Array<{received: Buffer[]; ended: Promise<string>}>;
  stop(): Promise<void>;
}

function startPeer(greeting: Buffer, endAfterGreeting: boolean): Promise<Peer> {
  const sessions: Peer['sessions'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({allowHalfOpen: true}, (socket) => {
    sockets.add(socket);
    const received: Buffer[] = [];
    const ended = new Promise<string>((resolve) => {
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      socket.on('end', () => {
        socket.end();
        resolve('end');
      });
    });
    sessions.push({received, ended});
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('close', () => sockets.delete(socket));
    socket.write(greeting);
    if (endAfterGreeting) socket.end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        sessions,
        stop: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/** Connects to `port`, writes `send`, and collects what arrives until the socket ends or fails. */
function talk(port: number, send?: Buffer): Promise<{received: Buffer; ended: string; ms: number}> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({host: '127.0.0.1', port, allowHalfOpen: true});
    const finish = (ended: string) => resolve({received: Buffer.concat(chunks), ended, ms: Date.now() - started});
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      socket.end();
      finish('end');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    if (send) socket.write(send);
  });
}

const pattern = (length: number) => Buffer.from(Array.from({length}, (_, i) => i % 251));

describe('fault proxy', () => {
  const greeting = pattern(300_000);
  // `peer` ends its side after the greeting; `listener` keeps the connection open until the client ends it.
  let peer: Peer;
  let listener: Peer;
  before(async () => {
    peer = await startPeer(greeting, true);
    listener = await startPeer(greeting.subarray(0, 1_000), false);
  });
  after(async () => {
    await peer.stop();
    await listener.stop();
  });

  const withProxy = async (plan: FaultPlan, use: (port: number) => Promise<void>, upstream = peer) => {
    const proxy = await startFaultProxy({upstreamPort: upstream.port, plan});
    try {
      await use(proxy.port);
    } finally {
      await proxy.stop();
    }
    return proxy.stats();
  };

  it('a FIN cut toward the client forwards exactly the planned bytes, then ends both sides', async () => {
    const stats = await withProxy(() => ({label: 'fin', action: 'fin', direction: 'to-client', afterBytes: 123_457}), async (port) => {
      const result = await talk(port);
      assert.equal(result.ended, 'end');
      assert.equal(result.received.length, 123_457);
      assert.deepEqual(result.received, greeting.subarray(0, 123_457));
    });
    assert.deepEqual(stats.fired, {fin: 1});
  });

  it('an RST cut toward the server counts from the arming text and resets both sides', async () => {
    const sessionsBefore = listener.sessions.length;
    const send = Buffer.concat([Buffer.from('a1 LOGIN x y\r\na2 APP'), Buffer.from('END INBOX {50000}\r\n'), pattern(50_000)]);
    const armedAt = send.indexOf('APPEND') + 'APPEND'.length;
    const stats = await withProxy(() => ({label: 'rst', action: 'rst', direction: 'to-server', armOn: 'APPEND', afterBytes: 20_000}), async (port) => {
      const result = await talk(port, send);
      assert.equal(result.ended, 'ECONNRESET');
    }, listener);
    const session = listener.sessions[sessionsBefore]!;
    assert.equal(await session.ended, 'ECONNRESET');
    assert.deepEqual(Buffer.concat(session.received), send.subarray(0, armedAt + 20_000));
    assert.deepEqual(stats.fired, {rst: 1});
  });

  it('a connection the plan leaves alone passes everything through', async () => {
    const stats = await withProxy((index) => (index === 1 ? {label: 'fin', action: 'fin', direction: 'to-client', afterBytes: 10} : undefined), async (port) => {
      const result = await talk(port);
      assert.equal(result.ended, 'end');
      assert.deepEqual(result.received, greeting);
    });
    assert.deepEqual(stats.fired, {});
    assert.equal(stats.connections, 1);
  });

  it('a stall holds everything for at least its length, then delivers all of it in order', async () => {
    const stats = await withProxy(() => ({label: 'stall', action: 'stall', direction: 'to-client', afterBytes: 1_000, stallMs: 700}), async (port) => {
      const result = await talk(port);
      assert.deepEqual(result.received, greeting);
      assert.ok(result.ms >= 700, `delivered after ${result.ms} ms, before the stall ended`);
    });
    assert.deepEqual(stats.fired, {stall: 1});
  });

  it('a slow link delivers everything, no faster than its pace', async () => {
    await withProxy(() => ({label: 'slow', action: 'slow', direction: 'to-client', afterBytes: 0, bytesPerSecond: 400_000}), async (port) => {
      const result = await talk(port);
      assert.deepEqual(result.received, greeting);
      // 300 KB at 400 KB/s; the last chunk's pause may not be waited for, so allow one chunk's worth.
      assert.ok(result.ms >= 500, `300 KB in ${result.ms} ms through a 400 KB/s link`);
    });
  });

  it('an endless line replaces the answer to the arming command until the client hangs up', async () => {
    const stats = await withProxy(() => ({label: 'endless', action: 'endless', direction: 'to-client', armOn: 'FETCH', afterBytes: 0}), async (port) => {
      const received = await new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        const socket = net.connect({host: '127.0.0.1', port});
        // The greeting first (1,000 bytes from the listener), then the command arms the fault.
        socket.once('data', () => socket.write('a1 UID FETCH 1:* BODY.PEEK[]\r\n'));
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          bytes += chunk.length;
          if (bytes > 4_000_000) socket.destroy();
        });
        socket.on('close', () => resolve(Buffer.concat(chunks)));
      });
      const answer = received.subarray(1_000);
      assert.ok(answer.length > 3_000_000, `${answer.length} bytes of answer`);
      assert.equal(answer.indexOf(0x0a), -1, 'the line never ends');
      assert.equal(answer.toString('latin1').replace(/x/g, ''), '');
    }, listener);
    assert.deepEqual(stats.fired, {endless: 1});
  });

  it('refuses new connections while told to, and accepts them again afterwards', async () => {
    const proxy = await startFaultProxy({upstreamPort: peer.port});
    try {
      const refusing = proxy.refuse(1_500);
      const during = await talk(proxy.port);
      assert.equal(during.ended, 'ECONNREFUSED');
      await refusing;
      const afterwards = await talk(proxy.port);
      assert.deepEqual(afterwards.received, greeting);
      assert.equal(proxy.stats().refusals, 1);
    } finally {
      await proxy.stop();
    }
  });
});
