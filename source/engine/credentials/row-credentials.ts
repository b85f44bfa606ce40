// Turns one CSV row plus the batch's credential modes into the identities that log in to the
// source and the target. Secrets come from the row (re-read from the CSV on every start) or from
// the admin passwords resolved once per run; nothing here stores them.

import type {EndpointConfig, LoginIdentity} from '../../imap/endpoint.js';
import {MigrationError} from '../../imap/imap-error.js';
import type {SourceCredentialMode, TargetCredentialMode} from '../batch-model.js';
import type {MigrationRow} from '../csv/migration-csv.js';
import {readSecret, type SecretPromptIo} from './secret-source.js';
import {oauthIdentity} from './oauth-identity.js';

export interface ResolvedSecrets {
  sourceAdminPassword?: string;
  targetAdminPassword?: string;
}

export const LOGIN_PATTERN_PLACEHOLDERS = ['{email}', '{user}', '{localpart}', '{domain}'] as const;

/** Why a login pattern cannot work, or undefined when it is fine. For settings screens and flags. */
export function loginPatternProblem(pattern: string): string | undefined {
  if (pattern.trim() === '') return 'the login pattern is empty';
  const unknown = (pattern.match(/\{[^}]*\}/g) ?? []).filter(
    (placeholder) => !(LOGIN_PATTERN_PLACEHOLDERS as readonly string[]).includes(placeholder),
  );
  if (unknown.length > 0) return `the login pattern uses ${unknown.join(', ')}, which mailferry does not know; use ${LOGIN_PATTERN_PLACEHOLDERS.join(', ')}`;
  if (!/\{(email|user|localpart)\}/.test(pattern)) return 'the login pattern names no user: include {email}, {user} or {localpart}';
  return undefined;
}

/**
 * `{email}` = EmailAddress, `{user}` = UserName, `{localpart}` / `{domain}` = the parts of
 * EmailAddress around the @. E.g. `{email}*admin` for a Dovecot master user.
 */
export function applyLoginPattern(pattern: string, row: MigrationRow): string {
  const problem = loginPatternProblem(pattern);
  if (problem)
    throw new MigrationError({
      kind: 'config',
      message: `Cannot build the target login for ${row.emailAddress}: ${problem}`,
      hint: 'Fix the login pattern in the batch settings, e.g. {email}*admin for a Dovecot master user.',
      endpoint: 'target',
      mailbox: row.emailAddress,
      retryable: false,
    });
  const at = row.emailAddress.lastIndexOf('@');
  const values: Record<string, string> = {
    '{email}': row.emailAddress,
    '{user}': row.userName,
    '{localpart}': at === -1 ? row.emailAddress : row.emailAddress.slice(0, at),
    '{domain}': at === -1 ? '' : row.emailAddress.slice(at + 1),
  };
  // One pass, so a UserName that itself contains "{email}" is not expanded again.
  return pattern.replace(/\{(email|user|localpart|domain)\}/g, (placeholder) => values[placeholder] ?? placeholder);
}

/** `endpoint` is needed for the OAuth2 modes (its token command). */
export function sourceIdentity(row: MigrationRow, mode: SourceCredentialMode, secrets: ResolvedSecrets, endpoint?: EndpointConfig): LoginIdentity {
  switch (mode.kind) {
    case 'oauth2':
    case 'oauth2-admin':
      // UserName is the source login, as with passwords.
      return oauthIdentity(mode, {role: 'source', endpoint, row, login: row.userName});
    case 'csv':
      if (row.password === '')
        throw rowError(row, 'source', `Line ${row.line} (${row.emailAddress}) has no Password for the source login`, 'Fill in the Password column for this row.');
      // UserName goes to the server untouched: `domain/admin/user`, `user*admin` and
      // `#user@domain#admin#` only work when the server sees exactly what the admin wrote.
      return {user: row.userName, password: row.password};
    case 'authzid':
      return {user: mode.adminUser, password: adminPassword(secrets.sourceAdminPassword, 'source', row), authzid: row.userName};
  }
}

export function targetIdentity(row: MigrationRow, mode: TargetCredentialMode, secrets: ResolvedSecrets, endpoint?: EndpointConfig): LoginIdentity {
  switch (mode.kind) {
    case 'oauth2':
    case 'oauth2-admin':
      // TargetUserName when the CSV has it, else the address the mailbox has on the target.
      return oauthIdentity(mode, {role: 'target', endpoint, row, login: row.targetUserName ?? row.emailAddress});
    case 'csv':
      if (row.targetUserName === undefined || row.targetPassword === undefined)
        throw rowError(
          row,
          'target',
          `Line ${row.line} (${row.emailAddress}) has no TargetUserName/TargetPassword, but the target logs in with per-row credentials`,
          'Fill both TargetUserName and TargetPassword for this row, or let the target log in with an admin identity ' +
            '(SASL PLAIN acting as EmailAddress, or a login pattern such as {email}*admin).',
        );
      return {user: row.targetUserName, password: row.targetPassword};
    case 'authzid':
      return {user: mode.adminUser, password: adminPassword(secrets.targetAdminPassword, 'target', row), authzid: row.emailAddress};
    case 'login-pattern':
      return {user: applyLoginPattern(mode.pattern, row), password: adminPassword(secrets.targetAdminPassword, 'target', row)};
  }
}

/**
 * Reads the admin passwords the modes need, once per run rather than per mailbox (a prompt asks
 * once per endpoint). Modes that take everything from the CSV need nothing.
 */
export async function resolveSecrets(
  modes: {source: SourceCredentialMode; target: TargetCredentialMode},
  io?: SecretPromptIo,
): Promise<ResolvedSecrets> {
  const secrets: ResolvedSecrets = {};
  if (modes.source.kind === 'authzid')
    secrets.sourceAdminPassword = await readSecret(modes.source.adminSecret, `source admin password (for ${modes.source.adminUser})`, io);
  if (modes.target.kind === 'authzid' || modes.target.kind === 'login-pattern') {
    const who = modes.target.kind === 'authzid' ? ` (for ${modes.target.adminUser})` : '';
    secrets.targetAdminPassword = await readSecret(modes.target.adminSecret, `target admin password${who}`, io);
  }
  return secrets;
}

function adminPassword(password: string | undefined, endpoint: 'source' | 'target', row: MigrationRow): string {
  if (password !== undefined && password !== '') return password;
  throw rowError(
    row,
    endpoint,
    `The ${endpoint} admin password has not been read, so ${row.emailAddress} cannot log in to the ${endpoint}`,
    `Supply the ${endpoint} admin password (file, environment variable or prompt) before starting the batch.`,
  );
}

function rowError(row: MigrationRow, endpoint: 'source' | 'target', message: string, hint: string): MigrationError {
  return new MigrationError({kind: 'config', message, hint, endpoint, mailbox: row.emailAddress, retryable: false});
}
