import {describe, it} from 'node:test';
import {strict as assert} from 'node:assert';
import {parseMigrationCsv} from '../source/engine/csv/migration-csv.js';
import {csvOptionsForSource} from '../source/engine/credentials/oauth-identity.js';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {runCheckCsv} from '../source/headless/check-csv-command.js';

describe('the migration CSV with OAuth2 on the source', () => {
  it('needs no Password column, nor a password on each row', () => {
    const csv = 'EmailAddress,UserName\nalice@x.test,alice\n';
    assert.equal(parseMigrationCsv(csv).usable, false, 'with passwords the column is required');
    const oauth = parseMigrationCsv(csv, csvOptionsForSource({kind: 'oauth2'}));
    assert.equal(oauth.usable, true, JSON.stringify(oauth.problems));
    assert.equal(oauth.rows[0]?.password, '');
    assert.equal(parseMigrationCsv('EmailAddress,UserName,Password\nalice@x.test,alice,\n', csvOptionsForSource({kind: 'oauth2-admin', adminUser: 'a'})).usable, true);
    assert.deepEqual(csvOptionsForSource({kind: 'csv'}), {});
  });
});

describe('mailferry check-csv --oauth2-source', () => {
  it('accepts a CSV without passwords only when told the source uses OAuth2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailferry-oauth-csv-'));
    try {
      const path = join(dir, 'users.csv');
      await writeFile(path, 'EmailAddress,UserName\nalice@x.test,alice\n', {mode: 0o600});
      const run = async (argv: string[]) => {
        const stdout = new PassThrough();
        let out = '';
        stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
        return {code: await runCheckCsv(argv, {stdout, stderr: new PassThrough()}), out};
      };
      assert.equal((await run([path])).code, 1);
      const oauth = await run([path, '--oauth2-source']);
      assert.equal(oauth.code, 0, oauth.out);
      assert.match(oauth.out, /Usable/);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });
});
