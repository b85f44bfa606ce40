// The "changed in transit" list (copied, but not byte for byte): older state files without it
// load, and the report and the detail view list its items with their reasons.

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {DEFAULT_SETTINGS} from '../source/engine/batch-model.js';
import {makeEndpoint} from '../source/imap/endpoint.js';
import {buildReport} from '../source/headless/batch-report.js';
import {newBatchState, upgradeState} from '../source/store/state-schema.js';
import {detailDocument} from '../source/ui/view-state/detail-lines.js';
import {ASCII_GLYPHS} from '../source/ui/glyphs.js';

function state() {
  return newBatchState({
    name: 'c',
    createdAt: '2025-01-01T00:00:00.000Z',
    csvPath: '/srv/users.csv',
    source: makeEndpoint({host: '127.0.0.1', port: 1143, security: 'none'}),
    target: makeEndpoint({host: '127.0.0.1', port: 2143, security: 'none'}),
    sourceCredentials: {kind: 'csv'},
    targetCredentials: {kind: 'login-pattern', pattern: '{email}*admin', adminSecret: {from: 'env', name: 'PW'}},
    settings: {...DEFAULT_SETTINGS},
  }, [{emailAddress: 'a@example.test', userName: 'a'}]);
}

const item = {folder: 'INBOX', uid: 7, size: 120, subject: 'binary part', reason: 'its NUL bytes arrived as 0x80: only BINARY (RFC 3516) carries NUL, and the target does not offer it'};

test('a state file from before the list loads with an empty one', () => {
  const raw = JSON.parse(JSON.stringify(state())) as {mailboxes: Record<string, Record<string, unknown>>};
  const mailbox = raw.mailboxes['a@example.test']!;
  delete mailbox['changed'];
  delete mailbox['changedOverflow'];
  const upgraded = upgradeState(raw, 'c.json');
  assert.deepEqual(upgraded.mailboxes['a@example.test']!.changed, []);
  assert.equal(upgraded.mailboxes['a@example.test']!.changedOverflow, 0);
});

test('the report lists changed items, and counts those past the limit', () => {
  const batch = state();
  const mailbox = batch.mailboxes['a@example.test']!;
  mailbox.changed.push(item);
  mailbox.changedOverflow = 3;
  const report = buildReport(batch);
  assert.deepEqual(report.items.map((row) => [row.outcome, row.uid, row.reason]), [['changed', 7, item.reason]]);
  assert.equal(report.unlistedItems, 3);
});

test('the detail view shows the section only when there is something in it', () => {
  const detail = {emailAddress: 'a@example.test', folders: [], skipped: [], failed: [], changed: [item], errors: [], unmigratedFolders: [], renamedFolders: [], droppedKeywords: []};
  const options = {width: 200, glyphs: ASCII_GLYPHS, now: new Date()};
  const text = detailDocument(undefined, detail, options).lines.map((line) => line.text).join('\n');
  assert.match(text, /Copied but changed in transit \(1\)/);
  assert.match(text, /binary part/);
  assert.match(text, /NUL bytes arrived as 0x80/);
  const none = detailDocument(undefined, {...detail, changed: []}, options).lines.map((line) => line.text).join('\n');
  assert.doesNotMatch(none, /changed in transit/);
});
