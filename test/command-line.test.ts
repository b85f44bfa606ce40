// The headless commands' flag parser (on node's parseArgs, in place of meow): kebab-case flags
// to camelCase names, numbers, repeatable flags, defaults, and the usage mistakes it must name.

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {CommandLineError, parseCommandLine, type FlagSpec} from '../source/headless/command-line.js';

const FLAGS = {
  stateDir: {type: 'string'},
  json: {type: 'boolean', default: false},
  maxConcurrent: {type: 'number'},
  mailbox: {type: 'string', isMultiple: true},
  help: {type: 'boolean', shortFlag: 'h'},
} as const satisfies Record<string, FlagSpec>;

describe('parseCommandLine', () => {
  const rows: {name: string; argv: string[]; input?: string[]; flags?: Record<string, unknown>; unknown?: string[]}[] = [
    {name: 'positionals and defaults', argv: ['start', 'wave1'], input: ['start', 'wave1'], flags: {json: false}},
    {name: 'kebab-case flag to camelCase, value as next word', argv: ['status', '--state-dir', '/tmp/s'], input: ['status'], flags: {stateDir: '/tmp/s', json: false}},
    {name: 'value after =', argv: ['--state-dir=/tmp/s', 'list'], input: ['list'], flags: {stateDir: '/tmp/s', json: false}},
    {name: 'numbers', argv: ['--max-concurrent', '4'], input: [], flags: {maxConcurrent: 4, json: false}},
    {name: 'a number that is not one stays NaN for the command to refuse', argv: ['--max-concurrent', 'four'], input: [], flags: {maxConcurrent: Number.NaN, json: false}},
    {name: 'booleans', argv: ['--json', 'list'], input: ['list'], flags: {json: true}},
    {name: 'short flag', argv: ['-h'], input: [], flags: {help: true, json: false}},
    {name: 'repeatable flag keeps every value in order', argv: ['stop', 'x', '--mailbox', 'a@x', '--mailbox', 'b@x'], input: ['stop', 'x'], flags: {mailbox: ['a@x', 'b@x'], json: false}},
    {name: 'unknown options are reported by name, once', argv: ['start', 'x', '--bogus-flag', '--bogus-flag', '--other=1'], input: ['start', 'x'], flags: {json: false}, unknown: ['bogus-flag', 'other']},
  ];
  for (const row of rows) {
    test(row.name, () => {
      const parsed = parseCommandLine(row.argv, FLAGS);
      if (row.input) assert.deepEqual(parsed.input, row.input);
      if (row.flags) assert.deepEqual(parsed.flags, row.flags);
      assert.deepEqual(parsed.unknown, row.unknown ?? []);
    });
  }

  const mistakes: [string[], RegExp][] = [
    [['--state-dir', 'a', '--state-dir', 'b'], /--state-dir can only be set once/],
    [['--json', '--json'], /--json can only be set once/],
    [['list', '--state-dir'], /--state-dir needs a value/],
    [['list', '--state-dir', '--json'], /--state-dir needs a value/],
  ];
  for (const [argv, message] of mistakes) {
    test(`refuses ${argv.join(' ')}`, () => {
      assert.throws(() => parseCommandLine(argv, FLAGS), (error: unknown) => error instanceof CommandLineError && message.test(error.message));
    });
  }
});
