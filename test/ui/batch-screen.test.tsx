// Wiring of the batch screen: a key goes to the fake BatchControl as a command, and the screen
// shows the change. The fake stands in for the engine only.

import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import {cleanup} from 'ink-testing-library';
import {BatchScreen} from '../../source/ui/panels/BatchScreen.js';
import {FakeBatchControl, fakeMailbox, fakeSnapshot} from '../helpers/fake-batch-control.js';
import {renderUi} from './ui-harness.js';
import type {MailboxSnapshot} from '../../source/engine/scheduler/batch-snapshot.js';

afterEach(() => cleanup());

function batch(count = 30, change: (mailbox: MailboxSnapshot, index: number) => Partial<MailboxSnapshot> = () => ({})): FakeBatchControl {
  const mailboxes = Array.from({length: count}, (_, index) =>
    fakeMailbox(`user${String(index).padStart(2, '0')}@example.com`, {status: 'Syncing', itemsDone: index, itemsTotal: 100, currentFolder: 'INBOX', ...change(fakeMailbox('x'), index)}),
  );
  return new FakeBatchControl(fakeSnapshot(mailboxes, {throughputHistory: [1, 3, 5, 2]}));
}

const selectedLine = (lines: string[]) => lines.find((line) => line.startsWith('>'));

describe('batch screen', () => {
  it('fits 80x24 exactly: 23 lines, none wider than 80, header, rows and key hints', async () => {
    const control = batch(40);
    const ui = renderUi(<BatchScreen control={control} />, {columns: 80, rows: 24});
    const frame = await ui.waitFor((text) => text.includes('user00@example.com'));
    const lines = frame.split('\n');
    assert.equal(lines.length, 23);
    for (const line of lines) assert.ok(Array.from(line).length <= 80, `too wide: "${line}"`);
    assert.match(lines[0]!, /batch spring\s+running\s+40 mailboxes/);
    assert.match(lines[1]!, /Syncing 40/);
    assert.match(lines[2]!, /items 780\/4k/);
    assert.match(frame, /\? help/);
    assert.equal(lines.filter((line) => /user\d\d@example\.com/.test(line)).length, 17, '17 mailbox rows at 80x24');
  });

  it('shows more rows and columns on a bigger terminal', async () => {
    const control = batch(60, (_, index) => (index === 0 ? {lastError: {kind: 'auth', message: 'login refused', hint: 'check it', retryable: false, at: '2026-03-01T11:00:00Z'}} : {}));
    const ui = renderUi(<BatchScreen control={control} />, {columns: 160, rows: 50});
    const frame = await ui.waitFor((text) => text.includes('user00@example.com'));
    const lines = frame.split('\n');
    assert.equal(lines.length, 49);
    assert.match(lines[3]!, /Bytes.*Msg\/s.*Last error/);
    assert.match(frame, /login refused/);
    assert.equal(lines.filter((line) => /^[> ][ ●]user\d\d@example\.com/.test(line)).length, 43);
  });

  it('moves the selection with j/k and arrows, and g/G', async () => {
    const ui = renderUi(<BatchScreen control={batch(40)} />);
    await ui.waitFor((text) => text.includes('user00'));
    assert.match(selectedLine(ui.lines()) ?? '', /user00/);
    await ui.press('j', 'j', 'down');
    assert.match(selectedLine(ui.lines()) ?? '', /user03/);
    await ui.press('k');
    assert.match(selectedLine(ui.lines()) ?? '', /user02/);
    await ui.press('G');
    assert.match(selectedLine(ui.lines()) ?? '', /user39/);
    assert.ok(!ui.frame().includes('user00'), 'the window scrolled');
    await ui.press('g');
    assert.match(selectedLine(ui.lines()) ?? '', /user00/);
    await ui.press('pagedown');
    assert.match(selectedLine(ui.lines()) ?? '', /user16/);
  });

  it('s stops the selected mailbox; Space marks, then s and r act on the marked ones', async () => {
    const control = batch(10);
    const ui = renderUi(<BatchScreen control={control} />);
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('j', 's');
    assert.deepEqual(control.commands.at(-1), {command: 'stop', emails: ['user01@example.com']});
    await ui.waitFor((text) => text.includes('Stopped user01@example.com.'), 'the stop outcome');
    await ui.press('space', 'space');
    assert.match(ui.frame(), /2 marked/);
    await ui.press('s');
    assert.deepEqual(control.commands.at(-1), {command: 'stop', emails: ['user01@example.com', 'user02@example.com']});
    await ui.press('r');
    assert.deepEqual(control.commands.at(-1), {command: 'resume', emails: ['user01@example.com', 'user02@example.com']});
    await ui.press('n');
    assert.deepEqual(control.commands.at(-1), {command: 'syncNow', emails: ['user01@example.com', 'user02@example.com']});
    await ui.press('u', 'r');
    assert.deepEqual(control.commands.at(-1), {command: 'resume', emails: ['user03@example.com']});
  });

  it('a marks all shown rows after a filter', async () => {
    const control = batch(12, (_, index) => ({status: index % 3 === 0 ? 'Failed' : 'Syncing'}));
    const ui = renderUi(<BatchScreen control={control} />);
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('/');
    await ui.type('fail');
    await ui.press('enter', 'a', 'r');
    assert.deepEqual(control.commands.at(-1), {command: 'resume', emails: ['user00@example.com', 'user03@example.com', 'user06@example.com', 'user09@example.com']});
  });

  it('/ narrows the rows as you type; Enter keeps it, Esc or x clears it', async () => {
    const ui = renderUi(<BatchScreen control={batch(30)} />);
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('/');
    await ui.type('user2');
    let frame = await ui.waitFor((text) => !text.includes('user00'));
    assert.ok(frame.includes('user20') && frame.includes('user29'));
    await ui.press('enter');
    frame = await ui.waitFor((text) => text.includes('filter "user2": 10 of 30'));
    await ui.press('x');
    await ui.waitFor((text) => text.includes('user00') && !text.includes('filter "'));
    await ui.press('/');
    await ui.type('syncing');
    await ui.press('enter');
    await ui.waitFor((text) => text.includes('30 of 30'));
    await ui.press('/');
    await ui.type('zzz');
    await ui.waitFor((text) => text.includes('No mailbox matches "zzz"'));
    await ui.press('esc');
    await ui.waitFor((text) => text.includes('user00'), 'Esc while typing restores the previous filter');
  });

  it('o cycles the sort column and O reverses it', async () => {
    const ui = renderUi(<BatchScreen control={batch(5)} />);
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('o');
    await ui.waitFor((text) => text.includes('sort email'));
    await ui.press('O');
    const frame = await ui.waitFor((text) => text.includes('sort email desc'));
    const rows = frame.split('\n').filter((line) => /user\d\d/.test(line));
    assert.match(rows[0]!, /user04/);
  });

  it('S, R and c ask first; n and Esc answer no, y runs the command', async () => {
    const control = batch(5, (_, index) => ({status: index < 2 ? 'Stopped' : 'Synced'}));
    const ui = renderUi(<BatchScreen control={control} />);
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('S');
    await ui.waitFor((text) => text.includes('Stop all 5 mailboxes?'));
    await ui.press('n');
    await ui.waitFor((text) => !text.includes('Stop all'));
    assert.equal(control.commands.length, 0);
    await ui.press('R');
    await ui.waitFor((text) => text.includes('Resume all 2 stopped or failed mailboxes?'));
    await ui.press('esc');
    await ui.waitFor((text) => !text.includes('Resume all'));
    assert.equal(control.commands.length, 0);
    await ui.press('R', 'y');
    assert.deepEqual(control.commands.at(-1), {command: 'resume'});
    await ui.press('S', 'y');
    assert.deepEqual(control.commands.at(-1), {command: 'stop'});
    await ui.press('c');
    await ui.waitFor((text) => text.includes('Complete batch spring?'));
    await ui.press('y');
    assert.deepEqual(control.commands.at(-1), {command: 'complete'});
    await ui.waitFor((text) => text.includes('Batch completed.'));
  });

  it('q asks while mailboxes run, then closes the batch and exits; without running mailboxes it just quits', async () => {
    const control = batch(4);
    const ui = renderUi(<BatchScreen control={control} />);
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('q');
    await ui.waitFor((text) => text.includes('4 mailboxes are running; they will stop and resume next time. Quit? y/n'));
    await ui.press('n');
    assert.deepEqual(ui.shell.exits, []);
    await ui.press('ctrl+c');
    await ui.waitFor((text) => text.includes('Quit? y/n'));
    await ui.press('ctrl+c');
    await ui.waitFor(() => ui.shell.exits.length > 0, 'a second Ctrl-C quits');
    assert.deepEqual(control.commands.at(-1), {command: 'close'});
    assert.deepEqual(ui.shell.exits, [0]);

    const idle = batch(3, () => ({status: 'Synced'}));
    const second = renderUi(<BatchScreen control={idle} />);
    await second.waitFor((text) => text.includes('user00'));
    await second.press('q');
    await second.waitFor(() => second.shell.exits.length > 0);
    assert.deepEqual(idle.commands, [{command: 'close'}]);
  });

  it('re-renders on each published snapshot only', async () => {
    const control = batch(3);
    const ui = renderUi(<BatchScreen control={control} />);
    await ui.waitFor((text) => text.includes('user00'));
    control.update((mailbox) => (mailbox.emailAddress === 'user01@example.com' ? {...mailbox, status: 'Failed', lastError: {kind: 'auth', message: 'login refused by 127.0.0.1', hint: 'check the password', retryable: false, at: '2026-03-01T12:00:00Z'}} : mailbox));
    await ui.waitFor((text) => /user01@example\.com\s+Failed/.test(text));
    await ui.press('j');
    await ui.waitFor((text) => text.includes('user01@example.com: login refused by 127.0.0.1'), 'the selected row error in the status line');
    assert.equal(control.subscriberCount, 1);
    ui.unmount();
    assert.equal(control.subscriberCount, 0, 'unsubscribes on unmount');
  });

  it('Enter opens the detail with folders, skipped and failed items and errors; q goes back', async () => {
    const control = batch(3);
    control.details.set('user01@example.com', {
      emailAddress: 'user01@example.com',
      folders: [
        {source: 'INBOX', target: 'INBOX', total: 10, done: 10, skipped: 0, failed: 0, bytesDone: 100},
        {source: 'Sent Items', target: 'Sent', total: 5, done: 3, skipped: 1, failed: 1, bytesDone: 50},
      ],
      skipped: [{folder: 'Sent Items', uid: 7, size: 60 * 1024 * 1024, reason: 'larger than the 35M limit'}],
      failed: [{folder: 'Sent Items', uid: 9, size: 1200, reason: 'target said: invalid message', subject: 'Budget'}],
      changed: [],
      errors: [{kind: 'rejected', message: 'APPEND refused', hint: 'see the failed items', retryable: false, at: '2026-03-01T11:00:00Z', folder: 'Sent'}],
      unmigratedFolders: [{source: 'Public/Shared', reason: 'outside the personal namespace'}],
      renamedFolders: [{source: 'Sent Items', target: 'Sent', reason: 'special-use \\Sent'}],
      droppedKeywords: [{folder: 'INBOX', keywords: ['$Label1']}],
    });
    const ui = renderUi(<BatchScreen control={control} />, {columns: 100, rows: 40});
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('j', 'enter');
    const frame = await ui.waitFor((text) => text.includes('Folders (2)'));
    for (const expected of ['Sent Items → Sent', 'larger than the 35M limit', 'target said: invalid message "Budget"', 'APPEND refused', 'see the failed items', 'Public/Shared: outside the personal namespace', '$Label1', 'Renamed folders (1)']) {
      assert.ok(frame.includes(expected), `detail shows ${expected}`);
    }
    await ui.press('s');
    assert.deepEqual(control.commands.at(-1), {command: 'stop', emails: ['user01@example.com']});
    await ui.press('q');
    await ui.waitFor((text) => text.includes('Mailbox') && text.includes('user02@example.com'));
    assert.deepEqual(ui.shell.exits, [], 'q in a sub-view goes back, it does not quit');
  });

  it('l shows recent errors across the batch, Enter opens that mailbox', async () => {
    const control = batch(3, (_, index) => (index === 2 ? {status: 'Failed', lastError: {kind: 'auth', message: 'login refused', hint: 'check the password in the CSV', retryable: false, at: '2026-03-01T11:00:00Z', endpoint: 'source'}} : {}));
    const ui = renderUi(<BatchScreen control={control} />);
    await ui.waitFor((text) => text.includes('user00'));
    control.emit('retry', {emailAddress: 'user00@example.com', attempt: 2, waitMs: 1000, error: {kind: 'timeout', message: 'no answer in 15s', hint: 'the server is slow', retryable: true, at: '2026-03-01T11:30:00Z'}});
    await ui.press('l');
    const frame = await ui.waitFor((text) => text.includes('Recent errors in batch spring (2)'));
    const rows = frame.split('\n').filter((line) => /@example\.com/.test(line));
    assert.match(rows[0]!, /user00@example\.com no answer in 15s \(retry #2\)/);
    assert.match(rows[1]!, /user02@example\.com source: login refused/);
    assert.match(frame, /the server is slow/);
    await ui.press('j', 'enter');
    await ui.waitFor((text) => text.includes('user02@example.com') && text.includes('Status Failed'));
  });

  it('? opens the help generated from the keymap; Esc or q closes it', async () => {
    const ui = renderUi(<BatchScreen control={batch(3)} />, {columns: 100, rows: 60});
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('?');
    const frame = await ui.waitFor((text) => text.includes('mailferry keys'));
    for (const expected of ['Progress grid', 'Stop the marked mailboxes, or the selected one', 'Ctrl-L', 'Esc x', 'PgDn Ctrl-D']) assert.ok(frame.includes(expected), `help shows ${expected}`);
    await ui.press('q');
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('?');
    await ui.waitFor((text) => text.includes('mailferry keys'));
    await ui.press('esc');
    await ui.waitFor((text) => text.includes('user00'));
  });

  it('Ctrl-L asks the shell for a repaint', async () => {
    const ui = renderUi(<BatchScreen control={batch(3)} />);
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('ctrl+l');
    assert.equal(ui.shell.repaints, 1);
  });

  it('keeps the selected row clear without colour and in ASCII', async () => {
    const ui = renderUi(<BatchScreen control={batch(3, () => ({itemsDone: 50}))} />, {ascii: true, color: false});
    await ui.waitFor((text) => text.includes('user00'));
    await ui.press('space');
    const lines = ui.lines();
    assert.match(lines.find((line) => line.includes('user00')) ?? '', /^ \*user00/);
    assert.match(selectedLine(lines) ?? '', /^> user01/);
    assert.deepEqual(ui.frame().match(/[^\x20-\x7e\n]/g), null, 'ASCII mode draws only ASCII');
    assert.ok(!/\u001B\[3\dm/.test(ui.lastFrame() ?? ''), 'no colour codes');
  });
});
