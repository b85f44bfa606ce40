// The production UiServices: the engine's batch functions, the IMAP connection test and the CSV
// reader. Nothing here holds state; secrets pass through and are registered for redaction.

import {createBatch, listBatches, openBatch, removeBatch} from '../engine/batch-engine.js';
import {loadMigrationCsv} from '../engine/csv/migration-csv.js';
import {checkUserLogins, type LoginCheck} from '../engine/login-check.js';
import {readSecret} from '../engine/credentials/secret-source.js';
import {testConnection} from '../imap/connection-test.js';
import {formatError} from '../imap/imap-error.js';
import {createFileLogger} from '../log/logger.js';
import {batchLogFile} from '../store/state-dir.js';
import type {LoginCheckSide, UiServices} from './ui-services.js';

function side(check: LoginCheck): LoginCheckSide {
  return check.ok ? {ok: true, ms: check.ms} : {ok: false, ms: check.ms, ...(check.error ? {error: formatError(check.error)} : {error: 'login failed'})};
}

export function engineServices(): UiServices {
  return {
    listBatches,
    createBatch,
    removeBatch,
    async readDefinition(stateDir, name) {
      // Opening with no secrets reads the definition; the batch is closed again before anything runs.
      const probe = await openBatch({stateDir, name, secrets: {}});
      const definition = probe.definition;
      await probe.close();
      return definition;
    },
    readSecret: (source, what) => readSecret(source, what),
    // The same log file as `mailferry batch start`: what a night of the UI did can be read after.
    openBatch: ({stateDir, name, secrets}) => openBatch({stateDir, name, secrets, logger: createFileLogger(batchLogFile(stateDir, name))}),
    testConnection: (endpoint, identity, options) => testConnection(endpoint, identity, options),
    loadMigrationCsv,
    async checkLogins(definition, row, secrets) {
      const result = await checkUserLogins(definition, row, secrets);
      return {emailAddress: result.emailAddress, source: side(result.source), target: side(result.target)};
    },
  };
}
