import {strict as assert} from 'node:assert';
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {runTokenCommand, splitCommand, tokenCommandArgs, tokenCommandProblem} from '../source/engine/credentials/token-command.js';
import {CommandTokenSource, TOKEN_REUSE_MS} from '../source/engine/credentials/token-source.js';
import {MigrationError} from '../source/imap/imap-error.js';
import {makeEndpoint} from '../source/imap/endpoint.js';
import {redact} from '../source/log/secret-redaction.js';

describe('token command: splitting and substitution', () => {
  it('splits like a shell without expanding anything', () => {
    assert.deepEqual(splitCommand(`get-token  --for "{email}" 'a b' c\\ d "x\\"y" $HOME`), ['get-token', '--for', '{email}', 'a b', 'c d', 'x"y', '$HOME']);
    assert.deepEqual(splitCommand(`a ''`), ['a', '']);
    assert.throws(() => splitCommand(`a "b`), /double quote is not closed/);
  });

  it('substitutes per argument, so a value is never re-split or expanded again', () => {
    assert.deepEqual(tokenCommandArgs(`get-token --user={login} {email}`, {email: 'a b;rm -rf@x.test', login: '{email}'}), [
      'get-token',
      '--user={email}',
      'a b;rm -rf@x.test',
    ]);
  });

  it('names unknown placeholders and an empty command', () => {
    assert.match(tokenCommandProblem('get-token {user}') ?? '', /\{user\}/);
    assert.match(tokenCommandProblem('   ') ?? '', /empty/);
    assert.equal(tokenCommandProblem('get-token {email} {login}'), undefined);
  });
});

describe('token command: running it', () => {
  let dir: string;
  const script = async (name: string, body: string) => {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailferry-token-'));
  });
  after(async () => {
    await rm(dir, {recursive: true, force: true});
  });

  it('returns the trimmed stdout and registers it for redaction', async () => {
    const path = await script('ok.sh', 'printf "  tok-$1-$2-zz\\n"');
    const token = await runTokenCommand({command: `${path} {email} '{login}'`, email: 'alice@x.test', login: 'alice', role: 'source'});
    assert.equal(token, 'tok-alice@x.test-alice-zz');
    assert.equal(redact(`said ${token}`), 'said ***');
  });

  it('a nonzero exit is an auth error naming the command template, the user and stderr (redacted)', async () => {
    const path = await script('fail.sh', 'echo "no refresh token for $1" >&2; exit 3');
    const error = await runTokenCommand({command: `${path} {email}`, email: 'bob@x.test', login: 'bob', role: 'target', mailbox: 'bob@x.test'}).catch((e: unknown) => e);
    assert.ok(error instanceof MigrationError);
    assert.equal(error.kind, 'auth');
    assert.equal(error.endpoint, 'target');
    assert.equal(error.mailbox, 'bob@x.test');
    assert.match(error.message, new RegExp(`\`${path} \\{email\\}\` exited with status 3 for bob; it said: no refresh token for bob@x.test`));
  });

  it('empty output is an error, not an empty token', async () => {
    const path = await script('empty.sh', 'echo "   "');
    const error = await runTokenCommand({command: path, email: 'c@x.test', login: 'c', role: 'source'}).catch((e: unknown) => e);
    assert.ok(error instanceof MigrationError);
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /printed no token/);
  });

  it('a command that runs too long is killed and named', async () => {
    // Not exec'd: the sleep is the shell's child and keeps stdout open, so only killing the
    // whole process group ends the run.
    const path = await script('slow.sh', 'sleep 30; echo late');
    const error = await runTokenCommand({command: path, email: 'd@x.test', login: 'd', role: 'source', timeoutMs: 300}).catch((e: unknown) => e);
    assert.ok(error instanceof MigrationError);
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /did not finish within 300 ms/);
    assert.equal(error.retryable, true, 'a slow identity provider is retried later');
  });

  it('the command cannot wait for input: its stdin is closed', async () => {
    const path = await script('asks.sh', 'read answer; echo "tok-after-$answer-end"');
    assert.equal(await runTokenCommand({command: path, email: 'f@x.test', login: 'f', role: 'source', timeoutMs: 10_000}), 'tok-after--end');
  });

  it('a failing command\'s stdout is not taken as a token nor registered as a secret', async () => {
    const path = await script('says.sh', 'echo "denied-word"; exit 1');
    await assert.rejects(runTokenCommand({command: path, email: 'g@x.test', login: 'g', role: 'source'}), /exited with status 1/);
    assert.equal(redact('denied-word'), 'denied-word');
  });

  it('a missing program is a config error', async () => {
    const error = await runTokenCommand({command: join(dir, 'nope') + ' {email}', email: 'e@x.test', login: 'e', role: 'source'}).catch((e: unknown) => e);
    assert.ok(error instanceof MigrationError);
    assert.equal(error.kind, 'config');
    assert.match(error.message, /was not found/);
  });
});

describe('token source: reuse and freshness', () => {
  it('shares a token between opens moments apart, fetches again after a refusal and once it is old', async () => {
    let now = 1_000_000;
    let fetched = 0;
    const source = new CommandTokenSource({
      endpoint: makeEndpoint({host: 'h', tokenCommand: 'get-token {email}'}),
      role: 'source',
      email: 'a@x.test',
      login: 'a',
      now: () => now,
      run: async () => `token-${++fetched}`,
    });
    assert.equal(await source.token(), 'token-1');
    assert.equal(await source.token(), 'token-1');
    source.refused('token-1');
    assert.equal(await source.token(), 'token-2');
    source.refused('token-1'); // an older token refused late does not drop the newer one
    assert.equal(await source.token(), 'token-2');
    now += TOKEN_REUSE_MS;
    assert.equal(await source.token(), 'token-3');
  });
});
