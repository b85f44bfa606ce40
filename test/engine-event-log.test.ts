// The log lines a run leaves, from the engine's events (pure: a stand-in engine, a real file).

import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {logEngineEvents} from '../source/log/engine-event-log.js';
import {createFileLogger} from '../source/log/logger.js';
import {registerSecret} from '../source/log/secret-redaction.js';
import {FakeBatchControl, fakeSnapshot} from './helpers/fake-batch-control.js';
import {makeWorkDir, removeWorkDir} from './helpers/batch-fixture.js';

const EMAIL = 'terrya@contoso.edu';

async function readLines(file: string): Promise<Array<Record<string, unknown>>> {
  return (await readFile(file, 'utf8')).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('engine event log', () => {
  let work: string | undefined;
  after(() => removeWorkDir(work));

  it('creates the file at once, in a directory it makes', async () => {
    work ??= await makeWorkDir('eventlog');
    const file = path.join(work, 'logs', 'deep', 'spring.log');
    createFileLogger(file);
    assert.equal(await readFile(file, 'utf8'), '');
  });

  it('refuses a log file it cannot write, saying which', async () => {
    work ??= await makeWorkDir('eventlog');
    const blocker = path.join(work, 'not-a-directory');
    await writeFile(blocker, '');
    const file = path.join(blocker, 'spring.log');
    assert.throws(() => createFileLogger(file), (error: Error) => error.message.startsWith(`cannot write the log file ${file} (`));
  });

  it('logs passes, skipped and failed messages, throttling, failures and folders, once each, with no secret', async () => {
    work ??= await makeWorkDir('eventlog');
    const file = path.join(work, 'events.log');
    registerSecret('s3cr3t-Pa55');
    const control = new FakeBatchControl(fakeSnapshot([]));
    control.details.set(EMAIL, {
      emailAddress: EMAIL,
      folders: [],
      skipped: [],
      failed: [],
      changed: [],
      errors: [],
      unmigratedFolders: [{source: 'Shared/Old', reason: 'the source refused to open it (server said: NO s3cr3t-Pa55)'}],
      renamedFolders: [{source: 'a/b', target: 'a_b', reason: 'the target has no hierarchy'}],
      droppedKeywords: [],
    });
    const stop = logEngineEvents(control, createFileLogger(file).child({batch: 'spring'}));
    control.emit('status', {emailAddress: EMAIL, from: 'Queued', to: 'Starting'});
    control.emit('status', {emailAddress: EMAIL, from: 'Starting', to: 'Syncing'});
    control.emit('item-skipped', {emailAddress: EMAIL, item: {folder: 'INBOX', uid: 7, size: 40_000_000, subject: 'Holiday video', reason: 'larger than the maximum'}});
    control.emit('item-failed', {emailAddress: EMAIL, item: {folder: 'Sent', uid: 9, size: 1200, reason: 'the target refused it (server said: NO)'}});
    control.emit('throttled', {emailAddress: EMAIL, endpoint: 'source', waitMs: 2000, serverText: 'slow down'});
    control.emit('status', {emailAddress: EMAIL, from: 'Syncing', to: 'Starting'});
    control.emit('pass-finished', {emailAddress: EMAIL, kind: 'initial', copied: 41, flagsUpdated: 0, ms: 1234});
    control.emit('status', {emailAddress: EMAIL, from: 'Syncing', to: 'Synced'});
    control.emit('status', {emailAddress: EMAIL, from: 'Synced', to: 'IncrementalSyncing'});
    control.emit('pass-finished', {emailAddress: EMAIL, kind: 'incremental', copied: 0, flagsUpdated: 2, ms: 20});
    control.emit('status', {emailAddress: EMAIL, from: 'IncrementalSyncing', to: 'Failed', error: {kind: 'auth', message: 'login refused', hint: 'check the password', retryable: false, at: '2026-03-01T00:00:00Z'}});
    stop();
    control.emit('item-skipped', {emailAddress: EMAIL, item: {folder: 'INBOX', uid: 8, size: 1, reason: 'after stop'}});

    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes('s3cr3t-Pa55'), text);
    const lines = await readLines(file);
    const summary = lines.map((line) => `${line['level']} ${line['msg']}${line['kind'] ? ` ${line['kind']}` : ''}`);
    assert.deepEqual(summary, [
      'info pass started initial',
      'info mailbox status',
      'warn message skipped',
      'error message failed',
      'warn server throttled the mailbox',
      'info mailbox status',
      'info pass finished initial',
      'warn folder not migrated',
      'info folder renamed on the target',
      'info mailbox status',
      'info pass started incremental',
      'info pass finished incremental',
      'error mailbox failed auth',
    ]);
    assert.ok(lines.every((line) => line['batch'] === 'spring' && line['mailbox'] === EMAIL));
    assert.deepEqual(
      {folder: lines[2]!['folder'], uid: lines[2]!['uid'], subject: lines[2]!['subject'], reason: lines[2]!['reason']},
      {folder: 'INBOX', uid: 7, subject: 'Holiday video', reason: 'larger than the maximum'},
    );
    assert.equal(lines[7]!['folder'], 'Shared/Old');
    assert.equal(lines.at(-1)!['error'], 'login refused');
  });
});
