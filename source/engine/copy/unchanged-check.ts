// The no-change shortcut of an incremental pass. Most incremental passes find nothing to do, and
// finding that out through the full pass costs imapflow's load time and its connection setup
// (NAMESPACE, ENABLE, ...) per mailbox. Here one raw connection per side lists the folders
// (LIST-STATUS on the source, LIST on the target), plans the folder mapping exactly as the full
// pass does, and compares it with the checkpoints. Only when every folder is unchanged
// (folderUnchanged(): same UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ), every target folder is there
// and nothing about the plan moved, the pass ends here, with the state updates the full pass would
// have made. Anything else, including a server without the extensions this needs (LIST-EXTENDED,
// LIST-STATUS, CONDSTORE, NAMESPACE), leaves the mailbox to the full pass.

import {translateError} from '../../imap/error-translation.js';
import {MigrationError, type EndpointRole} from '../../imap/imap-error.js';
import {RawImapSession} from '../../imap/raw-session.js';
import type {Logger} from '../../log/logger.js';
import {registerSecret} from '../../log/secret-redaction.js';
import type {FolderCheckpoint, MailboxState} from '../../store/state-schema.js';
import type {AsyncSemaphore} from '../scheduler/async-semaphore.js';
import type {BatchDefinition} from '../batch-model.js';
import {folderUnchanged} from './folder-status.js';
import {carryCreatedSpecialUse, planFolders} from '../folders/folder-mapping.js';
import {hasCapability, listFolders, ListingFailure, missingCapabilities, SOURCE_STATUS, TARGET_STATUS, type FolderListing} from '../folders/raw-folder-listing.js';
import type {MigrationRow} from '../csv/migration-csv.js';
import type {PassKind} from './pass-context.js';
import {sourceIdentity, targetIdentity, type ResolvedSecrets} from '../credentials/row-credentials.js';

export interface UnchangedCheckInput {
  kind: PassKind;
  batch: BatchDefinition;
  state: MailboxState;
  row: MigrationRow;
  secrets: ResolvedSecrets;
  budgets: {sourceConnections: AsyncSemaphore; targetConnections: AsyncSemaphore};
  logger: Logger;
  signal: AbortSignal;
}

export interface UnchangedPass {
  /** Folders the pass covered (the selectable ones of the plan). */
  folders: number;
}

export type UnchangedVerdict =
  | {unchanged: true; checkpoints: FolderCheckpoint[]}
  | {unchanged: false; reasons: string[]; staleTargets: FolderCheckpoint[]};

/**
 * Ends an incremental pass early when nothing changed since the last one. Returns undefined when
 * the full pass has to run (something changed, or this could not tell); throws what the full pass
 * would throw when a server cannot be reached or refuses the login.
 */
export async function checkUnchanged(input: UnchangedCheckInput): Promise<UnchangedPass | undefined> {
  if (input.kind === 'initial' || !mayBeUnchanged(input.state)) return undefined;
  const {batch, state, row, budgets, signal} = input;
  const mailbox = row.emailAddress;
  const logger = input.logger.child({mailbox});
  const identities = {
    source: sourceIdentity(row, batch.sourceCredentials, input.secrets, batch.source),
    target: targetIdentity(row, batch.targetCredentials, input.secrets, batch.target),
  };
  const endpoints = {source: batch.source, target: batch.target};
  const translate = (role: EndpointRole, error: unknown, phase: 'connect' | 'login' | 'command'): MigrationError => {
    if (error instanceof MigrationError) return error;
    return translateError(error, {role, endpoint: endpoints[role], user: identities[role].user, mailbox, phase});
  };

  const sessions: RawImapSession[] = [];
  const openings: Promise<unknown>[] = [];
  const held: AsyncSemaphore[] = [];
  const onAbort = () => sessions.forEach((session) => session.close());
  signal.addEventListener('abort', onAbort, {once: true});
  try {
    // The same budgets and the same order (source, then target) as the full pass.
    for (const budget of [budgets.sourceConnections, budgets.targetConnections]) {
      await budget.acquire(1, signal);
      held.push(budget);
    }
    const open = (role: EndpointRole): Promise<RawImapSession> => {
      registerSecret(identities[role].password);
      registerSecret(identities[role].accessToken);
      const opening = RawImapSession.open(endpoints[role], identities[role]).then((session) => {
        sessions.push(session);
        if (signal.aborted) session.close();
        return session;
      });
      openings.push(opening.catch(() => undefined));
      // A stop must not wait for a server that is slow to greet or to log in.
      return untilAborted(opening, signal).catch((error: unknown) => {
        if (signal.aborted) throw signal.reason;
        throw translate(role, error, (error as {authenticationFailed?: boolean}).authenticationFailed ? 'login' : 'connect');
      });
    };
    const [source, target] = await bothOrFirstError(open('source'), open('target'));
    const missing = [...missingCapabilities(source.capabilities, true), ...missingCapabilities(target.capabilities, false)];
    if (missing.length > 0) {
      logger.debug('no quick no-change check: the servers lack extensions it needs; running the full pass', {missing});
      return undefined;
    }
    const listings = await bothOrFirstError(
      listFolders('source', source, SOURCE_STATUS),
      listFolders('target', target, hasCapability(target.capabilities, 'LIST-STATUS') ? TARGET_STATUS : undefined),
    );
    if (signal.aborted) throw signal.reason;
    const verdict = compareWithCheckpoints(state, batch, listings[0], listings[1]);
    if (!verdict.unchanged) {
      // The full pass skips a folder whose source is unchanged without opening its target, so a
      // target folder deleted or recreated meanwhile would stay empty: make it look the folder over.
      for (const checkpoint of verdict.staleTargets) delete checkpoint.uidNext;
      logger.debug('changes since the last pass; running the full pass', {reasons: verdict.reasons.slice(0, 5)});
      return undefined;
    }
    const now = new Date().toISOString();
    for (const checkpoint of verdict.checkpoints) checkpoint.lastPassAt = now;
    logger.info('nothing changed since the last pass', {folders: verdict.checkpoints.length});
    return {folders: verdict.checkpoints.length};
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof ListingFailure) {
      if (error.fatal) throw translate(error.role, error.cause, 'command');
      logger.debug('quick no-change check could not read the folder list; running the full pass', {role: error.role, error: String(error.cause)});
      return undefined;
    }
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // A connection still being opened after a stop keeps its budget until it is there and closed.
    const done = () => {
      for (const session of sessions) session.close();
      for (const budget of held) budget.release(1);
    };
    void Promise.all(openings).then(done);
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, {once: true});
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Without a complete checkpoint that records a MODSEQ, folderUnchanged() can never hold. */
function mayBeUnchanged(state: MailboxState): boolean {
  return Object.values(state.folders).some((checkpoint) => checkpoint.uidNext !== undefined && checkpoint.highestModseq !== undefined && !checkpoint.inProgress);
}

/** Both results, or the first rejection (source before target) once both have settled. */
async function bothOrFirstError<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return [first.value, second.value];
}

/**
 * The decision, from both listings and the state (pure). Unchanged means the full pass would do
 * nothing but stamp lastPassAt: the plan creates no folder, changes no subscription, records the
 * same unmigrated and renamed folders, and every folder it would sync has a checkpoint for the
 * same target that folderUnchanged() accepts, with the target folder's UIDVALIDITY as recorded.
 */
export function compareWithCheckpoints(state: MailboxState, batch: BatchDefinition, source: FolderListing, target: FolderListing): UnchangedVerdict {
  const plan = planFolders({
    source: {folders: source.folders, namespace: source.namespace},
    target: {folders: target.folders, namespace: target.namespace, supportsCreateSpecialUse: target.capabilities.has('CREATE-SPECIAL-USE')},
    ...(state.identity.userRoot ? {userRoot: state.identity.userRoot} : {}),
    excluded: batch.settings.excludedFolders,
    sourceIsGmail: source.capabilities.has('X-GM-EXT-1'),
    targetIsGmail: target.capabilities.has('X-GM-EXT-1'),
  });
  const reasons: string[] = [];
  const staleTargets: FolderCheckpoint[] = [];
  const checkpoints: FolderCheckpoint[] = [];
  if (JSON.stringify(plan.unmigrated) !== JSON.stringify(state.unmigratedFolders)) reasons.push('the folders that are not migrated changed');
  // As the full pass records them: with the notes on how special-use folders were created.
  if (JSON.stringify(carryCreatedSpecialUse(state.renamedFolders, plan)) !== JSON.stringify(state.renamedFolders)) reasons.push('the renamed folders changed');
  const subscribed = new Set(target.folders.filter((folder) => folder.subscribed).map((folder) => folder.path));
  for (const entry of plan.entries) {
    const checkpoint = entry.selectable ? state.folders[entry.source] : undefined;
    if (entry.createOnTarget) {
      reasons.push(`target folder "${entry.target}" is missing`);
      if (checkpoint) staleTargets.push(checkpoint);
      continue;
    }
    if (entry.subscribe && !subscribed.has(entry.target)) reasons.push(`target folder "${entry.target}" is not subscribed`);
    if (!entry.selectable) continue;
    if (!checkpoint) {
      reasons.push(`folder "${entry.source}" is new`);
      continue;
    }
    if (checkpoint.target !== entry.target) {
      reasons.push(`folder "${entry.source}" now maps to "${entry.target}"`);
      continue;
    }
    if (!folderUnchanged(checkpoint, source.status.get(entry.source))) {
      reasons.push(`folder "${entry.source}" changed`);
      continue;
    }
    const targetUidValidity = target.status.get(entry.target)?.uidValidity;
    if (targetUidValidity !== undefined && checkpoint.targetUidValidity !== undefined && targetUidValidity.toString() !== checkpoint.targetUidValidity) {
      reasons.push(`target folder "${entry.target}" was recreated`);
      staleTargets.push(checkpoint);
      continue;
    }
    checkpoints.push(checkpoint);
  }
  return reasons.length === 0 ? {unchanged: true, checkpoints} : {unchanged: false, reasons, staleTargets};
}
