import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, readdirSync, rmSync} from 'node:fs';
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
      await postCommand(file, {action});
      // The file name orders commands by millisecond; keep them apart.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const seen = collector();
    const stop = watchCommands(file, (command) => seen.handle(command), failOnError, NO_POLL);
    try {
      await seen.next(3);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(seen.applied.map((command) => command.action), ['stop', 'resume', 'complete']);
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
      await postCommand(file, {action: 'resume'});
      await new Promise((resolve) => setTimeout(resolve, 50));
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
    await postCommand(file, {action: 'stop'});
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(seen.applied, []);
    assert.equal(readdirSync(commandDirFor(file)).length, 1, 'the command waits for the next process');
  });
});
