// Endpoint and credential settings from `--source-*` / `--target-*` flags. No flag ever carries a
// secret: admin passwords come from a file, an environment variable or a prompt.

import type {SecretSource, Security} from '../imap/endpoint.js';
import type {EndpointConfig} from '../imap/endpoint.js';
import {endpointFromPreset, presetById} from '../imap/presets.js';
import type {SourceCredentialMode, TargetCredentialMode} from '../engine/batch-model.js';
import {oauthEndpointFlags, oauthModeFromFlags} from './oauth-flags.js';

export type Role = 'source' | 'target';

export const ENDPOINT_FLAG_HELP = (role: Role) => `
  --${role}-preset gmail|microsoft365|yahoo|other   fill host/port/security from a provider preset
  --${role}-host HOST --${role}-port PORT --${role}-security none|starttls|tls
  --${role}-accept-untrusted                         accept a self-signed certificate
  --${role}-login-mechanism auto|LOGIN|PLAIN
  --${role}-max-connections N                       connections to this server at most, all mailboxes together
  --${role}-token-command CMD                        OAuth2 (with --${role}-auth oauth2|oauth2-admin): CMD prints
                                                     an access token, e.g. 'get-token {email}' ({email}, {login};
                                                     run without a shell)
  --${role}-oauth-mechanism auto|XOAUTH2|OAUTHBEARER  default auto: OAUTHBEARER when offered, else XOAUTH2
  --${role}-token-timeout DURATION                   longest the token command may run (default 30s)`;

export function endpointFlagDefinitions(role: Role) {
  return {
    [`${role}Preset`]: {type: 'string'},
    [`${role}Host`]: {type: 'string'},
    [`${role}Port`]: {type: 'number'},
    [`${role}Security`]: {type: 'string'},
    [`${role}AcceptUntrusted`]: {type: 'boolean', default: false},
    [`${role}LoginMechanism`]: {type: 'string'},
    [`${role}MaxConnections`]: {type: 'number'},
    [`${role}TokenCommand`]: {type: 'string'},
    [`${role}OauthMechanism`]: {type: 'string'},
    [`${role}TokenTimeout`]: {type: 'string'},
    [`${role}Auth`]: {type: 'string'},
    [`${role}AdminUser`]: {type: 'string'},
    [`${role}AdminPasswordFile`]: {type: 'string'},
    [`${role}AdminPasswordEnv`]: {type: 'string'},
    [`${role}AdminPasswordPrompt`]: {type: 'boolean', default: false},
  } as const;
}

type Flags = Record<string, unknown>;

export class FlagError extends Error {}

function flag<T>(flags: Flags, role: Role, name: string): T | undefined {
  return flags[`${role}${name}`] as T | undefined;
}

export function endpointFromFlags(flags: Flags, role: Role): EndpointConfig {
  const presetId = flag<string>(flags, role, 'Preset') ?? 'other';
  const preset = presetById(presetId);
  if (!preset) throw new FlagError(`--${role}-preset: unknown preset "${presetId}" (gmail, microsoft365, yahoo, other)`);
  const host = flag<string>(flags, role, 'Host') ?? preset.host;
  if (!host) throw new FlagError(`--${role}-host is required (or a --${role}-preset that has a host)`);
  const security = flag<string>(flags, role, 'Security');
  if (security !== undefined && !['none', 'starttls', 'tls'].includes(security)) {
    throw new FlagError(`--${role}-security must be none, starttls or tls (got "${security}")`);
  }
  const mechanism = flag<string>(flags, role, 'LoginMechanism');
  if (mechanism !== undefined && !['auto', 'LOGIN', 'PLAIN'].includes(mechanism)) {
    throw new FlagError(`--${role}-login-mechanism must be auto, LOGIN or PLAIN (got "${mechanism}")`);
  }
  const port = flag<number>(flags, role, 'Port');
  const maxConnections = flag<number>(flags, role, 'MaxConnections');
  const overrides: Partial<EndpointConfig> = {host, acceptUntrusted: Boolean(flag<boolean>(flags, role, 'AcceptUntrusted'))};
  if (security) {
    overrides.security = security as Security;
    if (port === undefined) overrides.port = security === 'tls' ? 993 : 143;
  }
  if (port !== undefined) overrides.port = port;
  if (mechanism) overrides.loginMechanism = mechanism as EndpointConfig['loginMechanism'];
  if (maxConnections !== undefined) overrides.maxConnections = maxConnections;
  Object.assign(overrides, oauthEndpointFlags(flags, role));
  return endpointFromPreset(preset, overrides);
}

export function secretSourceFromFlags(flags: Flags, role: Role): SecretSource {
  const file = flag<string>(flags, role, 'AdminPasswordFile');
  const env = flag<string>(flags, role, 'AdminPasswordEnv');
  const prompt = flag<boolean>(flags, role, 'AdminPasswordPrompt');
  const given = [file, env, prompt || undefined].filter((value) => value !== undefined).length;
  if (given > 1) throw new FlagError(`give only one of --${role}-admin-password-file, --${role}-admin-password-env, --${role}-admin-password-prompt`);
  if (file) return {from: 'file', path: file};
  if (env) return {from: 'env', name: env};
  if (prompt) return {from: 'prompt'};
  throw new FlagError(`--${role}-auth needs the admin password: --${role}-admin-password-file F, --${role}-admin-password-env VAR or --${role}-admin-password-prompt`);
}

export function sourceCredentialsFromFlags(flags: Flags): SourceCredentialMode {
  const auth = flag<string>(flags, 'source', 'Auth') ?? 'csv';
  if (auth === 'csv') return {kind: 'csv'};
  if (auth === 'authzid') {
    const adminUser = flag<string>(flags, 'source', 'AdminUser');
    if (!adminUser) throw new FlagError('--source-auth authzid needs --source-admin-user');
    return {kind: 'authzid', adminUser, adminSecret: secretSourceFromFlags(flags, 'source')};
  }
  const oauth = oauthModeFromFlags(flags, 'source', auth);
  if (oauth) return oauth;
  throw new FlagError(`--source-auth must be csv, authzid, oauth2 or oauth2-admin (got "${auth}")`);
}

export function targetCredentialsFromFlags(flags: Flags): TargetCredentialMode {
  const auth = flag<string>(flags, 'target', 'Auth') ?? 'csv';
  if (auth === 'csv') return {kind: 'csv'};
  if (auth === 'authzid') {
    const adminUser = flag<string>(flags, 'target', 'AdminUser');
    if (!adminUser) throw new FlagError('--target-auth authzid needs --target-admin-user');
    return {kind: 'authzid', adminUser, adminSecret: secretSourceFromFlags(flags, 'target')};
  }
  if (auth === 'login-pattern') {
    const pattern = flags['targetLoginPattern'] as string | undefined;
    if (!pattern) throw new FlagError("--target-auth login-pattern needs --target-login-pattern, e.g. '{email}*admin'");
    return {kind: 'login-pattern', pattern, adminSecret: secretSourceFromFlags(flags, 'target')};
  }
  const oauth = oauthModeFromFlags(flags, 'target', auth);
  if (oauth) return oauth;
  throw new FlagError(`--target-auth must be csv, authzid, login-pattern, oauth2 or oauth2-admin (got "${auth}")`);
}
