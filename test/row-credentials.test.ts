import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {PassThrough} from 'node:stream';
import {fileURLToPath} from 'node:url';
import {loadMigrationCsv, type MigrationRow} from '../source/engine/csv/migration-csv.js';
import {
  applyLoginPattern,
  loginPatternProblem,
  resolveSecrets,
  sourceIdentity,
  targetIdentity,
  type ResolvedSecrets,
} from '../source/engine/credentials/row-credentials.js';
import {MigrationError} from '../source/imap/imap-error.js';

const fixtures = fileURLToPath(new URL('./fixtures/csv/', import.meta.url));

const row: MigrationRow = {line: 7, emailAddress: 'terrya@contoso.edu', userName: 'terry.adams', password: 'Pw-row-01'};
const withTarget: MigrationRow = {...row, targetUserName: 'terrya@fabrikam.example', targetPassword: 'Pw-dst-01'};
const secrets: ResolvedSecrets = {sourceAdminPassword: 'Src-admin-pw', targetAdminPassword: 'Dst-admin-pw'};
const fileSecret = {from: 'file', path: '/nonexistent/admin.pw'} as const;

describe('applyLoginPattern', () => {
  const table: Array<[pattern: string, expected: string]> = [
    ['{email}*admin', 'terrya@contoso.edu*admin'],
    ['{user}*mailadmin', 'terry.adams*mailadmin'],
    ['{localpart}', 'terrya'],
    ['{localpart}@fabrikam.example', 'terrya@fabrikam.example'],
    ['contoso/admin/{localpart}', 'contoso/admin/terrya'],
    ['#{email}#admin#', '#terrya@contoso.edu#admin#'],
    ['{localpart}%{domain}', 'terrya%contoso.edu'],
    ['{email}{email}', 'terrya@contoso.edu' + 'terrya@contoso.edu'],
  ];
  for (const [pattern, expected] of table) {
    it(`${pattern} -> ${expected}`, () => {
      assert.equal(applyLoginPattern(pattern, row), expected);
    });
  }

  it('does not expand placeholders that appear inside the values', () => {
    assert.equal(applyLoginPattern('{user}', {...row, userName: 'odd{email}name'}), 'odd{email}name');
  });

  it('throws a config error for an unknown placeholder, naming the mailbox', () => {
    assert.throws(
      () => applyLoginPattern('{mail}*admin', row),
      (error: unknown) =>
        error instanceof MigrationError && error.kind === 'config' && error.mailbox === 'terrya@contoso.edu' && /\{mail\}/.test(error.message),
    );
  });
});

describe('loginPatternProblem', () => {
  const table: Array<[pattern: string, problem: RegExp | undefined]> = [
    ['{email}*admin', undefined],
    ['{user}', undefined],
    ['admin@{domain}', /names no user/],
    ['', /empty/],
    ['{Email}*admin', /\{Email\}/],
    ['{email}*{admin}', /\{admin\}/],
  ];
  for (const [pattern, problem] of table) {
    it(JSON.stringify(pattern), () => {
      const found = loginPatternProblem(pattern);
      if (problem === undefined) assert.equal(found, undefined);
      else assert.match(found ?? '', problem);
    });
  }
});

describe('sourceIdentity', () => {
  it('csv mode passes the seed UserName forms to the server untouched', async () => {
    const expected: Record<string, string> = {
      'seed-plain.csv': 'terry.adams',
      'seed-exchange.csv': 'contoso-students/mailadmin/terry.adams',
      'seed-dovecot.csv': 'terry.adams*mailadmin',
      'seed-mirapoint.csv': '#terry.adams@contoso-students.edu#mailadmin#',
      'seed-courier.csv': 'mailadmin',
    };
    for (const [file, user] of Object.entries(expected)) {
      const {rows} = await loadMigrationCsv(fixtures + file);
      const first = rows[0];
      assert.ok(first);
      assert.deepEqual(sourceIdentity(first, {kind: 'csv'}, {}), {user, password: first.password}, file);
    }
  });

  it('csv mode keeps spaces in user name and password', () => {
    assert.deepEqual(sourceIdentity({...row, userName: ' terry ', password: ' pw '}, {kind: 'csv'}, {}), {user: ' terry ', password: ' pw '});
  });

  it('csv mode refuses a row without a password', () => {
    assert.throws(() => sourceIdentity({...row, password: ''}, {kind: 'csv'}, {}), /Line 7 \(terrya@contoso\.edu\) has no Password/);
  });

  it('authzid mode: the admin authenticates and acts as the row UserName', () => {
    assert.deepEqual(sourceIdentity(row, {kind: 'authzid', adminUser: 'mailadmin', adminSecret: fileSecret}, secrets), {
      user: 'mailadmin',
      password: 'Src-admin-pw',
      authzid: 'terry.adams',
    });
  });

  it('authzid mode without the admin password is a config error for that mailbox', () => {
    assert.throws(
      () => sourceIdentity(row, {kind: 'authzid', adminUser: 'mailadmin', adminSecret: fileSecret}, {targetAdminPassword: 'x-x-x-x'}),
      (error: unknown) => error instanceof MigrationError && error.kind === 'config' && error.endpoint === 'source' && error.mailbox === row.emailAddress,
    );
  });
});

describe('targetIdentity', () => {
  it('csv mode uses TargetUserName/TargetPassword', () => {
    assert.deepEqual(targetIdentity(withTarget, {kind: 'csv'}, {}), {user: 'terrya@fabrikam.example', password: 'Pw-dst-01'});
  });

  it('csv mode without target columns names the line and mailbox and says what to do', () => {
    assert.throws(
      () => targetIdentity(row, {kind: 'csv'}, secrets),
      (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.equal(error.kind, 'config');
        assert.equal(error.endpoint, 'target');
        assert.equal(error.mailbox, 'terrya@contoso.edu');
        assert.match(error.message, /^Line 7 \(terrya@contoso\.edu\) has no TargetUserName\/TargetPassword/);
        assert.match(error.hint, /\{email\}\*admin/);
        assert.ok(!error.message.includes('Pw-row-01'));
        return true;
      },
    );
  });

  it('authzid mode: the admin authenticates and acts as EmailAddress', () => {
    assert.deepEqual(targetIdentity(row, {kind: 'authzid', adminUser: 'admin', adminSecret: fileSecret}, secrets), {
      user: 'admin',
      password: 'Dst-admin-pw',
      authzid: 'terrya@contoso.edu',
    });
  });

  it('login-pattern mode builds the master-user login with the admin password', () => {
    assert.deepEqual(targetIdentity(row, {kind: 'login-pattern', pattern: '{email}*admin', adminSecret: fileSecret}, secrets), {
      user: 'terrya@contoso.edu*admin',
      password: 'Dst-admin-pw',
    });
  });

  it('admin modes without the admin password are config errors', () => {
    for (const mode of [
      {kind: 'authzid', adminUser: 'admin', adminSecret: fileSecret},
      {kind: 'login-pattern', pattern: '{email}*admin', adminSecret: fileSecret},
    ] as const) {
      assert.throws(() => targetIdentity(row, mode, {sourceAdminPassword: 'x-x-x-x'}), /target admin password has not been read/);
    }
  });
});

describe('resolveSecrets', () => {
  const sourceVar = `MAILFERRY_TEST_SRC_${process.pid}`;
  const targetVar = `MAILFERRY_TEST_DST_${process.pid}`;
  process.env[sourceVar] = 'Env-src-admin';
  process.env[targetVar] = 'Env-dst-admin';
  after(() => {
    delete process.env[sourceVar];
    delete process.env[targetVar];
  });

  it('reads nothing when every credential comes from the CSV', async () => {
    assert.deepEqual(await resolveSecrets({source: {kind: 'csv'}, target: {kind: 'csv'}}), {});
  });

  it('reads each admin password the modes need', async () => {
    const resolved = await resolveSecrets({
      source: {kind: 'authzid', adminUser: 'srcadmin', adminSecret: {from: 'env', name: sourceVar}},
      target: {kind: 'login-pattern', pattern: '{email}*admin', adminSecret: {from: 'env', name: targetVar}},
    });
    assert.deepEqual(resolved, {sourceAdminPassword: 'Env-src-admin', targetAdminPassword: 'Env-dst-admin'});
  });

  it('reads only the target admin password for a CSV source', async () => {
    const resolved = await resolveSecrets({
      source: {kind: 'csv'},
      target: {kind: 'authzid', adminUser: 'admin', adminSecret: {from: 'env', name: targetVar}},
    });
    assert.deepEqual(resolved, {targetAdminPassword: 'Env-dst-admin'});
  });

  it('passes on a clear error when a secret cannot be read', async () => {
    await assert.rejects(
      resolveSecrets({
        source: {kind: 'csv'},
        target: {kind: 'authzid', adminUser: 'admin', adminSecret: {from: 'prompt'}},
      }, {input: new PassThrough(), output: new PassThrough()}),
      /Cannot prompt for the target admin password \(for admin\): standard input is not a terminal/,
    );
  });
});
