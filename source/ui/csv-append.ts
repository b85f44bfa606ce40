// "Add a user by hand" writes the user into the migration CSV, because the CSV is where mailferry
// reads passwords again on every start (they are never in the state file). A new file is created
// private (0600) with a header; an existing file keeps its own columns and delimiter.

import {appendFile, readFile, writeFile} from 'node:fs/promises';

export interface HandUser {
  emailAddress: string;
  userName: string;
  password: string;
  targetUserName?: string;
  targetPassword?: string;
}

/** One CSV field, quoted when it holds the delimiter, a quote, a line break or edge spaces. */
export function csvField(value: string, delimiter: string): string {
  if (value.includes(delimiter) || /["\r\n]/.test(value) || value !== value.trim()) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

const COLUMN_VALUE: Record<string, (user: HandUser) => string> = {
  emailaddress: (user) => user.emailAddress,
  username: (user) => user.userName,
  password: (user) => user.password,
  targetusername: (user) => user.targetUserName ?? '',
  targetpassword: (user) => user.targetPassword ?? '',
};

export function csvRecord(user: HandUser, columns: readonly string[], delimiter: string): string {
  return columns.map((column) => csvField(COLUMN_VALUE[column.trim().toLowerCase()]?.(user) ?? '', delimiter)).join(delimiter);
}

export async function appendUser(path: string, user: HandUser, existing: {columns: readonly string[]; delimiter: string} | undefined): Promise<void> {
  const wantsTarget = user.targetUserName !== undefined && user.targetUserName !== '';
  if (!existing) {
    const columns = ['EmailAddress', 'UserName', 'Password', ...(wantsTarget ? ['TargetUserName', 'TargetPassword'] : [])];
    await writeFile(path, `${columns.join(',')}\r\n${csvRecord(user, columns, ',')}\r\n`, {mode: 0o600, flag: 'wx'});
    return;
  }
  // A file that does not end with a line break would glue the new record onto its last line.
  const content = await readFile(path, 'utf8');
  const separator = content.length > 0 && !content.endsWith('\n') ? '\r\n' : '';
  await appendFile(path, `${separator}${csvRecord(user, existing.columns, existing.delimiter)}\r\n`);
}
