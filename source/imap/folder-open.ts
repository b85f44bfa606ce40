// Opening a folder and listing its messages over a raw session (raw-session.ts), for the passes
// that copy over stream lanes: the lane's own connections open the folder and list it, so the
// copy needs no imapflow command per folder. imapflow parses each FETCH response into objects
// and V8 compiles its parser again and again; in the quick bench that was about 0.8 s of CPU
// per 4,000 messages, a third of the client's share of a CPU-bound run.

import {mailboxArgument, type RawImapSession} from './raw-session.js';

/** What SELECT/EXAMINE says about a folder (the fields the engine reads from imapflow's too). */
export interface OpenedFolder {
  path: string;
  /** Which connection has it open: a raw session (folder-open.ts) or imapflow's. */
  openedBy: 'raw' | 'imapflow';
  exists: number;
  uidValidity: bigint;
  uidNext: number;
  /** Absent when the server has no CONDSTORE or the folder has no mod-sequences. */
  highestModseq?: bigint;
  noModseq: boolean;
  /** SELECT only: the flags the folder stores (`\*` = any keyword). */
  permanentFlags?: Set<string>;
}

/**
 * Reads the untagged responses of a SELECT/EXAMINE. Undefined when UIDVALIDITY or UIDNEXT is
 * missing (both are required by RFC 3501 section 6.3.1, but the engine must not guess them).
 */
export function parseSelectResponse(path: string, untagged: string[]): OpenedFolder | undefined {
  let exists: number | undefined;
  let uidValidity: bigint | undefined;
  let uidNext: number | undefined;
  let highestModseq: bigint | undefined;
  let noModseq = false;
  let permanentFlags: Set<string> | undefined;
  for (const line of untagged) {
    const count = /^\* (\d+) EXISTS\b/i.exec(line);
    if (count) {
      exists = Number(count[1]);
      continue;
    }
    const code = /^\* OK \[([A-Z-]+)(?: ([^\]]*))?\]/i.exec(line);
    if (!code) continue;
    const value = code[2] ?? '';
    switch (code[1]!.toUpperCase()) {
      case 'UIDVALIDITY':
        if (/^\d+$/.test(value)) uidValidity = BigInt(value);
        break;
      case 'UIDNEXT':
        if (/^\d+$/.test(value)) uidNext = Number(value);
        break;
      case 'HIGHESTMODSEQ':
        if (/^\d+$/.test(value)) highestModseq = BigInt(value);
        break;
      case 'NOMODSEQ':
        noModseq = true;
        break;
      case 'PERMANENTFLAGS':
        permanentFlags = new Set(value.replace(/^\(|\)$/g, '').split(/\s+/).filter(Boolean));
        break;
    }
  }
  if (uidValidity === undefined || uidNext === undefined) return undefined;
  return {
    path,
    openedBy: 'raw',
    exists: exists ?? 0,
    uidValidity,
    uidNext,
    ...(highestModseq !== undefined && !noModseq ? {highestModseq} : {}),
    noModseq,
    ...(permanentFlags ? {permanentFlags} : {}),
  };
}

/**
 * EXAMINE (source: read-only, copying never changes it; with mod-sequences when the server has
 * CONDSTORE) or SELECT (target: PERMANENTFLAGS is only meaningful read-write).
 */
export async function openFolder(session: RawImapSession, path: string, mode: 'EXAMINE' | 'SELECT'): Promise<OpenedFolder | undefined> {
  const condstore = mode === 'EXAMINE' && session.capabilities.has('CONDSTORE') ? ' (CONDSTORE)' : '';
  const opened = session.command(`${mode} ${mailboxArgument(path)}${condstore}`);
  // The target session then appends into this folder: left selected, the server would report
  // (and sync its view of) every message appended. UNSELECT (RFC 3691) leaves nothing selected
  // without CLOSE's expunge; written right behind the SELECT, it costs no round trip.
  // A refused UNSELECT only leaves the folder selected; a lost connection fails the next command.
  const unselected = mode === 'SELECT' && session.capabilities.has('UNSELECT') ? session.command('UNSELECT').catch(() => undefined) : undefined;
  const result = await opened;
  await unselected;
  return parseSelectResponse(path, result.untagged);
}

const FETCH_LINE = /^\* \d+ FETCH \(/i;
const UID_ITEM = /[( ]UID (\d+)[ )]/i;
const SIZE_ITEM = /[( ]RFC822\.SIZE (\d+)[ )]/i;

/**
 * UID and size of every message in `range` of the open folder, one callback per message. Lines
 * without both (unsolicited flag updates, EXISTS, EXPUNGE) are not listings and are skipped.
 */
export async function listUidSizes(session: RawImapSession, range: string, onMessage: (uid: number, size: number) => void): Promise<void> {
  await session.command(`UID FETCH ${range} (UID RFC822.SIZE)`, {
    onUntagged: (line) => {
      if (!FETCH_LINE.test(line)) return;
      const uid = UID_ITEM.exec(line);
      const size = SIZE_ITEM.exec(line);
      if (uid && size) onMessage(Number(uid[1]), Number(size[1]));
    },
  });
}
