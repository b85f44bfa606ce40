// Verifies one mailbox: every folder the batch has a checkpoint for is compared with its target
// folder (folder-comparison.ts), over one connection per side, both folders opened read-only
// (EXAMINE): nothing is changed on either server, not even \Seen or \Recent. Metadata only;
// --deep then reads the bodies of the pairs found identical, one message at a time, and compares
// their sha256. Folders the batch leaves out on purpose are listed with its reason; source folders
// it has no checkpoint for yet are listed as not yet synced.

import type {ImapFlow} from 'imapflow';
import {closeClient, connectClient} from '../../imap/client-factory.js';
import {translateError} from '../../imap/error-translation.js';
import {MigrationError, formatError, type EndpointRole} from '../../imap/imap-error.js';
import type {Logger} from '../../log/logger.js';
import type {MailboxState} from '../../store/state-schema.js';
import {MAX_LISTED, type ApartItem, type FolderVerification, type MailboxVerification} from '../../store/verification-records.js';
import {ACTIVE_STATUSES, type BatchDefinition} from '../batch-model.js';
import {csvPathOf} from '../batch-membership.js';
import {UidSet} from '../copy/uid-set.js';
import {sourceIdentity, targetIdentity, type ResolvedSecrets} from '../credentials/row-credentials.js';
import type {MigrationRow} from '../csv/migration-csv.js';
import {bodyDigest} from './body-digest.js';
import {consistencyScore, isConsistent, totalsOf} from './consistency-score.js';
import {compareFolder, type ApartRecord} from './folder-comparison.js';
import {listFolderMessages} from './verify-listing.js';
import {openMailbox} from '../../imap/imapflow-open.js';

/** Apart items kept in the file per mailbox (the counts are complete). */
const MAX_APART_LISTED = MAX_LISTED * 10;

/** Connections come from the batch's budgets when it runs in the same process (the UI). */
export interface VerifyConnections {
  acquire(role: EndpointRole, signal?: AbortSignal): Promise<void>;
  release(role: EndpointRole): void;
}

export interface VerifyMailboxInput {
  batch: BatchDefinition;
  /** The mailbox's state as last written (read only here). */
  state: MailboxState;
  /** Its CSV row (passwords), or undefined when it is no longer in the CSV. */
  row: MigrationRow | undefined;
  secrets: ResolvedSecrets;
  deep: boolean;
  logger: Logger;
  signal?: AbortSignal;
  connections?: VerifyConnections;
  /** Called as each folder begins. */
  onFolder?: (folder: string, index: number, count: number) => void;
}

export async function verifyMailbox(input: VerifyMailboxInput): Promise<MailboxVerification> {
  const startedAt = new Date().toISOString();
  const {state, batch} = input;
  const mailbox = state.identity.emailAddress;
  const logger = input.logger.child({mailbox, verify: true});
  const base = {
    emailAddress: mailbox,
    startedAt,
    deep: input.deep,
    unmigratedFolders: state.unmigratedFolders.map((folder) => ({source: folder.source, reason: folder.reason})),
    ...(ACTIVE_STATUSES.has(state.status)
      ? {caution: `the mailbox was ${state.status} as it was verified: messages copied meanwhile may show as missing or extra; verify again once it is Synced`}
      : {}),
  };
  try {
    if (!input.row) {
      throw new MigrationError({
        kind: 'config',
        message: `${mailbox} is no longer in the migration CSV (${csvPathOf(batch, state.identity)}), so its passwords are unknown`,
        hint: 'put the row back and verify again',
        mailbox,
        retryable: false,
      });
    }
    const result = await withClients(input, input.row, (source, target) => verifyFolders(input, source, target, logger));
    const totals = totalsOf(result.folders);
    const verification: MailboxVerification = {
      ...base,
      finishedAt: new Date().toISOString(),
      folders: result.folders,
      apartListed: result.apartListed,
      apartUnlisted: state.skippedOverflow + state.failedOverflow + (state.changedOverflow ?? 0),
      notYetSyncedFolders: result.notYetSyncedFolders,
      totals,
      score: consistencyScore(totals),
      consistent: isConsistent(totals, result.folders),
    };
    logger.info('mailbox verified', {score: verification.score, consistent: verification.consistent, ...totals});
    return verification;
  } catch (error) {
    if (input.signal?.aborted) throw input.signal.reason;
    const text = error instanceof MigrationError ? formatError(error) : String(error);
    logger.warn('verification failed', {error: text});
    const folders: FolderVerification[] = [];
    const totals = totalsOf(folders);
    return {...base, finishedAt: new Date().toISOString(), folders, apartListed: [], apartUnlisted: 0, notYetSyncedFolders: [], totals, score: 0, consistent: false, error: text};
  }
}

async function withClients<T>(input: VerifyMailboxInput, row: MigrationRow, work: (source: ImapFlow, target: ImapFlow) => Promise<T>): Promise<T> {
  const {batch, connections, signal} = input;
  const held: EndpointRole[] = [];
  const clients: ImapFlow[] = [];
  const onAbort = () => clients.forEach((client) => client.close());
  signal?.addEventListener('abort', onAbort, {once: true});
  try {
    const open = async (role: EndpointRole): Promise<ImapFlow> => {
      if (connections) {
        await connections.acquire(role, signal);
        held.push(role);
      }
      const client = await connectClient({
        endpoint: role === 'source' ? batch.source : batch.target,
        role,
        identity: role === 'source' ? sourceIdentity(row, batch.sourceCredentials, input.secrets, batch.source) : targetIdentity(row, batch.targetCredentials, input.secrets, batch.target),
        logger: input.logger,
        mailbox: row.emailAddress,
      });
      clients.push(client);
      return client;
    };
    const source = await open('source');
    const target = await open('target');
    return await work(source, target);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(clients.map((client) => closeClient(client)));
    for (const role of held) connections!.release(role);
  }
}

interface FoldersResult {
  folders: FolderVerification[];
  apartListed: ApartItem[];
  notYetSyncedFolders: Array<{source: string; messages: number}>;
}

async function verifyFolders(input: VerifyMailboxInput, source: ImapFlow, target: ImapFlow, logger: Logger): Promise<FoldersResult> {
  const {state} = input;
  const mailbox = state.identity.emailAddress;
  const listed = await run(input, 'source', undefined, () => source.list({statusQuery: {messages: true}}));
  const unmigrated = new Set(state.unmigratedFolders.map((folder) => folder.source));
  const notYetSyncedFolders = listed
    .filter((folder) => !state.folders[folder.path] && !unmigrated.has(folder.path) && !folder.flags.has('\\Noselect') && !folder.flags.has('\\NonExistent'))
    .map((folder) => ({source: folder.path, messages: folder.status?.messages ?? 0}));
  const existing = new Set(listed.map((folder) => folder.path));
  const paths = Object.keys(state.folders).sort((a, b) => Number(b === 'INBOX') - Number(a === 'INBOX') || a.localeCompare(b));
  const folders: FolderVerification[] = [];
  const apartListed: ApartItem[] = [];
  const ignored = state.targetRewrites?.headersAdded ?? [];
  for (const [index, path] of paths.entries()) {
    if (input.signal?.aborted) throw input.signal.reason;
    input.onFolder?.(path, index, paths.length);
    const checkpoint = state.folders[path]!;
    const empty = (problem: string): FolderVerification => ({
      source: path, target: checkpoint.target, sourceMessages: 0, targetMessages: 0, sourceBytes: 0, targetBytes: 0, expected: 0, present: 0, identical: 0,
      missing: 0, missingListed: [], extra: 0, extraListed: [], flagDifferences: 0, flagListed: [], bodyDifferences: 0, bodyListed: [],
      bodiesNotComparable: 0, notYetSynced: 0, notYetSyncedListed: [], flagChangesNotYetSynced: 0, apart: 0, problem,
    });
    if (!existing.has(path)) {
      folders.push(empty(`the source no longer lists folder "${path}" (renamed or deleted since the last pass); nothing to compare`));
      continue;
    }
    const sourceBox = await run(input, 'source', path, () => openMailbox(source, path, {readOnly: true}));
    const sourceMessages = sourceBox.exists > 0 ? await run(input, 'source', path, () => listFolderMessages(source, ignored, input.signal)) : [];
    let targetMessages: Awaited<ReturnType<typeof listFolderMessages>> = [];
    let problem: string | undefined;
    try {
      const targetBox = await openMailbox(target, checkpoint.target, {readOnly: true});
      if (targetBox.exists > 0) targetMessages = await run(input, 'target', checkpoint.target, () => listFolderMessages(target, ignored, input.signal));
    } catch (error) {
      if (!isRefusal(error)) throw translateError(error, {role: 'target', endpoint: input.batch.target, mailbox, folder: checkpoint.target, phase: 'command'});
      // The target folder cannot be opened (deleted there?): every expected message is missing.
      problem = `the target folder "${checkpoint.target}" cannot be opened (${(error as {responseText?: string}).responseText ?? String(error)}); every message expected there counts as missing`;
    }
    const uidValidityChanged = String(sourceBox.uidValidity) !== checkpoint.sourceUidValidity;
    const apart: ApartRecord[] = [
      ...state.skipped.filter((item) => item.folder === path).map((item) => ({...item, outcome: 'skipped' as const})),
      ...state.failed.filter((item) => item.folder === path).map((item) => ({...item, outcome: 'failed' as const})),
      ...(state.changed ?? []).filter((item) => item.folder === path).map((item) => ({...item, outcome: 'changed' as const})),
    ];
    const comparison = compareFolder({
      source: path,
      target: checkpoint.target,
      sourceMessages,
      targetMessages,
      done: UidSet.parse(checkpoint.done),
      uidNext: checkpoint.uidNext,
      highestModseq: checkpoint.highestModseq === undefined ? undefined : BigInt(checkpoint.highestModseq),
      resized: UidSet.parse(checkpoint.resized ?? ''),
      rewrites: state.targetRewrites,
      droppedKeywords: new Set(state.droppedKeywords.find((entry) => entry.folder === checkpoint.target)?.keywords ?? []),
      apart,
      uidValidityChanged,
    });
    const verification = comparison.verification;
    if (problem) verification.problem = problem;
    else if (uidValidityChanged) verification.note = `the source folder's UIDVALIDITY changed since the last pass (${checkpoint.sourceUidValidity} -> ${sourceBox.uidValidity}); messages not on the target count as not yet synced until the next pass`;
    for (const item of comparison.apartItems) if (apartListed.length < MAX_APART_LISTED) apartListed.push(item);
    if (input.deep && !problem) {
      verification.bodiesNotComparable = comparison.notComparable;
      await compareBodies(input, source, target, path, checkpoint.target, comparison.comparable, sourceMessages, verification);
    }
    folders.push(verification);
    logger.debug('folder verified', {folder: path, target: checkpoint.target, expected: verification.expected, identical: verification.identical, missing: verification.missing, extra: verification.extra});
  }
  return {folders, apartListed, notYetSyncedFolders};
}

/**
 * One message at a time, source then target (both folders stay selected on their connections).
 * A pair whose bytes differ stops counting as identical.
 */
async function compareBodies(
  input: VerifyMailboxInput,
  source: ImapFlow,
  target: ImapFlow,
  path: string,
  targetPath: string,
  pairs: ReadonlyArray<[number, number]>,
  sourceMessages: ReadonlyArray<{uid: number; size: number; messageId?: string}>,
  verification: FolderVerification,
): Promise<void> {
  const byUid = new Map(sourceMessages.map((message) => [message.uid, message]));
  for (const [sourceUid, targetUid] of pairs) {
    if (input.signal?.aborted) throw input.signal.reason;
    const message = byUid.get(sourceUid)!;
    const sourceSha256 = await run(input, 'source', path, () => bodyDigest(source, sourceUid, message.size));
    const targetSha256 = await run(input, 'target', targetPath, () => bodyDigest(target, targetUid, message.size));
    if (sourceSha256 === undefined || targetSha256 === undefined || sourceSha256 === targetSha256) continue;
    verification.bodyDifferences++;
    verification.identical--;
    if (verification.bodyListed.length < MAX_LISTED) {
      verification.bodyListed.push({
        sourceUid,
        targetUid,
        ...(message.messageId ? {messageId: message.messageId} : {}),
        sourceSize: message.size,
        targetSize: message.size,
        sourceSha256,
        targetSha256,
      });
    }
  }
}

/** A NO/BAD answer from the server (the connection is fine). */
function isRefusal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'responseStatus' in error;
}

/** Runs IMAP work, turning what it throws into a MigrationError naming the mailbox and folder. */
async function run<T>(input: VerifyMailboxInput, role: EndpointRole, folder: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (input.signal?.aborted) throw input.signal.reason;
    if (error instanceof MigrationError) throw error;
    const endpoint = role === 'source' ? input.batch.source : input.batch.target;
    throw translateError(error, {role, endpoint, mailbox: input.state.identity.emailAddress, ...(folder ? {folder} : {}), phase: 'command'});
  }
}
