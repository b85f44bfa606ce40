import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {FlagError, endpointFromFlags, sourceCredentialsFromFlags, targetCredentialsFromFlags} from '../source/headless/endpoint-flags.js';

describe('OAuth2 flags of batch create', () => {
  it('turn into the endpoint (template, mechanism, time limit) and the credential modes', () => {
    const flags = {
      sourceHost: 'imap.gmail.com',
      sourceAuth: 'oauth2',
      sourceTokenCommand: "get-token --google '{email}'",
      sourceOauthMechanism: 'XOAUTH2',
      sourceTokenTimeout: '2m',
      targetHost: 'outlook.office365.com',
      targetAuth: 'oauth2-admin',
      targetAdminUser: 'migrator@contoso.com',
      targetTokenCommand: 'get-app-token {email}',
    };
    const source = endpointFromFlags(flags, 'source');
    assert.deepEqual([source.tokenCommand, source.oauthMechanism, source.tokenTimeoutMs], ["get-token --google '{email}'", 'XOAUTH2', 120_000]);
    assert.equal(endpointFromFlags(flags, 'target').oauthMechanism, undefined, 'auto unless set');
    assert.deepEqual(sourceCredentialsFromFlags(flags), {kind: 'oauth2'});
    assert.deepEqual(targetCredentialsFromFlags(flags), {kind: 'oauth2-admin', adminUser: 'migrator@contoso.com'});
  });

  it('say what is missing or wrong', () => {
    const base = {sourceHost: 'h', targetHost: 'h'};
    assert.throws(() => sourceCredentialsFromFlags({...base, sourceAuth: 'oauth2'}), (error: unknown) => error instanceof FlagError && /--source-auth oauth2 needs --source-token-command/.test(error.message));
    assert.throws(() => targetCredentialsFromFlags({...base, targetAuth: 'oauth2-admin', targetTokenCommand: 't {email}'}), /needs --target-admin-user/);
    assert.throws(() => endpointFromFlags({...base, sourceTokenCommand: 'get-token "{email}'}, 'source'), /--source-token-command: the token command cannot be read: a double quote is not closed/);
    assert.throws(() => endpointFromFlags({...base, sourceTokenCommand: 'get-token {mail}'}, 'source'), /\{mail\}/);
    assert.throws(() => endpointFromFlags({...base, targetOauthMechanism: 'PLAIN'}, 'target'), /--target-oauth-mechanism must be auto, XOAUTH2 or OAUTHBEARER/);
    assert.throws(() => endpointFromFlags({...base, targetTokenTimeout: '30'}, 'target'), /--target-token-timeout must be a duration such as 30s/);
    assert.throws(() => sourceCredentialsFromFlags({...base, sourceAuth: 'oauth'}), /csv, authzid, oauth2 or oauth2-admin/);
  });
});
