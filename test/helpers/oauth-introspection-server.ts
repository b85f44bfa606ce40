// A stand-in for an OAuth2 provider's token introspection endpoint (RFC 7662), served on
// 127.0.0.1 for Dovecot's `passdb { driver = oauth2 }` (introspection_mode = post). It knows which
// tokens it accepts and for whom; a token may expire after N uses; an admin token acts for anyone
// the test names. `dovecotConfig()` gives the extraConfig that makes a test Dovecot use it.

import {createServer, type Server} from 'node:http';
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

interface TokenEntry {
  user: string;
  /** Introspections left before the token counts as expired; undefined = unlimited. */
  usesLeft?: number;
}

export interface IntrospectionServer {
  readonly url: string;
  /** Accept `token` as `user` (optionally for `uses` introspections only). */
  accept(token: string, user: string, uses?: number): void;
  /** Accept every token `rule` names a user for, each for `usesPerToken` introspections (a
   *  token command that prints a new token each run, and tokens that expire mid-run). A rule
   *  may instead answer {user, uses} to limit only some tokens. */
  acceptRule(rule: (token: string) => string | {user: string; uses?: number} | undefined, usesPerToken?: number): void;
  /** Introspections answered "not active". */
  refusals(): number;
  /** The token no longer counts (revoked / expired now). */
  revoke(token: string): void;
  /** Introspection requests seen, per token. */
  uses(token: string): number;
  /**
   * Lines for DovecotOptions.extraConfig: the oauth2 passdb pointing here. `usernameFormat` is
   * what Dovecot compares between the login and the token's user (default %Lu, the whole name);
   * '%d' makes a token of admin@example.test good for every user @example.test, a server that
   * lets one admin token act for all mailboxes.
   */
  dovecotConfig(options?: {usernameFormat?: string}): Promise<string>;
  stop(): Promise<void>;
}

export async function startIntrospectionServer(): Promise<IntrospectionServer> {
  const tokens = new Map<string, TokenEntry>();
  const seen = new Map<string, number>();
  const revoked = new Set<string>();
  let rule: {match: (token: string) => string | {user: string; uses?: number} | undefined; uses: number | undefined} | undefined;
  let refused = 0;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      seen.set(token, (seen.get(token) ?? 0) + 1);
      if (!tokens.has(token) && rule && !revoked.has(token)) {
        const matched = rule.match(token);
        const user = typeof matched === 'string' ? matched : matched?.user;
        const uses = typeof matched === 'object' ? matched.uses : rule.uses;
        if (user !== undefined) tokens.set(token, uses === undefined ? {user} : {user, usesLeft: uses});
      }
      const entry = tokens.get(token);
      let answer: Record<string, unknown>;
      if (entry && (entry.usesLeft === undefined || entry.usesLeft > 0)) {
        if (entry.usesLeft !== undefined) entry.usesLeft--;
        answer = {active: true, username: entry.user};
      } else {
        refused++;
        // With a username that matches no login, Dovecot refuses the login (AUTHENTICATIONFAILED);
        // without one it would report an internal failure instead.
        answer = {active: false, username: 'nobody@invalid'};
      }
      const text = JSON.stringify(answer);
      response.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)});
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('introspection server: no port');
  const url = `http://127.0.0.1:${address.port}/introspect`;
  const dirs: string[] = [];
  return {
    url,
    accept(token, user, uses) {
      tokens.set(token, uses === undefined ? {user} : {user, usesLeft: uses});
    },
    acceptRule(match, usesPerToken) {
      rule = {match, uses: usesPerToken};
    },
    revoke(token) {
      tokens.delete(token);
      revoked.add(token);
    },
    refusals() {
      return refused;
    },
    uses(token) {
      return seen.get(token) ?? 0;
    },
    async dovecotConfig(options = {}) {
      const dir = await mkdtemp(join(tmpdir(), 'mailferry-oauth2-'));
      dirs.push(dir);
      // Dovecot's auth process runs as another user and must read the file.
      await chmod(dir, 0o755);
      const file = join(dir, 'dovecot-oauth2.conf.ext');
      await writeFile(
        file,
        [
          'introspection_mode = post',
          `introspection_url = ${url}`,
          'force_introspection = yes',
          'username_attribute = username',
          'active_attribute = active',
          'active_value = true',
          ...(options.usernameFormat ? [`username_format = ${options.usernameFormat}`] : []),
          '',
        ].join('\n'),
        {mode: 0o644},
      );
      return ['auth_mechanisms = plain login xoauth2 oauthbearer', 'passdb {', '  driver = oauth2', '  mechanisms = xoauth2 oauthbearer', `  args = ${file}`, '}', ''].join('\n');
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(dirs.map((dir) => rm(dir, {recursive: true, force: true})));
    },
  };
}
