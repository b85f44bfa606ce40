// Which of a batch's files that hold passwords other users of the jump host can read: the
// migration CSV when its rows carry passwords, and the admin password files. Said when a batch is
// created and every time it is opened (as ssh does for keys), since a CSV copied with default
// permissions is the usual way a migration's passwords leak.

import type {BatchDefinition} from '../batch-model.js';
import type {MigrationRow} from '../csv/migration-csv.js';
import {checkSecretFileMode, type ExposedSecretFile} from './secret-source.js';

/** The migration CSV, when its rows carry passwords and others can read it (also for check-csv). */
export async function exposedMigrationCsv(csvPath: string, rows: readonly MigrationRow[]): Promise<ExposedSecretFile | undefined> {
  const holdsPasswords = rows.some((row) => row.password !== '' || (row.targetPassword ?? '') !== '');
  return holdsPasswords ? checkSecretFileMode(csvPath, 'migration CSV') : undefined;
}

export async function exposedSecretFiles(definition: BatchDefinition, rows: readonly MigrationRow[]): Promise<ExposedSecretFile[]> {
  const files: [path: string, what: string][] = [];
  const source = definition.sourceCredentials;
  if (source.kind === 'authzid' && source.adminSecret.from === 'file') files.push([source.adminSecret.path, 'source admin password file']);
  const target = definition.targetCredentials;
  if ((target.kind === 'authzid' || target.kind === 'login-pattern') && target.adminSecret.from === 'file') files.push([target.adminSecret.path, 'target admin password file']);
  const exposed = await Promise.all([exposedMigrationCsv(definition.csvPath, rows), ...files.map(([path, what]) => checkSecretFileMode(path, what))]);
  return exposed.filter((file): file is ExposedSecretFile => file !== undefined);
}
