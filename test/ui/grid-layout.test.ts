import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {loadMigrationCsv} from '../../source/engine/csv/migration-csv.js';
import {appendUser, csvField, csvRecord} from '../../source/ui/csv-append.js';
import {fixIncrementalFrame} from '../../source/ui/frame-fix-stream.js';
import {ASCII_GLYPHS, UNICODE_GLYPHS} from '../../source/ui/glyphs.js';
import {cellText, gridColumns, headerText, type Column} from '../../source/ui/view-state/grid-columns.js';
import {fakeMailbox} from '../helpers/fake-batch-control.js';

function rowWidth(columns: readonly Column[]): number {
  return columns.reduce((total, column) => total + column.width, 0) + Math.max(0, columns.length - 2);
}

describe('grid columns', () => {
  it('fill the terminal width exactly, from 60 to 250 columns', () => {
    for (let width = 60; width <= 250; width += 1) assert.equal(rowWidth(gridColumns(width)), width, `width ${width}`);
  });

  it('show the essentials at 80 columns and add more as the terminal grows', () => {
    const ids = (width: number) => gridColumns(width).map((column) => column.id);
    assert.deepEqual(ids(80), ['mark', 'email', 'status', 'folder', 'items', 'progress', 'eta']);
    assert.ok(ids(100).includes('rate'));
    assert.ok(ids(120).includes('bytes'));
    const wide = ids(200);
    for (const id of ['rate', 'bytes', 'lastSynced', 'byteRate', 'error'] as const) assert.ok(wide.includes(id), `200 columns show ${id}`);
  });

  it('cuts every cell to its column width, in both glyph sets', () => {
    const mailbox = fakeMailbox('a-very-long-mailbox-name-for-testing@subdomain.example.com', {
      status: 'IncrementalSyncing',
      currentFolder: 'Archive/2019/Projects/Really long folder name',
      itemsDone: 123_456,
      itemsTotal: 234_567,
      bytesDone: 5 * 1024 ** 3,
      bytesTotal: 9 * 1024 ** 3,
      messagesPerSecond: 1234.5,
      bytesPerSecond: 12 * 1024 * 1024,
      etaSeconds: 90_000,
      lastSyncedAt: '2026-03-01T10:00:00Z',
      lastError: {kind: 'quota', message: 'Quota exceeded\r\n on target', hint: 'raise the quota', retryable: false, at: '2026-03-01T11:00:00Z'},
      retrying: {attempt: 3, nextAt: '2026-03-01T12:01:00Z'},
    });
    for (const glyphs of [UNICODE_GLYPHS, ASCII_GLYPHS]) {
      for (const width of [80, 132, 220]) {
        for (const column of gridColumns(width)) {
          const text = cellText(column, mailbox, {glyphs, now: new Date('2026-03-01T12:00:00Z'), selected: true, marked: true});
          assert.equal(Array.from(text).length, column.width, `${column.id} at ${width}: "${text}"`);
          assert.ok(!/[\r\n]/.test(text));
          assert.equal(Array.from(headerText(column, glyphs.ellipsis)).length, column.width);
        }
      }
    }
  });

  it('marks the selected and the marked row without colour', () => {
    const mark = gridColumns(80)[0]!;
    const now = new Date();
    const row = fakeMailbox('a@b.cd');
    assert.equal(cellText(mark, row, {glyphs: ASCII_GLYPHS, now, selected: true, marked: true}), '>*');
    assert.equal(cellText(mark, row, {glyphs: ASCII_GLYPHS, now, selected: false, marked: false}), '  ');
  });
});

describe('incremental frame fix', () => {
  it('adds the missing row to the first cursor-up of a diff frame only', () => {
    assert.equal(fixIncrementalFrame('\u001B[22A\u001B[E\u001B[E\u001B[1Gcount 1\u001B[K\n'), '\u001B[23A\u001B[E\u001B[E\u001B[1Gcount 1\u001B[K\n');
    assert.equal(fixIncrementalFrame('\u001B[4A\u001B[1Gline\u001B[K\n'), '\u001B[5A\u001B[1Gline\u001B[K\n');
    const untouched = ['line1\nline2\n', '\u001B[2K\u001B[1A\u001B[2K\u001B[G', '\u001B[?2026h', '\u001B[2J\u001B[3J\u001B[Hframe', '\u001B[3Atext'];
    for (const chunk of untouched) assert.equal(fixIncrementalFrame(chunk), chunk);
  });
});

describe('adding a user to the CSV by hand', () => {
  it('quotes what needs quoting', () => {
    assert.equal(csvField('plain', ','), 'plain');
    assert.equal(csvField('a,b', ','), '"a,b"');
    assert.equal(csvField('a;b', ','), 'a;b');
    assert.equal(csvField('say "hi"', ';'), '"say ""hi"""');
    assert.equal(csvField(' padded', ','), '" padded"');
    assert.equal(csvRecord({emailAddress: 'e@x.org', userName: 'u', password: 'p,w'}, ['UserName', 'EmailAddress', 'Password', 'UserRoot'], ';'), 'u;e@x.org;p,w;');
  });

  it('creates a private file with a header, then appends in the file own column order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailferry-ui-csv-'));
    try {
      const path = join(dir, 'users.csv');
      await appendUser(path, {emailAddress: 'terry@contoso.edu', userName: 'terry.adams', password: 'p@ss, "word"'}, undefined);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      let loaded = await loadMigrationCsv(path);
      assert.equal(loaded.usable, true);
      assert.deepEqual(loaded.rows.map((row) => [row.emailAddress, row.userName, row.password]), [['terry@contoso.edu', 'terry.adams', 'p@ss, "word"']]);

      const other = join(dir, 'semicolon.csv');
      await writeFile(other, 'UserName;EmailAddress;Password', 'utf8');
      const existing = await loadMigrationCsv(other);
      await appendUser(other, {emailAddress: 'kim@contoso.edu', userName: 'kim', password: 'pw;1'}, {columns: existing.columns, delimiter: existing.delimiter});
      assert.match(await readFile(other, 'utf8'), /^UserName;EmailAddress;Password\r\nkim;kim@contoso.edu;"pw;1"\r\n$/);
      loaded = await loadMigrationCsv(other);
      assert.deepEqual(loaded.rows.map((row) => [row.emailAddress, row.password]), [['kim@contoso.edu', 'pw;1']]);
      await assert.rejects(appendUser(path, {emailAddress: 'x@y.zz', userName: 'x', password: 'y'}, undefined), /EEXIST/);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });
});
