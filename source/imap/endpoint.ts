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
  /** For OAuth2 endpoints (later): command that prints an access token, `{email}` substituted. */
  tokenCommand?: string;
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
  authzid?: string;
}

/** The name a person recognises for an identity in messages: never includes a secret. */
export function describeIdentity(identity: Pick<LoginIdentity, 'user' | 'authzid'>): string {
  return identity.authzid ? `${identity.user} acting as ${identity.authzid}` : identity.user;
}
