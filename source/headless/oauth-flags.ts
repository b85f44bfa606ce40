// The OAuth2 part of the `--source-*` / `--target-*` flags: the token command (a template, never
// a token), the SASL mechanism, the command's time limit, and the oauth2 credential modes.

import type {EndpointConfig, OAuthMechanism} from '../imap/endpoint.js';
import type {OAuthCredentialMode} from '../engine/batch-model.js';
import {parseDuration} from '../engine/duration-text.js';
import {tokenCommandProblem} from '../engine/credentials/token-command.js';
import {FlagError, type Role} from './endpoint-flags.js';

type Flags = Record<string, unknown>;

export function oauthEndpointFlags(flags: Flags, role: Role): Partial<EndpointConfig> {
  const result: Partial<EndpointConfig> = {};
  const command = flags[`${role}TokenCommand`] as string | undefined;
  if (command !== undefined) {
    const problem = tokenCommandProblem(command);
    if (problem) throw new FlagError(`--${role}-token-command: ${problem}`);
    result.tokenCommand = command;
  }
  const mechanism = flags[`${role}OauthMechanism`] as string | undefined;
  if (mechanism !== undefined) {
    if (!['auto', 'XOAUTH2', 'OAUTHBEARER'].includes(mechanism))
      throw new FlagError(`--${role}-oauth-mechanism must be auto, XOAUTH2 or OAUTHBEARER (got "${mechanism}")`);
    result.oauthMechanism = mechanism as OAuthMechanism;
  }
  const timeout = flags[`${role}TokenTimeout`] as string | undefined;
  if (timeout !== undefined) {
    const ms = parseDuration(timeout);
    if (ms === undefined) throw new FlagError(`--${role}-token-timeout must be a duration such as 30s or 2m (got "${timeout}")`);
    result.tokenTimeoutMs = Math.round(ms);
  }
  return result;
}

/** The oauth2 credential mode for `--ROLE-auth AUTH`, undefined when AUTH is not an oauth2 one. */
export function oauthModeFromFlags(flags: Flags, role: Role, auth: string): OAuthCredentialMode | undefined {
  if (auth !== 'oauth2' && auth !== 'oauth2-admin') return undefined;
  if (flags[`${role}TokenCommand`] === undefined)
    throw new FlagError(`--${role}-auth ${auth} needs --${role}-token-command, e.g. '/usr/local/bin/get-token {email}'`);
  if (auth === 'oauth2') return {kind: 'oauth2'};
  const adminUser = flags[`${role}AdminUser`] as string | undefined;
  if (!adminUser) throw new FlagError(`--${role}-auth oauth2-admin needs --${role}-admin-user (whose token the command prints)`);
  return {kind: 'oauth2-admin', adminUser};
}
