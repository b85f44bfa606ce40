// Compact numbers for narrow grid columns: every result has a bounded width, so a column never
// grows when a mailbox passes 10,000 messages or a terabyte.

/** 999, 1.2k, 12k, 1.2M: at most 5 characters for any count below 10^12. */
export function formatCount(value: number): string {
  if (!Number.isFinite(value) || value < 0) return '-';
  if (value < 1000) return String(Math.round(value));
  const units = ['k', 'M', 'G'];
  let scaled = value;
  let unit = '';
  for (const next of units) {
    if (scaled < 1000) break;
    scaled /= 1000;
    unit = next;
  }
  return `${scaled < 10 ? trimZero(scaled.toFixed(1)) : String(Math.floor(scaled))}${unit}`;
}

/** Binary units, as mail servers and quotas count them: 512B, 1.5K, 23M, 1.2G. At most 5 characters. */
export function formatBytes(value: number): string {
  if (!Number.isFinite(value) || value < 0) return '-';
  if (value < 1024) return `${Math.round(value)}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let scaled = value;
  let unit = 'B';
  for (const next of units) {
    if (scaled < 1024) break;
    scaled /= 1024;
    unit = next;
  }
  return `${scaled < 10 ? trimZero(scaled.toFixed(1)) : String(Math.floor(scaled))}${unit}`;
}

function trimZero(text: string): string {
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

export function formatPercent(done: number, total: number): string {
  if (total <= 0) return done > 0 ? '100%' : '-';
  return `${Math.min(100, Math.floor((done / total) * 100))}%`;
}

/** "12/s", "1.5/s", "0.2/s"; '-' when nothing moves. */
export function formatMessageRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '-';
  if (perSecond < 10) return `${trimZero(perSecond.toFixed(1))}/s`;
  return `${formatCount(perSecond)}/s`;
}

export function formatByteRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '-';
  return `${formatBytes(perSecond)}/s`;
}

/** 45s, 12m, 1h05m, 3d04h: at most 6 characters. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  const days = Math.floor(hours / 24);
  if (days < 100) return `${days}d${String(hours % 24).padStart(2, '0')}h`;
  return `${days}d`;
}

/** Time since `iso` as of `now`: "now", "40s ago", "12m ago", "3h ago", "2d ago"; '-' when never. */
export function formatAge(iso: string | undefined, now: Date): string {
  if (!iso) return '-';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '-';
  const seconds = Math.max(0, Math.round((now.getTime() - then) / 1000));
  if (seconds < 5) return 'now';
  if (seconds < 60) return `${seconds}s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ago`;
  return `${Math.floor(hours / 24)}d ago`;
}

/** Local wall-clock "HH:MM" for headers ("last synced 14:05"), with the date when not today. */
export function formatClock(iso: string | undefined, now: Date): string {
  if (!iso) return '-';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '-';
  const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  const sameDay = at.toDateString() === now.toDateString();
  if (sameDay) return hhmm;
  return `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, '0')}-${String(at.getDate()).padStart(2, '0')} ${hhmm}`;
}
