import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {DEFAULT_SETTINGS, type BatchDefinition} from '../source/engine/batch-model.js';
import type {MigrationRow} from '../source/engine/csv/migration-csv.js';
import {exposedSecretFiles} from '../source/engine/credentials/secret-file-exposure.js';
import {makeEndpoint} from '../source/imap/endpoint.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailferry-exposure-'));
});
after(async () => {
  await rm(dir, {recursive: true, force: true});
});

async function fileWithMode(name: string, mode: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, 'x\n');
  await chmod(path, mode);
  return path;
}

function definition(csvPath: string, credentials: Pick<BatchDefinition, 'sourceCredentials' | 'targetCredentials'>): BatchDefinition {
  const endpoint = makeEndpoint({host: '127.0.0.1', port: 143, security: 'none'});
  return {name: 'b', createdAt: '2026-11-22T00:00:00.000Z', csvPath, source: endpoint, target: endpoint, settings: DEFAULT_SETTINGS, ...credentials};
}

const row = (password: string, targetPassword?: string): MigrationRow =>
  ({line: 2, emailAddress: 'a@example.test', userName: 'a', password, ...(targetPassword === undefined ? {} : {targetPassword})}) as MigrationRow;

describe('exposedSecretFiles', () => {
  it('names the CSV when its rows carry passwords and others can read it', async () => {
    const csv = await fileWithMode('open.csv', 0o644);
    const csvModes = {sourceCredentials: {kind: 'csv'}, targetCredentials: {kind: 'csv'}} as const;
    const [exposed, ...rest] = await exposedSecretFiles(definition(csv, csvModes), [row('pw')]);
    assert.equal(exposed?.path, csv);
    assert.match(exposed?.message ?? '', new RegExp(`^The migration CSV ${csv} holds passwords .*every user.*chmod 600 ${csv}$`));
    assert.deepEqual(rest, []);
    // Only target passwords in it: still secrets.
    assert.equal((await exposedSecretFiles(definition(csv, csvModes), [row('', 'tpw')])).length, 1);
    // No passwords in it at all (admin logins on both sides): nothing to protect.
    const adminModes = {
      sourceCredentials: {kind: 'authzid', adminUser: 'admin', adminSecret: {from: 'env', name: 'X'}},
      targetCredentials: {kind: 'login-pattern', pattern: '{email}*admin', adminSecret: {from: 'env', name: 'Y'}},
    } as const;
    assert.deepEqual(await exposedSecretFiles(definition(csv, adminModes), [row('')]), []);
  });

  it('names admin password files others can read, and is quiet for private ones', async () => {
    const csv = await fileWithMode('private.csv', 0o600);
    const sourceFile = await fileWithMode('source-admin', 0o640);
    const targetFile = await fileWithMode('target-admin', 0o600);
    const modes = {
      sourceCredentials: {kind: 'authzid', adminUser: 'admin', adminSecret: {from: 'file', path: sourceFile}},
      targetCredentials: {kind: 'authzid', adminUser: 'admin', adminSecret: {from: 'file', path: targetFile}},
    } as const;
    const exposed = await exposedSecretFiles(definition(csv, modes), [row('pw')]);
    assert.deepEqual(exposed.map((file) => [file.what, file.mode]), [['source admin password file', 0o640]]);
    assert.match(exposed[0]!.message, new RegExp(`^The source admin password file ${sourceFile} .*its group \\(mode 0640\\)`));
    await chmod(targetFile, 0o604);
    assert.match((await exposedSecretFiles(definition(csv, modes), [row('pw')]))[1]?.message ?? '', /^The target admin password file .*every user/);
  });
});
