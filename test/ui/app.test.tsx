// Wiring of the top level: which screen starts, the batch picker's keys, the admin-password
// prompt of a reopened batch, and runUi's refusal without a terminal. The batch itself is the
// fake BatchControl (a stand-in for the engine).

import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {PassThrough} from 'node:stream';
import React from 'react';
import {cleanup} from 'ink-testing-library';
import type {BatchListing} from '../../source/engine/batch-engine.js';
import type {BatchDefinition} from '../../source/engine/batch-model.js';
import type {ResolvedSecrets} from '../../source/engine/credentials/row-credentials.js';
import type {ExposedSecretFile} from '../../source/engine/credentials/secret-source.js';
import {MigrationError} from '../../source/imap/imap-error.js';
import {App} from '../../source/ui/App.js';
import {NO_TTY_MESSAGE, runUi} from '../../source/ui/run-ui.js';
import type {UiServices} from '../../source/ui/ui-services.js';
import {FakeBatchControl, fakeDefinition, fakeMailbox, fakeSnapshot} from '../helpers/fake-batch-control.js';
import {renderUi} from './ui-harness.js';

afterEach(() => cleanup());

interface Calls {
  opened: {name: string; secrets: ResolvedSecrets}[];
  removed: string[];
  secretReads: string[];
}

function services(options: {batches: BatchListing[]; definition?: BatchDefinition; control?: FakeBatchControl; openError?: Error; exposed?: ExposedSecretFile[]}, calls: Calls): UiServices {
  let batches = [...options.batches];
  return {
    listBatches: async () => batches,
    readDefinition: async (_stateDir, name) => options.definition ?? fakeDefinition(name),
    readSecret: async (source, what) => {
      calls.secretReads.push(`${source.from}:${what}`);
      return 'from-file-secret';
    },
    openBatch: async ({name, secrets}) => {
      calls.opened.push({name, secrets});
      if (options.openError) throw options.openError;
      const control = options.control ?? new FakeBatchControl(fakeSnapshot([fakeMailbox('a@example.com')], {name}));
      return options.exposed ? Object.assign(control, {exposedSecretFiles: options.exposed}) : control;
    },
    removeBatch: async (_stateDir, name) => {
      calls.removed.push(name);
      batches = batches.filter((batch) => batch.name !== name);
    },
    createBatch: async () => {},
    testConnection: async () => {
      throw new Error('not used');
    },
    loadMigrationCsv: async () => {
      throw new Error('not used');
    },
    checkLogins: async () => {
      throw new Error('not used');
    },
  };
}

const listing = (name: string, fields: Partial<BatchListing> = {}): BatchListing => ({name, file: `/state/${name}.json`, mailboxes: 3, counts: {Synced: 2, Stopped: 1}, updatedAt: '2026-03-01T10:00:00Z', ...fields});
const newCalls = (): Calls => ({opened: [], removed: [], secretReads: []});

describe('app', () => {
  it('starts with the setup when there is no batch', async () => {
    const ui = renderUi(<App stateDir="/state" services={services({batches: []}, newCalls())} />);
    await ui.waitFor((text) => text.includes('Step 1/6') && text.includes('choose a provider'));
  });

  it('with the batches listed before the first frame, the picker is the first screen and listing waits for nothing', async () => {
    const calls = newCalls();
    let listed = 0;
    const base = services({batches: [listing('spring')]}, calls);
    const counted: UiServices = {...base, listBatches: async (dir) => (listed++, base.listBatches(dir))};
    const ui = renderUi(<App stateDir="/state" services={counted} initialBatches={[listing('spring')]} />);
    assert.match(ui.frame(), /1 batch/, 'the first frame is the picker, not a loading line');
    await ui.press('enter');
    await ui.waitFor((text) => text.includes('Opened batch spring.'));
    assert.equal(listed, 0);
  });

  it('keys typed while a batch opens go to the batch screen once it is up; after an error they are dropped', async () => {
    for (const fails of [false, true]) {
      const calls = newCalls();
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const base = services({batches: [listing('spring')], ...(fails ? {openError: new Error('state file unreadable')} : {})}, calls);
      const ui = renderUi(<App stateDir="/state" services={{...base, openBatch: async (options) => (await gate, base.openBatch(options))}} initialBatches={[listing('spring')]} />, {columns: 100, rows: 60});
      await ui.waitFor((text) => text.includes('1 batch'));
      await ui.press('enter');
      await ui.waitFor((text) => text.includes('Opening batch spring'));
      // On the batch screen ? opens the help; on the error message Enter would dismiss it unread.
      await ui.press(fails ? 'enter' : '?');
      assert.equal(calls.opened.length, 0, 'typed while the batch was still opening');
      release();
      if (!fails) {
        await ui.waitFor((text) => text.includes('mailferry keys'), 'the ? typed while opening opened the help');
        await ui.press('q');
        await ui.waitFor((text) => text.includes('a@example.com') && !text.includes('mailferry keys'));
      } else {
        await ui.waitFor((text) => text.includes('Cannot open batch spring'));
        // Until the message screen's commit and its effects (the replay) have run.
        await ui.flush();
        assert.match(ui.frame(), /Cannot open batch spring/, 'the Enter typed while opening did not dismiss the error');
        await ui.press('enter');
        await ui.waitFor((text) => text.includes('1 batch'), 'an Enter typed now goes back to the picker');
      }
      cleanup();
    }
  });

  it('lists batches; Enter opens the selected one with its persisted state and starts it', async () => {
    const calls = newCalls();
    const control = new FakeBatchControl(fakeSnapshot([fakeMailbox('kim@example.com', {status: 'Stopped'}), fakeMailbox('lee@example.com', {status: 'Synced'})], {name: 'autumn'}));
    const ui = renderUi(<App stateDir="/state" services={services({batches: [listing('spring'), listing('autumn', {runningPid: 4242})], control}, calls)} />);
    const frame = await ui.waitFor((text) => text.includes('2 batches'));
    assert.match(frame, /spring\s+3\s+.*Synced 2\s+Stopped 1/);
    assert.match(frame, /autumn.*running in process 4242/);
    await ui.press('j', 'enter');
    await ui.waitFor((text) => text.includes('batch autumn') && text.includes('kim@example.com'));
    assert.deepEqual(calls.opened, [{name: 'autumn', secrets: {}}]);
    assert.deepEqual(control.commands, [{command: 'start'}]);
    await ui.waitFor((text) => text.includes('Opened batch autumn.'));
  });

  it('says which files with passwords other users can read, the chmod first, when a batch opens', async () => {
    const exposed: ExposedSecretFile[] = [{path: '/srv/m/spring.csv', what: 'migration CSV', mode: 0o644, message: 'The migration CSV /srv/m/spring.csv holds passwords ...'}];
    const ui = renderUi(<App stateDir="/state" services={services({batches: [listing('spring')], exposed}, newCalls())} />);
    await ui.waitFor((text) => text.includes('1 batch'));
    await ui.press('enter');
    await ui.waitFor((text) => text.includes('chmod 600 /srv/m/spring.csv: other users can read these files with passwords.'));
  });

  it('r opens the batch and resumes its stopped and failed mailboxes', async () => {
    const calls = newCalls();
    const control = new FakeBatchControl(fakeSnapshot([fakeMailbox('kim@example.com', {status: 'Stopped'}), fakeMailbox('lee@example.com', {status: 'Failed'})]));
    const ui = renderUi(<App stateDir="/state" services={services({batches: [listing('spring')], control}, calls)} />);
    await ui.waitFor((text) => text.includes('1 batch'));
    await ui.press('r');
    await ui.waitFor((text) => text.includes('resumed 2 stopped or failed mailboxes'));
    assert.deepEqual(control.commands, [{command: 'start'}, {command: 'resume'}]);
  });

  it('D removes a batch after asking; N starts a new setup; q quits', async () => {
    const calls = newCalls();
    const ui = renderUi(<App stateDir="/state" services={services({batches: [listing('spring'), listing('autumn')]}, calls)} />);
    await ui.waitFor((text) => text.includes('2 batches'));
    await ui.press('D');
    await ui.waitFor((text) => text.includes('Remove batch spring? Its progress is forgotten; no mail is touched. y/n'));
    await ui.press('n');
    assert.deepEqual(calls.removed, []);
    await ui.press('D', 'y');
    await ui.waitFor((text) => text.includes('1 batch') && text.includes('Removed batch spring.'));
    assert.deepEqual(calls.removed, ['spring']);
    await ui.press('N');
    await ui.waitFor((text) => text.includes('Step 1/6'));
    await ui.press('esc');
    await ui.waitFor((text) => text.includes('1 batch'), 'leaving the setup goes back to the batches');
    await ui.press('q');
    assert.deepEqual(ui.shell.exits, [0]);
  });

  it('asks for an admin password the batch does not store, reads file secrets itself', async () => {
    const calls = newCalls();
    const definition: BatchDefinition = {
      ...fakeDefinition('spring'),
      sourceCredentials: {kind: 'authzid', adminUser: 'mailadmin', adminSecret: {from: 'file', path: '/etc/mailferry/source-admin'}},
      targetCredentials: {kind: 'login-pattern', pattern: '{email}*admin', adminSecret: {from: 'prompt'}},
    };
    const ui = renderUi(<App stateDir="/state" services={services({batches: [listing('spring')], definition}, calls)} />);
    await ui.waitFor((text) => text.includes('1 batch'));
    await ui.press('enter');
    let frame = await ui.waitFor((text) => text.includes('Batch spring needs the target admin password (login pattern {email}*admin)'));
    assert.deepEqual(calls.secretReads, ['file:source admin password (for mailadmin)']);
    await ui.type('typed-secret');
    frame = await ui.waitFor((text) => text.includes('************'));
    assert.ok(!frame.includes('typed-secret'));
    await ui.press('enter', 'enter');
    await ui.waitFor((text) => text.includes('batch spring'));
    assert.deepEqual(calls.opened, [{name: 'spring', secrets: {sourceAdminPassword: 'from-file-secret', targetAdminPassword: 'typed-secret'}}]);
  });

  it('shows why a batch cannot be opened and goes back to the list', async () => {
    const calls = newCalls();
    const openError = new MigrationError({kind: 'config', message: 'batch "spring" is running in process 4242', hint: 'stop that process first', retryable: false});
    const ui = renderUi(<App stateDir="/state" services={services({batches: [listing('spring')], openError}, calls)} />);
    await ui.waitFor((text) => text.includes('1 batch'));
    await ui.press('enter');
    await ui.waitFor((text) => text.replace(/\s+/g, ' ').includes('Cannot open batch spring: batch "spring" is running in process 4242. stop that process first'));
    await ui.press('enter');
    await ui.waitFor((text) => text.includes('1 batch'));
  });

  it('opens the batch named on the command line directly', async () => {
    const calls = newCalls();
    const ui = renderUi(<App stateDir="/state" batchName="autumn" services={services({batches: [listing('spring')]}, calls)} />);
    await ui.waitFor((text) => text.includes('batch autumn'));
    assert.deepEqual(calls.opened.map((entry) => entry.name), ['autumn']);
  });
});

describe('runUi', () => {
  it('refuses without a terminal and points to the headless commands', async () => {
    const stdin = Object.assign(new PassThrough(), {isTTY: false}) as unknown as NodeJS.ReadStream;
    const stdout = Object.assign(new PassThrough(), {isTTY: false}) as unknown as NodeJS.WriteStream;
    let written = '';
    const stderr = Object.assign(new PassThrough(), {isTTY: false}) as unknown as NodeJS.WriteStream;
    stderr.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const code = await runUi({stateDir: '/nonexistent', stdin, stdout, stderr});
    assert.equal(code, 2);
    assert.equal(written, NO_TTY_MESSAGE);
    assert.match(written, /mailferry batch --help/);
  });
});
