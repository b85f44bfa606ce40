// Provider presets: what an admin picks instead of typing host/port/security, and the provider
// quirks they need to know before the first login fails (app passwords, OAuth2, IMAP switches).

import {makeEndpoint, type EndpointConfig, type LoginMechanism, type Security} from './endpoint.js';

export interface ProviderPreset {
  id: 'gmail' | 'microsoft365' | 'yahoo' | 'other';
  label: string;
  host: string;
  port: number;
  security: Security;
  loginMechanism: LoginMechanism;
  oauth2: 'required' | 'recommended' | 'none';
  hints: string[];
  /** Connections the provider tolerates per account before it starts refusing or throttling. */
  maxConnections: number;
}

export const PRESETS: readonly ProviderPreset[] = [
  {
    id: 'gmail',
    label: 'Gmail / Google Workspace',
    host: 'imap.gmail.com',
    port: 993,
    security: 'tls',
    loginMechanism: 'auto',
    oauth2: 'recommended',
    hints: [
      'Turn on IMAP in Gmail settings (Forwarding and POP/IMAP) for every mailbox.',
      'Accounts with 2-step verification need an app password (myaccount.google.com/apppasswords); the normal password is refused.',
      'Google Workspace admins can use OAuth2 with a service account instead of per-user passwords.',
      'Gmail allows at most 15 IMAP connections per account and limits daily bandwidth; keep per-mailbox connections low.',
    ],
    maxConnections: 15,
  },
  {
    id: 'microsoft365',
    label: 'Outlook.com / Hotmail / Microsoft 365',
    host: 'outlook.office365.com',
    port: 993,
    security: 'tls',
    loginMechanism: 'auto',
    oauth2: 'required',
    hints: [
      'Basic authentication (user name + password) is disabled for most tenants: use OAuth2 with a token command.',
      'IMAP must be enabled per mailbox (Exchange admin center > mailbox > Email apps, or Set-CASMailbox -ImapEnabled $true).',
      'An admin acting for users needs FullAccess permission on each mailbox (SASL PLAIN with authorization identity).',
      'Microsoft 365 throttles heavy IMAP use and allows about 20 connections per mailbox.',
    ],
    maxConnections: 20,
  },
  {
    id: 'yahoo',
    label: 'Yahoo Mail',
    host: 'imap.mail.yahoo.com',
    port: 993,
    security: 'tls',
    loginMechanism: 'auto',
    oauth2: 'none',
    hints: [
      'Yahoo refuses the normal password for IMAP: generate an app password under Account security.',
      'Yahoo allows only about 5 IMAP connections per account; more are refused.',
    ],
    maxConnections: 5,
  },
  {
    id: 'other',
    label: 'Other IMAP server',
    host: '',
    port: 993,
    security: 'tls',
    loginMechanism: 'auto',
    oauth2: 'none',
    hints: [
      'Port 993 is implicit TLS; port 143 is STARTTLS or plain text.',
      'Dovecot master users log in as user*admin; Exchange accepts domain/admin/user; other servers may accept SASL PLAIN with an authorization identity.',
    ],
    // Shared by every mailbox of a batch: 20 concurrent mailboxes use 1 source connection each
    // and 1 control plus 2 APPEND connections each on the target.
    maxConnections: 100,
  },
];

export function presetById(id: string): ProviderPreset | undefined {
  return PRESETS.find((preset) => preset.id === id);
}

export function endpointFromPreset(preset: ProviderPreset, overrides: Partial<EndpointConfig> = {}): EndpointConfig {
  // An override of `undefined` (an empty form field) keeps the preset's value instead of erasing it.
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return makeEndpoint({
    preset: preset.id,
    host: preset.host,
    port: preset.port,
    security: preset.security,
    loginMechanism: preset.loginMechanism,
    maxConnections: preset.maxConnections,
    ...defined,
  });
}
