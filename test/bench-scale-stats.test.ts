// The pure pieces of the scale bench scenario (bench/scale/): percentiles, the state-write stats
// lines, the scheduler's gaps from the batch log, the UI bench's JSON line, the results section,
// and the exact per-folder Message-ID check that decides "lost / duplicated" (it must fail on a
// missing and on a doubled message).

import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {copyFileSync, mkdtempSync, readdirSync, rmSync, unlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {checkMailbox, isLarge, largeCount, planMailbox, readMaildir, seedMailbox} from '../bench/scale/scale-mailboxes.js';
import {median, parseStateWrites, parseUiFrames, passEvents, percentile, replaceSection, schedulerGaps, summariseWrites} from '../bench/scale/scale-stats.js';

const work = mkdtempSync(join(tmpdir(), 'mailferry-bench-scale-test-'));
after(() => rmSync(work, {recursive: true, force: true}));

describe('scale bench statistics', () => {
  it('takes nearest-rank percentiles and medians', () => {
    const values = Array.from({length: 100}, (_, i) => 100 - i);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile(values, 100), 100);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 99)));
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
  });

  it('parses MAILFERRY_STATE_STATS lines, counting a torn last line instead of throwing', () => {
    const text = [
      '{"at":"2026-12-04T03:00:00.000Z","ms":4.5,"bytes":1000,"files":1,"layout":"single"}',
      '{"at":1796353201000,"ms":60,"bytes":3000,"files":3,"layout":"sharded"}',
      '{"at":"2026-12-04T03:00:05.000Z","ms":"x","bytes":1}',
      '{"at":"2026-12-04T03:0',
      '',
    ].join('\n');
    const {writes, malformed} = parseStateWrites(text);
    assert.equal(malformed, 2);
    assert.deepEqual(writes.map((w) => [w.at, w.ms, w.bytes, w.files, w.layout]), [
      [Date.parse('2026-12-04T03:00:00.000Z'), 4.5, 1000, 1, 'single'],
      [1796353201000, 60, 3000, 3, 'sharded'],
    ]);
  });

  it('summarises only the writes inside the copy windows, bytes over the windows\' length', () => {
    const w = (at: number, ms: number, bytes: number) => ({at, ms, bytes, files: 1, layout: 'single'});
    const writes = [w(500, 100, 1e6), w(1000, 10, 1e6), w(2000, 20, 1e6), w(5000, 999, 1e6), w(10_000, 30, 2e6)];
    const summary = summariseWrites(writes, [[1000, 3000], [9000, 11_000]]);
    assert.equal(summary.count, 3);
    assert.equal(summary.medianMs, 20);
    assert.equal(summary.p99Ms, 30);
    assert.equal(summary.bytes, 4e6);
    assert.equal(summary.bytesPerSecond, 1e6);
  });

  it('reads pass starts and ends from the batch log and measures end -> next start while slots are freed', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 11, 4) + s).toISOString();
    const log = [
      {t: at(0), msg: 'pass started', mailbox: 'a', kind: 'initial'},
      {t: at(1), msg: 'pass started', mailbox: 'b', kind: 'initial'},
      {t: at(2), msg: 'pass started', mailbox: 'x', kind: 'incremental'},
      {t: at(100), msg: 'mailbox status', mailbox: 'a', from: 'Syncing', to: 'Synced'},
      {t: at(103), msg: 'pass started', mailbox: 'c', kind: 'initial'},
      {t: at(200), msg: 'mailbox failed', mailbox: 'b', from: 'Syncing'},
      {t: at(210), msg: 'pass started', mailbox: 'd', kind: 'initial'},
      {t: at(300), msg: 'mailbox status', mailbox: 'c', from: 'Syncing', to: 'Synced'},
      {t: at(310), msg: 'mailbox status', mailbox: 'd', from: 'Syncing', to: 'Synced'},
    ].map((line) => JSON.stringify(line)).join('\n') + '\nnot json\n';
    const events = passEvents(log);
    assert.deepEqual(events.map((e) => `${e.kind}:${e.mailbox}`), ['start:a', 'start:b', 'end:a', 'start:c', 'end:b', 'start:d', 'end:c', 'end:d']);
    // The initial fill (a, b) and the ends no start follows (c, d: queue empty) count for nothing.
    assert.deepEqual(schedulerGaps(events), [3, 10]);
  });

  it('takes the UI bench\'s last JSON summary line, and says why when there is none', () => {
    const line = {mailboxes: 10000, scenarios: {updates: {medianMs: 5, p99Ms: 9}, filter: {medianMs: 6, p99Ms: 12}, broken: {medianMs: 'x'}}};
    const parsed = parseUiFrames(`frame 1 2 ms\n{"progress":1}\n${JSON.stringify(line)}\n`);
    assert.deepEqual(parsed, {mailboxes: 10000, scenarios: {updates: {medianMs: 5, p99Ms: 9}, filter: {medianMs: 6, p99Ms: 12}}});
    assert.ok('notMeasured' in parseUiFrames('just text\n'));
  });

  it('replaces only its own section of the results file, or appends it', () => {
    const text = '# title\n\nintro\n\n## --scale 10000\n\nold big\n\n## --scale 1000\n\nold small\n';
    const replaced = replaceSection(text, '## --scale 1000', '## --scale 1000\n\nnew small\n');
    assert.equal(replaced, '# title\n\nintro\n\n## --scale 10000\n\nold big\n\n## --scale 1000\n\nnew small\n');
    const middle = replaceSection(text, '## --scale 10000', '## --scale 10000\n\nnew big\n');
    assert.equal(middle, '# title\n\nintro\n\n## --scale 10000\n\nnew big\n\n## --scale 1000\n\nold small\n');
    assert.equal(replaceSection('# title\n', '## --scale 5', '## --scale 5\n\nx\n'), '# title\n\n## --scale 5\n\nx\n');
  });
});

describe('scale bench mailboxes and their exact check', () => {
  it('spreads the configured number of large mailboxes over the batch', () => {
    for (const total of [3, 60, 1000, 10_000]) {
      const large = Array.from({length: total}, (_, i) => i).filter((i) => isLarge(i, total));
      assert.equal(large.length, largeCount(total), `${total} mailboxes`);
    }
    assert.equal(largeCount(10_000), 5);
  });

  it('finds a seeded Maildir complete, and counts a lost, a doubled and a misplaced message', () => {
    const planned = planMailbox(2, 60);
    assert.ok(planned.folders.length === 3 && !planned.large);
    const root = join(work, 'user', 'Maildir');
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const seeded = seedMailbox(root, planned, uid, gid);
    assert.equal(seeded.messages, planned.folders.reduce((n, f) => n + f.messages.length, 0));
    assert.deepEqual(checkMailbox(planned, readMaildir(root)), {lost: 0, duplicated: 0, unexpected: 0, problems: []});

    const inboxCur = join(root, 'cur');
    const sentCur = join(root, 'Sent', 'cur');
    const [first] = readdirSync(inboxCur);
    copyFileSync(join(inboxCur, first!), join(inboxCur, `${first}-copy`));
    const [sent] = readdirSync(sentCur);
    unlinkSync(join(sentCur, sent!));
    copyFileSync(join(inboxCur, first!), join(root, 'Archive', 'cur', 'stray'));
    const check = checkMailbox(planned, readMaildir(root));
    assert.equal(check.lost, 1);
    assert.equal(check.duplicated, 1);
    assert.equal(check.unexpected, 1);
    assert.equal(check.problems.length, 3);
  });
});
