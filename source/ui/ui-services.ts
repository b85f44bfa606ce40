// Everything the UI asks of the rest of mailferry, in one interface: the real engine and IMAP
// modules in production (engine-services.ts), scripted stand-ins in the UI's own tests.

import type {BatchControl} from '../engine/batch-control.js';
import type {BatchListing, CreateBatchOptions} from '../engine/batch-engine.js';
import type {BatchDefinition} from '../engine/batch-model.js';
import type {CsvLoadResult, CsvReadOptions, MigrationRow} from '../engine/csv/migration-csv.js';
import type {ResolvedSecrets} from '../engine/credentials/row-credentials.js';
import type {ExposedSecretFile} from '../engine/credentials/secret-source.js';
import type {ConnectionTestResult, StepResult} from '../imap/connection-test.js';
import type {EndpointConfig, LoginIdentity, SecretSource} from '../imap/endpoint.js';
import type {EndpointRole} from '../imap/imap-error.js';

export interface LoginCheckSide {
  ok: boolean;
  ms: number;
  /** What failed and what to do, already in words; never contains the password. */
  error?: string;
}

export interface LoginCheckResult {
  emailAddress: string;
  source: LoginCheckSide;
  target: LoginCheckSide;
}

/** A secret the batch needs before it can run, and where the batch says it comes from. */
export interface NeededSecret {
  readonly key: keyof ResolvedSecrets;
  readonly what: string;
  readonly source: SecretSource;
}

export interface UiServices {
  listBatches(stateDir: string): Promise<BatchListing[]>;
  createBatch(options: CreateBatchOptions): Promise<void>;
  removeBatch(stateDir: string, name: string): Promise<void>;
  /** The batch definition, without taking the run lock (to know which secrets to ask for). */
  readDefinition(stateDir: string, name: string): Promise<BatchDefinition>;
  /** Read the secrets that do not need a prompt (file, env). */
  readSecret(source: SecretSource, what: string): Promise<string>;
  /** With the files holding passwords that other users can read (engine/credentials/secret-file-exposure.ts). */
  openBatch(options: {stateDir: string; name: string; secrets: ResolvedSecrets}): Promise<BatchControl & {exposedSecretFiles?: readonly ExposedSecretFile[]}>;
  testConnection(endpoint: EndpointConfig, identity: LoginIdentity | undefined, options: {role: EndpointRole; onStep(step: StepResult): void; signal?: AbortSignal}): Promise<ConnectionTestResult>;
  loadMigrationCsv(path: string, options?: CsvReadOptions): Promise<CsvLoadResult>;
  /** Log in to source and target as this row would during the migration, then log out. */
  checkLogins(definition: Pick<BatchDefinition, 'source' | 'target' | 'sourceCredentials' | 'targetCredentials'>, row: MigrationRow, secrets: ResolvedSecrets): Promise<LoginCheckResult>;
}

/** Which admin secrets a batch needs: none when both ends log in with the CSV's per-row passwords. */
export function neededSecrets(definition: Pick<BatchDefinition, 'sourceCredentials' | 'targetCredentials'>): NeededSecret[] {
  const needed: NeededSecret[] = [];
  const source = definition.sourceCredentials;
  if (source.kind === 'authzid') needed.push({key: 'sourceAdminPassword', what: `source admin password (for ${source.adminUser})`, source: source.adminSecret});
  const target = definition.targetCredentials;
  if (target.kind === 'authzid') needed.push({key: 'targetAdminPassword', what: `target admin password (for ${target.adminUser})`, source: target.adminSecret});
  if (target.kind === 'login-pattern') needed.push({key: 'targetAdminPassword', what: `target admin password (login pattern ${target.pattern})`, source: target.adminSecret});
  return needed;
}
