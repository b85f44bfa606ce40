// The auth error's hint names the credentials that were refused (fault campaign, bad-input: a
// wrong target admin password was reported as "check the user name and password").

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {loginCredentialsHint} from '../source/engine/credentials/login-hint.js';

test('each credential mode names its own password and where it comes from', () => {
  const csv = {kind: 'csv'} as const;
  assert.match(loginCredentialsHint({sourceCredentials: csv, targetCredentials: csv}, 'source') ?? '', /UserName and Password of this mailbox's row in the migration CSV/);
  assert.match(loginCredentialsHint({sourceCredentials: csv, targetCredentials: csv}, 'target') ?? '', /TargetUserName and TargetPassword/);
  const pattern = {kind: 'login-pattern', pattern: '{email}*admin', adminSecret: {from: 'env', name: 'TARGET_ADMIN_PW'}} as const;
  assert.equal(
    loginCredentialsHint({sourceCredentials: csv, targetCredentials: pattern}, 'target'),
    'The target login is {email}*admin with the target admin password from the environment variable TARGET_ADMIN_PW',
  );
  const authzid = {kind: 'authzid', adminUser: 'mailadmin', adminSecret: {from: 'file', path: '/root/.imap-admin'}} as const;
  assert.equal(
    loginCredentialsHint({sourceCredentials: authzid, targetCredentials: csv}, 'source'),
    'The source login is the admin mailadmin acting for the mailbox, with the source admin password from the file /root/.imap-admin',
  );
  assert.equal(loginCredentialsHint({sourceCredentials: {kind: 'oauth2'}, targetCredentials: csv}, 'source'), undefined);
});
