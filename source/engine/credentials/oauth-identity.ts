// The OAuth2 login of one row: who logs in, and the token source that fetches its tokens with
// the endpoint's token command. Nothing here runs the command; the connection does, when it opens.

import type {EndpointConfig, LoginIdentity} from '../../imap/endpoint.js';
import {MigrationError, type EndpointRole} from '../../imap/imap-error.js';
import type {OAuthCredentialMode, SourceCredentialMode} from '../batch-model.js';
import type {CsvReadOptions, MigrationRow} from '../csv/migration-csv.js';
import {CommandTokenSource} from './token-source.js';

export function oauthIdentity(
  mode: OAuthCredentialMode,
  input: {role: EndpointRole; endpoint: EndpointConfig | undefined; row: Pick<MigrationRow, 'emailAddress'>; login: string},
): LoginIdentity {
  const {role, endpoint, row, login} = input;
  if (!endpoint?.tokenCommand)
    throw new MigrationError({
      kind: 'config',
      message: `The ${role} logs in with OAuth2 but has no token command, so ${row.emailAddress} cannot log in`,
      hint: `Set the ${role} token command (--${role}-token-command 'get-token {email}', or in the endpoint setup).`,
      endpoint: role,
      mailbox: row.emailAddress,
      retryable: false,
    });
  if (mode.kind === 'oauth2') {
    const tokenSource = new CommandTokenSource({endpoint, role, email: row.emailAddress, login, mailbox: row.emailAddress});
    return {user: login, tokenSource};
  }
  // One admin identity: the command runs for the admin (both placeholders are the admin's login),
  // and the admin's token logs in as the row's user (XOAUTH2 user=, OAUTHBEARER a=).
  const tokenSource = new CommandTokenSource({endpoint, role, email: mode.adminUser, login: mode.adminUser, mailbox: row.emailAddress});
  return {user: login, tokenSource, tokenOwner: mode.adminUser};
}

/** How to read the migration CSV for this source: with OAuth2 it needs no Password column. */
export function csvOptionsForSource(mode: SourceCredentialMode): CsvReadOptions {
  return mode.kind === 'oauth2' || mode.kind === 'oauth2-admin' ? {sourcePasswordsOptional: true} : {};
}
