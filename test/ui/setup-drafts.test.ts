import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {DEFAULT_SETTINGS} from '../../source/engine/batch-model.js';
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
  updateDraft,
} from '../../source/ui/view-state/endpoint-draft.js';
import {cycleChoice} from '../../source/ui/view-state/form-fields.js';
import {defaultBatchName, settingsDraft, settingsFromDraft, settingsProblems, splitExclusions} from '../../source/ui/view-state/settings-draft.js';
import {INITIAL_USERS_VIEW, filterUsers, usersReducer, usersTargets, type UsersAction, type UsersView} from '../../source/ui/view-state/users-view.js';
import type {MigrationRow} from '../../source/engine/csv/migration-csv.js';

const other = presetById('other')!;

describe('endpoint draft', () => {
  it('starts from the preset and keeps prefilled values', () => {
    const gmail = draftFromPreset(presetById('gmail')!);
    assert.equal(gmail.host, 'imap.gmail.com');
    assert.equal(gmail.port, '993');
    assert.equal(gmail.maxConnections, '15');
    const demo = draftFromPreset(other, {host: '127.0.0.1', port: '10143', security: 'none'});
    assert.deepEqual([demo.host, demo.port, demo.security, demo.credentials], ['127.0.0.1', '10143', 'none', 'csv']);
  });

  it('moves a default port along with the security mode, but not a typed one', () => {
    const draft = draftFromPreset(other);
    assert.equal(updateDraft(draft, 'security', 'starttls').port, '143');
    assert.equal(updateDraft({...draft, port: '1993'}, 'security', 'starttls').port, '1993');
  });

  it('shows the fields of the chosen credential mode', () => {
    const ids = (role: 'source' | 'target', credentials: string) =>
      endpointFields(role, {...draftFromPreset(other), credentials: credentials as never}).map((field) => field.id);
    assert.ok(ids('source', 'csv').includes('testPassword'));
    assert.ok(!ids('source', 'csv').includes('adminPassword'));
    assert.ok(ids('source', 'authzid').includes('adminUser') && ids('source', 'authzid').includes('adminPassword'));
    assert.ok(ids('target', 'login-pattern').includes('loginPattern'));
    const sourceModes = endpointFields('source', draftFromPreset(other)).find((field) => field.id === 'credentials');
    assert.ok(sourceModes?.kind === 'choice' && !sourceModes.choices.some((choice) => choice.value === 'login-pattern'), 'login patterns are a target mode');
    for (const role of ['source', 'target'] as const) {
      const fields = endpointFields(role, draftFromPreset(other));
      assert.equal(new Set(fields.map((field) => field.id)).size, fields.length, 'field ids are unique');
      assert.ok(fields.filter((field) => field.kind === 'text' && /password/i.test(field.id)).every((field) => field.kind === 'text' && field.mask));
    }
  });

  it('reports what is wrong, field by field', () => {
    const draft = {...draftFromPreset(other), host: '', port: '70000', maxConnections: '0'};
    assert.deepEqual(Object.keys(draftProblems('source', draft)).sort(), ['host', 'maxConnections', 'port']);
    assert.ok(draftProblems('source', {...draftFromPreset(other), host: 'imaps://mail.example.com/'})['host']);
    const admin = {...draftFromPreset(other, {host: 'mail.example.com'}), credentials: 'authzid' as const};
    assert.deepEqual(Object.keys(draftProblems('source', admin)).sort(), ['adminPassword', 'adminUser']);
    const pattern = {...draftFromPreset(other, {host: 'mail.example.com'}), credentials: 'login-pattern' as const, loginPattern: '{bogus}', adminPassword: 'pw'};
    assert.match(draftProblems('target', pattern)['loginPattern'] ?? '', /bogus/);
    assert.deepEqual(draftProblems('source', {...draftFromPreset(other, {host: 'mail.example.com'}), testUser: 'terry'}), {testPassword: 'Type the password of the test user, or clear the test user.'});
    assert.deepEqual(draftProblems('target', draftFromPreset(other, {host: 'mail.example.com'})), {});
  });

  it('turns into an endpoint, credential modes, secrets and a test identity', () => {
    const draft = draftFromPreset(other, {host: ' 127.0.0.1 ', port: '10143', security: 'none', acceptUntrusted: 'yes', loginMechanism: 'PLAIN', maxConnections: '12'});
    const endpoint = endpointFromDraft(draft);
    assert.deepEqual([endpoint.host, endpoint.port, endpoint.security, endpoint.acceptUntrusted, endpoint.loginMechanism, endpoint.maxConnections, endpoint.preset], ['127.0.0.1', 10143, 'none', true, 'PLAIN', 12, 'other']);
    const admin = {...draft, credentials: 'authzid' as const, adminUser: 'mailadmin', adminPassword: 's3cret-admin', testUser: 'terry'};
    assert.deepEqual(sourceCredentialsFromDraft(admin), {kind: 'authzid', adminUser: 'mailadmin', adminSecret: {from: 'prompt'}});
    assert.deepEqual(testIdentity(admin), {user: 'mailadmin', password: 's3cret-admin', authzid: 'terry'});
    const pattern = {...draft, credentials: 'login-pattern' as const, loginPattern: '{email}*master', adminPassword: 'm4ster-pw', testUser: 'terry@contoso.edu'};
    assert.deepEqual(targetCredentialsFromDraft(pattern), {kind: 'login-pattern', pattern: '{email}*master', adminSecret: {from: 'prompt'}});
    assert.deepEqual(testIdentity(pattern), {user: 'terry@contoso.edu*master', password: 'm4ster-pw'});
    assert.equal(testIdentity({...pattern, testUser: ''}), undefined);
    assert.equal(testIdentity(draft), undefined);
    assert.deepEqual(testIdentity({...draft, testUser: 'terry', testPassword: 'pw12'}), {user: 'terry', password: 'pw12'});
    assert.deepEqual(secretsFromDrafts(admin, pattern), {sourceAdminPassword: 's3cret-admin', targetAdminPassword: 'm4ster-pw'});
    assert.deepEqual(secretsFromDrafts(draft, draft), {});
  });

  it('cycles choices both ways', () => {
    const field = {kind: 'choice' as const, id: 'security', label: 'Security', choices: [{value: 'tls', label: 'tls'}, {value: 'starttls', label: 'starttls'}, {value: 'none', label: 'none'}]};
    assert.equal(cycleChoice(field, 'tls', 1), 'starttls');
    assert.equal(cycleChoice(field, 'none', 1), 'tls');
    assert.equal(cycleChoice(field, 'tls', -1), 'none');
  });
});

describe('settings draft', () => {
  const draft = settingsDraft({name: 'spring', sourceMaxConnections: 40, targetMaxConnections: 30});

  it('starts from the defaults and round-trips them', () => {
    const {settings, sourceMaxConnections, targetMaxConnections} = settingsFromDraft(draft);
    assert.deepEqual(settings, DEFAULT_SETTINGS);
    assert.deepEqual([sourceMaxConnections, targetMaxConnections], [40, 30]);
    assert.deepEqual(settingsProblems(draft), {});
  });

  it('reports each wrong field', () => {
    const wrong = {...draft, name: 'has space', maxConcurrentMigrations: '0', maxMessageMb: '-1', incrementalInterval: 'daily', excludedFolders: 'Junk, *'};
    assert.deepEqual(Object.keys(settingsProblems(wrong)).sort(), ['excludedFolders', 'incrementalInterval', 'maxConcurrentMigrations', 'maxMessageMb', 'name']);
    assert.match(settingsProblems(draft, ['spring'])['name'] ?? '', /exists/);
  });

  it('reads excluded folders, sizes and intervals', () => {
    const custom = {...draft, excludedFolders: 'Junk, Archive/*, \\Trash,', maxMessageMb: '0.5', incrementalInterval: '1h30m', maxItemsPerMailbox: '1_000'};
    const {settings} = settingsFromDraft(custom);
    assert.deepEqual(settings.excludedFolders, ['Junk', 'Archive/*', '\\Trash']);
    assert.equal(settings.maxMessageBytes, 512 * 1024);
    assert.equal(settings.incrementalIntervalMs, 5_400_000);
    assert.equal(settings.maxItemsPerMailbox, 1000);
    assert.equal(settings.skipDeletedMessages, false);
    assert.equal(settingsFromDraft({...draft, deletedMessages: 'skip'}).settings.skipDeletedMessages, true);
    assert.deepEqual(splitExclusions(' , '), []);
    assert.match(defaultBatchName(new Date(2026, 2, 1, 9, 5)), /^batch-20260301-0905$/);
  });
});

describe('users view', () => {
  const rows: MigrationRow[] = Array.from({length: 12}, (_, index) => ({line: index + 2, emailAddress: `user${index}@contoso.edu`, userName: `login${index}`, password: 'x'}));
  const order = rows.map((row) => row.line);
  const run = (actions: UsersAction[], lines = order, start: UsersView = INITIAL_USERS_VIEW) => actions.reduce((state, action) => usersReducer(state, action, {order: lines, pageSize: 4}), start);

  it('filters by email and login', () => {
    assert.equal(filterUsers(rows, 'user1').length, 3);
    assert.equal(filterUsers(rows, 'LOGIN11').length, 1);
    assert.equal(filterUsers(rows, '').length, 12);
  });

  it('moves, marks and picks the users to test', () => {
    const state = run([{type: 'move', movement: 'down'}, {type: 'toggleMark'}, {type: 'toggleMark'}]);
    assert.deepEqual([...state.marks], [3, 4]);
    assert.deepEqual(usersTargets(state, order), [3, 4]);
    assert.deepEqual(usersTargets(run([{type: 'move', movement: 'bottom'}]), order), [13]);
    assert.equal(run([{type: 'markAll'}], [5, 6]).marks.size, 2);
    assert.equal(run([{type: 'unmarkAll'}], order, state).marks.size, 0);
    assert.deepEqual(run([{type: 'reset'}], order, state), INITIAL_USERS_VIEW);
  });
});
