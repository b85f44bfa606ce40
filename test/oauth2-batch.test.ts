// A whole batch with OAuth2 on both ends, as an admin runs it: `mailferry batch create` and
// `batch start` as child processes, tokens from a token command, Dovecot's oauth2 passdb asking
// the introspection stand-in. The first token of each user expires after a few logins, so the
// running batch meets a refused token and must fetch a new one; no mailbox may fail, and no
// token may show up in the state file, the log, the report or the process list.

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {chmod, readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {promisify} from 'node:util';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {startIntrospectionServer, type IntrospectionServer} from './helpers/oauth-introspection-server.js';
import {readMailbox, realisticMailbox, seedMailbox} from './helpers/seed-mailbox.js';
import {compareMailboxes, expectedTargetFolder, folderCounts} from './helpers/compare-mailboxes.js';
import {describeResult, runMailferry, spawnMailferry} from './helpers/mailferry-process.js';
import {makeWorkDir, readBatchState, removeWorkDir, stateFilesText} from './helpers/batch-fixture.js';

const USERS = ['alice@example.test', 'bob@example.test'] as const;
/**
 * Logins the first token of each user is good for: alice's lasts for one login, so it expires
 * in the middle of her pass (which opens several connections with it); bob's has expired before
 * his first login, so his pass cannot even start unless the token is fetched again.
 */
const FIRST_TOKEN_USES: Record<string, number> = {'alice@example.test': 1, 'bob@example.test': 0};

let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>} | undefined;
let introspection: IntrospectionServer | undefined;
let work: string | undefined;

before(async () => {
  introspection = await startIntrospectionServer();
  const extraConfig = await introspection.dovecotConfig();
  const users = Object.fromEntries(USERS.map((login, i) => [login, `seed-only-pw-${i}`]));
  pair = await startDovecotPair({source: {users, extraConfig}, target: {users, extraConfig}});
  work = await makeWorkDir('oauth2-batch');
  await Promise.all(USERS.map((login, i) => seedMailbox(pair!.source, login, realisticMailbox({seed: 70 + i}))));
});

after(async () => {
  await pair?.stop();
  await introspection?.stop();
  await removeWorkDir(work);
});

describe('a batch with OAuth2 on source and target', {timeout: 240_000}, () => {
  test('migrates, survives a token refused mid-run, and leaks no token', async () => {
    const stateDir = path.join(work!, 'state');
    const script = path.join(work!, 'get-token.sh');
    const issued = path.join(work!, 'issued');
    // A new token each run (the shell's pid), logged so the test knows every token there was; the
    // pause gives the process-list sampler a chance to see the command itself.
    await writeFile(script, `#!/bin/sh\nt="tok-$$-$1"\necho "$t" >> "${issued}"\nsleep 0.1\necho "$t"\n`);
    await chmod(script, 0o755);
    const firstSeen = new Set<string>();
    introspection!.acceptRule((token) => {
      const user = /^tok-\d+-(.+)$/.exec(token)?.[1];
      if (user === undefined) return undefined;
      if (firstSeen.has(user)) return user;
      firstSeen.add(user);
      return {user, uses: FIRST_TOKEN_USES[user] ?? 1};
    });

    // No Password column: with OAuth2 on the source there is no password to give.
    const csv = path.join(work!, 'users.csv');
    await writeFile(csv, ['EmailAddress,UserName', ...USERS.map((login) => `${login},${login}`)].join('\n') + '\n', {mode: 0o600});
    const endpointArgs = (role: 'source' | 'target', server: DovecotServer, mechanism: string) => [
      `--${role}-host`, '127.0.0.1', `--${role}-port`, String(server.imapPort), `--${role}-security`, 'none',
      `--${role}-auth`, 'oauth2', `--${role}-token-command`, `${script} {email}`, `--${role}-oauth-mechanism`, mechanism,
    ];
    const created = await runMailferry(['batch', 'create', 'oauth', '--csv', csv, '--state-dir', stateDir,
      ...endpointArgs('source', pair!.source, 'XOAUTH2'), ...endpointArgs('target', pair!.target, 'auto')], {timeoutMs: 60_000});
    assert.equal(created.code, 0, describeResult(created));

    const child = spawnMailferry(['batch', 'start', 'oauth', '--state-dir', stateDir], {timeoutMs: 180_000});
    // The process list while the batch runs (token commands included): sampled until it ends.
    let processList = '';
    let running = true;
    const sampler = (async () => {
      while (running) {
        const {stdout} = await promisify(execFile)('ps', ['-eo', 'args'], {maxBuffer: 16 * 1024 * 1024});
        processList += stdout;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const result = await child.exited;
    running = false;
    await sampler;
    assert.equal(result.code, 0, describeResult(result));

    const state = await readBatchState(stateDir, 'oauth');
    for (const login of USERS) {
      const mailbox = Object.values(state.mailboxes).find((entry) => entry.identity.emailAddress === login);
      assert.equal(mailbox?.status, 'Synced', `${login}: ${JSON.stringify(mailbox?.error ?? mailbox?.status)}`);
      const source = await readMailbox(pair!.source, login);
      const target = await readMailbox(pair!.target, login);
      const mapFolder = (p: string) => expectedTargetFolder(pair!.source, pair!.target, p);
      assert.deepEqual(compareMailboxes(source, target, {mapFolder}), [], `${login}: source ${folderCounts(source)}\ntarget ${folderCounts(target)}`);
    }
    assert.ok(introspection!.refusals() > 0, 'the servers refused an expired token during the run');
    const tokens = (await readFile(issued, 'utf8')).split('\n').filter(Boolean);
    assert.ok(tokens.length > firstSeen.size, `a new token was fetched after the refusal (${tokens.length} fetched)`);
    assert.ok(processList.includes('batch start oauth'), 'the sampler saw the batch run');

    const reportDir = path.join(work!, 'report');
    const report = await runMailferry(['batch', 'report', 'oauth', '--out', reportDir, '--state-dir', stateDir], {timeoutMs: 60_000});
    assert.equal(report.code, 0, describeResult(report));
    const reportFiles = await readdir(reportDir);
    assert.ok(reportFiles.some((file) => file.endsWith('.json')) && reportFiles.some((file) => file.endsWith('.csv')));
    const places: [string, string][] = [
      ['state file', await stateFilesText(stateDir, 'oauth')],
      ['log file', await readFile(path.join(stateDir, 'logs', 'oauth.log'), 'utf8')],
      ['process list', processList],
      ['batch output', result.stdout + result.stderr],
      ...(await Promise.all(reportFiles.map(async (file): Promise<[string, string]> => [`report ${file}`, await readFile(path.join(reportDir, file), 'utf8')]))),
    ];
    assert.ok(places[0]![1].includes(`${script} {email}`), 'the token command template is kept in the state');
    for (const token of tokens) for (const [where, text] of places) assert.ok(!text.includes(token), `token found in the ${where}`);
  });
});
