// Tests one user's logins on both endpoints exactly as a migration would make them (same identity
// rules, same client factory), so a whole CSV can be verified before a batch starts.

import {closeClient, connectClient} from '../imap/client-factory.js';
import type {EndpointConfig, LoginIdentity} from '../imap/endpoint.js';
import {MigrationError, type EndpointRole, type ErrorInfo} from '../imap/imap-error.js';
import {translateError} from '../imap/error-translation.js';
import type {Logger} from '../log/logger.js';
import type {BatchDefinition} from './batch-model.js';
import type {MigrationRow} from './csv/migration-csv.js';
import {sourceIdentity, targetIdentity, type ResolvedSecrets} from './credentials/row-credentials.js';

export interface LoginCheck {
  ok: boolean;
  ms: number;
  error?: ErrorInfo;
  /** Folders the login can see (LIST "" "*"). */
  folderCount?: number;
}

async function checkOne(endpoint: EndpointConfig, role: EndpointRole, identity: () => LoginIdentity, mailbox: string, logger?: Logger): Promise<LoginCheck> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let who: LoginIdentity;
  try {
    // A row without the credentials its mode needs fails here, as a config error for this row.
    who = identity();
  } catch (error) {
    return {ok: false, ms: elapsed(), error: asInfo(error, endpoint, role, mailbox)};
  }
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    client = await connectClient({endpoint, role, identity: who, mailbox, ...(logger ? {logger} : {})});
    const folders = await client.list();
    return {ok: true, ms: elapsed(), folderCount: folders.length};
  } catch (error) {
    return {ok: false, ms: elapsed(), error: asInfo(error, endpoint, role, mailbox, who.user)};
  } finally {
    if (client) await closeClient(client);
  }
}

function asInfo(error: unknown, endpoint: EndpointConfig, role: EndpointRole, mailbox: string, user?: string): ErrorInfo {
  const translated = error instanceof MigrationError ? error : translateError(error, {role, endpoint, mailbox, phase: 'command', ...(user ? {user} : {})});
  return translated.withContext({mailbox}).toJSON();
}

export async function checkUserLogins(
  batch: Pick<BatchDefinition, 'source' | 'target' | 'sourceCredentials' | 'targetCredentials'>,
  row: MigrationRow,
  secrets: ResolvedSecrets,
  logger?: Logger,
): Promise<{emailAddress: string; source: LoginCheck; target: LoginCheck}> {
  const [source, target] = await Promise.all([
    checkOne(batch.source, 'source', () => sourceIdentity(row, batch.sourceCredentials, secrets, batch.source), row.emailAddress, logger),
    checkOne(batch.target, 'target', () => targetIdentity(row, batch.targetCredentials, secrets, batch.target), row.emailAddress, logger),
  ]);
  return {emailAddress: row.emailAddress, source, target};
}
