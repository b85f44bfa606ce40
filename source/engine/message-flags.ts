// Which flags travel with a message. \Recent is server-managed and cannot be set (RFC 3501
// section 2.3.2). \Deleted is not copied: a message waiting for expunge on the source would be
// expunged on the target by the next CLOSE of any client there, which would lose it.

const SYSTEM_FLAGS = new Set(['\\Seen', '\\Answered', '\\Flagged', '\\Draft']);

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
