// The grid's "add users" (A: a CSV by path, or one user typed by hand and appended to a CSV) and
// "remove from batch" (D, asks first). The fake control validates real CSV files with the
// engine's own planAddition, so what the screen shows for a bad file is what the engine decides.

import {after, afterEach, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import {cleanup} from 'ink-testing-library';
import {planAddition, type AdditionPlan} from '../../source/engine/batch-membership.js';
import {loadMigrationCsv} from '../../source/engine/csv/migration-csv.js';
import type {BatchState} from '../../source/store/state-schema.js';
import {BatchScreen} from '../../source/ui/panels/BatchScreen.js';
import {FakeBatchControl, fakeDefinition, fakeMailbox, fakeSnapshot} from '../helpers/fake-batch-control.js';
import {renderUi} from './ui-harness.js';

afterEach(() => cleanup());

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-ui-add-'));
});
after(async () => {
  await rm(dir, {recursive: true, force: true});
});

/** A fake batch whose add/remove change its snapshot the way the engine's do. */
class MembershipControl extends FakeBatchControl {
  readonly removed: string[][] = [];

  async addUsersFromCsv(csvPath: string): Promise<AdditionPlan> {
    const snapshot = this.getSnapshot();
    const state = {batch: this.definition, mailboxes: Object.fromEntries(snapshot.mailboxes.map((m) => [m.emailAddress.toLowerCase(), {}]))} as unknown as BatchState;
    const plan = planAddition(state, csvPath, await loadMigrationCsv(csvPath));
    const mailboxes = [...snapshot.mailboxes, ...plan.toAdd.map((row) => fakeMailbox(row.emailAddress, {status: 'Queued'}))];
    this.publish(fakeSnapshot(mailboxes, {name: snapshot.name}));
    return plan;
  }

  async removeMailboxes(emailAddresses: readonly string[]): Promise<string[]> {
    this.removed.push([...emailAddresses]);
    const gone = new Set(emailAddresses.map((email) => email.toLowerCase()));
    const snapshot = this.getSnapshot();
    this.publish(fakeSnapshot(snapshot.mailboxes.filter((m) => !gone.has(m.emailAddress.toLowerCase())), {name: snapshot.name}));
    return [...gone];
  }
}

async function batchWithCsv(): Promise<{control: MembershipControl; csv: string}> {
  const csv = path.join(dir, `own-${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(csv, 'EmailAddress,UserName,Password,TargetUserName,TargetPassword\r\nann@example.com,ann,pw-ann,ann@example.com,tpw-ann\r\n', {mode: 0o600});
  const control = new MembershipControl(
    fakeSnapshot([fakeMailbox('ann@example.com', {status: 'Synced'}), fakeMailbox('ben@example.com', {status: 'Syncing'})]),
    {...fakeDefinition(), csvPath: csv},
  );
  return {control, csv};
}

describe('adding users from the grid and removing mailboxes', () => {
  it('A loads a CSV by path: new rows appear Queued, rows already in the batch are left alone', async () => {
    const {control} = await batchWithCsv();
    const more = path.join(dir, 'more.csv');
    await writeFile(more, 'EmailAddress,UserName,Password,TargetUserName,TargetPassword\nann@example.com,ann,pw-ann,ann@example.com,t1\ncid@example.com,cid,pw-cid,cid@example.com,t2\n', {mode: 0o600});
    const ui = renderUi(<BatchScreen control={control} />, {columns: 100, rows: 30});
    await ui.waitFor((text) => text.includes('ben@example.com'));
    await ui.press('A');
    await ui.waitFor((text) => text.includes('Add users to batch spring: from a CSV'));
    await ui.type(more);
    await ui.press('enter', 'enter');
    const frame = await ui.waitFor((text) => text.includes('cid@example.com'), 'the added user in the grid');
    assert.match(frame, /cid@example\.com\s+Queued/);
    assert.match(frame, /Added 1 user to the batch as Queued; 1 already in the batch, left alone\./);
  });

  it('a CSV with errors adds nothing and shows its problems with line numbers', async () => {
    const {control} = await batchWithCsv();
    const bad = path.join(dir, 'bad.csv');
    await writeFile(bad, 'EmailAddress,UserName,Password,TargetUserName,TargetPassword\ndee@example.com,dee,pw,dee@example.com,t\nnot-an-address,eve,pw-eve,x@example.com,t\n', {mode: 0o600});
    const ui = renderUi(<BatchScreen control={control} />, {columns: 120, rows: 30});
    await ui.waitFor((text) => text.includes('ben@example.com'));
    await ui.press('A');
    await ui.type(bad);
    await ui.press('enter', 'enter');
    const frame = await ui.waitFor((text) => text.includes('nothing was added'), 'the refusal');
    assert.match(frame, /1 error in .*bad\.csv: nothing was added/);
    assert.match(frame, /line 3, EmailAddress: /);
    assert.equal(control.getSnapshot().mailboxes.length, 2, 'no mailbox added');
    assert.ok(!frame.includes('pw-eve'), 'no password on screen');
  });

  it('A, then "type one user by hand": the user is appended to the batch CSV and joins the grid as Queued', async () => {
    const {control, csv} = await batchWithCsv();
    const ui = renderUi(<BatchScreen control={control} />, {columns: 100, rows: 30});
    await ui.waitFor((text) => text.includes('ben@example.com'));
    await ui.press('A', 'tab', 'tab', 'enter');
    await ui.waitFor((text) => text.includes('one user by hand'));
    await ui.type('fay@example.com');
    await ui.press('tab');
    await ui.type('fay');
    await ui.press('tab');
    await ui.type('Pw-fay-secret');
    await ui.press('tab');
    await ui.type('fay@example.com');
    await ui.press('tab');
    await ui.type('Tpw-fay-secret');
    // The CSV field holds the batch's own CSV already; on to the "Add to the batch" button.
    await ui.press('tab', 'tab', 'enter');
    const frame = await ui.waitFor((text) => text.includes('fay@example.com') && text.includes('Added 1 user'), 'the typed user in the grid');
    assert.match(frame, /fay@example\.com\s+Queued/);
    assert.ok(!frame.includes('Pw-fay-secret'), 'the password is not on screen');
    const content = await readFile(csv, 'utf8');
    assert.ok(content.endsWith('fay@example.com,fay,Pw-fay-secret,fay@example.com,Tpw-fay-secret\r\n'), content);
  });

  it('a user typed by hand who is already in the batch is refused and nothing is written', async () => {
    const {control, csv} = await batchWithCsv();
    const before = await readFile(csv, 'utf8');
    const ui = renderUi(<BatchScreen control={control} />, {columns: 100, rows: 30});
    await ui.waitFor((text) => text.includes('ben@example.com'));
    await ui.press('A', 'tab', 'tab', 'enter');
    await ui.waitFor((text) => text.includes('one user by hand'));
    await ui.type('ANN@example.com');
    await ui.press('tab');
    await ui.type('ann');
    await ui.press('tab');
    await ui.type('pw');
    await ui.press('tab');
    await ui.type('ann@example.com');
    await ui.press('tab');
    await ui.type('tpw');
    await ui.press('tab', 'tab', 'enter');
    await ui.waitFor((text) => /field.* need/.test(text), 'the refusal');
    assert.equal(await readFile(csv, 'utf8'), before);
    assert.equal(control.getSnapshot().mailboxes.length, 2);
  });

  it('D asks first, says no mail is touched, and removes the selected mailbox on yes only', async () => {
    const {control} = await batchWithCsv();
    const ui = renderUi(<BatchScreen control={control} />, {columns: 140, rows: 30});
    await ui.waitFor((text) => text.includes('ben@example.com'));
    await ui.press('j', 'D');
    let frame = await ui.waitFor((text) => text.includes('Remove ben@example.com from batch spring?'));
    assert.match(frame, /No mail is touched on the source or the target/);
    await ui.press('n');
    assert.deepEqual(control.removed, []);
    await ui.press('D', 'y');
    frame = await ui.waitFor((text) => text.includes('Removed ben@example.com from the batch (no mail touched).'), 'the outcome');
    assert.deepEqual(control.removed, [['ben@example.com']]);
    assert.deepEqual(frame.split('\n').filter((line) => /^[> ][ ●](ann|ben)@/.test(line)).map((line) => line.slice(2, 17)), ['ann@example.com'], 'ben is no longer a row');
  });
});
