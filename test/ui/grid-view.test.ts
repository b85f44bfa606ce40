import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {fakeMailbox} from '../helpers/fake-batch-control.js';
import {
  INITIAL_GRID_VIEW,
  actionTargets,
  arrangeRows,
  gridReducer,
  gridWindow,
  matchesFilter,
  selectedIndex,
  type GridAction,
  type GridView,
} from '../../source/ui/view-state/grid-view.js';
import {moveIndex, scrollBy, scrollToShow, windowAround} from '../../source/ui/view-state/list-window.js';
import {collectLogEntries, pushEntry, type LogEntry} from '../../source/ui/view-state/error-log.js';

const emails = (count: number) => Array.from({length: count}, (_, index) => `user${index}@example.com`);

function run(actions: GridAction[], order: readonly string[], pageSize = 5, start: GridView = INITIAL_GRID_VIEW): GridView {
  return actions.reduce((state, action) => gridReducer(state, action, {order, pageSize}), start);
}

describe('list window', () => {
  it('moves an index within bounds', () => {
    const table: [number, Parameters<typeof moveIndex>[1], number, number, number][] = [
      [0, 'up', 10, 5, 0],
      [0, 'down', 10, 5, 1],
      [9, 'down', 10, 5, 9],
      [3, 'top', 10, 5, 0],
      [3, 'bottom', 10, 5, 9],
      [0, 'pageDown', 10, 5, 4],
      [8, 'pageDown', 10, 5, 9],
      [6, 'pageUp', 10, 5, 2],
      [0, 'down', 0, 5, -1],
      [42, 'up', 10, 5, 8],
    ];
    for (const [from, movement, count, page, expected] of table) assert.equal(moveIndex(from, movement, count, page), expected, `${from} ${movement}`);
  });

  it('scrolls only when the cursor leaves the window', () => {
    assert.equal(scrollToShow(0, 3, 100, 5), 0);
    assert.equal(scrollToShow(0, 5, 100, 5), 1);
    assert.equal(scrollToShow(10, 9, 100, 5), 9);
    assert.equal(scrollToShow(10, 12, 100, 5), 10);
    assert.equal(scrollToShow(98, 99, 100, 5), 95, 'clamped to the last full page');
    assert.equal(scrollToShow(50, 2, 3, 5), 0, 'short lists never scroll');
    assert.deepEqual(windowAround(7, 0, 20, 5), {cursor: 7, start: 3, end: 8});
    assert.deepEqual(windowAround(0, 0, 0, 5), {cursor: -1, start: 0, end: 0});
    assert.equal(scrollBy(0, 'bottom', 30, 10), 20);
    assert.equal(scrollBy(20, 'down', 30, 10), 20);
    assert.equal(scrollBy(5, 'pageUp', 30, 10), 0);
  });
});

describe('grid view reducer', () => {
  const order = emails(20);

  it('selects the first row until the admin moves', () => {
    assert.equal(selectedIndex(INITIAL_GRID_VIEW, order), 0);
    assert.equal(selectedIndex(INITIAL_GRID_VIEW, []), -1);
    const moved = run([{type: 'move', movement: 'down'}, {type: 'move', movement: 'down'}], order);
    assert.equal(moved.selected, 'user2@example.com');
  });

  it('keeps the selection on the same mailbox when rows reorder', () => {
    const state = run([{type: 'select', email: 'user7@example.com'}], order);
    const reordered = [...order].reverse();
    assert.equal(selectedIndex(state, reordered), 12);
    assert.equal(gridWindow(state, reordered, 5).cursor, 12);
    const window = gridWindow(state, reordered, 5);
    assert.ok(window.start <= 12 && 12 < window.end, 'the selected row stays inside the drawn window');
  });

  it('falls back to the first row when the selected mailbox is filtered away', () => {
    const state = run([{type: 'select', email: 'user7@example.com'}], order);
    assert.equal(selectedIndex(state, ['user1@example.com', 'user2@example.com']), 0);
  });

  it('pages and jumps with a window that follows the cursor', () => {
    const state = run([{type: 'move', movement: 'pageDown'}, {type: 'move', movement: 'pageDown'}], order, 5);
    assert.equal(state.selected, 'user8@example.com');
    assert.deepEqual(gridWindow(state, order, 5), {cursor: 8, start: 4, end: 9});
    const bottom = run([{type: 'move', movement: 'bottom'}], order, 5);
    assert.deepEqual(gridWindow(bottom, order, 5), {cursor: 19, start: 15, end: 20});
    const top = run([{type: 'move', movement: 'top'}], order, 5, bottom);
    assert.deepEqual(gridWindow(top, order, 5), {cursor: 0, start: 0, end: 5});
  });

  it('marks with space (moving down), marks all shown, unmarks all', () => {
    const state = run([{type: 'toggleMark'}, {type: 'toggleMark'}], order);
    assert.deepEqual([...state.marks], ['user0@example.com', 'user1@example.com']);
    assert.equal(state.selected, 'user2@example.com');
    const unmarkOne = run([{type: 'move', movement: 'up'}, {type: 'toggleMark'}], order, 5, state);
    assert.deepEqual([...unmarkOne.marks], ['user0@example.com']);
    const all = run([{type: 'markAll'}], order.slice(0, 3));
    assert.equal(all.marks.size, 3);
    assert.equal(run([{type: 'unmarkAll'}], order, 5, all).marks.size, 0);
  });

  it('acts on the marked mailboxes, else on the selected one', () => {
    const selectedOnly = run([{type: 'move', movement: 'down'}], order);
    assert.deepEqual(actionTargets(selectedOnly, order), ['user1@example.com']);
    const marked = run([{type: 'toggleMark'}, {type: 'move', movement: 'down'}, {type: 'toggleMark'}], order);
    assert.deepEqual(actionTargets(marked, order), ['user0@example.com', 'user2@example.com']);
    assert.deepEqual(actionTargets(INITIAL_GRID_VIEW, []), []);
  });

  it('clears filter and marks together, cycles and reverses the sort', () => {
    const state = run([{type: 'setFilter', filter: 'fail'}, {type: 'toggleMark'}, {type: 'clear'}], order);
    assert.equal(state.filter, '');
    assert.equal(state.marks.size, 0);
    const sorted = run([{type: 'cycleSort'}], order);
    assert.equal(sorted.sortKey, 'email');
    assert.equal(run([{type: 'reverseSort'}], order, 5, sorted).descending, true);
    let cycled = INITIAL_GRID_VIEW;
    for (let index = 0; index < 8; index++) cycled = gridReducer(cycled, {type: 'cycleSort'}, {order, pageSize: 5});
    assert.equal(cycled.sortKey, 'csv', 'the sort comes back round to CSV order');
  });
});

describe('grid rows: filter and sort', () => {
  const mailboxes = [
    fakeMailbox('carol@example.com', {status: 'Synced', itemsDone: 10, itemsTotal: 10, messagesPerSecond: 0}),
    fakeMailbox('alice@example.com', {status: 'Failed', itemsDone: 1, itemsTotal: 10, errorCount: 3}),
    fakeMailbox('bob@example.com', {status: 'Syncing', itemsDone: 5, itemsTotal: 10, messagesPerSecond: 9, etaSeconds: 30}),
    fakeMailbox('dave@example.com', {status: 'IncrementalSyncing', itemsDone: 2, itemsTotal: 10, messagesPerSecond: 3, etaSeconds: 5}),
  ];
  const emailsOf = (rows: readonly {emailAddress: string}[]) => rows.map((row) => row.emailAddress.split('@')[0]);

  it('matches email and status, case-insensitively', () => {
    assert.ok(matchesFilter(mailboxes[1]!, 'ALICE'));
    assert.ok(matchesFilter(mailboxes[1]!, 'fail'));
    assert.ok(matchesFilter(mailboxes[3]!, 'incr'));
    assert.ok(!matchesFilter(mailboxes[0]!, 'fail'));
    assert.deepEqual(emailsOf(arrangeRows(mailboxes, {filter: 'sync', sortKey: 'csv', descending: false})), ['carol', 'bob', 'dave']);
    assert.deepEqual(emailsOf(arrangeRows(mailboxes, {filter: 'nobody', sortKey: 'csv', descending: false})), []);
  });

  it('sorts by each key, stably, and in reverse', () => {
    const table: [GridView['sortKey'], boolean, string[]][] = [
      ['csv', false, ['carol', 'alice', 'bob', 'dave']],
      ['csv', true, ['dave', 'bob', 'alice', 'carol']],
      ['email', false, ['alice', 'bob', 'carol', 'dave']],
      ['status', false, ['alice', 'bob', 'dave', 'carol']],
      ['progress', true, ['carol', 'bob', 'dave', 'alice']],
      ['rate', true, ['bob', 'dave', 'carol', 'alice']],
      ['eta', false, ['dave', 'bob', 'carol', 'alice']],
      ['errors', true, ['alice', 'carol', 'bob', 'dave']],
    ];
    for (const [sortKey, descending, expected] of table) {
      assert.deepEqual(emailsOf(arrangeRows(mailboxes, {filter: '', sortKey, descending})), expected, `${sortKey} ${descending ? 'desc' : 'asc'}`);
    }
  });

  it('does not reorder the snapshot it was given', () => {
    const before = emailsOf(mailboxes);
    arrangeRows(mailboxes, {filter: '', sortKey: 'email', descending: true});
    assert.deepEqual(emailsOf(mailboxes), before);
  });
});

describe('error log', () => {
  const error = (at: string, message: string) => ({kind: 'auth' as const, message, hint: 'check it', retryable: false, at});

  it('keeps a bounded ring, newest last', () => {
    const ring: LogEntry[] = [];
    for (let index = 0; index < 7; index++) pushEntry(ring, {emailAddress: `u${index}@x.org`, error: error(`2026-03-01T12:00:0${index}Z`, 'e')}, 5);
    assert.deepEqual(ring.map((entry) => entry.emailAddress), ['u2@x.org', 'u3@x.org', 'u4@x.org', 'u5@x.org', 'u6@x.org']);
  });

  it('merges ring and snapshot errors, newest first, without duplicates', () => {
    const shared = error('2026-03-01T12:00:05Z', 'login refused');
    const ring: LogEntry[] = [{emailAddress: 'a@x.org', error: shared}, {emailAddress: 'b@x.org', error: error('2026-03-01T12:00:01Z', 'timeout'), attempt: 2}];
    const mailboxes = [fakeMailbox('a@x.org', {lastError: shared}), fakeMailbox('c@x.org', {lastError: error('2026-03-01T11:00:00Z', 'quota')}), fakeMailbox('d@x.org')];
    const entries = collectLogEntries(ring, mailboxes);
    assert.deepEqual(entries.map((entry) => `${entry.emailAddress} ${entry.error.message}`), ['a@x.org login refused', 'b@x.org timeout', 'c@x.org quota']);
  });
});
