// A target that restarts mid-run and stays away for 9 s: every open connection reset, new ones
// refused meanwhile (the fault proxy in front of Dovecot). mailferry must wait it out and finish,
// as it does for a lost connection. Found by the fault campaign: refused connections were retried
// three times only (about 3.5-7 s of backoff), right for a wrong host at the start of a batch,
// wrong for a server that answered a moment ago, so the mailbox ended Failed "connection refused".

import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startDovecotPair, type DovecotServer} from './helpers/dovecot-pair.js';
import {realisticMailbox, seedMailbox} from './helpers/seed-mailbox.js';
import {describeResult, runMailferry} from './helpers/mailferry-process.js';
import {makeWorkDir, maildirInboxCount, pairCreateArgs, readBatchState, removeWorkDir, targetAdminEnv, through, waitFor, writeMigrationCsv} from './helpers/batch-fixture.js';
import {startFaultProxy, type FaultProxy} from './faults/fault-proxy.js';
import {exactCheck} from './faults/exact-check.js';

const LOGIN = 'rita';
const PASSWORD = 'restart-rita-Pw5';
const EMAIL = 'rita@example.test';
/** Longer than three backoff waits can be (1 + 2 + 4 s at most), shorter than eight. */
const AWAY_MS = 9_000;

describe('a target that restarts mid-run', {timeout: 180_000}, () => {
  let pair: {source: DovecotServer; target: DovecotServer; stop(): Promise<void>};
  let proxy: FaultProxy;
  let work: string;
  before(async () => {
    pair = await startDovecotPair({source: {users: {[LOGIN]: PASSWORD}}, target: {users: {[EMAIL]: 'unused-rita'}, separator: '.', prefix: 'INBOX.'}});
    await seedMailbox(pair.source, LOGIN, realisticMailbox({seed: 71}));
    // Slow from the first APPEND on, so the copy is still running when the restart comes.
    proxy = await startFaultProxy({
      upstreamPort: pair.target.imapPort,
      plan: () => ({label: 'slow', action: 'slow', direction: 'to-server', armOn: 'APPEND ', afterBytes: 0, bytesPerSecond: 100_000}),
    });
    work = await makeWorkDir('restart-retry');
  });
  after(async () => {
    await proxy?.stop();
    await pair?.stop();
    await removeWorkDir(work);
  });

  it('waits for the target to come back and finishes the mailbox: Synced, an exact copy', async () => {
    const stateDir = path.join(work, 'state');
    const env = targetAdminEnv(pair);
    const csv = await writeMigrationCsv(path.join(work, 'users.csv'), [{email: EMAIL, user: LOGIN, password: PASSWORD}]);
    const reach = {source: pair.source, target: through(pair.target, proxy.port)};
    const created = await runMailferry(['batch', 'create', 'rr', '--csv', csv, '--state-dir', stateDir, ...pairCreateArgs(reach)], {env});
    assert.equal(created.code, 0, describeResult(created));

    const run = runMailferry(['batch', 'start', 'rr', '--state-dir', stateDir], {env, timeoutMs: 150_000});
    await waitFor('the first messages on the target', () => (maildirInboxCount(pair.target, EMAIL) >= 10 ? true : undefined), 60_000, 10);
    await proxy.refuse(AWAY_MS, 'restart', {dropOpen: true});
    const ended = await run;
    assert.equal(ended.code, 0, describeResult(ended));
    const mailbox = (await readBatchState(stateDir, 'rr')).mailboxes[EMAIL]!;
    assert.equal(mailbox.status, 'Synced', JSON.stringify(mailbox.error));
    const check = await exactCheck(pair.source, pair.target, [{sourceLogin: LOGIN, targetLogin: EMAIL}]);
    assert.deepEqual({lost: check.lost, duplicated: check.duplicated, problems: check.problems}, {lost: 0, duplicated: 0, problems: []});
    assert.ok(check.messages > 0);
  });
});
