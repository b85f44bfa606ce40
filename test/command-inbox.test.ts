import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, readdirSync, rmSync, watch} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {commandDirFor, postCommand, watchCommands, type RemoteCommand} from '../source/store/command-inbox.js';

// The poll interval is an hour here, so a command applied within the test's timeout can only
// have come through the directory watch.
const NO_POLL = 60 * 60 * 1000;
/** The watcher reports errors here; none is expected. */
const failOnError = (error: unknown): never => assert.fail(error instanceof Error ? error : String(error));

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'mailferry-inbox-'));
});
after(() => {
  rmSync(root, {recursive: true, force: true});
});

/** Until the clock shows a later millisecond than `after` (command files are named by it). */
async function nextMillisecond(after: number): Promise<void> {
  while (Date.now() <= after) await new Promise((resolve) => setImmediate(resolve));
}

/** Resolves when a watch of our own on `dir` is told a command file arrived. */
function fileArrives(dir: string): Promise<void> {
  mkdirSync(dir, {recursive: true});
  return new Promise<void>((resolve) => {
    const probe = watch(dir, {persistent: false}, (_event, name) => {
      if (name?.endsWith('.json') !== true) return;
      probe.close();
      resolve();
    });
  });
}

let counter = 0;
function stateFile(): string {
  counter += 1;
  return join(root, `batch-${counter}.json`);
}

/** Collects applied commands; `next(n)` resolves once n have been applied. */
function collector(handle?: (command: RemoteCommand) => Promise<void>) {
  const applied: RemoteCommand[] = [];
  const waiters: {count: number; resolve: () => void}[] = [];
  return {
    applied,
    async handle(command: RemoteCommand) {
      await handle?.(command);
      applied.push(command);
      for (const waiter of waiters.filter((w) => applied.length >= w.count)) waiter.resolve();
    },
    next(count: number): Promise<void> {
      if (applied.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({count, resolve}));
    },
  };
}

describe('command inbox', () => {
  it('applies a command posted after watching began without waiting for a poll, and deletes it', {timeout: 10_000}, async () => {
    const file = stateFile();
    const seen = collector();
    const errors: unknown[] = [];
    const stop = watchCommands(file, (command) => seen.handle(command), (error) => errors.push(error), NO_POLL);
    try {
      await postCommand(file, {action: 'sync-now', mailboxes: ['ann@example.test']});
      await seen.next(1);
      assert.equal(seen.applied[0]!.action, 'sync-now');
      assert.deepEqual(seen.applied[0]!.mailboxes, ['ann@example.test']);
      assert.deepEqual(readdirSync(commandDirFor(file)), [], 'the applied command file is gone');
      assert.deepEqual(errors, []);
    } finally {
      stop();
    }
  });

  it('applies commands posted before watching began, in the order given, each once', {timeout: 10_000}, async () => {
    const file = stateFile();
    for (const action of ['stop', 'resume', 'complete'] as const) {
      const posted = Date.now();
      await postCommand(file, {action});
      // The file name orders commands by millisecond; keep them apart.
      await nextMillisecond(posted);
    }
    const seen = collector();
    const stop = watchCommands(file, (command) => seen.handle(command), failOnError, NO_POLL);
    try {
      await seen.next(3);
      // A sentinel posted last is applied last: once it is, a command applied twice (its file
      // read again) would be in the list before it.
      await postCommand(file, {action: 'sync-now'});
      await seen.next(4);
      assert.deepEqual(seen.applied.map((command) => command.action), ['stop', 'resume', 'complete', 'sync-now']);
    } finally {
      stop();
    }
  });

  it('a command that arrives while another is being applied is applied right after it', {timeout: 10_000}, async () => {
    const file = stateFile();
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const seen = collector(async () => {
      if (!first) return;
      first = false;
      await busy;
    });
    const stop = watchCommands(file, (command) => seen.handle(command), failOnError, NO_POLL);
    try {
      await postCommand(file, {action: 'stop'});
      // Wait until the first command is being applied (its file is gone), then post the second.
      while (readdirSync(commandDirFor(file)).length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // Our own watch on the directory sees the second file arrive; the watcher under test, which
      // watched first, has then been told too, while the first command is still being applied.
      const arrived = fileArrives(commandDirFor(file));
      await postCommand(file, {action: 'resume'});
      await arrived;
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(seen.applied.length, 0, 'the first command is still being applied');
      release();
      await seen.next(2);
      assert.deepEqual(seen.applied.map((command) => command.action), ['stop', 'resume']);
    } finally {
      stop();
    }
  });

  it('stops applying commands once stopped', {timeout: 10_000}, async () => {
    const file = stateFile();
    const seen = collector();
    const stop = watchCommands(file, (command) => seen.handle(command), failOnError, NO_POLL);
    stop();
    const arrived = fileArrives(commandDirFor(file));
    await postCommand(file, {action: 'stop'});
    // The directory change has been delivered: a watcher still watching would be reading it now.
    await arrived;
    await new Promise((resolve) => setImmediate(resolve));
    // The next process: it applies the command, so the stopped watcher never took it (had it, the
    // file would be gone and this one would wait for ever).
    const next = collector();
    const stopNext = watchCommands(file, (command) => next.handle(command), failOnError, NO_POLL);
    try {
      await next.next(1);
      assert.deepEqual(next.applied.map((command) => command.action), ['stop']);
      assert.deepEqual(seen.applied, [], 'the stopped watcher applied nothing');
    } finally {
      stopNext();
    }
  });
});
