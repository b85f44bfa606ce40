// The production UiServices: the engine's batch functions, the IMAP connection test and the CSV
// reader. Nothing here holds state; secrets pass through and are registered for redaction.

import {createBatch, listBatches, openBatch, removeBatch} from '../engine/batch-engine.js';
import {loadMigrationCsv} from '../engine/migration-csv.js';
import {sourceIdentity, targetIdentity} from '../engine/row-credentials.js';
import {readSecret} from '../engine/secret-source.js';
import {testConnection} from '../imap/connection-test.js';
import type {EndpointConfig, LoginIdentity} from '../imap/endpoint.js';
import type {EndpointRole} from '../imap/imap-error.js';
import {formatError, MigrationError} from '../imap/imap-error.js';
import type {LoginCheckSide, UiServices} from './ui-services.js';

async function checkOne(endpoint: EndpointConfig, role: EndpointRole, identity: () => LoginIdentity): Promise<LoginCheckSide> {
  const started = Date.now();
  let who: LoginIdentity;
  try {
    who = identity();
  } catch (error) {
    return {ok: false, ms: 0, error: error instanceof MigrationError ? formatError(error) : String(error)};
  }
  const result = await testConnection(endpoint, who, {role});
  const failed = result.steps.find((step) => step.status === 'failed');
  const ms = Date.now() - started;
  if (result.ok || !failed) return {ok: true, ms};
  return {ok: false, ms, error: [failed.diagnosis ?? failed.label, failed.hint].filter(Boolean).join(' ')};
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
    openBatch: ({stateDir, name, secrets}) => openBatch({stateDir, name, secrets}),
    testConnection: (endpoint, identity, options) => testConnection(endpoint, identity, options),
    loadMigrationCsv,
    async checkLogins(definition, row, secrets) {
      const [source, target] = await Promise.all([
        checkOne(definition.source, 'source', () => sourceIdentity(row, definition.sourceCredentials, secrets)),
        checkOne(definition.target, 'target', () => targetIdentity(row, definition.targetCredentials, secrets)),
      ]);
      return {emailAddress: row.emailAddress, source, target};
    },
  };
}
