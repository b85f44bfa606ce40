// Wiring of the setup panels: preset list, endpoint fields, connection test, users, settings,
// create. The services are scripted stand-ins for the connection test and the engine (the IMAP
// side of the test is covered by the connection test's own tests against Dovecot); the CSV is
// read by the real reader from a temp file.

import {after, afterEach, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import React from 'react';
import {cleanup} from 'ink-testing-library';
import type {CreateBatchOptions} from '../../source/engine/batch-engine.js';
import type {MigrationRow} from '../../source/engine/csv/migration-csv.js';
import {loadMigrationCsv} from '../../source/engine/csv/migration-csv.js';
import type {ResolvedSecrets} from '../../source/engine/credentials/row-credentials.js';
import type {ConnectionTestResult, StepResult} from '../../source/imap/connection-test.js';
import type {EndpointConfig, LoginIdentity} from '../../source/imap/endpoint.js';
import {SetupFlow} from '../../source/ui/panels/SetupFlow.js';
import type {UiServices} from '../../source/ui/ui-services.js';
import {renderUi} from './ui-harness.js';

afterEach(() => cleanup());

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailferry-ui-setup-'));
  await writeFile(join(dir, 'good.csv'), 'EmailAddress,UserName,Password\r\nterry@contoso.edu,terry.adams,Pw-terry-1\r\nann@contoso.edu,ann.beebe,Pw-ann-22\r\nbad@contoso.edu,bad.login,Pw-bad-333\r\n');
  await writeFile(join(dir, 'broken.csv'), 'EmailAddress,UserName,Password\nterry@contoso.edu,terry.adams,Pw-ok-01\nann@contoso.edu,ann.beebe,\n');
});
after(async () => {
  await rm(dir, {recursive: true, force: true});
});

const STEPS: [StepResult['step'], string][] = [
  ['dns', 'DNS lookup'],
  ['tcp', 'TCP connect'],
  ['greeting', 'Server greeting'],
  ['capability', 'Capabilities'],
  ['login', 'Login'],
  ['folders', 'Folder list'],
];

interface Recorder {
  tests: {endpoint: EndpointConfig; identity: LoginIdentity | undefined; role: string}[];
  logins: {row: MigrationRow; secrets: ResolvedSecrets}[];
  created: CreateBatchOptions[];
}

function fakeServices(recorder: Recorder): UiServices {
  return {
    async testConnection(endpoint, identity, options) {
      recorder.tests.push({endpoint, identity, role: options.role});
      const steps: StepResult[] = [];
      for (const [step, label] of STEPS) {
        options.onStep({step, label, status: 'running', ms: 0});
        await new Promise((resolve) => setTimeout(resolve, 2));
        const failed = endpoint.host.endsWith('.invalid') && step === 'dns';
        const result: StepResult = failed
          ? {step, label, status: 'failed', ms: 4, diagnosis: `The name ${endpoint.host} does not resolve`, hint: 'Check the host name for typos.'}
          : {step, label, status: step === 'login' && !identity ? 'skipped' : 'ok', ms: 3, detail: step === 'tcp' ? `${endpoint.host}:${endpoint.port}` : ''};
        options.onStep(result);
        steps.push(result);
        if (failed) return {ok: false, endpoint: {host: endpoint.host, port: endpoint.port, security: endpoint.security}, steps, capabilities: [], failedStep: step};
      }
      const result: ConnectionTestResult = {
        ok: true,
        endpoint: {host: endpoint.host, port: endpoint.port, security: endpoint.security},
        steps,
        capabilities: [
          {name: 'UIDPLUS', present: true, why: 'APPEND returns the new UID'},
          {name: 'QRESYNC', present: false, why: 'quick resync'},
        ],
        folderCount: 7,
      };
      return result;
    },
    loadMigrationCsv,
    async checkLogins(_definition, row, secrets) {
      recorder.logins.push({row, secrets});
      await new Promise((resolve) => setTimeout(resolve, 5));
      const targetOk = !row.emailAddress.startsWith('bad');
      return {emailAddress: row.emailAddress, source: {ok: true, ms: 12}, target: targetOk ? {ok: true, ms: 9} : {ok: false, ms: 30, error: 'login refused: check the admin password'}};
    },
    async createBatch(options) {
      recorder.created.push(options);
    },
    listBatches: async () => [],
    removeBatch: async () => {},
    readDefinition: async () => {
      throw new Error('not used');
    },
    readSecret: async () => 'unused',
    openBatch: async () => {
      throw new Error('not used');
    },
  };
}

describe('setup flow', () => {
  it('goes from presets to a created batch, testing both endpoints and the logins', async () => {
    const recorder: Recorder = {tests: [], logins: [], created: []};
    const created: {name: string; secrets: ResolvedSecrets}[] = [];
    let cancelled = 0;
    const ui = renderUi(
      <SetupFlow
        stateDir={dir}
        services={fakeServices(recorder)}
        prefill={{batchName: 'spring'}}
        existingNames={['autumn']}
        width={100}
        height={29}
        isActive
        onCreated={(name, secrets) => created.push({name, secrets})}
        onCancel={() => cancelled++}
        onInterrupt={() => {}}
      />,
      {columns: 100, rows: 30},
    );

    // 1. Source: presets, then Other with its fields.
    let frame = await ui.waitFor((text) => text.includes('Gmail / Google Workspace'));
    assert.match(frame, /Step 1\/6\s+Source server/);
    assert.match(frame, /app password/, 'the highlighted preset shows its hints');
    await ui.press('down', 'down', 'down', 'enter');
    frame = await ui.waitFor((text) => text.includes('Other IMAP server') && text.includes('Host'));
    await ui.press('up', 'up', 'enter');
    await ui.waitFor((text) => text.includes('Type the server name or address.'), 'an empty host is refused');
    assert.equal(recorder.tests.length, 0);
    await ui.type('127.0.0.1');
    await ui.press('tab', 'tab', 'right', 'right');
    frame = await ui.waitFor((text) => /Security\s+tls\s+starttls\s+\[none\]/.test(text));
    assert.match(frame, /Port\s+143/, 'the default port follows the security mode');
    await ui.press('tab', 'tab', 'tab', 'tab');
    frame = await ui.waitFor((text) => /> Test login user/.test(text));
    await ui.type('terry.adams');
    await ui.press('tab');
    await ui.type('Pw-terry-1');
    frame = await ui.waitFor((text) => text.includes('**********'));
    assert.ok(!frame.includes('Pw-terry-1'), 'passwords are masked');
    await ui.press('down', 'down', 'enter');

    // 2. Source test, live steps, capabilities.
    frame = await ui.waitFor((text) => text.includes('The server answers and lists 7 folders'));
    assert.match(frame, /Step 2\/6\s+Testing the source: 127\.0\.0\.1:143 none as terry\.adams/);
    assert.match(frame, /TCP connect\s+3 ms\s+127\.0\.0\.1:143/);
    assert.match(frame, /UIDPLUS/);
    assert.match(frame, /missing: quick resync/);
    assert.deepEqual(recorder.tests[0]?.identity, {user: 'terry.adams', password: 'Pw-terry-1'});
    assert.equal(recorder.tests[0]?.role, 'source');
    await ui.press('t');
    await ui.waitFor(() => recorder.tests.length === 2, 't tests again');
    await ui.waitFor((text) => text.includes('The server answers'));
    await ui.press('enter');

    // 3. Target with a login pattern and a bad host first.
    await ui.waitFor((text) => text.includes('Target server') && text.includes('Gmail'));
    await ui.press('4');
    await ui.waitFor((text) => text.includes('Target server') && text.includes('Host'));
    await ui.type('mail.nonexistent.invalid');
    for (let index = 0; index < 5; index++) await ui.press('tab');
    frame = await ui.waitFor((text) => /> Log in with/.test(text));
    await ui.press('right', 'right');
    frame = await ui.waitFor((text) => text.includes('Login pattern'));
    assert.match(frame, /\[login pattern\]/);
    await ui.press('tab', 'tab');
    await ui.type('master-secret');
    await ui.press('down', 'down', 'down', 'enter');

    // 4. Target test fails with a diagnosis; e edits, the fixed host passes.
    frame = await ui.waitFor((text) => text.includes('does not resolve'));
    assert.match(frame, /Check the host name for typos\./);
    assert.match(frame, /The test failed/);
    assert.equal(recorder.tests.at(-1)?.identity, undefined, 'no test mailbox: the login step is not tried');
    await ui.press('e');
    await ui.waitFor((text) => text.includes('Target server') && text.includes('mail.nonexistent.invalid'));
    frame = await ui.waitFor((text) => /> Host/.test(text));
    for (let index = 0; index < 'mail.nonexistent.invalid'.length; index++) await ui.press('backspace');
    await ui.type('127.0.0.1');
    await ui.press('up', 'up', 'enter');
    await ui.waitFor((text) => text.includes('Step 4/6') && text.includes('The server answers'));
    await ui.press('enter');

    // 5. Users: a broken CSV first, then a good one; mark two and test their logins.
    frame = await ui.waitFor((text) => text.includes('Step 5/6') && text.includes('CSV file:'));
    await ui.type(join(dir, 'broken.csv'));
    await ui.press('enter');
    frame = await ui.waitFor((text) => text.includes('1 error'));
    assert.match(frame, /line 3 Password: /, 'problems are listed with their line numbers');
    await ui.press('enter');
    await ui.waitFor((text) => text.includes('The CSV has errors'), 'an unusable CSV does not continue');
    await ui.press('p');
    for (let index = 0; index < 'broken.csv'.length; index++) await ui.press('backspace');
    await ui.type('good.csv');
    await ui.press('enter');
    frame = await ui.waitFor((text) => text.includes('3 users, 0 errors'));
    assert.match(frame, /terry@contoso\.edu\s+terry\.adams/);
    await ui.press('/');
    await ui.type('ann');
    await ui.press('enter');
    frame = await ui.waitFor((text) => text.includes('filter "ann": 1 of 3'));
    assert.ok(!frame.includes('terry@contoso.edu'));
    await ui.press('/', 'enter');
    await ui.waitFor((text) => text.includes('terry@contoso.edu'));
    await ui.press('space', 'j', 'space');
    frame = await ui.waitFor((text) => text.includes('2 marked'));
    await ui.press('t');
    frame = await ui.waitFor((text) => text.includes('Tested 2 logins: 1 failed'), 'login results per row');
    assert.match(frame, /terry@contoso\.edu\s+terry\.adams\s+✓ 12ms\s+✓ 9ms/);
    assert.deepEqual(recorder.logins.map((entry) => entry.row.emailAddress), ['terry@contoso.edu', 'bad@contoso.edu']);
    assert.deepEqual(recorder.logins[0]?.secrets, {targetAdminPassword: 'master-secret'}, 'typed admin passwords reach the login test');
    await ui.press('enter');

    // 6. Settings, then create.
    frame = await ui.waitFor((text) => text.includes('Step 6/6') && text.includes('Batch settings (3 users'));
    assert.match(frame, /Batch name\s+spring/);
    assert.match(frame, /Incremental sync interval\s+24h/);
    await ui.press('tab');
    for (let index = 0; index < 2; index++) await ui.press('backspace');
    await ui.type('0');
    await ui.press('up', 'up', 'up', 'enter');
    await ui.waitFor((text) => text.includes('A whole number of at least 1.'), 'zero concurrent migrations is refused');
    assert.equal(recorder.created.length, 0);
    // The field shows its focus marker once it takes keys (FormPanel), a frame after the error.
    await ui.waitFor((text) => /> Max concurrent migrations\s+0/.test(text), 'the focus moved to the field with the problem');
    await ui.press('backspace');
    await ui.type('5');
    await ui.press('up', 'up', 'up', 'enter');
    await ui.waitFor(() => created.length === 1, 'the batch is created');
    const definition = recorder.created[0]!.definition;
    assert.equal(definition.name, 'spring');
    assert.equal(definition.csvPath, join(dir, 'good.csv'));
    assert.deepEqual([definition.source.host, definition.source.port, definition.source.security], ['127.0.0.1', 143, 'none']);
    assert.deepEqual(definition.sourceCredentials, {kind: 'csv'});
    assert.deepEqual(definition.targetCredentials, {kind: 'login-pattern', pattern: '{email}*admin', adminSecret: {from: 'prompt'}});
    assert.equal(definition.settings.maxConcurrentMigrations, 5);
    assert.equal(recorder.created[0]!.rows.length, 3);
    assert.ok(!JSON.stringify(definition).includes('master-secret'), 'no secret in the batch definition');
    assert.deepEqual(created, [{name: 'spring', secrets: {targetAdminPassword: 'master-secret'}}]);
    assert.equal(cancelled, 0);
  });

  it('A adds a user by hand to the CSV and loads it again', async () => {
    const {UsersPanel} = await import('../../source/ui/panels/UsersPanel.js');
    const csvPath = join(dir, 'by-hand.csv');
    const definition = {
      source: {} as never,
      target: {} as never,
      sourceCredentials: {kind: 'csv' as const},
      targetCredentials: {kind: 'authzid' as const, adminUser: 'admin', adminSecret: {from: 'prompt' as const}},
    };
    function Harness(): React.JSX.Element {
      const [loaded, setLoaded] = React.useState<import('../../source/ui/panels/UsersPanel.js').LoadedCsv | undefined>();
      return (
        <UsersPanel
          services={fakeServices({tests: [], logins: [], created: []})}
          definition={definition}
          secrets={{}}
          loaded={loaded}
          initialPath={csvPath}
          step="Step 5/6"
          width={90}
          height={23}
          isActive
          onLoaded={setLoaded}
          onContinue={() => {}}
          onBack={() => {}}
          onHelp={() => {}}
          onInterrupt={() => {}}
        />
      );
    }
    const ui = renderUi(<Harness />, {columns: 90});
    await ui.waitFor((text) => text.includes('CSV file:') && text.includes('by-hand.csv'));
    await ui.press('esc');
    await ui.press('A');
    await ui.waitFor((text) => text.includes('Add a user by hand'));
    assert.ok(!ui.frame().includes('TargetUserName'), 'no target columns when the target logs in as an admin');
    await ui.type('kim@contoso.edu');
    await ui.press('tab');
    await ui.type('kim.lee');
    await ui.press('tab');
    await ui.type('Pw-kim-1234');
    await ui.press('tab', 'enter');
    let frame = await ui.waitFor((text) => text.includes('1 user, 0 errors'), 'the new CSV loaded');
    assert.match(frame, /kim@contoso\.edu\s+kim\.lee/);
    const loaded = await loadMigrationCsv(csvPath);
    assert.deepEqual(loaded.rows.map((row) => [row.emailAddress, row.userName, row.password]), [['kim@contoso.edu', 'kim.lee', 'Pw-kim-1234']]);
    await ui.press('A');
    await ui.waitFor((text) => text.includes('Add a user by hand'));
    await ui.type('not-an-address');
    await ui.press('tab', 'tab', 'tab', 'enter');
    frame = await ui.waitFor((text) => text.includes('Not an email address') || text.includes('need attention'), 'problems in the form');
    assert.equal((await loadMigrationCsv(csvPath)).rows.length, 1, 'nothing written while the form has problems');
  });

  it('on the first preset list q leaves the setup; Esc never quits, it only goes back to existing batches', async () => {
    let cancelled = 0;
    const setup = (existingNames: string[]) =>
      renderUi(
        <SetupFlow stateDir={dir} services={fakeServices({tests: [], logins: [], created: []})} existingNames={existingNames} width={80} height={23} isActive onCreated={() => {}} onCancel={() => cancelled++} onInterrupt={() => {}} />,
      );
    const first = setup([]);
    await first.waitFor((text) => text.includes('choose a provider'));
    await first.press('esc');
    assert.equal(cancelled, 0, 'Esc does not leave when there is no batch list to go back to');
    await first.press('q');
    assert.equal(cancelled, 1);
    first.unmount();
    const second = setup(['autumn']);
    await second.waitFor((text) => text.includes('choose a provider'));
    await second.press('esc');
    assert.equal(cancelled, 2, 'Esc goes back to the batch list');
  });

  it('draws only ASCII in ASCII mode, presets and fields included', async () => {
    const ui = renderUi(
      <SetupFlow stateDir={dir} services={fakeServices({tests: [], logins: [], created: []})} existingNames={[]} width={80} height={23} isActive onCreated={() => {}} onCancel={() => {}} onInterrupt={() => {}} />,
      {ascii: true},
    );
    let frame = await ui.waitFor((text) => text.includes('choose a provider'));
    assert.deepEqual(frame.match(/[^\x20-\x7e\n]/g), null, 'the preset list is ASCII');
    assert.match(frame, /^> Gmail/m);
    await ui.press('4');
    frame = await ui.waitFor((text) => text.includes('Host'));
    await ui.press('up', 'up', 'enter');
    frame = await ui.waitFor((text) => text.includes('Type the server name'));
    assert.deepEqual(frame.match(/[^\x20-\x7e\n]/g), null, 'the form is ASCII');
  });

  it('starts on the fields when the endpoints are prefilled, fitting 80x24', async () => {
    const ui = renderUi(
      <SetupFlow
        stateDir={dir}
        services={fakeServices({tests: [], logins: [], created: []})}
        prefill={{source: {host: '127.0.0.1', port: '10143', security: 'none'}, target: {host: '127.0.0.1', port: '10144', security: 'none', credentials: 'login-pattern', loginPattern: '{mailbox}*admin'}}}
        existingNames={[]}
        width={80}
        height={23}
        isActive
        onCreated={() => {}}
        onCancel={() => {}}
        onInterrupt={() => {}}
      />,
    );
    const frame = await ui.waitFor((text) => text.includes('Host') && text.includes('127.0.0.1'));
    assert.match(frame, /Port\s+10143/);
    const lines = frame.split('\n');
    assert.equal(lines.length, 23);
    for (const line of lines) assert.ok(Array.from(line).length <= 80, `too wide: ${line}`);
  });
});
