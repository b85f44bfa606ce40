// The grid's kept arrangement (RowArranger) against the plain filter and sort (arrangeRows) it
// replaces on the render path: the same rows in the same order for varied rows, every sort key
// both ways, filters typed character by character, and snapshots arriving in between that move,
// re-status, add and remove rows.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {MAILBOX_STATUSES} from '../../source/engine/batch-model.js';
import type {MailboxSnapshot} from '../../source/engine/scheduler/batch-snapshot.js';
import {SORT_KEYS, arrangeRows, type GridView} from '../../source/ui/view-state/grid-view.js';
import {RowArranger, type ArrangeView} from '../../source/ui/view-state/row-arrangement.js';
import {fakeMailbox} from '../helpers/fake-batch-control.js';

function random(seed: number): () => number {
  let value = seed;
  return () => {
    value = (value * 1_103_515_245 + 12_345) % 2_147_483_648;
    return value / 2_147_483_648;
  };
}

/** Rows with many ties, unknown ETAs, mixed-case and non-ASCII addresses, missing sync times. */
function variedRow(index: number, next: () => number): MailboxSnapshot {
  const names = ['anna', 'Bob', 'zoë', 'Émile', 'bob', 'ANNA', 'carl', 'd.o.e', 'x', 'Ω-team'];
  const domains = ['example.org', 'Example.COM', 'mail.test', 'fail.example'];
  const total = [0, 10, 100, 5000][Math.floor(next() * 4)]!;
  return fakeMailbox(`${names[index % names.length]}${index}@${domains[Math.floor(next() * domains.length)]}`, {
    status: MAILBOX_STATUSES[Math.floor(next() * MAILBOX_STATUSES.length)]!,
    itemsTotal: total,
    itemsDone: Math.floor(next() * (total + 1)),
    messagesPerSecond: [0, 0, 1.5, 3, 12][Math.floor(next() * 5)]!,
    errorCount: [0, 0, 0, 1, 4][Math.floor(next() * 5)]!,
    ...(next() < 0.6 ? {etaSeconds: Math.floor(next() * 4) * 60} : {}),
    ...(next() < 0.5 ? {lastSyncedAt: `2026-03-0${1 + Math.floor(next() * 3)}T12:00:00.000Z`} : {}),
  });
}

const emailsOf = (rows: readonly MailboxSnapshot[]) => rows.map((row) => row.emailAddress);

function assertSame(arranger: RowArranger, mailboxes: readonly MailboxSnapshot[], view: ArrangeView, what: string): void {
  const expected = arrangeRows(mailboxes, view);
  const got = arranger.arrange(mailboxes, view);
  assert.deepEqual(emailsOf(got.rows), emailsOf(expected), what);
  assert.deepEqual(got.order, emailsOf(expected), `${what}: order`);
  got.rows.forEach((row, index) => assert.equal(row, expected[index], `${what}: row ${index} is the snapshot's object`));
}

/** A publication: some rows progress, some change status, now and then one joins or leaves. */
function publish(mailboxes: readonly MailboxSnapshot[], next: () => number, round: number): MailboxSnapshot[] {
  const result = mailboxes.map((row) =>
    next() < 0.15
      ? {...row, itemsDone: Math.min(row.itemsTotal, row.itemsDone + 1), messagesPerSecond: Math.floor(next() * 4), ...(next() < 0.3 ? {status: MAILBOX_STATUSES[Math.floor(next() * MAILBOX_STATUSES.length)]!} : {})}
      : row,
  );
  if (round % 7 === 3) result.splice(Math.floor(next() * result.length), 1);
  if (round % 5 === 1) result.push(variedRow(1000 + round, next));
  return result;
}

const VIEWS: ArrangeView[] = SORT_KEYS.flatMap((sortKey) => [false, true].map((descending) => ({filter: '', sortKey, descending})));

describe('RowArranger', () => {
  it('filters and sorts like arrangeRows for every sort key, both ways, with and without a filter', () => {
    const next = random(7);
    const mailboxes = Array.from({length: 300}, (_, index) => variedRow(index, next));
    const arranger = new RowArranger();
    for (const filter of ['', 'fail', 'SYNC', ' bob ', 'émile', 'incr', '.com', 'nobody at all', 'q']) {
      for (const view of VIEWS) assertSame(arranger, mailboxes, {...view, filter}, `${view.sortKey} ${view.descending ? 'desc' : 'asc'} "${filter}"`);
    }
  });

  it('stays equal while snapshots arrive, under each sort and filter in turn', () => {
    const next = random(11);
    let mailboxes = Array.from({length: 200}, (_, index) => variedRow(index, next));
    const arranger = new RowArranger();
    let round = 0;
    for (const filter of ['', 'fail', 'example.org']) {
      for (const view of VIEWS) {
        for (let step = 0; step < 4; step++) {
          mailboxes = publish(mailboxes, next, round++);
          assertSame(arranger, mailboxes, {...view, filter}, `round ${round}: ${view.sortKey} ${view.descending ? 'desc' : 'asc'} "${filter}"`);
        }
      }
    }
  });

  it('follows a filter typed and erased character by character', () => {
    const next = random(3);
    let mailboxes = Array.from({length: 250}, (_, index) => variedRow(index, next));
    const arranger = new RowArranger();
    const sortKey: GridView['sortKey'] = 'status';
    const typed = 'fail.ex';
    const steps = [...Array.from({length: typed.length + 1}, (_, index) => typed.slice(0, index)), ...Array.from({length: typed.length}, (_, index) => typed.slice(0, typed.length - 1 - index))];
    for (const [index, filter] of steps.entries()) {
      assertSame(arranger, mailboxes, {filter, sortKey, descending: false}, `typed "${filter}"`);
      // A snapshot in the middle of typing: the narrowing must start again from all rows.
      if (index === 3) mailboxes = publish(mailboxes, next, index);
    }
  });

  it('keeps ties in CSV order, ascending and descending', () => {
    const mailboxes = ['c', 'a', 'd', 'b'].map((name) => fakeMailbox(`${name}@example.org`, {status: 'Syncing', errorCount: 1}));
    const arranger = new RowArranger();
    for (const sortKey of ['status', 'errors', 'progress', 'rate', 'eta', 'lastSynced'] as const) {
      for (const descending of [false, true]) {
        assert.deepEqual(emailsOf(arranger.arrange(mailboxes, {filter: '', sortKey, descending}).rows), emailsOf(mailboxes), `${sortKey} ${descending}`);
      }
    }
  });

  it('gives the kept arrangement back while neither the snapshot nor the view changed', () => {
    const mailboxes = Array.from({length: 5}, (_, index) => fakeMailbox(`u${index}@example.org`));
    const arranger = new RowArranger();
    const first = arranger.arrange(mailboxes, {filter: 'u', sortKey: 'email', descending: false});
    assert.equal(arranger.arrange(mailboxes, {filter: 'u', sortKey: 'email', descending: false}), first);
    assert.notEqual(arranger.arrange([...mailboxes], {filter: 'u', sortKey: 'email', descending: false}), first);
  });
});
