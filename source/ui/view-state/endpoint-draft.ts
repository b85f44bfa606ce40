// The endpoint setup form as plain data: which fields it shows for the source or the target (they
// depend on the credential mode), what is wrong with what was typed, and the EndpointConfig,
// credential mode and test identity it turns into. Passwords typed here stay in memory only.

import type {SourceCredentialMode, TargetCredentialMode} from '../../engine/batch-model.js';
import type {ResolvedSecrets} from '../../engine/credentials/row-credentials.js';
import {applyLoginPattern, loginPatternProblem} from '../../engine/credentials/row-credentials.js';
import {defaultPortFor, makeEndpoint, type EndpointConfig, type LoginIdentity, type LoginMechanism, type OAuthMechanism, type Security} from '../../imap/endpoint.js';
import {oauthIdentity} from '../../engine/credentials/oauth-identity.js';
import {tokenCommandProblem} from '../../engine/credentials/token-command.js';
import type {EndpointRole} from '../../imap/imap-error.js';
import {registerSecret} from '../../log/secret-redaction.js';
import {endpointFromPreset, presetById, type ProviderPreset} from '../../imap/presets.js';
import type {FormField, FormValues} from './form-fields.js';

export type CredentialChoice = 'csv' | 'authzid' | 'login-pattern' | 'oauth2' | 'oauth2-admin';

/** The login mechanism choice that means OAuth2 tokens (stored as the credential mode). */
const OAUTH2_CHOICE = 'OAUTH2';

function isOAuth(choice: CredentialChoice): choice is 'oauth2' | 'oauth2-admin' {
  return choice === 'oauth2' || choice === 'oauth2-admin';
}

/** The modes that log in with an admin password (asked for, kept in memory only). */
function needsAdminPassword(choice: CredentialChoice): boolean {
  return choice === 'authzid' || choice === 'login-pattern';
}

export interface EndpointDraft {
  readonly preset: string;
  readonly host: string;
  readonly port: string;
  readonly security: Security;
  readonly acceptUntrusted: 'no' | 'yes';
  readonly loginMechanism: LoginMechanism;
  readonly maxConnections: string;
  readonly credentials: CredentialChoice;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly loginPattern: string;
  /** OAuth2: the command that prints an access token (a template, e.g. `get-token {email}`). */
  readonly tokenCommand: string;
  readonly oauthMechanism: OAuthMechanism;
  /** Optional login (or mailbox to act as) for the connection test. */
  readonly testUser: string;
  readonly testPassword: string;
}

export type EndpointPrefill = Partial<EndpointDraft>;

export function draftFromPreset(preset: ProviderPreset, prefill: EndpointPrefill = {}): EndpointDraft {
  return {
    preset: preset.id,
    host: preset.host,
    port: String(preset.port),
    security: preset.security,
    acceptUntrusted: 'no',
    loginMechanism: preset.loginMechanism,
    maxConnections: String(preset.maxConnections),
    credentials: 'csv',
    adminUser: '',
    adminPassword: '',
    loginPattern: '{email}*admin',
    tokenCommand: '',
    oauthMechanism: 'auto',
    testUser: '',
    testPassword: '',
    ...prefill,
  };
}

export function draftValues(draft: EndpointDraft): FormValues {
  return {...draft, loginMechanism: isOAuth(draft.credentials) ? OAUTH2_CHOICE : draft.loginMechanism};
}

/** Apply one form change; switching the security mode moves a default port along with it. */
export function updateDraft(draft: EndpointDraft, id: string, value: string): EndpointDraft {
  // OAuth2 is offered as a login mechanism, and brings its own "Log in with" modes.
  if (id === 'loginMechanism') {
    if (value === OAUTH2_CHOICE) return isOAuth(draft.credentials) ? draft : {...draft, credentials: 'oauth2'};
    return {...draft, loginMechanism: value as LoginMechanism, credentials: isOAuth(draft.credentials) ? 'csv' : draft.credentials};
  }
  if (id === 'security') {
    const security = value as Security;
    const portWasDefault = draft.port === String(defaultPortFor(draft.security)) || draft.port === '';
    return {...draft, security, port: portWasDefault ? String(defaultPortFor(security)) : draft.port};
  }
  return {...draft, [id]: value};
}

const SECURITY_CHOICES = [
  {value: 'tls', label: 'tls'},
  {value: 'starttls', label: 'starttls'},
  {value: 'none', label: 'none'},
];

export function endpointFields(role: EndpointRole, draft: EndpointDraft): FormField[] {
  const fields: FormField[] = [
    {kind: 'text', id: 'host', label: 'Host', placeholder: 'imap.example.com', help: 'Name or address of the IMAP server.'},
    {kind: 'text', id: 'port', label: 'Port', help: '993 for implicit TLS; 143 for STARTTLS or plain text.'},
    {kind: 'choice', id: 'security', label: 'Security', choices: SECURITY_CHOICES, help: 'tls = TLS from the first byte (993); starttls = upgrade on 143; none = plain text (loopback or a trusted LAN only).'},
    {
      kind: 'choice',
      id: 'acceptUntrusted',
      label: 'Accept untrusted certificate',
      choices: [
        {value: 'no', label: 'no'},
        {value: 'yes', label: 'yes'},
      ],
      help: 'Only for servers with a self-signed certificate you trust; certificate checks stay on otherwise.',
    },
    {
      kind: 'choice',
      id: 'loginMechanism',
      label: 'Login mechanism',
      choices: [
        {value: 'auto', label: 'auto'},
        {value: 'LOGIN', label: 'LOGIN'},
        {value: 'PLAIN', label: 'PLAIN'},
        {value: OAUTH2_CHOICE, label: 'OAuth2'},
      ],
      help: 'auto uses SASL PLAIN when offered, else LOGIN. Admin impersonation always uses PLAIN. OAuth2: access tokens from a command you give (Microsoft 365, Gmail).',
    },
  ];
  const credentialChoices = isOAuth(draft.credentials)
    ? [
        {value: 'oauth2', label: "each user's token"},
        {value: 'oauth2-admin', label: 'admin token'},
      ]
    : role === 'source'
      ? [
          {value: 'csv', label: 'CSV UserName/Password'},
          {value: 'authzid', label: 'admin acting as user'},
        ]
      : [
          {value: 'csv', label: 'CSV TargetUserName/Password'},
          {value: 'authzid', label: 'admin acting as user'},
          {value: 'login-pattern', label: 'login pattern'},
        ];
  fields.push({
    kind: 'choice',
    id: 'credentials',
    label: 'Log in with',
    choices: credentialChoices,
    help: isOAuth(draft.credentials)
      ? "Each user's token: the command runs for every mailbox ({email} = EmailAddress). Admin token: it runs for the admin, whose token logs in as each user where the server allows it."
      : role === 'source'
        ? 'CSV: each row logs in with its UserName/Password (admin forms like user*admin work as written). Admin: SASL PLAIN, admin authenticates, acts as UserName.'
        : 'CSV: TargetUserName/TargetPassword columns. Admin: SASL PLAIN acting as EmailAddress. Pattern: e.g. {email}*admin (Dovecot master user) with the admin password.',
  });
  if (isOAuth(draft.credentials)) {
    fields.push(
      {
        kind: 'text',
        id: 'tokenCommand',
        label: 'Token command',
        placeholder: '/usr/local/bin/get-token {email}',
        help: 'Prints an access token on stdout; {email} and {login} are filled in, run without a shell. Only the command is stored, never a token.',
      },
      {
        kind: 'choice',
        id: 'oauthMechanism',
        label: 'OAuth2 mechanism',
        choices: [
          {value: 'auto', label: 'auto'},
          {value: 'XOAUTH2', label: 'XOAUTH2'},
          {value: 'OAUTHBEARER', label: 'OAUTHBEARER'},
        ],
        help: 'auto uses OAUTHBEARER when the server offers it, else XOAUTH2.',
      },
    );
  }
  if (draft.credentials === 'oauth2-admin') {
    fields.push({kind: 'text', id: 'adminUser', label: 'Admin user', help: 'Whose token the command prints; that token logs in as each user (Microsoft 365 app-only tokens).'});
  }
  if (draft.credentials === 'authzid') {
    fields.push({kind: 'text', id: 'adminUser', label: 'Admin user', help: 'The admin account that authenticates (SASL PLAIN authentication identity).'});
  }
  if (draft.credentials === 'login-pattern') {
    fields.push({kind: 'text', id: 'loginPattern', label: 'Login pattern', help: 'Placeholders: {email} {user} {localpart} {domain}. Dovecot master user: {email}*admin.'});
  }
  if (needsAdminPassword(draft.credentials)) {
    fields.push({kind: 'text', id: 'adminPassword', label: 'Admin password', mask: true, help: 'Kept in memory for this run only; never written to disk. You are asked again when the batch is reopened.'});
  }
  fields.push(
    {
      kind: 'text',
      id: 'testUser',
      label: draft.credentials === 'csv' || draft.credentials === 'oauth2' ? 'Test login user (optional)' : 'Test as mailbox (optional)',
      help:
        draft.credentials === 'csv' || draft.credentials === 'oauth2'
          ? 'A user to test the login with; leave empty to test only the connection.'
          : isOAuth(draft.credentials)
            ? 'A mailbox the admin token should log in as during the test; empty tests only the connection.'
            : 'A mailbox the admin should act as during the test; empty tests the admin login alone.',
    },
  );
  if (draft.credentials === 'csv') {
    fields.push({kind: 'text', id: 'testPassword', label: 'Test login password', mask: true, help: 'Used for this test only; never stored.'});
  }
  fields.push(
    {kind: 'text', id: 'maxConnections', label: 'Max connections', help: 'Most connections mailferry opens to this server at once, across all mailboxes.'},
    {kind: 'button', id: 'test', label: 'Test connection', help: 'Run the connection test: DNS, TCP, TLS, greeting, capabilities, login, folders.'},
    {kind: 'button', id: 'back', label: 'Back', help: 'Back to the provider presets.'},
  );
  return fields;
}

function positiveInteger(text: string): number | undefined {
  return /^\d+$/.test(text.trim()) && Number(text) > 0 ? Number(text) : undefined;
}

export function draftProblems(role: EndpointRole, draft: EndpointDraft): Record<string, string> {
  const problems: Record<string, string> = {};
  const host = draft.host.trim();
  if (host === '') problems['host'] = 'Type the server name or address.';
  else if (/\s|\/|:\/\//.test(host) && !host.includes('::')) problems['host'] = 'Type only the host name, without spaces, scheme or path (e.g. imap.example.com).';
  const port = positiveInteger(draft.port);
  if (port === undefined || port > 65535) problems['port'] = 'The port is a number from 1 to 65535.';
  if (positiveInteger(draft.maxConnections) === undefined) problems['maxConnections'] = 'Max connections is a whole number of at least 1.';
  if ((draft.credentials === 'authzid' || draft.credentials === 'oauth2-admin') && draft.adminUser.trim() === '') problems['adminUser'] = 'Type the admin user that acts for each mailbox.';
  if (isOAuth(draft.credentials)) {
    const problem = tokenCommandProblem(draft.tokenCommand);
    if (problem) problems['tokenCommand'] = `${problem[0]?.toUpperCase()}${problem.slice(1)}.`;
  }
  if (draft.credentials === 'login-pattern') {
    const problem = loginPatternProblem(draft.loginPattern);
    if (problem) problems['loginPattern'] = `${problem[0]?.toUpperCase()}${problem.slice(1)}.`;
  }
  if (needsAdminPassword(draft.credentials) && draft.adminPassword === '') problems['adminPassword'] = `Type the ${role} admin password.`;
  if (draft.credentials === 'csv' && draft.testUser.trim() !== '' && draft.testPassword === '') problems['testPassword'] = 'Type the password of the test user, or clear the test user.';
  return problems;
}

export function endpointFromDraft(draft: EndpointDraft): EndpointConfig {
  const preset = presetById(draft.preset);
  const overrides: Partial<EndpointConfig> = {
    host: draft.host.trim(),
    port: Number(draft.port),
    security: draft.security,
    acceptUntrusted: draft.acceptUntrusted === 'yes',
    loginMechanism: draft.loginMechanism,
    maxConnections: Number(draft.maxConnections),
    ...(isOAuth(draft.credentials) ? {tokenCommand: draft.tokenCommand.trim(), oauthMechanism: draft.oauthMechanism} : {}),
  };
  return preset ? endpointFromPreset(preset, overrides) : makeEndpoint({...overrides, host: draft.host.trim(), preset: draft.preset || 'other'});
}

/** Admin secrets are never stored: the batch records a prompt, and the UI asks again on reopen. */
export function sourceCredentialsFromDraft(draft: EndpointDraft): SourceCredentialMode {
  if (draft.credentials === 'oauth2') return {kind: 'oauth2'};
  if (draft.credentials === 'oauth2-admin') return {kind: 'oauth2-admin', adminUser: draft.adminUser.trim()};
  return draft.credentials === 'authzid' ? {kind: 'authzid', adminUser: draft.adminUser.trim(), adminSecret: {from: 'prompt'}} : {kind: 'csv'};
}

export function targetCredentialsFromDraft(draft: EndpointDraft): TargetCredentialMode {
  if (draft.credentials === 'oauth2') return {kind: 'oauth2'};
  if (draft.credentials === 'oauth2-admin') return {kind: 'oauth2-admin', adminUser: draft.adminUser.trim()};
  if (draft.credentials === 'authzid') return {kind: 'authzid', adminUser: draft.adminUser.trim(), adminSecret: {from: 'prompt'}};
  if (draft.credentials === 'login-pattern') return {kind: 'login-pattern', pattern: draft.loginPattern.trim(), adminSecret: {from: 'prompt'}};
  return {kind: 'csv'};
}

export function secretsFromDrafts(source: EndpointDraft, target: EndpointDraft): ResolvedSecrets {
  registerSecret(source.adminPassword);
  registerSecret(target.adminPassword);
  const secrets: ResolvedSecrets = {};
  if (needsAdminPassword(source.credentials) && source.adminPassword) secrets.sourceAdminPassword = source.adminPassword;
  if (needsAdminPassword(target.credentials) && target.adminPassword) secrets.targetAdminPassword = target.adminPassword;
  return secrets;
}

/** Who the connection test logs in as; undefined tests everything up to the login. */
export function testIdentity(draft: EndpointDraft, role: EndpointRole = 'source'): LoginIdentity | undefined {
  // Typed into the UI, so read here for the first time: no log line or error may carry them.
  registerSecret(draft.adminPassword);
  registerSecret(draft.testPassword);
  const testUser = draft.testUser.trim();
  switch (draft.credentials) {
    case 'csv':
      return testUser ? {user: testUser, password: draft.testPassword} : undefined;
    case 'authzid':
      return {user: draft.adminUser.trim(), password: draft.adminPassword, ...(testUser ? {authzid: testUser} : {})};
    case 'login-pattern':
      if (!testUser) return undefined;
      return {user: applyLoginPattern(draft.loginPattern.trim(), {line: 0, emailAddress: testUser, userName: testUser, password: ''}), password: draft.adminPassword};
    case 'oauth2':
    case 'oauth2-admin': {
      if (!testUser) return undefined;
      const mode = draft.credentials === 'oauth2' ? ({kind: 'oauth2'} as const) : ({kind: 'oauth2-admin', adminUser: draft.adminUser.trim()} as const);
      return oauthIdentity(mode, {role, endpoint: endpointFromDraft(draft), row: {emailAddress: testUser}, login: testUser});
    }
  }
}
