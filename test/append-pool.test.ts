// The APPEND pool's accounting: every job pushed gets exactly one result or comes back from
// close(), so the shared body budget is always given back, also when a stop closes the pool while
// an APPEND is in flight. Pure: the connections here are in-memory stand-ins for the append call
// only; the pool speaks no IMAP itself (the real connections are tested against Dovecot).

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {AppendPool, type AppendConnection, type AppendJob} from '../source/engine/copy/append-workers.js';
import {MigrationError, type ErrorKind} from '../source/imap/imap-error.js';

function job(uid: number, budgetBytes = 100): AppendJob {
  return {sourceFolder: 'INBOX', targetPath: 'INBOX', uid, size: budgetBytes, budgetBytes, flags: [], source: Buffer.alloc(1)};
}

function failing(kind: ErrorKind): (error: unknown) => MigrationError {
  return () => new MigrationError({kind, message: kind, hint: '', retryable: kind === 'connection-lost'});
}

/** A connection whose APPENDs wait until the test settles them. */
function manualConnection() {
  const waiting: {resolve: (value: {uid: number}) => void; reject: (error: Error) => void}[] = [];
  const connection: AppendConnection = {
    append: () => new Promise((resolve, reject) => waiting.push({resolve, reject})),
  };
  return {connection, waiting};
}

/**
 * Until the pool has done all it can before the test settles another APPEND: it uses no timers,
 * only promises, so that is when the microtask queue has run empty (the next macrotask), not
 * after a guessed number of milliseconds.
 */
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('AppendPool', () => {
  it('gives every job back when a stop closes the pool while an APPEND is in flight', async () => {
    const {connection, waiting} = manualConnection();
    let released = 0;
    const pool = new AppendPool({translate: failing('connection-lost'), onResult: (done) => (released += done.budgetBytes)});
    pool.addConnection(connection, 1);
    await pool.push(job(1, 1000));
    await pool.push(job(2, 500));
    await tick();
    assert.equal(waiting.length, 1, 'one APPEND in flight');
    const closing = pool.close();
    waiting[0]!.reject(new Error('socket closed'));
    for (const dropped of await closing) released += dropped.budgetBytes;
    assert.equal(released, 1500);
  });

  it('reports item failures per job and keeps going; a connection failure stops the pool', async () => {
    const {connection, waiting} = manualConnection();
    const results: string[] = [];
    const pool = new AppendPool({
      translate: (error) => failing((error as Error).message === 'too big' ? 'too-large' : 'connection-lost')(error),
      onResult: (done, result) => results.push(`${done.uid}:${result.ok ? 'ok' : result.error.kind}`),
    });
    pool.addConnection(connection, 2);
    for (const uid of [1, 2, 3]) await pool.push(job(uid));
    await tick();
    waiting[0]!.reject(new Error('too big'));
    waiting[1]!.resolve({uid: 10});
    await tick();
    waiting[2]!.reject(new Error('reset'));
    await assert.rejects(pool.drain(), (error: MigrationError) => error.kind === 'connection-lost');
    assert.deepEqual(results, ['1:too-large', '2:ok']);
    const dropped = await pool.close();
    assert.deepEqual(dropped.map((left) => left.uid), [3], 'the job whose connection failed comes back');
  });

  it('runs as many APPENDs at once as the connections have lanes', async () => {
    const {connection, waiting} = manualConnection();
    const pool = new AppendPool({translate: failing('rejected'), onResult: () => {}});
    pool.addConnection(connection, 4);
    for (let uid = 1; uid <= 6; uid++) await pool.push(job(uid));
    await tick();
    assert.equal(waiting.length, 4);
    for (const pending of waiting.splice(0)) pending.resolve({uid: 1});
    await tick();
    assert.equal(waiting.length, 2);
    for (const pending of waiting.splice(0)) pending.resolve({uid: 2});
    await pool.drain();
    assert.deepEqual(await pool.close(), []);
  });
});
