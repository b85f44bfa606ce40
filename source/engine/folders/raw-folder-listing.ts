// One side's folder list over a raw session (raw-session.ts), in the shape the engine gets from
// imapflow's list(): LIST-EXTENDED with RETURN (STATUS SPECIAL-USE CHILDREN SUBSCRIBED) and
// NAMESPACE in one round trip. The no-change check (unchanged-check.ts) and initial passes over
// stream lanes (mailbox-pass.ts) use it, so neither needs imapflow to learn the folder tree.

import type {EndpointRole} from '../../imap/imap-error.js';
import {parseListResponse, parseNamespaceResponse, parseStatusResponse} from '../../imap/list-response.js';
import {decodeModifiedUtf7} from '../../imap/modified-utf7.js';
import type {RawImapSession} from '../../imap/raw-session.js';
import type {FolderStatusHint} from '../copy/folder-status.js';
import type {ListedFolder, NamespaceInfo} from './folder-mapping.js';

/** What one side lists, in the shape the full pass gets from imapflow. */
export interface FolderListing {
  folders: ListedFolder[];
  namespace: NamespaceInfo;
  /** LIST-STATUS answers by folder path (source: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ). */
  status: Map<string, FolderStatusHint>;
  capabilities: ReadonlySet<string>;
}

/** LIST-STATUS items: the source's tell whether a folder changed, the target's whether it was recreated. */
export const SOURCE_STATUS = 'STATUS (UIDNEXT UIDVALIDITY HIGHESTMODSEQ)';
export const TARGET_STATUS = 'STATUS (UIDVALIDITY)';

export function hasCapability(capabilities: ReadonlySet<string>, name: string): boolean {
  // IMAP4rev2 (RFC 9051) includes LIST-EXTENDED, LIST-STATUS, NAMESPACE and SPECIAL-USE.
  return capabilities.has(name) || (name !== 'CONDSTORE' && capabilities.has('IMAP4REV2'));
}

export function missingCapabilities(capabilities: ReadonlySet<string>, source: boolean): string[] {
  const needed = source ? ['NAMESPACE', 'LIST-EXTENDED', 'LIST-STATUS', 'CONDSTORE'] : ['NAMESPACE', 'LIST-EXTENDED'];
  return needed.filter((name) => !hasCapability(capabilities, name)).map((name) => `${source ? 'source' : 'target'} ${name}`);
}

/** Why a listing failed; `fatal` when the connection is gone, not just the command refused. */
export class ListingFailure extends Error {
  constructor(readonly role: EndpointRole, override readonly cause: unknown, readonly fatal: boolean) {
    super(String(cause));
  }
}

/** A refused command: the caller may know another way (imapflow). A lost connection: fatal. */
function failure(role: EndpointRole, error: unknown): never {
  const refused = typeof error === 'object' && error !== null && 'responseStatus' in error;
  throw new ListingFailure(role, error, !refused);
}

/**
 * LIST with the same RETURN options imapflow sends (SPECIAL-USE and CHILDREN too: with RETURN
 * options some servers report only the attributes asked for), and NAMESPACE, in one round trip.
 */
export async function listFolders(role: EndpointRole, session: RawImapSession, status: string | undefined): Promise<FolderListing> {
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
      // What the server says, INBOX included (imapflow would report INBOX as subscribed
      // whatever the server says, and then a target INBOX nobody subscribed looks done).
      const subscribed = isSubscribed(entry.flags);
      folders.push({path, delimiter: entry.delimiter, flags, ...(subscribed ? {subscribed: true} : {})});
    }
    return {folders, namespace, status: statusByPath, capabilities};
  } catch (error) {
    if (error instanceof ListingFailure) throw error;
    throw new ListingFailure(role, error, false);
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

/** What listFolders() needs of a server (LIST-STATUS only adds the status hints). */
export function canListFolders(capabilities: ReadonlySet<string>): boolean {
  return hasCapability(capabilities, 'NAMESPACE') && hasCapability(capabilities, 'LIST-EXTENDED');
}
