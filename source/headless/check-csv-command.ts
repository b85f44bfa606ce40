// `mailferry check-csv FILE`: validates a migration CSV before a batch is created, for admins and
// scripts. It prints what it found and every problem; it never prints a password, masked or not
// (not even its length).

import meow from 'meow';
import {loadMigrationCsv, type CsvLoadResult, type CsvProblem} from '../engine/csv/migration-csv.js';
import {exposedMigrationCsv} from '../engine/credentials/secret-file-exposure.js';
import {MigrationError} from '../imap/imap-error.js';

const HELP = `
  Usage
    $ mailferry check-csv FILE [--json] [--oauth2-source]

  Checks a migration CSV (columns EmailAddress, UserName, Password; optional UserRoot,
  TargetUserName, TargetPassword) and lists every problem with its line number.
  Passwords are never printed.

  Options
    --json      Print one JSON object: {usable, rows, delimiter, columns, hasTargetCredentials, problems}
    --oauth2-source
                The source logs in with OAuth2 tokens: no Password column or passwords needed
    --help, -h  Show this help

  Exit codes
    0  the file is usable (warnings allowed)
    1  the file has errors
    2  wrong usage, or the file cannot be read
`;

const KNOWN_FLAGS = new Set(['json', 'oauth2Source', 'help', 'h']);

export interface CheckCsvIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** `argv` is what follows `check-csv` on the command line. Resolves to the exit code. */
export async function runCheckCsv(argv: string[], io: CheckCsvIo = {stdout: process.stdout, stderr: process.stderr}): Promise<number> {
  const cli = meow(HELP, {
    argv,
    importMeta: import.meta,
    description: false,
    // Help goes through io like everything else, rather than meow's console.log + process.exit.
    autoHelp: false,
    autoVersion: false,
    flags: {json: {type: 'boolean'}, oauth2Source: {type: 'boolean'}, help: {type: 'boolean', shortFlag: 'h'}},
  });

  if (cli.flags.help) {
    io.stdout.write(HELP.replace(/^\n/, ''));
    return 0;
  }
  const unknown = Object.keys(cli.unnormalizedFlags).filter((flag) => !KNOWN_FLAGS.has(flag));
  if (unknown.length > 0) return usageError(io, `unknown option ${unknown.map((flag) => (flag.length === 1 ? `-${flag}` : `--${flag}`)).join(', ')}`);
  if (cli.input.length === 0) return usageError(io, 'the path of the migration CSV is missing');
  if (cli.input.length > 1) return usageError(io, `expected one file, got ${cli.input.length}; check one file at a time`);
  const path = cli.input[0] ?? '';

  let result: CsvLoadResult;
  try {
    result = await loadMigrationCsv(path, cli.flags.oauth2Source ? {sourcePasswordsOptional: true} : {});
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    io.stderr.write(`check-csv: ${error.message}. ${error.hint}\n`);
    return 2;
  }

  // Not a problem of the CSV's content (it stays usable), but the first thing to fix before a
  // migration: everyone on the jump host can read the passwords in it.
  const exposed = await exposedMigrationCsv(path, result.rows);
  if (cli.flags.json) {
    const report = {
      usable: result.usable,
      rows: result.rows.length,
      delimiter: result.delimiter,
      columns: result.columns,
      hasTargetCredentials: result.hasTargetCredentials,
      problems: result.problems,
      ...(exposed ? {readableByOthers: exposed.message} : {}),
    };
    io.stdout.write(JSON.stringify(report) + '\n');
  } else {
    io.stdout.write(formatReport(path, result) + (exposed ? `warning: ${exposed.message}\n` : ''));
  }
  return result.usable ? 0 : 1;
}

export function formatReport(path: string, result: CsvLoadResult): string {
  const rows = `${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'}`;
  const columns = result.columns.length > 0 ? result.columns.join(', ') : '(none recognised)';
  const target = result.hasTargetCredentials ? 'present' : 'not present';
  const lines = [`${path}: ${rows}, delimiter '${result.delimiter}', columns ${columns}; target credentials ${target}`];
  for (const problem of [...result.problems].sort((a, b) => a.line - b.line)) lines.push(formatProblem(problem));

  const errors = result.problems.filter((problem) => problem.severity === 'error').length;
  const warnings = result.problems.length - errors;
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (result.usable) {
    lines.push(warnings > 0 ? `Usable, with ${count(warnings, 'warning')}.` : 'Usable.');
  } else {
    lines.push(`Not usable: ${count(errors, 'error')}, ${count(warnings, 'warning')}. Fix the errors above and run check-csv again.`);
  }
  return lines.join('\n') + '\n';
}

/** `line 3, column EmailAddress: error: ...` (the column part only when the problem has one). */
export function formatProblem(problem: CsvProblem): string {
  const column = problem.column !== undefined && problem.column !== '' ? `, column ${problem.column}` : '';
  return `line ${problem.line}${column}: ${problem.severity}: ${problem.message}`;
}

function usageError(io: CheckCsvIo, what: string): number {
  io.stderr.write(`check-csv: ${what}.\n${HELP}`);
  return 2;
}
