// The server capabilities that change how (or how well) a migration runs, with the reason in
// words an admin can act on. The connection test shows them; the sync engine reads the same names.

export const MIGRATION_CAPABILITIES: readonly {name: string; why: string}[] = [
  {name: 'UIDPLUS', why: 'APPEND returns the new UID (RFC 4315), so copies are tracked without searching the target'},
  {name: 'CONDSTORE', why: 'modification sequences (RFC 7162) make incremental flag sync cheap'},
  {name: 'QRESYNC', why: 'quick resync (RFC 7162) reports expunged messages without a full UID scan'},
  {name: 'SPECIAL-USE', why: 'Sent, Drafts, Trash, Junk and Archive are found by role (RFC 6154), not guessed from names'},
  {name: 'LITERAL+', why: 'non-synchronizing literals (RFC 7888) save one round trip per APPEND'},
  {name: 'LITERAL-', why: 'non-synchronizing literals up to 4 KB (RFC 7888) save round trips on small messages'},
  {name: 'MULTIAPPEND', why: 'several messages per APPEND command (RFC 3502)'},
  {name: 'APPENDLIMIT', why: 'the largest message the server accepts (RFC 7889); bigger ones are skipped up front'},
  {name: 'COMPRESS=DEFLATE', why: 'compressed traffic (RFC 4978) speeds up slow or metered links'},
  {name: 'UTF8=ACCEPT', why: 'UTF-8 folder names and headers (RFC 6855) without modified UTF-7'},
  {name: 'NAMESPACE', why: 'the personal folder prefix and separator (RFC 2342), e.g. "INBOX." on Courier'},
  {name: 'ID', why: 'server name and version (RFC 2971) for diagnostics'},
  {name: 'IDLE', why: 'push notifications (RFC 2177); not needed for migration'},
  {name: 'MOVE', why: 'atomic move (RFC 6851); not needed for migration'},
  {name: 'BINARY', why: 'messages with NUL bytes are fetched and appended unchanged (RFC 3516); without it they are listed as changed in transit'},
];

/**
 * One row per migration capability. `caps` may be plain names (`UIDPLUS`) or name=value
 * (`APPENDLIMIT=35651584`, `COMPRESS=DEFLATE`); the match is case-insensitive, as IMAP atoms are.
 */
export function summarizeCapabilities(caps: Iterable<string>): {name: string; present: boolean; value?: string; why: string}[] {
  const seen = [...caps].map((cap) => cap.trim().toUpperCase()).filter(Boolean);
  return MIGRATION_CAPABILITIES.map(({name, why}) => {
    if (seen.includes(name)) return {name, present: true, why};
    // APPENDLIMIT=<n> carries a value; COMPRESS=DEFLATE and UTF8=ACCEPT are names that contain '='.
    const withValue = seen.find((cap) => cap.startsWith(`${name}=`));
    if (withValue) return {name, present: true, value: withValue.slice(name.length + 1), why};
    return {name, present: false, why};
  });
}
