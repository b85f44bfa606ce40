// A loopback IMAP proxy that adds a header line to every message APPENDed through it, the way a
// scanning gateway or a converting target (Exchange Online) stores something other than what was
// sent: another RFC822.SIZE, one more header field. Client-to-server bytes are parsed just enough
// to find APPEND message literals ({n}, {n+}, ~{n}; MULTIAPPEND included); each gets `header` in
// front and its announced size grows by as much. Everything else passes through untouched.

import net from 'node:net';

export interface HeaderAddingProxy {
  port: number;
  /** Messages rewritten so far. */
  rewritten(): number;
  stop(): Promise<void>;
}

const LITERAL_AT_END = /(~?)\{(\d+)(\+?)\}\r\n$/;

export async function startHeaderAddingProxy(upstreamPort: number, header: string): Promise<HeaderAddingProxy> {
  const added = Buffer.from(header, 'latin1');
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    for (const socket of [client, upstream]) {
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
    upstream.pipe(client);
    upstream.on('end', () => client.end());
    client.on('end', () => upstream.end());
    let line: Buffer[] = [];
    let literalLeft = 0;
    let prefix: Buffer | undefined;
    let inAppend = false;
    let literalsInCommand = 0;
    let mailboxIsLiteral = false;
    client.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length) {
        if (literalLeft > 0) {
          const take = Math.min(literalLeft, chunk.length - offset);
          if (prefix) {
            upstream.write(prefix);
            prefix = undefined;
          }
          upstream.write(chunk.subarray(offset, offset + take));
          literalLeft -= take;
          offset += take;
          continue;
        }
        const newline = chunk.indexOf(0x0a, offset);
        if (newline < 0) {
          line.push(chunk.subarray(offset));
          break;
        }
        line.push(chunk.subarray(offset, newline + 1));
        offset = newline + 1;
        const text = Buffer.concat(line).toString('latin1');
        line = [];
        if (literalsInCommand === 0 && !inAppend) {
          inAppend = /^\S+ (UID )?APPEND /i.test(text);
          mailboxIsLiteral = /^\S+ APPEND ~?\{\d+\+?\}\r\n$/i.test(text);
        }
        const literal = LITERAL_AT_END.exec(text);
        if (!literal) {
          upstream.write(Buffer.from(text, 'latin1'));
          inAppend = false;
          literalsInCommand = 0;
          continue;
        }
        const size = Number(literal[2]);
        const isMessage = inAppend && !(literalsInCommand === 0 && mailboxIsLiteral) && size > 0;
        literalsInCommand++;
        literalLeft = size;
        if (!isMessage) {
          upstream.write(Buffer.from(text, 'latin1'));
          continue;
        }
        count++;
        prefix = added;
        upstream.write(Buffer.from(`${text.slice(0, literal.index)}${literal[1]}{${size + added.length}${literal[3]}}\r\n`, 'latin1'));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    rewritten: () => count,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
