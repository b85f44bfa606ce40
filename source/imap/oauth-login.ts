// OAuth2 logins, shared by imapflow clients (client-factory.ts) and raw sessions (raw-session.ts):
// which SASL mechanism to use, the payloads, and the one retry with a newly fetched token when
// the server refuses the first (an access token expires or is revoked while a batch runs).

import {describeIdentity, type EndpointConfig, type LoginIdentity, type OAuthMechanism} from './endpoint.js';
import {MigrationError, type EndpointRole} from './imap-error.js';

export type OAuthSaslMechanism = 'XOAUTH2' | 'OAUTHBEARER';

/**
 * 'auto' takes OAUTHBEARER, the standard (RFC 7628), when the server offers it, else XOAUTH2
 * (Gmail's and Microsoft's older name for nearly the same thing); imapflow chooses the same way.
 */
export function chooseOAuthMechanism(
  capabilities: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  wanted: OAuthMechanism | undefined,
  context: {endpoint: EndpointConfig; role?: EndpointRole; user: string; mailbox?: string},
): OAuthSaslMechanism {
  const offers = (name: OAuthSaslMechanism) => capabilities.has(`AUTH=${name}`);
  const mechanism = wanted ?? 'auto';
  if (mechanism === 'auto') {
    if (offers('OAUTHBEARER')) return 'OAUTHBEARER';
    if (offers('XOAUTH2')) return 'XOAUTH2';
  } else if (offers(mechanism)) return mechanism;
  const offered = [...capabilities.keys()].filter((name) => /^AUTH=/i.test(String(name))).map((name) => String(name).slice(5));
  const message =
    mechanism === 'auto'
      ? `${context.endpoint.host} offers neither OAUTHBEARER nor XOAUTH2, so an OAuth2 token cannot log in`
      : `${context.endpoint.host} does not offer ${mechanism}, the OAuth2 mechanism set for this endpoint`;
  // 'config', not 'auth': no new token can cure it, so it is never retried as a refused token.
  throw new MigrationError({
    kind: 'config',
    message: `${message} (it offers ${offered.length > 0 ? offered.join(', ') : 'no SASL mechanism'})`,
    hint:
      mechanism === 'auto'
        ? 'Check host and port (Microsoft 365: outlook.office365.com, Gmail: imap.gmail.com), or log in with passwords on this server.'
        : 'Set the OAuth2 mechanism to auto, or to the one the server offers.',
    retryable: false,
    host: context.endpoint.host,
    user: context.user,
    ...(context.role ? {endpoint: context.role} : {}),
    ...(context.mailbox ? {mailbox: context.mailbox} : {}),
  });
}

/** The value of a GS2 `a=` field: ',' and '=' escaped (RFC 5801). */
function gs2Name(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** The initial client response, not yet base64-encoded. Never logged. */
export function oauthPayload(mechanism: OAuthSaslMechanism, user: string, token: string, endpoint: Pick<EndpointConfig, 'host' | 'port'>): string {
  if (mechanism === 'XOAUTH2') return `user=${user}\x01auth=Bearer ${token}\x01\x01`;
  // The authzid (a=) names the mailbox: with a per-user token it is the token's own user, with an
  // admin's token the user the admin acts for.
  return `n,a=${gs2Name(user)},\x01host=${endpoint.host}\x01port=${endpoint.port}\x01auth=Bearer ${token}\x01\x01`;
}

/** A login the server refused for the credentials (not for being busy or unreachable). */
export function isTokenRefusal(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  if (error instanceof MigrationError) return error.kind === 'auth' && !error.retryable;
  const e = error as {authenticationFailed?: unknown; serverResponseCode?: unknown; responseStatus?: unknown};
  return e.authenticationFailed === true && e.serverResponseCode !== 'UNAVAILABLE' && e.responseStatus !== 'BAD';
}

/**
 * Logs in with `attempt`. With a token source: the token is fetched (or taken from a fetch
 * moments ago), and if the server refuses it, dropped, fetched once more and tried again; a
 * second refusal is an `auth` error that names the token command.
 */
export async function withAccessToken<T>(
  identity: LoginIdentity,
  attempt: (identity: LoginIdentity) => Promise<T>,
  context: {endpoint: EndpointConfig; role?: EndpointRole; mailbox?: string},
): Promise<T> {
  const source = identity.tokenSource;
  if (!source) return attempt(identity);
  const first = await source.token();
  try {
    return await attempt({...identity, accessToken: first});
  } catch (error) {
    if (!isTokenRefusal(error)) throw error;
    source.refused(first);
  }
  const second = await source.token();
  try {
    return await attempt({...identity, accessToken: second});
  } catch (error) {
    if (!isTokenRefusal(error)) throw error;
    source.refused(second);
    const serverText = error instanceof MigrationError ? error.serverText : (error as {responseText?: string}).responseText;
    throw new MigrationError(
      {
        kind: 'auth',
        message: `${context.endpoint.host} refused the access token printed by the token command \`${source.command}\` for ${describeIdentity(identity)}, also after fetching a new one`,
        hint:
          'Run the token command by hand for this user and check the token: issued for this account, with the IMAP scope ' +
          '(Gmail: https://mail.google.com/; Microsoft 365: IMAP.AccessAsUser.All, or IMAP.AccessAsApp with the app allowed on the mailbox), not expired.',
        retryable: false,
        host: context.endpoint.host,
        user: describeIdentity(identity),
        ...(context.role ? {endpoint: context.role} : {}),
        ...(context.mailbox ? {mailbox: context.mailbox} : {}),
        ...(serverText ? {serverText} : {}),
      },
      {cause: error},
    );
  }
}
