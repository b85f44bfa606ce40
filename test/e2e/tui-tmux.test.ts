// The full-screen UI end to end: the compiled mailferry runs in a real terminal (tmux, on a
// private socket) against a real Dovecot pair. It sets up both endpoints, tests them, loads a
// CSV, starts the batch, stops one mailbox and resumes it, quits while mailboxes run, starts
// again, types the admin password the batch never stored, and watches the batch reach Synced.
// Every check reads the screen with `tmux capture-pane`.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {appendFile} from 'node:fs/promises';
import path from 'node:path';
import {promisify} from 'node:util';
import {startDovecotPair, type DovecotServer} from '../helpers/dovecot-pair.js';
import {buildMailferry, type CompiledMailferry} from '../helpers/mailferry-process.js';
import {makeWorkDir, removeWorkDir, writeMigrationCsv} from '../helpers/batch-fixture.js';
import {readMailbox, realisticMailbox, seedMailbox} from '../helpers/seed-mailbox.js';
import {startSlowLink} from '../helpers/slow-link.js';
import type {DelayProxy} from '../../bench/delay-proxy.js';
import {messageCount} from '../helpers/compare-mailboxes.js';

const run = promisify(execFile);
const SOCKET = `mailferry-e2e-${process.pid}`;
const SESSION = 'mf';
const USERS = {alice: 'tui-alice-pw1', bob: 'tui-bob-pw2', carol: 'tui-carol-pw3'} as const;
const email = (user: string) => `${user}@example.test`;

/** The environment of the tmux server and so of mailferry: no CI markers (Ink stops redrawing in CI). */
function terminalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_') || key === 'NO_COLOR' || key === 'TMUX') continue;
    env[key] = value;
  }
  return {...env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TERM: 'xterm-256color'};
}

async function tmux(...args: string[]): Promise<string> {
  const {stdout} = await run('tmux', ['-L', SOCKET, ...args], {env: terminalEnv()});
  return stdout;
}

/** Every distinct screen a check has read, searched for passwords at the end. */
const screensSeen = new Set<string>();
const screen = async () => {
  const text = await tmux('capture-pane', '-p', '-t', SESSION);
  screensSeen.add(text);
  return text;
};

async function waitForScreen(predicate: (text: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = await screen();
    if (predicate(text)) return text;
    if (Date.now() > deadline) throw new Error(`the screen never showed ${what}; it shows:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

// Keys go to the pane without any pause: the UI must take keys as they come, in runs too (a
// slow SSH link delivers them so). Each step then waits on what the screen must show before the
// next key depends on it, never on a fixed time.

/** Named keys (Enter, Tab, Up, BSpace, ...), sent at once. */
async function keys(...names: string[]): Promise<void> {
  await tmux('send-keys', '-t', SESSION, ...names);
}

async function type(text: string): Promise<void> {
  await tmux('send-keys', '-t', SESSION, '-l', text);
}

/** The line of the focused form field or button (marked "> "). */
function focusedLine(text: string): string | undefined {
  return text.split('\n').find((line) => line.startsWith('> '));
}

/** What the focused field shows right of its label (label and value are 2+ spaces apart). */
function focusedValue(text: string): string {
  return (focusedLine(text) ?? '').slice(2).split(/\s{2,}/).slice(1).join('  ').trimEnd();
}

/** Moves the form focus with Tab/Up/Down, one step at a time, until the focused line shows `label`. */
async function focus(label: RegExp, key: 'Tab' | 'Up' | 'Down' = 'Tab'): Promise<void> {
  for (let step = 0; step < 16; step++) {
    // A text field shows the focus once it takes keys: until then no line is marked.
    const before = focusedLine(await waitForScreen((current) => focusedLine(current) !== undefined, 'a focused field'));
    if (before && label.test(before)) return;
    await keys(key);
    await waitForScreen((current) => focusedLine(current) !== undefined && focusedLine(current) !== before, `the focus to move on from ${before ?? 'nothing'}`);
  }
  throw new Error(`could not move the focus to ${label}; the screen shows:\n${await screen()}`);
}

/** Focuses a choice field and presses Right, one step at a time, until `[option]` is chosen. */
async function choose(label: RegExp, option: string): Promise<void> {
  await focus(label);
  for (let step = 0; step < 8; step++) {
    const before = focusedLine(await screen()) ?? '';
    if (before.includes(`[${option}]`)) return;
    await keys('Right');
    await waitForScreen((current) => focusedLine(current) !== before, `${label} to change from ${before}`);
  }
  throw new Error(`could not choose ${option} for ${label}; the screen shows:\n${await screen()}`);
}

/**
 * Focuses the field, erases up to `erase` characters, types `text` and waits until the field
 * shows it (as one asterisk per character when masked).
 */
async function fill(label: RegExp, text: string, options: {erase?: number; masked?: boolean} = {}): Promise<void> {
  await focus(label);
  if (options.erase) {
    // Typed only once the erasing shows: a key that comes before the field has re-rendered
    // with its new value is applied to the old one.
    const before = focusedValue(await screen());
    await keys(...Array.from({length: options.erase}, () => 'BSpace'));
    await waitForScreen((current) => focusedValue(current) !== before, `${label} erased`);
  }
  await type(text);
  const shown = options.masked ? '*'.repeat(text.length) : text;
  await waitForScreen((current) => label.test(focusedLine(current) ?? '') && focusedValue(current) === shown, `${label} holding ${options.masked ? 'the typed password' : text}`);
}

function rowOf(text: string, user: string): string {
  return text.split('\n').find((line) => line.includes(email(user))) ?? '';
}

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let slowLink: DelayProxy | undefined;
let build: CompiledMailferry | undefined;
let work: string | undefined;

describe('full-screen UI in tmux', {timeout: 300_000}, () => {
  before(async () => {
    [pair, build, work] = await Promise.all([
      startDovecotPair({source: {users: {...USERS}}, target: {users: {...USERS}}}),
      buildMailferry(),
      makeWorkDir('tui-e2e'),
    ]);
    // alice has the most mail, so she is still copying when she is stopped.
    slowLink = await startSlowLink(pair.target);
    await seedMailbox(pair.source, 'alice', realisticMailbox({seed: 11, scale: 'medium'}));
    await seedMailbox(pair.source, 'bob', realisticMailbox({seed: 12}));
    await seedMailbox(pair.source, 'carol', realisticMailbox({seed: 13}));
    await writeMigrationCsv(path.join(work, 'users.csv'), Object.entries(USERS).map(([user, password]) => ({email: email(user), user, password})));
  });

  after(async () => {
    await tmux('kill-server').catch(() => undefined);
    await slowLink?.stop();
    await pair?.stop();
    await build?.remove();
    await removeWorkDir(work);
  });

  async function launch(width: number, height: number): Promise<void> {
    const command = `node ${build!.cli} --state-dir ${path.join(work!, 'state')}; echo "mailferry exited $?"; sleep 3600`;
    // A relaunch reuses the session: killing the only session makes the tmux server exit, and a
    // new-session on the same socket while it is still exiting fails ("server exited
    // unexpectedly"). respawn-pane -k ends the old command and starts the new one in its place.
    const running = await tmux('has-session', '-t', SESSION).then(
      () => true,
      () => false,
    );
    if (!running) {
      await tmux('new-session', '-d', '-s', SESSION, '-x', String(width), '-y', String(height), command);
      return;
    }
    await tmux('resize-window', '-t', SESSION, '-x', String(width), '-y', String(height));
    await tmux('respawn-pane', '-k', '-t', SESSION, command);
  }

  it('sets up, runs, stops and resumes a mailbox, quits, and resumes the batch to Synced after a restart', async () => {
    const {source, target} = pair!;
    await launch(100, 30);

    // Source endpoint: "Other" preset, loopback plain IMAP, a test login.
    await waitForScreen((text) => text.includes('Step 1/6') && text.includes('choose a provider'), 'the provider presets');
    await keys('4');
    await waitForScreen((text) => /> Host/.test(text), 'the source fields');
    await fill(/Host/, '127.0.0.1');
    await fill(/Port/, String(source.imapPort), {erase: 3});
    await choose(/Security/, 'none');
    await fill(/Test login user/, 'alice');
    await fill(/Test login password/, USERS.alice, {masked: true});
    await focus(/\[ Test connection \]/, 'Down');
    await keys('Enter');
    let text = await waitForScreen((current) => current.includes('The server answers'), 'a passing source test');
    assert.match(text, /Step 2\/6\s+Testing the source: 127\.0\.0\.1:\d+ none as alice/);
    assert.match(text, /Login as alice/);
    await keys('Enter');

    // Target endpoint: the Dovecot master user through a login pattern.
    await waitForScreen((current) => current.includes('Step 3/6') && current.includes('choose a provider'), 'the target presets');
    await keys('4');
    await waitForScreen((current) => /> Host/.test(current), 'the target fields');
    await fill(/Host/, '127.0.0.1');
    // The target through a slow link: alice must still be copying when she is stopped.
    await fill(/Port/, String(slowLink!.port), {erase: 3});
    await choose(/Security/, 'none');
    await choose(/Log in with/, 'login pattern');
    await fill(/Login pattern/, '{localpart}*admin', {erase: '{email}*admin'.length});
    await fill(/Admin password/, target.masterPassword, {masked: true});
    await fill(/Test as mailbox/, 'alice@example.test');
    await focus(/\[ Test connection \]/, 'Down');
    await keys('Enter');
    text = await waitForScreen((current) => current.includes('Step 4/6') && current.includes('The server answers'), 'a passing target test');
    assert.match(text, /Login as alice\*admin/);
    assert.ok(!text.includes(target.masterPassword), 'the admin password is never on screen');
    await keys('Enter');

    // Users: load the CSV, test the logins of all three.
    await waitForScreen((current) => current.includes('Step 5/6') && current.includes('CSV file:'), 'the CSV path field');
    await type(path.join(work!, 'users.csv'));
    await waitForScreen((current) => current.includes(path.join(work!, 'users.csv')), 'the CSV path typed');
    await keys('Enter');
    await waitForScreen((current) => current.includes('3 users, 0 errors'), 'the loaded CSV');
    await keys('a', 't');
    text = await waitForScreen((current) => current.includes('Tested 3 logins: all passed.'), 'the login tests', 60_000);
    assert.match(rowOf(text, 'carol'), /✓ \d+ms\s+✓ \d+ms/);
    await keys('Enter');

    // Settings: name the batch, one migration at a time, create and start.
    await waitForScreen((current) => current.includes('Step 6/6') && /> Batch name/.test(current), 'the batch settings');
    await fill(/Batch name/, 'e2e', {erase: 24});
    await fill(/Max concurrent migrations/, '1', {erase: 2});
    await focus(/\[ Create the batch and start \]/, 'Up');
    await keys('Enter');
    text = await waitForScreen((current) => current.includes('batch e2e') && /alice@example\.test\s+Syncing/.test(current), 'alice syncing in the grid', 60_000);
    assert.match(rowOf(text, 'bob'), /Queued/);

    // Stop the running mailbox, see it stopped, resume it.
    await keys('g', 's');
    text = await waitForScreen((current) => /alice@example\.test\s+Stopped/.test(current), 'alice stopped', 60_000);
    await keys('r');
    await waitForScreen((current) => !/alice@example\.test\s+Stopped/.test(current), 'alice resumed');

    // Quit while mailboxes run: asked first, then state is saved and mailferry ends.
    await waitForScreen((current) => /(Syncing|Starting)/.test(current), 'a mailbox at work');
    await keys('q');
    text = await waitForScreen((current) => /\d+ mailbox(es)? (is|are) running; they will stop and resume next time\. Quit\? y\/n/.test(current), 'the quit question');
    await keys('y');
    await waitForScreen((current) => current.includes('mailferry exited 0'), 'mailferry to exit', 60_000);

    // Start again: the batch is offered, the admin password asked for, the batch resumes. Enter
    // is typed at once, while mailferry is still starting (an admin over a slow SSH link types
    // ahead): the picker must take it when it comes up, not lose it.
    await launch(100, 30);
    await keys('Enter');
    await waitForScreen((current) => current.includes('Batch e2e needs the target admin password'), 'the admin password prompt (Enter typed during start-up opens the batch)');
    await fill(/Password/, target.masterPassword, {masked: true});
    await keys('Enter');
    await waitForScreen((current) => /^> \[ Open the batch \]/m.test(current), 'the focus on Open the batch');
    await keys('Enter');
    await waitForScreen((current) => current.includes('batch e2e'), 'the grid after a restart');
    text = await waitForScreen((current) => ['alice', 'bob', 'carol'].every((user) => /Synced/.test(rowOf(current, user))), 'all three mailboxes Synced', 120_000);
    assert.match(text.split('\n')[1] ?? '', /Synced 3/);

    // Ctrl-L repaints: output written over the UI by someone else is gone afterwards. Done before
    // the resize below, whose own repaint would clear the stray output before it is seen.
    const tty = (await tmux('display-message', '-p', '-t', SESSION, '#{pane_tty}')).trim();
    await appendFile(tty, '\r\nSTRAY OUTPUT FROM ANOTHER PROGRAM\r\n');
    await waitForScreen((current) => current.includes('STRAY OUTPUT'), 'the stray output');
    await keys('C-l');
    text = await waitForScreen((current) => !current.includes('STRAY OUTPUT') && current.split('\n')[0]?.startsWith('mailferry  batch e2e') === true, 'a clean repaint');
    assert.match(text, /alice@example\.test\s+Synced/);

    // A resize redraws the whole screen at the new size, without wrapped lines.
    await tmux('resize-window', '-t', SESSION, '-x', '80', '-y', '24');
    text = await waitForScreen((current) => current.split('\n')[3]?.startsWith('  Mailbox') === true && !current.includes('Msg/s'), 'the 80-column layout');
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^mailferry {2}batch e2e/);
    for (const line of lines) assert.ok(line.length <= 80, `a line wider than 80 columns: ${line}`);

    await keys('q');
    await waitForScreen((current) => current.includes('mailferry exited 0'), 'mailferry to exit after the last run', 60_000);

    // SIGTERM (a shutdown, a killed tmux pane) leaves the alternate screen and saves state.
    await launch(100, 30);
    await waitForScreen((current) => current.includes('1 batch'), 'the batch picker again');
    const shell = (await tmux('display-message', '-p', '-t', SESSION, '#{pane_pid}')).trim();
    const {stdout: children} = await run('pgrep', ['-P', shell]);
    process.kill(Number(children.trim().split('\n')[0]), 'SIGTERM');
    text = await waitForScreen((current) => current.includes('mailferry exited 143'), 'mailferry to end on SIGTERM');
    assert.ok(!text.includes('1 batch'), 'the alternate screen is left, the picker is gone');

    // The target holds every message of the source.
    for (const user of ['alice', 'bob', 'carol']) {
      const [from, to] = await Promise.all([readMailbox(source, user), readMailbox(target, user)]);
      assert.equal(messageCount(to), messageCount(from), `${user}: messages on the target`);
    }

    // No password on any screen of the run: setup, tests, grid, stop and resume, restart, prompt.
    const secrets = {...USERS, 'target admin': target.masterPassword};
    const shown = Object.entries(secrets).filter(([, secret]) => [...screensSeen].some((seen) => seen.includes(secret)));
    assert.deepEqual(shown.map(([whose]) => whose), [], `passwords on screen (of ${screensSeen.size} screens read)`);
  });
});
