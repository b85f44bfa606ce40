// A target whose answer to an APPEND, in the middle of a copy, is a line without end (the fault
// proxy in front of Dovecot sends it in place of the server's bytes on the first two sessions
// that append). Each session must give up at its line limit, in bounded memory, and the mailbox
// carry on over a new one. Found by the fault campaign: the unreadable answer was a protocol
// error, never retried, so the mailbox ended Failed though the server was fine.

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {realisticMailbox, seedMailbox} from './helpers/seed-mailbox.js';
import {describeResult, runMailferry} from './helpers/mailferry-process.js';
import {makeWorkDir, pairCreateArgs, readBatchState, removeWorkDir, targetAdminEnv, through, writeMigrationCsv} from './helpers/batch-fixture.js';
import {startFaultProxy, type FaultProxy} from './faults/fault-proxy.js';
import {exactCheck} from './faults/exact-check.js';

const LOGIN = 'elin';
const PASSWORD = 'endless-elin-Pw6';
const EMAIL = 'elin@example.test';
const FLOODED_SESSIONS = 2;

describe('an endless line in the answer to an APPEND mid-copy', {timeout: 180_000}, () => {
  let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>};
  let proxy: FaultProxy;
  let work: string;
  before(async () => {
    pair = await startDovecotPair({source: {users: {[LOGIN]: PASSWORD}}, target: {users: {[EMAIL]: 'unused-elin'}}});
    await seedMailbox(pair.source, LOGIN, realisticMailbox({seed: 81}));
    proxy = await startFaultProxy({
      upstreamPort: pair.target.imapPort,
      plan: () => {
        const fired = proxy?.stats().fired['endless'] ?? 0;
        return fired < FLOODED_SESSIONS ? {label: 'endless', action: 'endless', direction: 'to-client', armOn: 'APPEND ', afterBytes: 0} : undefined;
      },
    });
    work = await makeWorkDir('endless-retry');
  });
  after(async () => {
    await proxy?.stop();
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('the session gives up at its line limit and the mailbox finishes over a new one: Synced, an exact copy', async () => {
    const stateDir = path.join(work, 'state');
    const env = targetAdminEnv(pair);
    const csv = await writeMigrationCsv(path.join(work, 'users.csv'), [{email: EMAIL, user: LOGIN, password: PASSWORD}]);
    const reach = {source: pair.source, target: through(pair.target, proxy.port)};
    const created = await runMailferry(['batch', 'create', 'el', '--csv', csv, '--state-dir', stateDir, ...pairCreateArgs(reach)], {env});
    assert.equal(created.code, 0, describeResult(created));

    const ended = await runMailferry(['batch', 'start', 'el', '--state-dir', stateDir], {env, timeoutMs: 150_000});
    assert.ok((proxy.stats().fired['endless'] ?? 0) >= 1, 'no endless line was sent');
    assert.equal(ended.code, 0, describeResult(ended));
    const mailbox = (await readBatchState(stateDir, 'el')).mailboxes[EMAIL]!;
    assert.equal(mailbox.status, 'Synced', JSON.stringify(mailbox.error));
    const check = await exactCheck(pair.source, pair.target, [{sourceLogin: LOGIN, targetLogin: EMAIL}]);
    assert.deepEqual({lost: check.lost, duplicated: check.duplicated, problems: check.problems}, {lost: 0, duplicated: 0, problems: []});
  });
});
