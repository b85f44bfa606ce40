import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {presetById} from '../../source/imap/presets.js';
import {
  draftFromPreset,
  draftProblems,
  endpointFields,
  endpointFromDraft,
  secretsFromDrafts,
  sourceCredentialsFromDraft,
  targetCredentialsFromDraft,
  testIdentity,
  draftValues,
  updateDraft,
} from '../../source/ui/view-state/endpoint-draft.js';

const m365 = presetById('microsoft365')!;

describe('endpoint draft with OAuth2', () => {
  it('offers OAuth2 on both ends and shows the token command and mechanism, no password fields', () => {
    for (const role of ['source', 'target'] as const) {
      const chosen = updateDraft(draftFromPreset(m365), 'loginMechanism', 'OAUTH2');
      assert.equal(chosen.credentials, 'oauth2');
      assert.equal(draftValues(chosen)['loginMechanism'], 'OAUTH2');
      const back = updateDraft(chosen, 'loginMechanism', 'PLAIN');
      assert.deepEqual([back.credentials, back.loginMechanism], ['csv', 'PLAIN']);
      const modes = endpointFields(role, chosen).find((field) => field.id === 'credentials');
      assert.ok(modes?.kind === 'choice');
      assert.deepEqual(modes.choices.map((choice) => choice.value), ['oauth2', 'oauth2-admin']);
      const ids = endpointFields(role, {...draftFromPreset(m365), credentials: 'oauth2'}).map((field) => field.id);
      assert.ok(ids.includes('tokenCommand') && ids.includes('oauthMechanism'));
      assert.ok(!ids.includes('adminPassword') && !ids.includes('testPassword') && !ids.includes('adminUser'));
      assert.ok(endpointFields(role, {...draftFromPreset(m365), credentials: 'oauth2-admin'}).some((field) => field.id === 'adminUser'));
    }
  });

  it('checks the token command and turns into the endpoint, the mode and the test identity', () => {
    const draft = {...draftFromPreset(m365), credentials: 'oauth2' as const, tokenCommand: 'get-token {mail}'};
    assert.match(draftProblems('target', draft)['tokenCommand'] ?? '', /\{mail\}/);
    assert.deepEqual(Object.keys(draftProblems('target', {...draft, credentials: 'oauth2-admin', tokenCommand: ''})).sort(), ['adminUser', 'tokenCommand']);
    const good = {...draft, tokenCommand: "get-token '{email}'", oauthMechanism: 'XOAUTH2' as const, testUser: 'alice@contoso.com'};
    assert.deepEqual(draftProblems('target', good), {});
    const endpoint = endpointFromDraft(good);
    assert.equal(endpoint.tokenCommand, "get-token '{email}'");
    assert.equal(endpoint.oauthMechanism, 'XOAUTH2');
    assert.deepEqual(targetCredentialsFromDraft(good), {kind: 'oauth2'});
    assert.deepEqual(sourceCredentialsFromDraft({...good, credentials: 'oauth2-admin', adminUser: ' app@contoso.com '}), {kind: 'oauth2-admin', adminUser: 'app@contoso.com'});
    assert.deepEqual(secretsFromDrafts(good, good), {});
    const identity = testIdentity(good, 'target');
    assert.equal(identity?.user, 'alice@contoso.com');
    assert.equal(identity?.tokenSource?.command, "get-token '{email}'");
    assert.equal(testIdentity({...good, testUser: ''}), undefined);
    // A password-mode endpoint carries no token command, even if one was typed before switching.
    assert.equal(endpointFromDraft({...good, credentials: 'csv'}).tokenCommand, undefined);
  });
});
