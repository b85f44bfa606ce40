// A plain loopback TCP relay in front of the target that notes when the first APPEND after an
// "arm" arrives: the scale scenario's resume start-up is process start -> that moment, seen from
// the target's side, so it covers everything a resumed batch does before copying again (reading
// the state, the lock, the CSV, logging in, listing, planning).
//
//   node --import tsx bench/scale/append-tap.ts --upstream-port 10143
// Prints `LISTENING <port>`. A line `arm` on stdin answers `ARMED`, and the next APPEND command
// any client sends is answered on stdout with `APPEND <epoch ms>`. `count` answers `COUNT <n>`
// (connections so far). It exits when stdin closes (the bench ended or died).
//
// Only client-to-server bytes are looked at, and only while armed, so unarmed it is a pipe. A
// command line starts a chunk or follows CRLF; a message body the client is sending that contains
// "\r\nX APPEND " could be mistaken for one, which a copy resuming at a fresh connection (whose
// first commands are LOGIN, LIST, SELECT) does not meet before its real first APPEND.

import net from 'node:net';
import {createInterface} from 'node:readline';
import {parseArgs} from 'node:util';

const LOOPBACK = new Set(['127.0.0.1', '::1']);
const APPEND_LINE = /(?:^|\r\n)[!#-'*-Z^-~]+ (?:UID )?APPEND /i;

const {values} = parseArgs({options: {'upstream-host': {type: 'string', default: '127.0.0.1'}, 'upstream-port': {type: 'string'}}});
const upstreamHost = values['upstream-host']!;
const upstreamPort = Number(values['upstream-port']);
if (!LOOPBACK.has(upstreamHost)) throw new Error(`append-tap: the upstream must be loopback, not ${upstreamHost}`);
if (!Number.isInteger(upstreamPort)) throw new Error('append-tap: --upstream-port is required');

let armed = false;
let connections = 0;

const server = net.createServer((client) => {
  connections++;
  const upstream = net.connect(upstreamPort, upstreamHost);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.on('data', (chunk: Buffer) => {
    if (armed && APPEND_LINE.test(chunk.toString('latin1'))) {
      armed = false;
      process.stdout.write(`APPEND ${Date.now()}\n`);
    }
  });
  client.pipe(upstream);
  upstream.pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${(server.address() as net.AddressInfo).port}\n`);
});

const input = createInterface({input: process.stdin});
input.on('line', (line) => {
  if (line.trim() === 'arm') {
    armed = true;
    process.stdout.write('ARMED\n');
  } else if (line.trim() === 'count') process.stdout.write(`COUNT ${connections}\n`);
});
input.on('close', () => process.exit(0));
