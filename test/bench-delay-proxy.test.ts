import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import net from 'node:net';
import {startDelayProxy, type DelayProxy} from '../bench/delay-proxy.js';
import {waitFor} from './helpers/batch-fixture.js';

// Behaviour of the latency proxy the benchmark puts in front of a server: bytes intact and in
// order, half-close and resets passed on, memory bounded. (How long it delays is a timing
// property, measured by the bench, not asserted here.)

const servers: net.Server[] = [];
const proxies: DelayProxy[] = [];
after(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  for (const server of servers) server.close();
});

async function listen(handler: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({allowHalfOpen: true}, handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function proxyTo(port: number, maxBufferedBytes?: number): Promise<DelayProxy> {
  const proxy = await startDelayProxy({upstreamPort: port, delayMs: 5, ...(maxBufferedBytes ? {maxBufferedBytes} : {})});
  proxies.push(proxy);
  return proxy;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({host: '127.0.0.1', port, allowHalfOpen: true}, () => resolve(socket));
    socket.once('error', reject);
  });
}

function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

describe('bench delay proxy', () => {
  it('relays 8 MB each way byte for byte, in order, and passes the half-close on', async () => {
    // The upstream echoes, then ends its side once the client has ended its own.
    const port = await listen((socket) => {
      socket.on('data', (chunk: Buffer) => socket.write(chunk));
      socket.on('end', () => socket.end());
    });
    const proxy = await proxyTo(port);
    const client = await connect(proxy.port);
    const payload = randomBytes(8 * 1024 * 1024);
    const received = readAll(client);
    for (let i = 0; i < payload.length; i += 100_000) client.write(payload.subarray(i, i + 100_000));
    client.end();
    assert.ok((await received).equals(payload));
    const stats = proxy.stats();
    assert.equal(stats.bytesToUpstream, payload.length);
    assert.equal(stats.bytesToClient, payload.length);
  });

  it('delivers what the server sent before closing, then ends the client', async () => {
    const port = await listen((socket) => socket.end('* BYE closing\r\n'));
    const proxy = await proxyTo(port);
    const client = await connect(proxy.port);
    const received = readAll(client);
    client.end();
    assert.equal((await received).toString(), '* BYE closing\r\n');
  });

  it('closes the client when the upstream refuses the connection', async () => {
    const port = await listen(() => {});
    // Closed (its callback): the port now refuses connections.
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const proxy = await proxyTo(port);
    const client = await connect(proxy.port);
    // The client sees the server's side end without a byte: what a refused server looks like.
    assert.equal((await readAll(client)).length, 0);
    client.destroy();
  });

  it('stops reading from a sender whose receiver does not read (bounded buffer)', async () => {
    const limit = 1024 * 1024;
    let upstream: net.Socket | undefined;
    const port = await listen((socket) => {
      upstream = socket;
      socket.pause();
    });
    const proxy = await proxyTo(port, limit);
    const client = await connect(proxy.port);
    const chunk = Buffer.alloc(64 * 1024, 7);
    // 32 times the limit, queued on the client at once: a proxy that kept reading would hold a
    // large part of it while the server does not read.
    const total = 32 * limit;
    for (let written = 0; written < total; written += chunk.length) client.write(chunk);
    await waitFor('the proxy to hold its limit', () => (proxy.stats().peakBufferedBytes >= limit ? true : undefined), 30_000, 5);
    // Now the server reads: everything arrives, and the proxy never held more than its limit
    // plus the chunk that crossed it (the kernel's socket buffers are not ours).
    let received = 0;
    const all = new Promise<void>((resolve) => {
      upstream!.on('data', (data: Buffer) => {
        received += data.length;
        if (received >= total) resolve();
      });
    });
    upstream!.resume();
    await all;
    assert.equal(received, total);
    assert.ok(proxy.stats().peakBufferedBytes <= limit + 64 * 1024, `held ${proxy.stats().peakBufferedBytes} bytes`);
    client.destroy();
    upstream?.destroy();
  });

  it('refuses an upstream that is not loopback', async () => {
    await assert.rejects(startDelayProxy({upstreamHost: '192.0.2.1', upstreamPort: 143, delayMs: 25}), /not loopback/);
  });

  it('stop() ends open connections', async () => {
    const port = await listen(() => {});
    const proxy = await proxyTo(port);
    const client = await connect(proxy.port);
    const received = readAll(client);
    await proxy.stop();
    assert.equal((await received).length, 0);
    client.destroy();
  });
});
