// Cursor and scroll window arithmetic shared by every list (grid, users, batches, log, help).
// Only the rows inside the window are ever drawn, which is what keeps 10,000 mailboxes cheap.

export const MOVEMENTS = ['up', 'down', 'top', 'bottom', 'pageUp', 'pageDown'] as const;
export type Movement = (typeof MOVEMENTS)[number];

/** Whether a key action is a cursor movement (the same six in every list). */
export function isMovement(action: string): action is Movement {
  return (MOVEMENTS as readonly string[]).includes(action);
}

export interface ListWindow {
  /** Index of the cursor row, -1 when the list is empty. */
  readonly cursor: number;
  /** First row drawn. */
  readonly start: number;
  /** One past the last row drawn. */
  readonly end: number;
}

export function clampIndex(index: number, count: number): number {
  if (count <= 0) return -1;
  return Math.max(0, Math.min(count - 1, index));
}

export function moveIndex(index: number, movement: Movement, count: number, pageSize: number): number {
  if (count <= 0) return -1;
  const page = Math.max(1, pageSize - 1);
  const from = clampIndex(index, count);
  switch (movement) {
    case 'up':
      return Math.max(0, from - 1);
    case 'down':
      return Math.min(count - 1, from + 1);
    case 'top':
      return 0;
    case 'bottom':
      return count - 1;
    case 'pageUp':
      return Math.max(0, from - page);
    case 'pageDown':
      return Math.min(count - 1, from + page);
  }
}

/**
 * The smallest scroll change that keeps the cursor visible: the window only moves when the cursor
 * leaves it, like less and k9s, so rows do not jump under the admin's eyes.
 */
export function scrollToShow(scrollTop: number, cursor: number, count: number, height: number): number {
  if (count <= 0 || height <= 0) return 0;
  const maxTop = Math.max(0, count - height);
  let top = Math.max(0, Math.min(scrollTop, maxTop));
  if (cursor < top) top = cursor;
  else if (cursor >= top + height) top = cursor - height + 1;
  return Math.max(0, Math.min(top, maxTop));
}

export function windowAround(cursor: number, scrollTop: number, count: number, height: number): ListWindow {
  const clamped = clampIndex(cursor, count);
  const start = scrollToShow(scrollTop, Math.max(0, clamped), count, height);
  return {cursor: clamped, start, end: Math.min(count, start + Math.max(0, height))};
}

/** For lists without a cursor (detail, help): scroll a view of `height` lines over `count` lines. */
export function scrollBy(scrollTop: number, movement: Movement, count: number, height: number): number {
  const maxTop = Math.max(0, count - height);
  const page = Math.max(1, height - 1);
  const next =
    movement === 'up' ? scrollTop - 1
    : movement === 'down' ? scrollTop + 1
    : movement === 'top' ? 0
    : movement === 'bottom' ? maxTop
    : movement === 'pageUp' ? scrollTop - page
    : scrollTop + page;
  return Math.max(0, Math.min(maxTop, next));
}
