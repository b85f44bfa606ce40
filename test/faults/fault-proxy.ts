// The campaign's fault proxy: a TCP proxy on 127.0.0.1 in front of one Dovecot that breaks
// chosen connections the way networks and servers do. Each new connection asks the plan for a
// fault; a fault waits until the client has sent a given command (`armOn`, e.g. "APPEND" or
// "FETCH"), then counts bytes in one direction and, at the chosen offset, forwards exactly that
// many and then cuts (FIN or RST), stalls, or slows the connection, or sends the client an
// endless line in place of the server's answer. `refuse(ms)` closes the
// listening socket for a while, so new connections are refused as by a restarting server.
// The plan comes from the round's seed, so a failing round replays fault for fault.

import net from 'node:net';

export type Direction = 'to-server' | 'to-client';

export interface ConnectionFault {
  /** What the campaign's table counts it as, e.g. "cut rst source->client mid-FETCH". */
  label: string;
  /** endless: once the client has sent `armOn`, it reads one line without end in place of the answer. */
  action: 'fin' | 'rst' | 'stall' | 'slow' | 'endless';
  /** Whose bytes are counted toward `afterBytes`. */
  direction: Direction;
  /** Counting starts after the client has sent this text (case-sensitive); absent: at connect. */
  armOn?: string;
  afterBytes: number;
  /** stall: how long nothing moves either way. */
  stallMs?: number;
  /** slow: the pace in both directions from the offset on. */
  bytesPerSecond?: number;
}

export interface FaultProxyStats {
  connections: number;
  /** label -> faults that fired (a connection that ended before its offset does not count). */
  fired: Record<string, number>;
  refusals: number;
}

export interface FaultProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Replaces the plan for connections made from now on. */
  setPlan(plan: FaultPlan): void;
  /**
   * Refuses new connections for `ms` (the listening socket is closed meanwhile); with
   * `dropOpen`, first resets every open connection, as a server that restarts does.
   */
  refuse(ms: number, label?: string, options?: {dropOpen?: boolean}): Promise<void>;
  stats(): FaultProxyStats;
  /** Open client connections right now. */
  openConnections(): number;
  stop(): Promise<void>;
}

/** The fault for the `index`-th connection (0-based), or none. */
export type FaultPlan = (index: number) => ConnectionFault | undefined;

const noFaults: FaultPlan = () => undefined;

/** An endless line stops here: far past any line limit a client should have. */
const ENDLESS_LIMIT = 512 * 1024 * 1024;

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  fault: ConnectionFault | undefined;
  armed: boolean;
  /** Bytes counted in the fault's direction since it was armed. */
  counted: number;
  fired: boolean;
  /** Set by a stall or a cut: nothing more is forwarded until it clears (a cut never clears). */
  blocked: boolean;
  cut: boolean;
  /** What arrived during a stall, in order; `end` stands for a FIN. */
  held: Array<{to: net.Socket; chunk: Buffer | 'end'}>;
  /** Tail of the client's stream, so an `armOn` split across two chunks is still seen. */
  tail: string;
  slowUntil: number;
}

export function startFaultProxy(options: {upstreamPort: number; plan?: FaultPlan}): Promise<FaultProxy> {
  let plan = options.plan ?? noFaults;
  const stats: FaultProxyStats = {connections: 0, fired: {}, refusals: 0};
  const links = new Set<Link>();
  let stopped = false;
  let port = 0;

  const fire = (link: Link) => {
    link.fired = true;
    stats.fired[link.fault!.label] = (stats.fired[link.fault!.label] ?? 0) + 1;
  };

  const cut = (link: Link, how: 'fin' | 'rst') => {
    link.blocked = true;
    link.cut = true;
    link.held.length = 0;
    const sockets = [link.client, link.upstream].filter((socket) => !socket.destroyed);
    for (const socket of sockets) socket.pause();
    if (how === 'rst') {
      // Let what was written before the offset leave first (an empty write completes after every
      // earlier one), then reset both sides in one go; a reset right behind a write reached the
      // peer as a plain FIN here.
      const written = sockets.map((socket) => new Promise<void>((resolve) => socket.write(Buffer.alloc(0), () => resolve())));
      void Promise.all(written).then(() => setTimeout(() => sockets.forEach((socket) => socket.resetAndDestroy()), 5));
    } else {
      for (const socket of sockets) socket.end();
    }
    if (how === 'fin') {
      // A peer that never answers the FIN with its own must not keep the link forever.
      setTimeout(() => {
        link.client.destroy();
        link.upstream.destroy();
      }, 5_000).unref();
    }
  };

  const send = (link: Link, from: net.Socket, to: net.Socket, chunk: Buffer) => {
    if (chunk.length === 0 || to.destroyed) return;
    if (link.blocked) {
      link.held.push({to, chunk});
      from.pause();
      return;
    }
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => {
        if (!link.blocked) from.resume();
      });
    }
  };

  const release = (link: Link) => {
    link.blocked = false;
    const held = link.held.splice(0);
    for (const {to, chunk} of held) {
      if (to.destroyed) continue;
      if (chunk === 'end') to.end();
      else to.write(chunk);
    }
    link.client.resume();
    link.upstream.resume();
  };

  const onData = (link: Link, direction: Direction, from: net.Socket, to: net.Socket) => (chunk: Buffer) => {
    const fault = link.fault;
    let countFrom = 0;
    if (fault?.armOn !== undefined && !link.armed && direction === 'to-server') {
      {
        const text = link.tail + chunk.toString('latin1');
        const at = text.indexOf(fault.armOn);
        if (at >= 0) {
          link.armed = true;
          countFrom = Math.max(0, at + fault.armOn.length - link.tail.length);
          if (fault.action === 'endless') {
            // The answer starts now: the server may be slow to give one, the flood is not.
            send(link, from, to, chunk);
            fire(link);
            return flood(link);
          }
        } else {
          link.tail = text.slice(-fault.armOn.length);
        }
      }
    }
    if (!fault || !link.armed || link.fired || direction !== fault.direction) {
      if (fault?.action === 'slow' && link.fired) return pace(link, from, to, chunk, fault);
      return send(link, from, to, chunk);
    }
    const room = fault.afterBytes - link.counted;
    const counted = chunk.length - countFrom;
    if (counted < room) {
      link.counted += counted;
      return send(link, from, to, chunk);
    }
    const before = chunk.subarray(0, countFrom + room);
    const after = chunk.subarray(countFrom + room);
    send(link, from, to, before);
    fire(link);
    switch (fault.action) {
      case 'fin':
      case 'rst':
        return cut(link, fault.action);
      case 'stall':
        link.blocked = true;
        send(link, from, to, after);
        setTimeout(() => release(link), fault.stallMs ?? 1_000).unref();
        return;
      case 'slow':
        return pace(link, from, to, after, fault);
      case 'endless':
        return flood(link);
    }
  };

  // The server's side goes quiet and the client reads one line without end, until it hangs up
  // (as a bounded reader must) or ENDLESS_LIMIT bytes have gone, when the link is reset.
  const flood = (link: Link) => {
    link.blocked = true;
    link.cut = true;
    link.held.length = 0;
    link.upstream.pause();
    const line = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const more = () => {
      while (!link.client.destroyed && sent < ENDLESS_LIMIT) {
        sent += line.length;
        if (!link.client.write(line)) return void link.client.once('drain', more);
      }
      for (const socket of [link.client, link.upstream]) if (!socket.destroyed) socket.resetAndDestroy();
    };
    link.client.on('close', () => link.upstream.destroy());
    more();
  };

  // Pauses the sender long enough after each chunk that the link averages `bytesPerSecond`.
  const pace = (link: Link, from: net.Socket, to: net.Socket, chunk: Buffer, fault: ConnectionFault) => {
    send(link, from, to, chunk);
    const rate = fault.bytesPerSecond ?? 64 * 1024;
    const now = Date.now();
    link.slowUntil = Math.max(link.slowUntil, now) + (chunk.length / rate) * 1000;
    if (link.slowUntil > now + 1) {
      from.pause();
      setTimeout(() => {
        if (!link.blocked && !from.destroyed) from.resume();
      }, link.slowUntil - now).unref();
    }
  };

  const server = net.createServer({allowHalfOpen: true, noDelay: true}, (client) => {
    const index = stats.connections++;
    const upstream = net.connect({host: '127.0.0.1', port: options.upstreamPort, allowHalfOpen: true, noDelay: true});
    const fault = plan(index);
    const link: Link = {client, upstream, fault, armed: fault !== undefined && fault.armOn === undefined, cut: false, counted: 0, fired: false, blocked: false, held: [], tail: '', slowUntil: 0};
    links.add(link);
    client.on('data', onData(link, 'to-server', client, upstream));
    upstream.on('data', onData(link, 'to-client', upstream, client));
    // A clean end passes through as an end; an error or reset on one side resets the other.
    const passEnd = (to: net.Socket) => () => {
      if (link.cut) return;
      if (link.blocked) link.held.push({to, chunk: 'end'});
      else to.end();
    };
    client.on('end', passEnd(upstream));
    upstream.on('end', passEnd(client));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    const closed = () => {
      if (client.destroyed && upstream.destroyed) links.delete(link);
    };
    client.on('close', () => {
      if (!link.cut && !upstream.destroyed && upstream.writableLength === 0) upstream.destroy();
      closed();
    });
    upstream.on('close', () => {
      if (!link.cut && !client.destroyed && client.writableLength === 0) client.destroy();
      closed();
    });
  });

  const listen = (onPort: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen(onPort, '127.0.0.1', () => {
        server.off('error', onError);
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });

  return listen(0).then(() => ({
    host: '127.0.0.1' as const,
    get port() {
      return port;
    },
    setPlan(next: FaultPlan) {
      plan = next;
    },
    async refuse(ms: number, label = 'refuse new connections', refuseOptions: {dropOpen?: boolean} = {}) {
      if (stopped) return;
      stats.refusals++;
      stats.fired[label] = (stats.fired[label] ?? 0) + 1;
      // close() stops accepting at once; its callback would wait for every open connection.
      server.close();
      if (refuseOptions.dropOpen) for (const link of links) cut(link, 'rst');
      await new Promise((resolve) => setTimeout(resolve, ms));
      // The port is ours again at once on loopback; a few tries cover a TIME_WAIT race.
      for (let attempt = 0; !stopped; attempt++) {
        try {
          await listen(port);
          return;
        } catch (error) {
          if (attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
    stats: () => ({...stats, fired: {...stats.fired}}),
    openConnections: () => links.size,
    stop: () =>
      new Promise<void>((resolve) => {
        stopped = true;
        for (const link of links) {
          link.client.destroy();
          link.upstream.destroy();
        }
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  }));
}
