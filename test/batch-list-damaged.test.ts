// `batch list` with a batch whose head file is damaged (fault campaign, state-file: it showed
// "NAME 0 mailbox(es)" and exited 0, as if the batch were empty).

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {runBatchCommand} from '../source/headless/batch-command.js';
import {captureIo, makeWorkDir, removeWorkDir} from './helpers/batch-fixture.js';

test('a damaged batch is listed with what is wrong and where its backup is, and the exit code says so', async () => {
  const dir = await makeWorkDir('list-damaged');
  try {
    await mkdir(path.join(dir, 'batches'), {recursive: true});
    const head = path.join(dir, 'batches', 'spring.json');
    await writeFile(head, '{"version":2,"layout":"sharded","batch":{"na');
    const capture = captureIo();
    const code = await runBatchCommand(['list', '--state-dir', dir], capture.io);
    assert.equal(code, 1);
    assert.match(capture.stdout(), /^spring\tstate cannot be read: State file .*spring\.json is damaged/m);
    assert.ok(capture.stdout().includes(`${head}.bak`), capture.stdout());
    assert.doesNotMatch(capture.stdout(), /0 mailbox\(es\)/);
  } finally {
    await removeWorkDir(dir);
  }
});
