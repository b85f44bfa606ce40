// A narrow link in front of a test server, so that a copy runs long enough for a test to act on
// it half way (stop a mailbox, kill the process, restart the server). The streamed copy moves a
// test mailbox of a few MB over plain loopback in a fraction of a second, before any stop could
// land. The link is the bench's delay proxy with small buffers: about 16 KB per 5 ms, i.e. some
// 3 MB/s per connection and direction.

import {startDelayProxy, type DelayProxy} from '../../bench/delay-proxy.js';
import type {DovecotServer} from './dovecot-pair.js';
import {through, type PairLike} from './batch-fixture.js';

export function startSlowLink(server: DovecotServer): Promise<DelayProxy> {
  return startDelayProxy({upstreamPort: server.imapPort, delayMs: 5, maxBufferedBytes: 16 * 1024});
}

/** The pair as a batch sees it when its target is reached through `link`. */
export function withSlowTarget(pair: PairLike, link: DelayProxy): PairLike {
  return {source: pair.source, target: through(pair.target, link.port)};
}
