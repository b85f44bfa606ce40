// Which credentials a refused login used, in the admin's own terms. "Check the user name and
// password" alone sends an admin whose target admin password is wrong off to the CSV (and one
// whose CSV row is wrong off to the admin password); naming the one that was used does not.

import type {EndpointRole} from '../../imap/imap-error.js';
import type {SecretSource} from '../../imap/endpoint.js';
import type {SourceCredentialMode, TargetCredentialMode} from '../../store/batch-records.js';

function secretPlace(source: SecretSource): string {
  switch (source.from) {
    case 'file':
      return `the file ${source.path}`;
    case 'env':
      return `the environment variable ${source.name}`;
    case 'prompt':
      return 'the prompt at start';
  }
}

/** One sentence naming the credentials of `role`'s login; undefined for OAuth2 (its token command says more). */
export function loginCredentialsHint(
  credentials: {sourceCredentials: SourceCredentialMode; targetCredentials: TargetCredentialMode},
  role: EndpointRole,
): string | undefined {
  const mode = role === 'source' ? credentials.sourceCredentials : credentials.targetCredentials;
  switch (mode.kind) {
    case 'csv':
      return role === 'source'
        ? 'The source login is the UserName and Password of this mailbox\'s row in the migration CSV'
        : 'The target login is the TargetUserName and TargetPassword of this mailbox\'s row in the migration CSV';
    case 'authzid':
      return `The ${role} login is the admin ${mode.adminUser} acting for the mailbox, with the ${role} admin password from ${secretPlace(mode.adminSecret)}`;
    case 'login-pattern':
      return `The target login is ${mode.pattern} with the target admin password from ${secretPlace(mode.adminSecret)}`;
    default:
      return undefined;
  }
}
