// The no-change shortcut of an incremental pass. Most incremental passes find nothing to do, and
// finding that out through the full pass costs imapflow's load time and its connection setup
// (NAMESPACE, ENABLE, ...) per mailbox. Here one raw connection per side lists the folders
// (LIST-STATUS on the source, LIST on the target), plans the folder mapping exactly as the full
// pass does, and compares it with the checkpoints. Only when every folder is unchanged
// (folderUnchanged(): same UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ), every target folder is there
// and nothing about the plan moved, the pass ends here, with the state updates the full pass would
// have made. Anything else, including a server without the extensions this needs (LIST-EXTENDED,
// LIST-STATUS, CONDSTORE, NAMESPACE), leaves the mailbox to the full pass.

import {translateError} from '../imap/error-translation.js';
import {MigrationError, type EndpointRole} from '../imap/imap-error.js';
import {parseListResponse, parseNamespaceResponse, parseStatusResponse} from '../imap/list-response.js';
import {decodeModifiedUtf7} from '../imap/modified-utf7.js';
import {RawImapSession} from '../imap/raw-session.js';
import type {Logger} from '../log/logger.js';
import {registerSecret} from '../log/secret-redaction.js';
import type {FolderCheckpoint, MailboxState} from '../store/state-schema.js';
import type {AsyncSemaphore} from './async-semaphore.js';
import type {BatchDefinition} from './batch-model.js';
import {folderUnchanged, type FolderStatusHint} from './folder-copy.js';
import {planFolders, type ListedFolder, type NamespaceInfo} from './folder-mapping.js';
import type {MigrationRow} from './migration-csv.js';
import type {PassKind} from './pass-context.js';
import {sourceIdentity, targetIdentity, type ResolvedSecrets} from './row-credentials.js';

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

/** What one side lists, in the shape the full pass gets from imapflow. */
export interface FolderListing {
  folders: ListedFolder[];
  namespace: NamespaceInfo;
  /** LIST-STATUS answers by folder path (source: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ). */
  status: Map<string, FolderStatusHint>;
  capabilities: ReadonlySet<string>;
}

export type UnchangedVerdict =
  | {unchanged: true; checkpoints: FolderCheckpoint[]}
  | {unchanged: false; reasons: string[]; staleTargets: FolderCheckpoint[]};

const SOURCE_STATUS = 'STATUS (UIDNEXT UIDVALIDITY HIGHESTMODSEQ)';
const TARGET_STATUS = 'STATUS (UIDVALIDITY)';

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
    source: sourceIdentity(row, batch.sourceCredentials, input.secrets),
    target: targetIdentity(row, batch.targetCredentials, input.secrets),
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
    if (error instanceof CheckFailure) {
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

function hasCapability(capabilities: ReadonlySet<string>, name: string): boolean {
  // IMAP4rev2 (RFC 9051) includes LIST-EXTENDED, LIST-STATUS, NAMESPACE and SPECIAL-USE.
  return capabilities.has(name) || (name !== 'CONDSTORE' && capabilities.has('IMAP4REV2'));
}

function missingCapabilities(capabilities: ReadonlySet<string>, source: boolean): string[] {
  const needed = source ? ['NAMESPACE', 'LIST-EXTENDED', 'LIST-STATUS', 'CONDSTORE'] : ['NAMESPACE', 'LIST-EXTENDED'];
  return needed.filter((name) => !hasCapability(capabilities, name)).map((name) => `${source ? 'source' : 'target'} ${name}`);
}

class CheckFailure extends Error {
  constructor(readonly role: EndpointRole, override readonly cause: unknown, readonly fatal: boolean) {
    super(String(cause));
  }
}

/** A refused command ends the check (the full pass may know another way); a lost connection ends the pass. */
function failure(role: EndpointRole, error: unknown): never {
  const refused = typeof error === 'object' && error !== null && 'responseStatus' in error;
  throw new CheckFailure(role, error, !refused);
}

/** Both results, or the first rejection (source before target) once both have settled. */
async function bothOrFirstError<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return [first.value, second.value];
}

/**
 * LIST with the same RETURN options imapflow sends (SPECIAL-USE and CHILDREN too: with RETURN
 * options some servers report only the attributes asked for), and NAMESPACE, in one round trip.
 */
async function listFolders(role: EndpointRole, session: RawImapSession, status: string | undefined): Promise<FolderListing> {
  const capabilities = session.capabilities;
  const returns = [...(status ? [status] : []), ...(hasCapability(capabilities, 'SPECIAL-USE') ? ['SPECIAL-USE'] : []), 'CHILDREN', 'SUBSCRIBED'];
  const [namespaceResult, listResult] = await Promise.all([session.command('NAMESPACE'), session.command(`LIST "" "*" RETURN (${returns.join(' ')})`)]).catch(
    (error: unknown) => failure(role, error),
  );
  try {
    let namespace: NamespaceInfo | undefined;
    for (const line of namespaceResult.untagged) {
      const personal = parseNamespaceResponse(line);
      if (personal) namespace = personal[0] ?? {prefix: '', delimiter: '.'};
    }
    const listed: {raw: string; delimiter: string; flags: string[]}[] = [];
    const statusByRaw = new Map<string, FolderStatusHint>();
    for (const line of listResult.untagged) {
      const entry = parseListResponse(line);
      if (entry) {
        listed.push({raw: entry.name, delimiter: entry.delimiter, flags: entry.flags});
        continue;
      }
      const answer = parseStatusResponse(line);
      if (answer) statusByRaw.set(answer.name, statusHint(answer.items));
    }
    namespace ??= {prefix: '', delimiter: listed[0]?.delimiter || '/'};
    const isSubscribed = (flags: string[]) => flags.some((flag) => flag.toLowerCase() === '\\subscribed');
    if (!listed.some((entry) => isSubscribed(entry.flags))) {
      // imapflow asks LSUB when RETURN (SUBSCRIBED) marked nothing (a server may ignore the option).
      const lsub = await session.command('LSUB "" "*"').catch((error: unknown) => failure(role, error));
      const names = new Set(lsub.untagged.map((line) => parseListResponse(line, 'LSUB')?.name));
      for (const entry of listed) if (names.has(entry.raw)) entry.flags.push('\\Subscribed');
    }
    const folders: ListedFolder[] = [];
    const statusByPath = new Map<string, FolderStatusHint>();
    for (const entry of listed) {
      // As imapflow: names decoded from modified UTF-7, INBOX in capitals, the personal prefix
      // added where missing, a leading delimiter dropped; \NonExistent implies \Noselect.
      let path = listedPath(entry.raw, namespace);
      const statusFor = statusByRaw.get(entry.raw);
      if (statusFor) statusByPath.set(path, statusFor);
      if (entry.delimiter && path.startsWith(entry.delimiter)) path = path.slice(entry.delimiter.length);
      const flags = entry.flags.filter((flag) => flag.toLowerCase() !== '\\subscribed');
      const has = (wanted: string) => flags.some((flag) => flag.toLowerCase() === wanted);
      if (has('\\nonexistent') && !has('\\noselect')) flags.push('\\Noselect');
      // imapflow reports INBOX as subscribed whatever the server says.
      const subscribed = isSubscribed(entry.flags) || (path === 'INBOX' && !has('\\nonexistent'));
      folders.push({path, delimiter: entry.delimiter, flags, ...(subscribed ? {subscribed: true} : {})});
    }
    return {folders, namespace, status: statusByPath, capabilities};
  } catch (error) {
    if (error instanceof CheckFailure) throw error;
    throw new CheckFailure(role, error, false);
  }
}

function listedPath(raw: string, namespace: NamespaceInfo): string {
  const path = decodeModifiedUtf7(raw);
  if (path.toUpperCase() === 'INBOX') return 'INBOX';
  return namespace.prefix && !path.startsWith(namespace.prefix) ? namespace.prefix + path : path;
}

function statusHint(items: Record<string, string>): FolderStatusHint {
  const digits = (value: string | undefined) => (value !== undefined && /^\d{1,20}$/.test(value) ? value : undefined);
  const hint: FolderStatusHint = {};
  const uidValidity = digits(items['UIDVALIDITY']);
  const uidNext = digits(items['UIDNEXT']);
  const highestModseq = digits(items['HIGHESTMODSEQ']);
  const messages = digits(items['MESSAGES']);
  if (uidValidity) hint.uidValidity = BigInt(uidValidity);
  if (uidNext && uidNext.length <= 10) hint.uidNext = Number(uidNext);
  if (highestModseq) hint.highestModseq = BigInt(highestModseq);
  if (messages && messages.length <= 10) hint.messages = Number(messages);
  return hint;
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
  });
  const reasons: string[] = [];
  const staleTargets: FolderCheckpoint[] = [];
  const checkpoints: FolderCheckpoint[] = [];
  if (JSON.stringify(plan.unmigrated) !== JSON.stringify(state.unmigratedFolders)) reasons.push('the folders that are not migrated changed');
  if (JSON.stringify(plan.renamed) !== JSON.stringify(state.renamedFolders)) reasons.push('the renamed folders changed');
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
