// What mailferry needs to know to reach one IMAP server. Secrets never live here: an endpoint
// names where a secret comes from (SecretSource), and the secret is read only when connecting.

export type Security = 'none' | 'starttls' | 'tls';

/** How a password is presented: LOGIN command, SASL PLAIN, or let the client pick (PLAIN if offered). */
export type LoginMechanism = 'auto' | 'LOGIN' | 'PLAIN';

/** Where a secret (password or admin password) is read from; never the secret itself. */
export type SecretSource =
  | {from: 'file'; path: string}
  | {from: 'env'; name: string}
  | {from: 'prompt'};

export interface EndpointTimeouts {
  /** DNS + TCP + TLS handshake budget. */
  connectMs: number;
  greetingMs: number;
  /** Inactivity on an established connection. */
  socketMs: number;
}

export interface EndpointConfig {
  /** Which preset filled this endpoint ('other' when typed by hand). */
  preset: string;
  host: string;
  port: number;
  security: Security;
  /** Accept self-signed or otherwise untrusted certificates. Off unless the admin says so. */
  acceptUntrusted: boolean;
  loginMechanism: LoginMechanism;
  /** Most connections mailferry opens to this server at once, across all mailboxes. */
  maxConnections: number;
  timeouts: EndpointTimeouts;
  /**
   * For OAuth2 logins: the command that prints an access token, e.g. `get-token {email}`
   * (`{email}` and `{login}` substituted per argument, run without a shell). A template, not a
   * secret, so it may be stored; the tokens it prints never are.
   */
  tokenCommand?: string;
  /** SASL mechanism for tokens; 'auto' takes OAUTHBEARER when offered, else XOAUTH2. */
  oauthMechanism?: OAuthMechanism;
  /** Longest the token command may run. */
  tokenTimeoutMs?: number;
}

export type OAuthMechanism = 'auto' | 'XOAUTH2' | 'OAUTHBEARER';

export const DEFAULT_TOKEN_TIMEOUT_MS = 30_000;

/**
 * Where a login's access token comes from (engine/credentials/token-source.ts runs the token
 * command). Asked for at each connection open, so the connection layer never keeps a token.
 */
export interface AccessTokenSource {
  /** A token to log in with: one fetched moments ago for the same login, or a new one. */
  token(): Promise<string>;
  /** The server refused `token`: forget it, so the next token() fetches a new one. */
  refused(token: string): void;
  /** The command template (never a token), for messages: "get-token {email}". */
  readonly command: string;
}

export const DEFAULT_TIMEOUTS: EndpointTimeouts = {connectMs: 15_000, greetingMs: 16_000, socketMs: 300_000};

export function defaultPortFor(security: Security): number {
  return security === 'tls' ? 993 : 143;
}

export function makeEndpoint(partial: Partial<EndpointConfig> & {host: string}): EndpointConfig {
  const security = partial.security ?? 'tls';
  return {
    preset: partial.preset ?? 'other',
    host: partial.host,
    port: partial.port ?? defaultPortFor(security),
    security,
    acceptUntrusted: partial.acceptUntrusted ?? false,
    loginMechanism: partial.loginMechanism ?? 'auto',
    maxConnections: partial.maxConnections ?? 40,
    timeouts: {...DEFAULT_TIMEOUTS, ...partial.timeouts},
    ...(partial.tokenCommand ? {tokenCommand: partial.tokenCommand} : {}),
    ...(partial.oauthMechanism ? {oauthMechanism: partial.oauthMechanism} : {}),
    ...(partial.tokenTimeoutMs ? {tokenTimeoutMs: partial.tokenTimeoutMs} : {}),
  };
}

/**
 * Who logs in. `authzid` set means SASL PLAIN with an authorization identity: `user` (an admin)
 * authenticates and acts as `authzid`. `accessToken` instead of `password` means XOAUTH2/OAUTHBEARER.
 */
export interface LoginIdentity {
  user: string;
  password?: string;
  accessToken?: string;
  /** OAuth2: the token is fetched at connect time (and again after a refusal) from here. */
  tokenSource?: AccessTokenSource;
  /** OAuth2 with one admin identity: whose token logs in as `user` (for messages only). */
  tokenOwner?: string;
  authzid?: string;
}

/** The name a person recognises for an identity in messages: never includes a secret. */
export function describeIdentity(identity: Pick<LoginIdentity, 'user' | 'authzid' | 'tokenOwner'>): string {
  if (identity.tokenOwner) return `${identity.tokenOwner} acting as ${identity.user}`;
  return identity.authzid ? `${identity.user} acting as ${identity.authzid}` : identity.user;
}
