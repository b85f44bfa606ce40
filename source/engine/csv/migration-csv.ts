// The migration file: one row per mailbox, in the shape hosted-suite IMAP migrations use
// (EmailAddress, UserName, Password, optional UserRoot), plus our optional per-row target login
// (TargetUserName, TargetPassword). Admins write these by hand or export them from Excel, so the
// reader accepts what Excel writes in any locale (`;` delimiter, BOM, CRLF) and reports every
// problem at once, with the line number a text editor shows. No message ever quotes a cell value:
// a shifted column would otherwise print someone's password.

import {readFile} from 'node:fs/promises';
import {parse} from 'csv-parse/sync';
import {MigrationError} from '../../imap/imap-error.js';
import {fileReadReason} from './file-read-error.js';

export interface MigrationRow {
  /** Line of the file where the row starts (header = line 1). */
  line: number;
  /** Trimmed; the target mailbox. */
  emailAddress: string;
  /** Passed to the source server exactly as written (admin forms like `user*admin` included). */
  userName: string;
  /** Exactly as written: a password may start or end with a space. */
  password: string;
  userRoot?: string;
  targetUserName?: string;
  targetPassword?: string;
}

export type CsvProblemCode =
  | 'missing-column'
  | 'unknown-column'
  | 'unnamed-column'
  | 'duplicate-column'
  | 'no-header'
  | 'field-count'
  | 'empty-field'
  | 'surrounding-space'
  | 'bad-email'
  | 'duplicate-email'
  | 'bad-userroot'
  | 'too-many-rows'
  | 'unparseable'
  | 'empty-file'
  | 'no-rows'
  | 'not-text'
  | 'bad-encoding'
  | 'target-password-without-user'
  | 'target-user-without-password';

export interface CsvProblem {
  line: number;
  column?: string;
  severity: 'error' | 'warning';
  code: CsvProblemCode;
  /** Plain words and what to do; never contains a cell value. */
  message: string;
}

export interface CsvLoadResult {
  rows: MigrationRow[];
  problems: CsvProblem[];
  /** No errors and at least one row. */
  usable: boolean;
  delimiter: ',' | ';';
  /** Header names as written (trimmed). */
  columns: string[];
  /** Both target columns exist and at least one row fills them. */
  hasTargetCredentials: boolean;
}

export const MAX_CSV_ROWS = 50_000;

export const CSV_COLUMNS = ['EmailAddress', 'UserName', 'Password', 'UserRoot', 'TargetUserName', 'TargetPassword'] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];
const REQUIRED_COLUMNS: readonly CsvColumn[] = ['EmailAddress', 'UserName', 'Password'];

const HEADER_EXAMPLE = 'EmailAddress,UserName,Password';

export interface CsvReadOptions {
  /** The source logs in with OAuth2 tokens: the Password column may be left out or left empty. */
  sourcePasswordsOptional?: boolean;
}

export function parseMigrationCsv(input: string | Buffer, options: CsvReadOptions = {}): CsvLoadResult {
  const problems: CsvProblem[] = [];
  const result = (partial: Partial<CsvLoadResult> = {}): CsvLoadResult => {
    const rows = partial.rows ?? [];
    problems.sort((a, b) => a.line - b.line);
    return {
      rows,
      problems,
      usable: rows.length > 0 && !problems.some((p) => p.severity === 'error'),
      delimiter: partial.delimiter ?? ',',
      columns: partial.columns ?? [],
      hasTargetCredentials: partial.hasTargetCredentials ?? false,
    };
  };
  const error = (line: number, code: CsvProblemCode, message: string, column?: string) =>
    problems.push({line, severity: 'error', code, message, ...(column !== undefined ? {column} : {})});
  const warning = (line: number, code: CsvProblemCode, message: string, column?: string) =>
    problems.push({line, severity: 'warning', code, message, ...(column !== undefined ? {column} : {})});

  const decoded = toUtf8Buffer(input);
  if ('problem' in decoded) {
    problems.push(decoded.problem);
    return result();
  }
  const buffer = decoded.buffer;
  const lines = new LineIndex(buffer);

  if (/^\s*$/.test(buffer.toString('utf8'))) {
    error(1, 'empty-file', `The file is empty. Put the header line ${HEADER_EXAMPLE} first, then one line per mailbox.`);
    return result();
  }

  const delimiter = detectDelimiter(firstLineText(buffer, lines));
  const {records, failures} = readRecords(buffer, delimiter, lines);

  const isBlank = (record: RawRecord) => record.fields.every((field) => field.trim() === '');
  const headerPosition = records.findIndex((record) => !isBlank(record));
  const header = records[headerPosition];
  const headerFailure = failures.find((f) => header === undefined || f.line < header.line);
  if (header === undefined || headerFailure) {
    const line = headerFailure?.line ?? 1;
    error(line, 'unparseable', `The header line cannot be read as CSV: ${describeParseFailure(headerFailure?.code, delimiter)}`);
    return result({delimiter});
  }

  const columns = header.fields.map((name) => name.trim());
  const columnIndex = new Map<CsvColumn, number>();
  columns.forEach((name, index) => {
    const known = CSV_COLUMNS.find((column) => column.toLowerCase() === name.toLowerCase());
    if (known === undefined) return;
    const first = columnIndex.get(known);
    if (first === undefined) columnIndex.set(known, index);
    else
      error(
        header.line,
        'duplicate-column',
        `Column ${known} appears twice (columns ${first + 1} and ${index + 1}; names are compared ignoring case). Delete one of them.`,
        known,
      );
  });

  if (columnIndex.size === 0) {
    // Without a recognisable header the first line is most likely a data row; naming its "columns"
    // would print that user's password.
    error(
      header.line,
      'no-header',
      `Line ${header.line} is not a header line: it names none of the columns ${REQUIRED_COLUMNS.join(', ')}. ` +
        `Insert the header ${HEADER_EXAMPLE} (separated by , or ;) as the first line.`,
    );
    return result({delimiter, columns: []});
  }

  for (const column of REQUIRED_COLUMNS) {
    if (column === 'Password' && options.sourcePasswordsOptional) continue;
    if (!columnIndex.has(column))
      error(header.line, 'missing-column', `Required column ${column} is missing. Add it to the header line and fill it on every row.`, column);
  }
  columns.forEach((name, index) => {
    if (name === '') {
      warning(header.line, 'unnamed-column', `Column ${index + 1} has no name in the header; its values are ignored.`);
    } else if (!CSV_COLUMNS.some((column) => column.toLowerCase() === name.toLowerCase())) {
      const suggestion = closestColumn(name);
      warning(
        header.line,
        'unknown-column',
        `Column "${name}" is not a column mailferry knows, so its values are ignored. ` +
          (suggestion ? `Did you mean ${suggestion}? ` : '') +
          `Known columns: ${CSV_COLUMNS.join(', ')}.`,
        name,
      );
    }
  });

  const hasTargetUser = columnIndex.has('TargetUserName');
  const hasTargetPassword = columnIndex.has('TargetPassword');
  if (hasTargetUser && !hasTargetPassword)
    error(
      header.line,
      'target-user-without-password',
      'Column TargetUserName is present but TargetPassword is not. Add TargetPassword, or remove TargetUserName and log in to the target with an admin identity.',
      'TargetPassword',
    );
  if (hasTargetPassword && !hasTargetUser)
    error(
      header.line,
      'target-password-without-user',
      'Column TargetPassword is present but TargetUserName is not. Add TargetUserName, or remove TargetPassword and log in to the target with an admin identity.',
      'TargetUserName',
    );
  const checkTargetPairs = hasTargetUser && hasTargetPassword;

  for (const failure of failures) {
    const column = failure.columnIndex !== undefined ? columns[failure.columnIndex] || undefined : undefined;
    error(failure.line, 'unparseable', `This line cannot be read as CSV: ${describeParseFailure(failure.code, delimiter)}`, column);
  }

  const rows: MigrationRow[] = [];
  const firstLineOfEmail = new Map<string, number>();
  let dataRows = 0;
  let anyTargetCredentials = false;

  for (const record of records.slice(headerPosition + 1)) {
    // Excel writes `;;;` for a row that was cleared; treat it like a blank line.
    if (isBlank(record)) continue;
    dataRows += 1;
    if (dataRows > MAX_CSV_ROWS) {
      error(
        record.line,
        'too-many-rows',
        `The file has more than ${MAX_CSV_ROWS.toLocaleString('en-US')} user rows; this is the first row over the limit. ` +
          `Split the users into several files and run one batch per file.`,
      );
      break;
    }
    if (record.fields.length !== columns.length) {
      const other = delimiter === ',' ? ';' : ',';
      const advice =
        record.fields.length === 1 && record.fields[0]?.includes(other)
          ? `This line seems to separate values with "${other}" while the header uses "${delimiter}"; use "${delimiter}" throughout the file.`
          : `A value that contains "${delimiter}" must be wrapped in double quotes; a missing value still needs its "${delimiter}".`;
      error(record.line, 'field-count', `Expected ${columns.length} fields as in the header line, found ${record.fields.length}. ${advice}`);
      continue;
    }

    const cell = (column: CsvColumn): string | undefined => {
      const index = columnIndex.get(column);
      return index === undefined ? undefined : record.fields[index];
    };
    const line = record.line;

    const emailAddress = (cell('EmailAddress') ?? '').trim();
    if (columnIndex.has('EmailAddress')) {
      if (emailAddress === '') {
        error(line, 'empty-field', 'EmailAddress is empty. Fill in the target mailbox address for this row.', 'EmailAddress');
      } else {
        const reason = emailProblem(emailAddress);
        if (reason) {
          error(line, 'bad-email', `EmailAddress ${reason}. Write one plain address such as terry.adams@contoso.edu.`, 'EmailAddress');
        } else {
          const key = emailAddress.toLowerCase();
          const first = firstLineOfEmail.get(key);
          if (first === undefined) firstLineOfEmail.set(key, line);
          else
            error(
              line,
              'duplicate-email',
              `EmailAddress is the same as on line ${first} (compared ignoring case). Each mailbox may appear only once; delete one of the two rows.`,
              'EmailAddress',
            );
        }
      }
    }

    const userName = cell('UserName') ?? '';
    if (columnIndex.has('UserName')) {
      if (userName.trim() === '') error(line, 'empty-field', 'UserName is empty. Fill in the login name for the source server.', 'UserName');
      else if (hasSurroundingSpace(userName)) warnSpace(line, 'UserName', 'login name');
    }

    const password = cell('Password') ?? '';
    if (columnIndex.has('Password')) {
      if (password === '' && !options.sourcePasswordsOptional) error(line, 'empty-field', 'Password is empty. Fill in the source password for this row.', 'Password');
      else if (hasSurroundingSpace(password)) warnSpace(line, 'Password', 'password');
    }

    const userRoot = cell('UserRoot') ?? '';
    if (userRoot !== '' && !userRoot.startsWith('/'))
      error(
        line,
        'bad-userroot',
        'UserRoot must be a folder path starting with / (for example /users/terry.adams), or be left empty.',
        'UserRoot',
      );

    const targetUserName = checkTargetPairs ? (cell('TargetUserName') ?? '') : '';
    const targetPassword = checkTargetPairs ? (cell('TargetPassword') ?? '') : '';
    if (checkTargetPairs) {
      const userGiven = targetUserName.trim() !== '';
      if (userGiven && targetPassword === '')
        error(
          line,
          'target-user-without-password',
          'TargetUserName is filled but TargetPassword is empty. Fill both, or leave both empty to use the target admin login.',
          'TargetPassword',
        );
      if (!userGiven && targetPassword !== '')
        error(
          line,
          'target-password-without-user',
          'TargetPassword is filled but TargetUserName is empty. Fill both, or leave both empty to use the target admin login.',
          'TargetUserName',
        );
      if (userGiven && hasSurroundingSpace(targetUserName)) warnSpace(line, 'TargetUserName', 'login name');
      if (targetPassword !== '' && hasSurroundingSpace(targetPassword)) warnSpace(line, 'TargetPassword', 'password');
      if (userGiven && targetPassword !== '') anyTargetCredentials = true;
    }

    rows.push({
      line,
      emailAddress,
      userName,
      password,
      ...(userRoot !== '' ? {userRoot} : {}),
      ...(targetUserName.trim() !== '' ? {targetUserName} : {}),
      ...(targetPassword !== '' ? {targetPassword} : {}),
    });
  }

  if (dataRows === 0 && failures.length === 0)
    error(header.line, 'no-rows', 'The file has a header line but no user rows. Add one line per mailbox below the header.');

  return result({rows, delimiter, columns, hasTargetCredentials: anyTargetCredentials});

  function warnSpace(line: number, column: CsvColumn, what: string) {
    warning(
      line,
      'surrounding-space',
      `${column} starts or ends with a space, which is sent to the server as is. Remove the space unless it is part of the ${what}.`,
      column,
    );
  }
}

export async function loadMigrationCsv(path: string, options: CsvReadOptions = {}): Promise<CsvLoadResult> {
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (cause) {
    const reason = fileReadReason(cause);
    throw new MigrationError(
      {
        kind: 'config',
        message: `Cannot read the migration CSV ${path}: ${reason}`,
        hint: 'Check the path and that this user may read the file, then try again.',
        retryable: false,
      },
      {cause},
    );
  }
  return parseMigrationCsv(content, options);
}

// --- reading the bytes -------------------------------------------------------------------------

type Decoded = {buffer: Buffer} | {problem: CsvProblem};

const SAVE_AS_UTF8 = 'In Excel use Save As > "CSV UTF-8 (Comma delimited)"; other editors have a UTF-8 option when saving.';

function toUtf8Buffer(input: string | Buffer): Decoded {
  let buffer = typeof input === 'string' ? Buffer.from(input.replace(/^\uFEFF/, ''), 'utf8') : input;
  if (buffer.length >= 2 && ((buffer[0] === 0xff && buffer[1] === 0xfe) || (buffer[0] === 0xfe && buffer[1] === 0xff)))
    return {problem: {line: 1, severity: 'error', code: 'bad-encoding', message: `The file is UTF-16 text, not UTF-8. ${SAVE_AS_UTF8}`}};
  if (buffer.length >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) buffer = buffer.subarray(3);

  const nul = buffer.indexOf(0);
  if (nul !== -1) {
    const line = new LineIndex(buffer).lineAt(nul);
    return {
      problem: {
        line,
        severity: 'error',
        code: 'not-text',
        message: `The file contains NUL bytes (first on line ${line}), so it is not a CSV text file; perhaps it is an Excel workbook. ${SAVE_AS_UTF8}`,
      },
    };
  }

  if (typeof input !== 'string') {
    const strict = new TextDecoder('utf-8', {fatal: true});
    try {
      strict.decode(buffer);
    } catch {
      // Find the lines, so the admin can see which names or passwords carry the legacy characters.
      const lines = new LineIndex(buffer);
      const bad: number[] = [];
      for (let line = 1; line <= lines.count; line += 1) {
        try {
          strict.decode(buffer.subarray(lines.startOfLine(line), lines.startOfLine(line + 1) ?? buffer.length));
        } catch {
          bad.push(line);
        }
      }
      const first = bad[0] ?? 1;
      const more = bad.length > 1 ? ` (and ${bad.length - 1} more line${bad.length > 2 ? 's' : ''})` : '';
      return {
        problem: {
          line: first,
          severity: 'error',
          code: 'bad-encoding',
          message: `Line ${first}${more} is not valid UTF-8; the file was probably saved in a legacy encoding such as Windows-1252, which would garble non-ASCII passwords. ${SAVE_AS_UTF8}`,
        },
      };
    }
  }
  return {buffer};
}

/** Byte offsets of line starts; CRLF, LF and lone CR each end a line, as editors count them. */
class LineIndex {
  private readonly starts: number[] = [0];

  constructor(private readonly buffer: Buffer) {
    for (let i = 0; i < buffer.length; i += 1) {
      const byte = buffer[i];
      if (byte === 0x0d) {
        if (buffer[i + 1] === 0x0a) i += 1;
        this.starts.push(i + 1);
      } else if (byte === 0x0a) {
        this.starts.push(i + 1);
      }
    }
  }

  get count(): number {
    const last = this.starts[this.starts.length - 1] ?? 0;
    return last === this.buffer.length && this.starts.length > 1 ? this.starts.length - 1 : this.starts.length;
  }

  lineAt(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  /** Byte offset where `line` starts, or undefined past the end of the file. */
  startOfLine(line: number): number | undefined {
    const start = this.starts[line - 1];
    return start === undefined || start >= this.buffer.length ? undefined : start;
  }
}

/** The first line with something on it: the header, unless the file has no header at all. */
function firstLineText(buffer: Buffer, lines: LineIndex): string {
  for (let line = 1; line <= lines.count; line += 1) {
    const start = lines.startOfLine(line) ?? buffer.length;
    const text = buffer.subarray(start, lines.startOfLine(line + 1) ?? buffer.length).toString('utf8');
    if (text.trim() !== '') return text;
  }
  return '';
}

/** The header decides: Excel writes `;` in locales where `,` is the decimal separator. */
function detectDelimiter(headerLine: string): ',' | ';' {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === ',') commas += 1;
    else if (!quoted && char === ';') semicolons += 1;
  }
  return semicolons > commas ? ';' : ',';
}

function skipLineBreaks(buffer: Buffer, offset: number): number {
  let i = offset;
  while (i < buffer.length && (buffer[i] === 0x0a || buffer[i] === 0x0d)) i += 1;
  return i;
}

interface RawRecord {
  line: number;
  fields: string[];
}

interface ParseFailure {
  line: number;
  code: string | undefined;
  columnIndex?: number;
}

/**
 * csv-parse stops at the first malformed record and its `lines` counter counts a CRLF inside a
 * quoted field twice, so line numbers come from the byte offset where each record starts, and after
 * a malformed record parsing resumes on the next physical line.
 */
function readRecords(buffer: Buffer, delimiter: ',' | ';', lines: LineIndex): {records: RawRecord[]; failures: ParseFailure[]} {
  const records: RawRecord[] = [];
  const failures: ParseFailure[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const chunkStart = offset;
    let lastEnd = offset;
    try {
      parse(buffer.subarray(chunkStart), {
        delimiter,
        record_delimiter: ['\r\n', '\n', '\r'],
        relax_column_count: true,
        skip_empty_lines: true,
        on_record: (fields: string[], context) => {
          records.push({line: lines.lineAt(skipLineBreaks(buffer, lastEnd)), fields});
          lastEnd = chunkStart + context.bytes;
          return null;
        },
      });
      break;
    } catch (cause) {
      const line = lines.lineAt(skipLineBreaks(buffer, lastEnd));
      const {code, column} = cause as {code?: string; column?: unknown};
      failures.push({line, code, ...(typeof column === 'number' ? {columnIndex: column} : {})});
      const next = lines.startOfLine(line + 1);
      if (next === undefined) break;
      offset = next;
    }
  }
  return {records, failures};
}

function describeParseFailure(code: string | undefined, delimiter: string): string {
  const quoteHowTo = 'wrap the whole value in double quotes and write each quote inside it twice, e.g. "pa""ss"';
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `a value opens a double quote that is never closed. Close the quote; if the quote is part of the value, ${quoteHowTo}.`;
    case 'INVALID_OPENING_QUOTE':
      return `a double quote appears inside a value that is not wrapped in quotes. To keep the quote, ${quoteHowTo}.`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `a quoted value is followed by more characters before the next "${delimiter}". Put the whole value inside the quotes.`;
    default:
      return `the CSV structure is broken here (${code ?? 'unknown reason'}). Check quotes and delimiters on this line.`;
  }
}

// --- checking values ----------------------------------------------------------------------------

/**
 * Deliberately simple, not RFC 5322: exactly one @, something before it, a domain with a dot and no
 * empty labels, no whitespace or control characters. It catches the usual spreadsheet slips
 * (shifted columns, "Name <addr>", two addresses in one cell) without rejecting real addresses.
 */
export function emailProblem(address: string): string | undefined {
  if (/[\s\p{Cc}]/u.test(address)) return 'contains a space or control character';
  const parts = address.split('@');
  if (parts.length === 1) return 'has no @';
  if (parts.length > 2) return 'has more than one @';
  const [local = '', domain = ''] = parts;
  if (local === '') return 'has nothing before the @';
  if (!domain.includes('.')) return 'has no dot in the domain after the @';
  if (domain.split('.').some((label) => label === '')) return 'has an empty part in the domain (a dot at the start, at the end or twice in a row)';
  return undefined;
}

function hasSurroundingSpace(value: string): boolean {
  return value !== value.trim();
}

function closestColumn(name: string): CsvColumn | undefined {
  const wanted = name.toLowerCase().replace(/[\s_-]/g, '');
  let best: {column: CsvColumn; distance: number} | undefined;
  for (const column of CSV_COLUMNS) {
    const distance = editDistance(wanted, column.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = {column, distance};
  }
  return best?.column;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
