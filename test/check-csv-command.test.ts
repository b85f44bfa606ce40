import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync} from 'node:fs';
import {chmod, cp, mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import {fileURLToPath} from 'node:url';
import {runCheckCsv} from '../source/headless/check-csv-command.js';

const checkedOut = fileURLToPath(new URL('./fixtures/csv/', import.meta.url));
/**
 * A private copy of the fixtures: check-csv warns when a CSV with passwords is readable by others,
 * and a checkout's modes depend on the umask of whoever cloned it.
 */
let fixtures = '';
before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mailferry-check-csv-'));
  await cp(checkedOut, dir, {recursive: true});
  for (const name of readdirSync(dir)) await chmod(join(dir, name), 0o600);
  fixtures = dir + '/';
});
after(async () => {
  if (fixtures) await rm(fixtures, {recursive: true, force: true});
});

/** Every password written in the fixtures starts with one of these. */
const FIXTURE_PASSWORDS = /Pw[-",;]|P@ssw0rd|1091990|2111991|3281986/;

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {stream, text: () => text};
}

async function run(...argv: string[]) {
  const stdout = capture();
  const stderr = capture();
  const code = await runCheckCsv(argv, {stdout: stdout.stream, stderr: stderr.stream});
  return {code, stdout: stdout.text(), stderr: stderr.text()};
}

describe('mailferry check-csv', () => {
  it('exits 0 for a usable file and prints the summary', async () => {
    const result = await run(fixtures + 'seed-dovecot.csv');
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.equal(
      result.stdout,
      `${fixtures}seed-dovecot.csv: 3 rows, delimiter ',', columns EmailAddress, UserName, Password; target credentials not present\nUsable.\n`,
    );
  });

  it('exits 0 with warnings, listing them', async () => {
    const result = await run(fixtures + 'ok-surrounding-space.csv');
    assert.equal(result.code, 0);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[1] ?? '', /^line 2, column UserName: warning: UserName starts or ends with a space/);
    assert.match(lines[2] ?? '', /^line 2, column Password: warning: /);
    assert.equal(lines[3], 'Usable, with 2 warnings.');
  });

  it('reports target credentials and the ";" delimiter in the summary', async () => {
    const target = await run(fixtures + 'ok-target-credentials.csv');
    assert.match(target.stdout, /target credentials present/);
    const excel = await run(fixtures + 'ok-excel-semicolon-bom-crlf.csv');
    assert.match(excel.stdout, /: 3 rows, delimiter ';', /);
  });

  it('warns, after the report, when other users can read a CSV that holds passwords', async () => {
    const path = fixtures + 'seed-dovecot.csv';
    await chmod(path, 0o644);
    try {
      const result = await run(path);
      assert.equal(result.code, 0, 'still usable');
      const lines = result.stdout.trimEnd().split('\n');
      assert.equal(lines[1], 'Usable.');
      assert.equal(lines[2], `warning: The migration CSV ${path} holds passwords and can be read by every user on this machine (mode 0644); restrict it with: chmod 600 ${path}`);
      const json = JSON.parse((await run(path, '--json')).stdout) as {usable: boolean; readableByOthers?: string};
      assert.match(json.readableByOthers ?? '', /chmod 600 /);
    } finally {
      await chmod(path, 0o600);
    }
  });

  it('exits 1 and lists every problem sorted by line', async () => {
    const result = await run(fixtures + 'bad-many-problems.csv');
    assert.equal(result.code, 1);
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.slice(1, -1).map((line) => line.replace(/: (error|warning): .*/, ': $1')),
      [
        'line 5, column EmailAddress: error',
        'line 6, column UserName: error',
        'line 6, column UserRoot: error',
        'line 7: error',
        'line 10, column EmailAddress: error',
        'line 10, column Password: error',
      ],
    );
    assert.equal(lines.at(-1), 'Not usable: 6 errors, 0 warnings. Fix the errors above and run check-csv again.');
  });

  it('--json prints one object with counts, not rows', async () => {
    const result = await run('--json', fixtures + 'bad-duplicate-email.csv');
    assert.equal(result.code, 1);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report), ['usable', 'rows', 'delimiter', 'columns', 'hasTargetCredentials', 'problems']);
    assert.equal(report.usable, false);
    assert.equal(report.rows, 4);
    assert.equal(report.delimiter, ',');
    assert.deepEqual(report.columns, ['EmailAddress', 'UserName', 'Password']);
    assert.deepEqual(
      (report.problems as Array<{line: number; code: string}>).map((problem) => [problem.line, problem.code]),
      [
        [4, 'duplicate-email'],
        [5, 'duplicate-email'],
      ],
    );
  });

  it('never prints a password from any fixture, in either format', async () => {
    const files = readdirSync(fixtures).filter((name) => name.endsWith('.csv'));
    assert.ok(files.length > 30);
    for (const file of files) {
      for (const argv of [[fixtures + file], ['--json', fixtures + file]]) {
        const result = await run(...argv);
        assert.doesNotMatch(result.stdout + result.stderr, FIXTURE_PASSWORDS, `${argv.join(' ')}`);
        assert.equal(result.code, file.startsWith('bad-') ? 1 : 0, file);
      }
    }
  });

  it('exits 2 with a clear message when the file cannot be read', async () => {
    const result = await run(fixtures + 'no-such-file.csv');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Cannot read the migration CSV .*no-such-file\.csv: the file does not exist\. Check the path/);
  });

  it('exits 2 for usage errors', async () => {
    for (const [argv, message] of [
      [[], /path of the migration CSV is missing/],
      [[fixtures + 'seed-plain.csv', fixtures + 'seed-dovecot.csv'], /expected one file, got 2/],
      [['--jsn', fixtures + 'seed-plain.csv'], /unknown option --jsn/],
    ] as const) {
      const result = await run(...argv);
      assert.equal(result.code, 2, argv.join(' '));
      assert.equal(result.stdout, '');
      assert.match(result.stderr, message);
      assert.match(result.stderr, /Usage/);
    }
  });

  it('--help prints the usage to stdout and exits 0', async () => {
    const result = await run('--help');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /\$ mailferry check-csv FILE \[--json\]/);
    assert.match(result.stdout, /Exit codes/);
  });
});
