import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {
  MAX_CSV_ROWS,
  emailProblem,
  loadMigrationCsv,
  parseMigrationCsv,
  type CsvLoadResult,
} from '../source/engine/csv/migration-csv.js';
import {MigrationError} from '../source/imap/imap-error.js';

const fixtures = fileURLToPath(new URL('./fixtures/csv/', import.meta.url));
const load = (name: string) => loadMigrationCsv(fixtures + name);

/** [line, severity, code, column] for every problem, in the order reported. */
const shape = (result: CsvLoadResult) => result.problems.map((p) => [p.line, p.severity, p.code, p.column ?? null]);

const SEED_ROWS = ['terrya@contoso.edu', 'annb@contoso.edu', 'paulc@contoso.edu'];

describe('the vendor seed examples load as they are', () => {
  const cases: Array<[file: string, userNames: string[], passwords: string[], userRoots?: string[]]> = [
    ['seed-plain.csv', ['terry.adams', 'ann.beebe', 'paul.cannon'], ['1091990', '2111991', '3281986']],
    [
      'seed-exchange.csv',
      ['contoso-students/mailadmin/terry.adams', 'contoso-students/mailadmin/ann.beebe', 'contoso-students/mailadmin/paul.cannon'],
      ['P@ssw0rd', 'P@ssw0rd', 'P@ssw0rd'],
    ],
    ['seed-dovecot.csv', ['terry.adams*mailadmin', 'ann.beebe*mailadmin', 'paul.cannon*mailadmin'], ['P@ssw0rd', 'P@ssw0rd', 'P@ssw0rd']],
    [
      'seed-mirapoint.csv',
      [
        '#terry.adams@contoso-students.edu#mailadmin#',
        '#ann.beebe@contoso-students.edu#mailadmin#',
        '#paul.cannon@contoso-students.edu#mailadmin#',
      ],
      ['P@ssw0rd', 'P@ssw0rd', 'P@ssw0rd'],
    ],
    [
      'seed-courier.csv',
      ['mailadmin', 'mailadmin', 'mailadmin'],
      ['P@ssw0rd', 'P@ssw0rd', 'P@ssw0rd'],
      ['/users/terry.adams', '/users/ann.beebe', '/users/paul.cannon'],
    ],
  ];
  for (const [file, userNames, passwords, userRoots] of cases) {
    it(file, async () => {
      const result = await load(file);
      assert.deepEqual(result.problems, []);
      assert.equal(result.usable, true);
      assert.equal(result.delimiter, ',');
      assert.equal(result.hasTargetCredentials, false);
      assert.deepEqual(
        result.rows.map((row) => row.line),
        [2, 3, 4],
      );
      assert.deepEqual(
        result.rows.map((row) => row.emailAddress),
        SEED_ROWS,
      );
      assert.deepEqual(
        result.rows.map((row) => row.userName),
        userNames,
      );
      assert.deepEqual(
        result.rows.map((row) => row.password),
        passwords,
      );
      assert.deepEqual(
        result.rows.map((row) => row.userRoot),
        userRoots ?? [undefined, undefined, undefined],
      );
    });
  }
});

describe('well-formed variants', () => {
  it('reads an Excel export: BOM, ";" delimiter, CRLF, quoted ";", blank lines', async () => {
    const result = await load('ok-excel-semicolon-bom-crlf.csv');
    assert.deepEqual(result.problems, []);
    assert.equal(result.delimiter, ';');
    assert.deepEqual(result.columns, ['EmailAddress', 'UserName', 'Password']);
    assert.deepEqual(
      result.rows.map((row) => [row.line, row.emailAddress, row.password]),
      [
        [2, 'terrya@contoso.edu', 'Pw-semi-01'],
        [3, 'annb@contoso.edu', 'Pw;quoted-02'],
        [5, 'paulc@contoso.edu', 'Pw,comma-03'],
      ],
    );
  });

  it('keeps quoted newlines, doubled quotes and commas, and counts the physical lines', async () => {
    const result = await load('ok-quoted-multiline.csv');
    assert.deepEqual(result.problems, []);
    assert.deepEqual(
      result.rows.map((row) => [row.line, row.password]),
      [
        [2, 'Pw-multi\nline-01'],
        [4, 'Pw-"quoted"-02'],
        [5, 'Pw,comma-03'],
      ],
    );
  });

  it('matches column names ignoring case and surrounding spaces; trims only EmailAddress', async () => {
    const result = await load('ok-header-case-and-spaces.csv');
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.columns, ['emailaddress', 'USERNAME', 'password', 'userroot']);
    assert.deepEqual(result.rows[1], {
      line: 3,
      emailAddress: 'annb@contoso.edu',
      userName: 'ann.beebe',
      password: 'Pw-case-02',
      userRoot: '/users/ann.beebe',
    });
    assert.equal(result.rows[0]?.userRoot, undefined);
  });

  it('ignores blank lines, whitespace-only lines and cleared ";;" rows anywhere', async () => {
    const result = await load('ok-cleared-rows-and-blank-lines.csv');
    assert.deepEqual(result.problems, []);
    assert.deepEqual(
      result.rows.map((row) => row.line),
      [4, 7],
    );
  });

  it('counts a lone CR as a line break (old Mac line endings)', async () => {
    const result = await load('ok-lone-cr.csv');
    assert.deepEqual(result.problems, []);
    assert.deepEqual(
      result.rows.map((row) => [row.line, row.password]),
      [
        [2, 'Pw-cr-01'],
        [4, 'Pw-cr-02'],
      ],
    );
  });

  it('never trims UserName or Password, and warns about the surrounding spaces', async () => {
    const result = await load('ok-surrounding-space.csv');
    assert.equal(result.usable, true);
    assert.equal(result.rows[0]?.userName, ' terry.adams');
    assert.equal(result.rows[0]?.password, ' Pw-space-01');
    assert.deepEqual(shape(result), [
      [2, 'warning', 'surrounding-space', 'UserName'],
      [2, 'warning', 'surrounding-space', 'Password'],
    ]);
  });

  it('reads per-row target credentials; a row may leave both empty', async () => {
    const result = await load('ok-target-credentials.csv');
    assert.deepEqual(result.problems, []);
    assert.equal(result.hasTargetCredentials, true);
    assert.equal(result.rows[0]?.targetUserName, 'terrya@fabrikam.example');
    assert.equal(result.rows[0]?.targetPassword, 'Pw-dst-01');
    assert.equal(result.rows[1]?.targetUserName, undefined);
    assert.equal(result.rows[1]?.targetPassword, undefined);
  });

  it('warns about an unknown column but stays usable', async () => {
    const result = await load('ok-unknown-column.csv');
    assert.equal(result.usable, true);
    assert.deepEqual(shape(result), [[1, 'warning', 'unknown-column', 'Department']]);
  });

  it('accepts a string with a BOM as well as a Buffer', () => {
    const result = parseMigrationCsv('\uFEFFEmailAddress,UserName,Password\nterrya@contoso.edu,terry.adams,1091990');
    assert.deepEqual(result.problems, []);
    assert.equal(result.rows[0]?.password, '1091990');
  });
});

describe('malformed files: every problem, with the line a text editor shows', () => {
  type Expected = Array<[line: number, severity: 'error' | 'warning', code: string, column: string | null]>;
  const cases: Array<[file: string, expected: Expected]> = [
    ['bad-empty.csv', [[1, 'error', 'empty-file', null]]],
    ['bad-only-blank-lines.csv', [[1, 'error', 'empty-file', null]]],
    ['bad-header-only.csv', [[1, 'error', 'no-rows', null]]],
    ['bad-no-header.csv', [[1, 'error', 'no-header', null]]],
    ['bad-header-unparseable.csv', [[1, 'error', 'unparseable', null]]],
    ['bad-missing-password-column.csv', [[1, 'error', 'missing-column', 'Password']]],
    [
      'bad-column-typo.csv',
      [
        [1, 'error', 'missing-column', 'EmailAddress'],
        [1, 'warning', 'unknown-column', 'EmailAdress'],
      ],
    ],
    ['bad-duplicate-column.csv', [[1, 'error', 'duplicate-column', 'EmailAddress']]],
    ['bad-field-count-extra.csv', [[3, 'error', 'field-count', null]]],
    ['bad-field-count-missing.csv', [[4, 'error', 'field-count', null]]],
    ['bad-field-count-semicolon.csv', [[3, 'error', 'field-count', null]]],
    [
      'bad-empty-email.csv',
      [
        [2, 'error', 'empty-field', 'EmailAddress'],
        [3, 'error', 'empty-field', 'EmailAddress'],
      ],
    ],
    [
      'bad-empty-username.csv',
      [
        [2, 'error', 'empty-field', 'UserName'],
        [3, 'error', 'empty-field', 'UserName'],
      ],
    ],
    ['bad-empty-password.csv', [[3, 'error', 'empty-field', 'Password']]],
    ['bad-email-no-at.csv', [[2, 'error', 'bad-email', 'EmailAddress']]],
    ['bad-email-two-at.csv', [[2, 'error', 'bad-email', 'EmailAddress']]],
    [
      'bad-email-no-dot.csv',
      [
        [2, 'error', 'bad-email', 'EmailAddress'],
        [3, 'error', 'bad-email', 'EmailAddress'],
        [4, 'error', 'bad-email', 'EmailAddress'],
      ],
    ],
    ['bad-email-display-name.csv', [[2, 'error', 'bad-email', 'EmailAddress']]],
    [
      'bad-duplicate-email.csv',
      [
        [4, 'error', 'duplicate-email', 'EmailAddress'],
        [5, 'error', 'duplicate-email', 'EmailAddress'],
      ],
    ],
    ['bad-userroot.csv', [[3, 'error', 'bad-userroot', 'UserRoot']]],
    ['bad-target-password-without-user.csv', [[2, 'error', 'target-password-without-user', 'TargetUserName']]],
    ['bad-target-user-without-password.csv', [[3, 'error', 'target-user-without-password', 'TargetPassword']]],
    ['bad-target-column-alone.csv', [[1, 'error', 'target-user-without-password', 'TargetPassword']]],
    [
      'bad-unclosed-quote.csv',
      [
        [2, 'error', 'unparseable', 'Password'],
        [4, 'error', 'bad-email', 'EmailAddress'],
      ],
    ],
    ['bad-stray-quote.csv', [[2, 'error', 'unparseable', 'Password']]],
    ['bad-text-after-quote.csv', [[2, 'error', 'unparseable', 'UserName']]],
    ['bad-nul-bytes.csv', [[3, 'error', 'not-text', null]]],
    ['bad-utf16.csv', [[1, 'error', 'bad-encoding', null]]],
    ['bad-latin1.csv', [[3, 'error', 'bad-encoding', null]]],
    [
      'bad-many-problems.csv',
      [
        [5, 'error', 'bad-email', 'EmailAddress'],
        [6, 'error', 'empty-field', 'UserName'],
        [6, 'error', 'bad-userroot', 'UserRoot'],
        [7, 'error', 'field-count', null],
        [10, 'error', 'duplicate-email', 'EmailAddress'],
        [10, 'error', 'empty-field', 'Password'],
      ],
    ],
  ];

  for (const [file, expected] of cases) {
    it(file, async () => {
      const result = await load(file);
      assert.deepEqual(shape(result), expected);
      assert.equal(result.usable, false);
    });
  }

  it('covers every malformed fixture on disk', () => {
    const onDisk = readdirSync(fixtures).filter((name) => name.startsWith('bad-'));
    assert.deepEqual(onDisk.sort(), cases.map(([file]) => file).sort());
    assert.ok(onDisk.length >= 20);
  });

  it('names the first line in a duplicate-email message', async () => {
    const result = await load('bad-duplicate-email.csv');
    assert.match(result.problems[0]?.message ?? '', /line 2\b/);
    assert.match(result.problems[1]?.message ?? '', /line 3\b/);
  });

  it('says expected and found field counts, and spots a row written with the other delimiter', async () => {
    const extra = await load('bad-field-count-extra.csv');
    assert.match(extra.problems[0]?.message ?? '', /Expected 3 fields .* found 5/);
    const mixed = await load('bad-field-count-semicolon.csv');
    assert.match(mixed.problems[0]?.message ?? '', /seems to separate values with ","/);
  });

  it('still returns the rows it could read, so a UI can show errors next to them', async () => {
    const result = await load('bad-many-problems.csv');
    assert.deepEqual(
      result.rows.map((row) => row.line),
      [2, 5, 6, 10],
    );
    assert.equal(result.rows[0]?.password, 'Pw-multi\r\nline-01');
  });

  it('never quotes a cell value in a message', async () => {
    for (const file of readdirSync(fixtures).filter((name) => name.endsWith('.csv'))) {
      const result = await load(file);
      for (const problem of result.problems) {
        assert.doesNotMatch(problem.message, /Pw[-"]|P@ssw0rd|1091990/, `${file}: ${problem.message}`);
      }
    }
  });
});

describe('row limit', () => {
  const csvWithRows = (count: number) => {
    const lines = ['EmailAddress,UserName,Password'];
    for (let i = 1; i <= count; i += 1) lines.push(`user${i}@contoso.edu,user${i},Pw-${i}`);
    return lines.join('\n') + '\n';
  };

  it(`accepts exactly ${MAX_CSV_ROWS} rows`, () => {
    const result = parseMigrationCsv(csvWithRows(MAX_CSV_ROWS));
    assert.equal(result.usable, true);
    assert.equal(result.rows.length, MAX_CSV_ROWS);
  });

  it('reports one error on the first row over the limit and stops collecting rows', () => {
    const result = parseMigrationCsv(csvWithRows(MAX_CSV_ROWS + 5) + 'broken-row\n');
    assert.deepEqual(shape(result), [[MAX_CSV_ROWS + 2, 'error', 'too-many-rows', null]]);
    assert.equal(result.rows.length, MAX_CSV_ROWS);
    assert.equal(result.usable, false);
  });
});

describe('emailProblem (deliberately simple rules)', () => {
  const table: Array<[string, boolean]> = [
    ['terrya@contoso.edu', true],
    ['first.last+tag@sub.contoso.co.uk', true],
    ['o\'brien@contoso.edu', true],
    ['terrya.contoso.edu', false],
    ['a@b@contoso.edu', false],
    ['@contoso.edu', false],
    ['terrya@localhost', false],
    ['terrya@contoso.', false],
    ['terrya@.contoso.edu', false],
    ['terrya@contoso..edu', false],
    ['terry a@contoso.edu', false],
    ['terrya@contoso.edu\t', false],
  ];
  for (const [address, valid] of table) {
    it(`${JSON.stringify(address)} is ${valid ? 'valid' : 'rejected'}`, () => {
      assert.equal(emailProblem(address) === undefined, valid);
    });
  }
});

describe('loadMigrationCsv', () => {
  it('throws a config error naming the file and the next step when it cannot be read', async () => {
    await assert.rejects(load('does-not-exist.csv'), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.kind, 'config');
      assert.match(error.message, /does-not-exist\.csv: the file does not exist/);
      assert.match(error.hint, /Check the path/);
      return true;
    });
  });

  it('says when the path is a directory', async () => {
    await assert.rejects(loadMigrationCsv(fixtures), /it is a directory/);
  });
});
