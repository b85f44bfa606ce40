// The access tokens of one login, fetched with the endpoint's token command.
//
// Freshness: a mailbox pass opens several connections within moments (control connection, copy
// lanes, APPEND workers); they share the token fetched for the first one rather than running the
// command once per socket. That sharing ends when
// - the server refuses the token (refused(): the next open fetches a new one),
// - the token is older than TOKEN_REUSE_MS (a connection opened later in a long pass), or
// - the pass ends: every pass, including each retry after a lost connection (a reconnect),
//   builds new identities (row-credentials.ts) and so a new source with nothing cached.
// The token lives only in this object's memory; nothing here writes it anywhere.

import type {AccessTokenSource, EndpointConfig} from '../../imap/endpoint.js';
import type {EndpointRole} from '../../imap/imap-error.js';
import {runTokenCommand} from './token-command.js';

/** Long enough to cover a pass's opening burst of connections, far below any token's lifetime. */
export const TOKEN_REUSE_MS = 60_000;

export interface TokenSourceInput {
  endpoint: EndpointConfig;
  role: EndpointRole;
  /** `{email}` and `{login}` of the command. */
  email: string;
  login: string;
  mailbox?: string;
  /** For tests: runs the command (default runTokenCommand). */
  run?: typeof runTokenCommand;
  now?: () => number;
}

export class CommandTokenSource implements AccessTokenSource {
  readonly command: string;
  private current: {promise: Promise<string>; fetchedAt: number; token?: string} | undefined;
  /** How many times the command ran (for the log and tests). */
  fetches = 0;

  constructor(private readonly input: TokenSourceInput) {
    this.command = input.endpoint.tokenCommand ?? '';
  }

  token(): Promise<string> {
    const now = (this.input.now ?? Date.now)();
    if (this.current && now - this.current.fetchedAt < TOKEN_REUSE_MS) return this.current.promise;
    const run = this.input.run ?? runTokenCommand;
    this.fetches++;
    const entry: NonNullable<CommandTokenSource['current']> = {
      fetchedAt: now,
      promise: run({
        command: this.command,
        email: this.input.email,
        login: this.input.login,
        role: this.input.role,
        ...(this.input.mailbox ? {mailbox: this.input.mailbox} : {}),
        ...(this.input.endpoint.tokenTimeoutMs ? {timeoutMs: this.input.endpoint.tokenTimeoutMs} : {}),
      }),
    };
    this.current = entry;
    entry.promise.then(
      (token) => {
        entry.token = token;
      },
      () => {
        // A failed run is not cached: the next open tries the command again.
        if (this.current === entry) this.current = undefined;
      },
    );
    return entry.promise;
  }

  refused(token: string): void {
    // A fetch still under way is a newer token than the refused one: keep it.
    if (this.current?.token === token) this.current = undefined;
  }
}
