// checkUserLogins against a real Dovecot pair: good and bad rows under every credential mode.

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {checkUserLogins} from '../source/engine/login-check.js';
import type {BatchDefinition, SourceCredentialMode, TargetCredentialMode} from '../source/engine/batch-model.js';
import type {MigrationRow} from '../source/engine/csv/migration-csv.js';
import type {ResolvedSecrets} from '../source/engine/credentials/row-credentials.js';
import {makeEndpoint} from '../source/imap/endpoint.js';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {seedMailbox} from './helpers/seed-mailbox.js';

describe('checkUserLogins against a Dovecot pair', () => {
  let source: DovecotServer;
  let target: DovecotServer;
  let stop: () => Promise<void>;
  let secrets: ResolvedSecrets;

  before(async () => {
    const pair = await startDovecotPair({
      source: {users: {alice: 'alice-src-pw', bob: 'bob-src-pw'}},
      target: {users: {'alice@example.test': 'alice-tgt-pw', 'bob@example.test': 'bob-tgt-pw'}},
    });
    ({source, target, stop} = pair);
    secrets = {sourceAdminPassword: source.masterPassword, targetAdminPassword: target.masterPassword};
    await seedMailbox(source, 'alice', {folders: ['Projects', 'Projects/Old'], messages: []});
  });
  after(async () => {
    await stop?.();
  });

  function batch(sourceCredentials: SourceCredentialMode, targetCredentials: TargetCredentialMode): Pick<BatchDefinition, 'source' | 'target' | 'sourceCredentials' | 'targetCredentials'> {
    return {
      source: makeEndpoint({host: source.host, port: source.imapPort, security: 'none'}),
      target: makeEndpoint({host: target.host, port: target.imapsPort, security: 'tls', acceptUntrusted: true}),
      sourceCredentials,
      targetCredentials,
    };
  }
  const adminSecret = {from: 'env', name: 'UNUSED'} as const;
  const alice: MigrationRow = {line: 2, emailAddress: 'alice@example.test', userName: 'alice', password: 'alice-src-pw'};

  test('good row: CSV password on the source, Dovecot master-user pattern on the target', async () => {
    const result = await checkUserLogins(batch({kind: 'csv'}, {kind: 'login-pattern', pattern: '{email}*admin', adminSecret}), alice, secrets);
    assert.equal(result.emailAddress, 'alice@example.test');
    assert.equal(result.source.ok, true, JSON.stringify(result.source.error));
    assert.equal(result.target.ok, true, JSON.stringify(result.target.error));
    // alice's source mailbox: INBOX, Projects, Projects/Old and the five special-use folders.
    assert.equal(result.source.folderCount, 8);
    assert.equal(result.target.folderCount, 6);
    assert.ok(result.source.ms >= 0 && result.target.ms >= 0);
  });

  test('good row: SASL PLAIN authzid on both sides', async () => {
    const result = await checkUserLogins(
      batch({kind: 'authzid', adminUser: source.masterUser, adminSecret}, {kind: 'authzid', adminUser: target.masterUser, adminSecret}),
      alice,
      secrets,
    );
    assert.equal(result.source.ok, true, JSON.stringify(result.source.error));
    assert.equal(result.target.ok, true, JSON.stringify(result.target.error));
    assert.equal(result.source.folderCount, 8, 'the admin acts as alice, so it sees alice\'s folders');
  });

  test('good row: master user in the CSV UserName, per-row target credentials', async () => {
    const row: MigrationRow = {
      line: 3,
      emailAddress: 'bob@example.test',
      userName: `bob*${source.masterUser}`,
      password: source.masterPassword,
      targetUserName: 'bob@example.test',
      targetPassword: 'bob-tgt-pw',
    };
    const result = await checkUserLogins(batch({kind: 'csv'}, {kind: 'csv'}), row, secrets);
    assert.equal(result.source.ok, true, JSON.stringify(result.source.error));
    assert.equal(result.target.ok, true, JSON.stringify(result.target.error));
  });

  test('bad row: wrong source password fails the source only, with an auth error and no password', async () => {
    const row: MigrationRow = {...alice, password: 'Typo-in-the-CSV'};
    const result = await checkUserLogins(batch({kind: 'csv'}, {kind: 'login-pattern', pattern: '{email}*admin', adminSecret}), row, secrets);
    assert.equal(result.source.ok, false);
    assert.equal(result.source.error?.kind, 'auth');
    assert.equal(result.source.error?.endpoint, 'source');
    assert.equal(result.source.error?.mailbox, 'alice@example.test');
    assert.equal(result.source.error?.user, 'alice');
    assert.match(result.source.error?.hint ?? '', /password/);
    assert.equal(result.source.folderCount, undefined);
    assert.equal(result.target.ok, true);
    const text = JSON.stringify(result);
    for (const secret of ['Typo-in-the-CSV', source.masterPassword, target.masterPassword]) assert.ok(!text.includes(secret), 'a password leaked');
  });

  test('bad row: per-row target credentials missing is a config error for that row', async () => {
    const result = await checkUserLogins(batch({kind: 'csv'}, {kind: 'csv'}), alice, secrets);
    assert.equal(result.source.ok, true);
    assert.equal(result.target.ok, false);
    assert.equal(result.target.error?.kind, 'config');
    assert.equal(result.target.error?.endpoint, 'target');
    assert.match(result.target.error?.message ?? '', /Line 2 \(alice@example\.test\) has no TargetUserName\/TargetPassword/);
  });

  test('bad row: a user the target does not have', async () => {
    const row: MigrationRow = {line: 4, emailAddress: 'carol@example.test', userName: 'alice', password: 'alice-src-pw'};
    const result = await checkUserLogins(batch({kind: 'csv'}, {kind: 'authzid', adminUser: target.masterUser, adminSecret}), row, secrets);
    assert.equal(result.source.ok, true);
    assert.equal(result.target.ok, false);
    assert.equal(result.target.error?.kind, 'auth');
    assert.equal(result.target.error?.user, 'admin acting as carol@example.test');
  });

  test('bad row: the target server is down', async () => {
    const down = {...batch({kind: 'csv'}, {kind: 'login-pattern', pattern: '{email}*admin', adminSecret}), target: makeEndpoint({host: '127.0.0.1', port: 1, security: 'none'})};
    const result = await checkUserLogins(down, alice, secrets);
    assert.equal(result.source.ok, true);
    assert.equal(result.target.ok, false);
    assert.equal(result.target.error?.kind, 'connect');
  });
});
