import {describe, it} from 'node:test';
import {strict as assert} from 'node:assert';
import {parseMigrationCsv} from '../source/engine/csv/migration-csv.js';
import {csvOptionsForSource} from '../source/engine/credentials/oauth-identity.js';

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
