// One pass over one mailbox: log in on both ends, map the folder tree, create what is missing,
// then sync folder by folder (INBOX first, newest messages first within each folder).
// Connections come from the endpoints' shared budgets and always go back to them.

import type {ImapFlow, ListResponse} from 'imapflow';
import {closeClient, connectClient} from '../../imap/client-factory.js';
import type {EndpointRole} from '../../imap/imap-error.js';
import {MigrationError} from '../../imap/imap-error.js';
import {translateError} from '../../imap/error-translation.js';
import type {Logger} from '../../log/logger.js';
import type {MailboxState} from '../../store/state-schema.js';
import {openAppendSession, PipelinedAppender} from '../../imap/pipelined-appender.js';
import {mailboxArgument, RawImapSession} from '../../imap/raw-session.js';
import {AppendPool, type AppendConnection, type AppendJob, type AppendResult} from './append-workers.js';
import {noteBodyReleased} from './large-body-gc.js';
import type {AsyncSemaphore} from '../scheduler/async-semaphore.js';
import type {BatchDefinition} from '../batch-model.js';
import {openAhead, syncFolder, type FolderAhead, type FolderOpening, type FolderPassResult, type FolderTask} from './folder-copy.js';
import type {FolderStatusHint} from './folder-status.js';
import {carryCreatedSpecialUse, fallbackFolderName, planFolders, retargetChildren, type FolderPlanEntry, type ListedFolder, type NamespaceInfo} from '../folders/folder-mapping.js';
import {
  createSpecialUseCommand,
  imapflowCanExec,
  imapflowCreateSpecialUse,
  imapflowListOne,
  imapflowLsubOne,
  listOneCommand,
  type ListedAttributes,
} from '../../imap/folder-commands.js';
import {parseListResponse} from '../../imap/list-response.js';
import type {MigrationRow} from '../csv/migration-csv.js';
import type {PassContext, PassKind, PassReporter} from './pass-context.js';
import type {StreamLane} from './stream-copy.js';
import {sourceIdentity, targetIdentity, type ResolvedSecrets} from '../credentials/row-credentials.js';
import {canListFolders, hasCapability, listFolders, ListingFailure, SOURCE_STATUS, type FolderListing} from '../folders/raw-folder-listing.js';

/** APPENDs in flight on one pipelining connection; bytes are bounded by the body budget anyway. */
const PIPELINE_DEPTH = 16;
/** Without LITERAL+ the next APPEND can only be queued behind the body that waits for its "+". */
const SYNCHRONIZING_DEPTH = 2;

export interface EngineBudgets {
  bytes: AsyncSemaphore;
  sourceConnections: AsyncSemaphore;
  targetConnections: AsyncSemaphore;
  /** Mailbox passes running now: copy connections per mailbox shrink when many run at once. */
  runningPasses: {count: number};
}

export interface MailboxPassInput {
  kind: PassKind;
  batch: BatchDefinition;
  state: MailboxState;
  row: MigrationRow;
  secrets: ResolvedSecrets;
  budgets: EngineBudgets;
  logger: Logger;
  report: PassReporter;
  signal: AbortSignal;
}

export interface PassSummary extends FolderPassResult {
  folders: number;
  ms: number;
}

/** The full pass; batch-runner.ts runs the no-change check (unchanged-check.ts) before it. */
export async function runMailboxPass(input: MailboxPassInput): Promise<PassSummary> {
  const started = Date.now();
  const {batch, state, row, budgets, signal} = input;
  const mailbox = row.emailAddress;
  const logger = input.logger.child({mailbox});
  const sourceId = sourceIdentity(row, batch.sourceCredentials, input.secrets, batch.source);
  const targetId = targetIdentity(row, batch.targetCredentials, input.secrets, batch.target);
  const translate = (role: EndpointRole, error: unknown, folder?: string): MigrationError => {
    if (error instanceof MigrationError) return error.mailbox || !folder ? error.withContext({mailbox, ...(folder && !error.folder ? {folder} : {})}) : error;
    return translateError(error, {
      role,
      endpoint: role === 'source' ? batch.source : batch.target,
      user: role === 'source' ? sourceId.user : targetId.user,
      mailbox,
      ...(folder ? {folder} : {}),
      phase: 'command',
    });
  };

  interface Slot {
    role: EndpointRole;
    client?: ImapFlow;
    appender?: PipelinedAppender;
    session?: RawImapSession;
  }
  const held: Slot[] = [];
  const budgetOf = (role: EndpointRole) => (role === 'source' ? budgets.sourceConnections : budgets.targetConnections);
  /** The pass's own connection per side: its budget is taken (waiting if need be) at the start,
   *  imapflow logs in only when something needs it (see control() below). */
  const reserve = async (role: EndpointRole): Promise<Slot> => {
    await budgetOf(role).acquire(1, signal);
    const slot: Slot = {role};
    held.push(slot);
    return slot;
  };
  const controls: Partial<Record<EndpointRole, Promise<ImapFlow>>> = {};
  const control = (role: EndpointRole, slot: Slot): Promise<ImapFlow> =>
    (controls[role] ??= connectClient({
      endpoint: role === 'source' ? batch.source : batch.target,
      role,
      identity: role === 'source' ? sourceId : targetId,
      logger,
      mailbox,
    }).then((client) => {
      slot.client = client;
      if (signal.aborted) client.close();
      return client;
    }));
  /** A raw session's slot before the end of the pass (a client's is only closed at the end). */
  const giveBack = (slot: Slot) => {
    slot.session?.close();
    held.splice(held.indexOf(slot), 1);
    budgetOf(slot.role).release(1);
  };
  /** One more target connection for APPENDs if the budget has room now; never waits for one. */
  const takeExtraTarget = async (): Promise<{connection: AppendConnection; lanes: number} | undefined> => {
    if (!budgets.targetConnections.tryAcquire(1)) return undefined;
    const slot: Slot = {role: 'target'};
    held.push(slot);
    try {
      slot.appender = await PipelinedAppender.connect(batch.target, targetId);
    } catch (error) {
      throw translate('target', error);
    }
    return {connection: slot.appender, lanes: slot.appender.pipelined ? PIPELINE_DEPTH : SYNCHRONIZING_DEPTH};
  };

  /** One source and one target raw session for the streamed copy, if both budgets have room now. */
  const takeLane = async (): Promise<StreamLane | undefined> => {
    if (!budgets.sourceConnections.tryAcquire(1)) return undefined;
    if (!budgets.targetConnections.tryAcquire(1)) {
      budgets.sourceConnections.release(1);
      return undefined;
    }
    const sourceSlot: Slot = {role: 'source'};
    const targetSlot: Slot = {role: 'target'};
    held.push(sourceSlot, targetSlot);
    try {
      sourceSlot.session = await RawImapSession.open(batch.source, sourceId);
    } catch (error) {
      throw translate('source', error);
    }
    try {
      const target = await openAppendSession(batch.target, targetId);
      if (!target) {
        // No LITERAL+: no lanes at all. Give both connections back at once.
        giveBack(sourceSlot);
        giveBack(targetSlot);
        return undefined;
      }
      targetSlot.session = target;
    } catch (error) {
      throw translate('target', error);
    }
    return {source: sourceSlot.session, target: targetSlot.session};
  };

  // imapflow commands do not take an AbortSignal: closing the sockets is what makes a stop
  // immediate, even in the middle of a large FETCH or APPEND. Whatever was in flight is checked
  // on the target next time (the folder stays marked in progress).
  const onAbort = () => {
    for (const slot of held) {
      slot.client?.close();
      slot.appender?.close();
      slot.session?.close();
    }
  };
  signal.addEventListener('abort', onAbort, {once: true});
  let pool: AppendPool | undefined;
  budgets.runningPasses.count++;
  try {
    const sourceSlot = await reserve('source');
    const targetSlot = await reserve('target');
    const connected = (role: EndpointRole): ImapFlow => {
      const client = (role === 'source' ? sourceSlot : targetSlot).client;
      if (!client) throw new Error(`internal: imapflow's ${role} connection used before control('${role}')`);
      return client;
    };
    let bufferedReady: Promise<void> | undefined;
    const appendResults = new Map<string, (job: AppendJob, result: AppendResult) => void>();
    pool = new AppendPool({
      translate: (error, job) => translate('target', error, job.targetPath),
      onResult: (job, result) => {
        budgets.bytes.release(job.budgetBytes);
        appendResults.get(job.sourceFolder)?.(job, result);
        // The pool drops its reference to the job right after this callback, and imapflow its
        // copies of the body (see bodyCopies): all of them are garbage now.
        const garbage = job.size * copies;
        setImmediate(() => noteBodyReleased(garbage));
      },
    });
    const activePool = pool;
    let widened = false;
    let copies = 3;
    let lanes: StreamLane[] = [];
    let lanesClosed = false;
    /** Lanes up to this pass's share of --append-connections, as far as the budgets allow now. */
    const addLanes = async () => {
      // Each lane is one server process per side. Alone, a mailbox spreads over several to use
      // the servers' cores; with several mailboxes running, one each already does, and more
      // only add logins and contention.
      const wantedLanes = Math.max(1, Math.floor(batch.settings.appendConnectionsPerMailbox / Math.max(1, budgets.runningPasses.count)));
      while (lanes.length < wantedLanes && !signal.aborted) {
        try {
          const lane = await takeLane();
          if (!lane) break;
          lanes.push(lane);
        } catch (error) {
          // A refused login would only be refused again (and counted twice by the server).
          if (error instanceof MigrationError && error.kind === 'auth') throw error;
          // More connections are an optimisation: the per-user limit may already be reached.
          // With none at all the buffered path still copies over imapflow's connections.
          logger.warn('could not open a streaming copy connection pair; continuing with fewer', {error: String(error)});
          break;
        }
      }
    };
    const ctx: PassContext = {
      kind: input.kind,
      emailAddress: mailbox,
      settings: batch.settings,
      state,
      get source() {
        return connected('source');
      },
      get target() {
        return connected('target');
      },
      control: (role) => control(role, role === 'source' ? sourceSlot : targetSlot),
      bufferedAppends: () =>
        (bufferedReady ??= control('target', targetSlot).then((target) => {
          // With lanes the pool has no connection of its own: refused batches retry through this one.
          if (lanes.length > 0 || lanesClosed) activePool.addConnection(target);
        })),
      pool,
      appendResults,
      bytes: budgets.bytes,
      signal,
      logger,
      report: input.report,
      translate,
      bodyCopies: () => copies,
      streamLanes: () => lanes,
      disableStreaming: () => {
        for (const lane of lanes) {
          lane.source.close();
          lane.target.close();
        }
        if (lanes.length > 0) lanesClosed = true;
        lanes = [];
      },
      widenPool: async () => {
        // Once per pass. Taking more lanes as other mailboxes finish was tried: no gain in four
        // interleaved bench pairs (1537 vs 1562 msg/s), and two more logins per side.
        if (widened) return;
        widened = true;
        // Streaming needs LITERAL+ on the target: nothing may wait for a continuation mid-body.
        // openAppendSession() finds out, unless imapflow's connection knows already.
        if (!targetSlot.client || targetSlot.client.capabilities.has('LITERAL+')) {
          await addLanes();
          // Only messages a batch APPEND was refused for go the buffered way (bufferedAppends()).
          if (lanes.length > 0) return;
        }
        const target = await control('target', targetSlot);
        // Raw APPEND connections (see pipelined-appender.ts): with LITERAL+ each carries many
        // APPENDs at once, without it one round trip per message. The control connection only
        // appends when none could be opened: imapflow copies every body twice on APPEND, which
        // makes a 30 MB message cost 90 MB.
        let appenders = 0;
        for (let extraCount = 0; extraCount < Math.max(1, batch.settings.appendConnectionsPerMailbox - 1); extraCount++) {
          try {
            const extra = await takeExtraTarget();
            if (!extra) break;
            activePool.addConnection(extra.connection, extra.lanes);
            appenders++;
          } catch (error) {
            // An extra connection is an optimisation: the per-user limit may already be reached.
            logger.warn('could not open an extra target connection; continuing with fewer', {error: String(error)});
            break;
          }
        }
        if (appenders === 0) activePool.addConnection(target);
        else copies = 1;
      },
    };

    const tasks = await prepareFolders(ctx);
    const summary: PassSummary = {copied: 0, alreadyPresent: 0, flagsUpdated: 0, folders: tasks.length, ms: 0};
    let opening: FolderOpening | undefined;
    for (const [index, task] of tasks.entries()) {
      if (signal.aborted) throw signal.reason;
      const next = tasks[index + 1];
      const ahead: FolderAhead = {
        ...(opening ? {opening} : {}),
        ...(next
          ? {
              openNext: () => {
                const lane = ctx.streamLanes()[0];
                if (lane) opening = openAhead(ctx, lane, next);
              },
            }
          : {}),
      };
      opening = undefined;
      try {
        const result = await syncFolder(ctx, task, ahead);
        summary.copied += result.copied;
        summary.alreadyPresent += result.alreadyPresent;
        summary.flagsUpdated += result.flagsUpdated;
      } catch (error) {
        const translated = error instanceof MigrationError ? error : translate('source', error, task.entry.source);
        if (translated.kind !== 'folder' || signal.aborted) throw error;
        // One folder the server will not open must not stop the rest of the mailbox.
        noteUnmigrated(state, task.entry.source, `${translated.message}${translated.serverText ? ` (server said: ${translated.serverText})` : ''}`);
        logger.warn('folder skipped', {folder: task.entry.source, error: translated.message});
      }
    }
    input.report.currentFolder(undefined);
    summary.ms = Date.now() - started;
    return summary;
  } finally {
    budgets.runningPasses.count--;
    signal.removeEventListener('abort', onAbort);
    // Connections first: that makes APPENDs still in flight answer (or fail) at once, so the
    // pool can account for every job's budget.
    await Promise.all(
      held.map(async (slot) => {
        slot.appender?.close();
        slot.session?.close();
        if (slot.client) await closeClient(slot.client);
      }),
    );
    if (pool) {
      for (const job of await pool.close()) budgets.bytes.release(job.budgetBytes);
    }
    for (const slot of held) budgetOf(slot.role).release(1);
  }
}

function namespaceOf(client: ImapFlow, folders: ListResponse[]): NamespaceInfo {
  const personal = client.namespace;
  const delimiter = personal?.delimiter ?? folders[0]?.delimiter ?? '/';
  return {prefix: personal?.prefix ?? '', delimiter};
}

function toListed(folder: ListResponse): ListedFolder {
  return {
    path: folder.path,
    delimiter: folder.delimiter,
    flags: [...folder.flags],
    ...(folder.specialUse ? {specialUse: folder.specialUse} : {}),
    ...(folder.specialUseSource ? {specialUseSource: folder.specialUseSource} : {}),
    subscribed: folder.subscribed,
  };
}

/** Both folder trees as the planner takes them, and the target commands that act on the plan. */
interface FolderTrees {
  source: ListedFolder[];
  sourceNamespace: NamespaceInfo;
  /** LIST-STATUS answers by source path, when the server gave them. */
  sourceStatus: Map<string, FolderStatusHint>;
  sourceCapabilities: ReadonlySet<string>;
  target: ListedFolder[];
  targetNamespace: NamespaceInfo;
  targetCapabilities: ReadonlySet<string>;
  create(name: string): Promise<unknown>;
  /** CREATE name (USE (\X)) (RFC 6154 section 3); never subscribes. */
  createSpecialUse(name: string, use: string): Promise<unknown>;
  /** What the target now lists for one folder (its special-use attribute after a CREATE). */
  listOne(name: string): Promise<ListedAttributes | undefined>;
  subscribe(name: string): Promise<unknown>;
  unsubscribe(name: string): Promise<unknown>;
  /** imapflow's mailboxCreate subscribes what it creates; a plain CREATE does not. */
  createSubscribes: boolean;
}

/** Capability names as imapflow keeps them or as a raw session does, matched in upper case. */
function capabilitySet(names: Iterable<string>): Set<string> {
  return new Set([...names].map((name) => name.toUpperCase()));
}

/**
 * imapflow's list() reports INBOX as subscribed whatever the server says; the subscription is
 * carried as the source has it (rule 8), so both ends' INBOX state is asked for directly.
 */
async function realInboxSubscription(ctx: PassContext, role: EndpointRole, client: ImapFlow, folders: ListedFolder[]): Promise<void> {
  const inbox = folders.find((folder) => folder.path === 'INBOX');
  if (!inbox || !imapflowCanExec(client)) return;
  const capabilities = capabilitySet(client.capabilities.keys());
  let subscribed: boolean;
  try {
    subscribed = hasCapability(capabilities, 'LIST-EXTENDED')
      ? (await imapflowListOne(client, 'INBOX', true, false))?.subscribed === true
      : await imapflowLsubOne(client, 'INBOX');
  } catch (error) {
    // A refused command (NO/BAD) leaves imapflow's answer; a lost connection fails the pass.
    if (typeof error !== 'object' || error === null || !('responseStatus' in error)) throw error;
    ctx.logger.debug("could not ask for INBOX's subscription; taking imapflow's", {role, error: String(error)});
    return;
  }
  if (subscribed) inbox.subscribed = true;
  else delete inbox.subscribed;
}

/** Over imapflow's connections (they log in here if they have not yet). */
async function listWithImapflow(ctx: PassContext): Promise<FolderTrees> {
  const source = await guardList(ctx, 'source', () => ctx.control('source'));
  const target = await guardList(ctx, 'target', () => ctx.control('target'));
  const statusQuery = {messages: true, uidNext: true, uidValidity: true, highestModseq: true};
  const sourceFolders = await guardList(ctx, 'source', () => source.list({statusQuery}));
  const targetFolders = await guardList(ctx, 'target', () => target.list());
  const sourceStatus = new Map<string, FolderStatusHint>();
  for (const folder of sourceFolders) if (folder.status) sourceStatus.set(folder.path, folder.status);
  const sourceListed = sourceFolders.map(toListed);
  const targetListed = targetFolders.map(toListed);
  await guardList(ctx, 'source', () => realInboxSubscription(ctx, 'source', source, sourceListed));
  await guardList(ctx, 'target', () => realInboxSubscription(ctx, 'target', target, targetListed));
  const targetCapabilities = capabilitySet(target.capabilities.keys());
  return {
    source: sourceListed,
    sourceNamespace: namespaceOf(source, sourceFolders),
    sourceStatus,
    sourceCapabilities: capabilitySet(source.capabilities.keys()),
    target: targetListed,
    targetNamespace: namespaceOf(target, targetFolders),
    targetCapabilities,
    create: (name) => target.mailboxCreate(name),
    createSpecialUse: (name, use) => imapflowCreateSpecialUse(target, name, use),
    listOne: (name) => imapflowListOne(target, name, hasCapability(targetCapabilities, 'LIST-EXTENDED'), hasCapability(targetCapabilities, 'SPECIAL-USE')),
    subscribe: (name) => target.mailboxSubscribe(name),
    unsubscribe: (name) => target.mailboxUnsubscribe(name),
    createSubscribes: true,
  };
}

/**
 * Over the first stream lane's raw sessions (raw-folder-listing.ts), the way the no-change check
 * lists. Undefined when a server lacks what that needs or refuses the LIST: imapflow then lists.
 */
async function listOverLane(ctx: PassContext, lane: StreamLane): Promise<FolderTrees | undefined> {
  if (!canListFolders(lane.source.capabilities) || !canListFolders(lane.target.capabilities)) return undefined;
  let listings: [FolderListing, FolderListing];
  try {
    listings = await Promise.all([
      listFolders('source', lane.source, hasCapability(lane.source.capabilities, 'LIST-STATUS') ? SOURCE_STATUS : undefined),
      listFolders('target', lane.target, undefined),
    ]);
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (!(error instanceof ListingFailure)) throw error;
    if (error.fatal) throw ctx.translate(error.role, error.cause);
    ctx.logger.debug('the raw folder listing was refused; listing with imapflow', {role: error.role, error: String(error.cause)});
    return undefined;
  }
  const [source, target] = listings;
  const command = (verb: string) => (name: string) => lane.target.command(`${verb} ${mailboxArgument(name)}`);
  const extended = hasCapability(target.capabilities, 'LIST-EXTENDED');
  const specialUse = hasCapability(target.capabilities, 'SPECIAL-USE');
  return {
    source: source.folders,
    sourceNamespace: source.namespace,
    sourceStatus: source.status,
    sourceCapabilities: capabilitySet(source.capabilities),
    target: target.folders,
    targetNamespace: target.namespace,
    targetCapabilities: capabilitySet(target.capabilities),
    create: command('CREATE'),
    createSpecialUse: (name, use) => lane.target.command(createSpecialUseCommand(name, use)),
    listOne: async (name) => {
      const result = await lane.target.command(listOneCommand(name, extended, specialUse));
      for (const line of result.untagged) {
        const entry = parseListResponse(line);
        if (!entry) continue;
        const subscribed = entry.flags.some((flag) => flag.toLowerCase() === '\\subscribed');
        return {flags: entry.flags.filter((flag) => flag.toLowerCase() !== '\\subscribed'), subscribed};
      }
      return undefined;
    },
    subscribe: command('SUBSCRIBE'),
    unsubscribe: command('UNSUBSCRIBE'),
    createSubscribes: false,
  };
}

/** Lists both ends, plans the mapping, creates and subscribes target folders. */
async function prepareFolders(ctx: PassContext): Promise<FolderTask[]> {
  const {state, settings} = ctx;
  // An initial pass copies: its lanes are opened now, and they list the folders too.
  if (ctx.kind === 'initial') await ctx.widenPool();
  const lane = ctx.streamLanes()[0];
  const trees = (lane && (await listOverLane(ctx, lane))) || (await listWithImapflow(ctx));
  const plan = planFolders({
    source: {folders: trees.source, namespace: trees.sourceNamespace},
    target: {
      folders: trees.target,
      namespace: trees.targetNamespace,
      supportsCreateSpecialUse: trees.targetCapabilities.has('CREATE-SPECIAL-USE'),
    },
    ...(state.identity.userRoot ? {userRoot: state.identity.userRoot} : {}),
    excluded: settings.excludedFolders,
    sourceIsGmail: trees.sourceCapabilities.has('X-GM-EXT-1'),
    targetIsGmail: trees.targetCapabilities.has('X-GM-EXT-1'),
  });
  state.unmigratedFolders = [...plan.unmigrated];
  state.renamedFolders = carryCreatedSpecialUse(state.renamedFolders, plan);

  const targetSubscribed = new Set(trees.target.filter((folder) => folder.subscribed).map((folder) => folder.path));
  const tasks: FolderTask[] = [];
  // Independent of each other and of what follows: sent as they come (pipelined over a lane),
  // awaited together.
  const subscriptions: Promise<void>[] = [];
  const delimiter = trees.targetNamespace.delimiter || trees.target[0]?.delimiter || '/';
  let entries = plan.entries;
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const made = entry.createOnTarget ? await createTargetFolder(ctx, trees, entry, delimiter) : {name: entry.target, subscribed: targetSubscribed.has(entry.target)};
    if (made === undefined) continue;
    const created = made.name;
    // Children follow a parent that had to take a fallback name.
    if (created !== entry.target) entries = retargetChildren(entries, entry.target, created, delimiter);
    const placed = {...entries[index]!, target: created};
    // The source decides, not the way the folder was created (rule 8): a folder subscribed
    // there is subscribed here, INBOX included; one that is not is unsubscribed only when this
    // pass created it subscribed (a target folder that was there keeps its owner's choice).
    if (placed.subscribe && !made.subscribed) subscriptions.push(carrySubscription(ctx, created, () => trees.subscribe(created)));
    else if (!placed.subscribe && entry.createOnTarget && made.subscribed) subscriptions.push(carrySubscription(ctx, created, () => trees.unsubscribe(created)));
    if (!placed.selectable) continue;
    const status = trees.sourceStatus.get(placed.source);
    tasks.push({entry: placed, ...(status ? {sourceStatus: status} : {})});
  }
  await Promise.all(subscriptions);
  if (ctx.signal.aborted) throw ctx.signal.reason;
  return tasks;
}

/** A subscription that cannot be carried over is worth a warning, not the mailbox. */
async function carrySubscription(ctx: PassContext, folder: string, command: () => Promise<unknown>): Promise<void> {
  try {
    await command();
  } catch (error) {
    if (!ctx.signal.aborted) ctx.logger.warn('could not carry the subscription over', {folder, error: String(error)});
  }
}

/** The folder as created: its name (a fallback one if the target refused the planned one) and
 *  whether the CREATE left it subscribed (imapflow's mailboxCreate subscribes, CREATE does not). */
interface CreatedFolder {
  name: string;
  subscribed: boolean;
}

function alreadyExists(error: MigrationError): boolean {
  return /ALREADYEXISTS|already exists/i.test(`${error.serverText ?? ''} ${error.message}`);
}

async function createTargetFolder(ctx: PassContext, trees: FolderTrees, entry: FolderPlanEntry, delimiter: string): Promise<CreatedFolder | undefined> {
  let useRefused: MigrationError | undefined;
  if (entry.createSpecialUse) {
    const use = entry.createSpecialUse;
    try {
      await trees.createSpecialUse(entry.target, use);
      noteSpecialUse(ctx.state, entry.source, entry.target, use, `created "${entry.target}" with the special-use attribute ${use} (CREATE-SPECIAL-USE, RFC 6154 section 3)`);
      await checkSpecialUse(ctx, trees, entry.source, entry.target);
      return {name: entry.target, subscribed: false};
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const translated = ctx.translate('target', error, entry.target);
      if (alreadyExists(translated)) return {name: entry.target, subscribed: false};
      if (translated.retryable || translated.kind === 'auth' || translated.kind === 'quota' || translated.kind === 'storage') throw translated;
      // RFC 6154 section 3: a server may refuse the attribute ([USEATTR]); the folder still
      // has to exist, so it is created without it and the note says so.
      useRefused = translated;
      ctx.logger.warn('the target refused CREATE with USE; creating the folder without the attribute', {folder: entry.source, target: entry.target, use, error: translated.message});
    }
  }
  let name: string | undefined = entry.target;
  let lastError: MigrationError | undefined;
  for (let attempt = 1; name !== undefined; attempt++) {
    try {
      await trees.create(name);
      if (name !== entry.target) {
        ctx.state.renamedFolders.push({source: entry.source, target: name, reason: `the target refused "${entry.target}"${lastError?.serverText ? ` (${lastError.serverText})` : ''}`});
      }
      if (useRefused && entry.createSpecialUse) {
        const said = useRefused.serverText ? ` (server said: ${useRefused.serverText})` : '';
        noteSpecialUse(ctx.state, entry.source, name, entry.createSpecialUse, `the target refused to create "${entry.target}" with the special-use attribute ${entry.createSpecialUse}${said}; created it without`);
      }
      await checkSpecialUse(ctx, trees, entry.source, name);
      return {name, subscribed: trees.createSubscribes};
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const translated = ctx.translate('target', error, name);
      if (alreadyExists(translated)) return {name, subscribed: false};
      if (translated.retryable || translated.kind === 'auth' || translated.kind === 'quota' || translated.kind === 'storage') throw translated;
      lastError = translated;
      name = fallbackFolderName(entry.target, delimiter, attempt);
    }
  }
  noteUnmigrated(
    ctx.state,
    entry.source,
    `the target refused to create "${entry.target}"${lastError?.serverText ? ` (server said: ${lastError.serverText})` : ''}; create it by hand or exclude it`,
  );
  return undefined;
}

/** The renamed-list note on how a special-use folder was created (kept on later passes). */
function noteSpecialUse(state: MailboxState, source: string, target: string, use: string, reason: string): void {
  const index = state.renamedFolders.findIndex((folder) => folder.source === source);
  const note = {source, target, reason, specialUse: use};
  if (index >= 0) state.renamedFolders[index] = note;
  else state.renamedFolders.push(note);
}

/**
 * After creating a folder a special-use note is about, asks the target whether it marks the
 * folder with the kind now (Dovecot does for a `special_use` mailbox once it exists) and says so
 * in the note: a folder that is not marked will not be used for its kind by the users' clients.
 */
async function checkSpecialUse(ctx: PassContext, trees: FolderTrees, source: string, target: string): Promise<void> {
  const note = ctx.state.renamedFolders.find((folder) => folder.source === source && folder.specialUse !== undefined);
  if (!note) return;
  const use = note.specialUse!;
  let listed: ListedAttributes | undefined;
  try {
    listed = await trees.listOne(target);
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ctx.logger.debug('could not list a folder just created', {folder: target, error: String(error)});
  }
  const marked = listed?.flags.some((flag) => flag.toLowerCase() === use.toLowerCase()) === true;
  note.target = target;
  note.reason += marked
    ? `; the target marks it ${use}`
    : `; the target does not mark it ${use}${listed ? '' : ' (it could not be listed)'}: make it the ${use} folder on the target by hand, or clients will not use it as such`;
  ctx.logger.info('special-use folder created', {folder: source, target, use, marked});
}

function noteUnmigrated(state: MailboxState, source: string, reason: string): void {
  if (!state.unmigratedFolders.some((folder) => folder.source === source)) state.unmigratedFolders.push({source, reason});
}

async function guardList<T>(ctx: PassContext, role: EndpointRole, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw ctx.translate(role, error);
  }
}
