// Which flags travel with a message. \Recent is server-managed and cannot be set (RFC 3501
// section 2.3.2). \Deleted travels like the others: "deleted but not yet expunged" is the user's
// own state on the source, and a client's CLOSE or EXPUNGE would remove it there just as on the
// target. mailferry itself never sends CLOSE or EXPUNGE to a target (it leaves folders with
// UNSELECT, RFC 3691, or by selecting the next one, which expunges nothing: RFC 3501 section
// 6.4.2); test/deleted-flag.test.ts checks it. Batches that prefer to leave such
// messages out set skipDeletedMessages, and each one is then listed as skipped.

const SYSTEM_FLAGS = new Set(['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '\\Deleted']);

/** True for the \Deleted flag, however the server spells its case. */
export function isDeletedFlag(flag: string): boolean {
  return flag.toLowerCase() === '\\deleted';
}

export interface FlagSplit {
  /** Flags to send with APPEND / STORE. */
  keep: string[];
  /** Keywords the target folder cannot store (not in PERMANENTFLAGS and no \*). */
  dropped: string[];
}

/**
 * `permanentFlags` is the target folder's PERMANENTFLAGS; undefined means unknown (treat all
 * keywords as storable, as RFC 3501 allows when the response is absent).
 */
export function splitFlags(flags: Iterable<string>, permanentFlags: ReadonlySet<string> | undefined): FlagSplit {
  const keep: string[] = [];
  const dropped: string[] = [];
  const anyKeyword = !permanentFlags || permanentFlags.has('\\*');
  for (const flag of flags) {
    if (flag.startsWith('\\')) {
      // Match system flags case-insensitively: servers answer \SEEN or \Seen.
      const canonical = [...SYSTEM_FLAGS].find((known) => known.toLowerCase() === flag.toLowerCase());
      if (canonical) keep.push(canonical);
      continue;
    }
    if (anyKeyword || permanentFlags.has(flag)) keep.push(flag);
    else dropped.push(flag);
  }
  return {keep, dropped};
}

/** Flags that flag sync compares: the copied system flags plus keywords. */
export function syncableFlags(flags: Iterable<string>): Set<string> {
  return new Set(splitFlags(flags, undefined).keep);
}
