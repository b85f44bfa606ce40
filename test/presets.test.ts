import {test} from 'node:test';
import assert from 'node:assert/strict';
import {PRESETS, endpointFromPreset, presetById} from '../source/imap/presets.js';
import {MIGRATION_CAPABILITIES, summarizeCapabilities} from '../source/imap/capabilities.js';

const expected = [
  {id: 'gmail', host: 'imap.gmail.com', port: 993, security: 'tls', oauth2: 'recommended', maxConnections: 15, hint: /app password/},
  {id: 'microsoft365', host: 'outlook.office365.com', port: 993, security: 'tls', oauth2: 'required', maxConnections: 20, hint: /OAuth2/},
  {id: 'yahoo', host: 'imap.mail.yahoo.com', port: 993, security: 'tls', oauth2: 'none', maxConnections: 5, hint: /app password/},
  {id: 'other', host: '', port: 993, security: 'tls', oauth2: 'none', maxConnections: 100, hint: /993/},
] as const;

for (const row of expected) {
  test(`preset ${row.id}`, () => {
    const preset = presetById(row.id);
    assert.ok(preset, `${row.id} exists`);
    assert.deepEqual(
      {host: preset.host, port: preset.port, security: preset.security, oauth2: preset.oauth2, maxConnections: preset.maxConnections},
      {host: row.host, port: row.port, security: row.security, oauth2: row.oauth2, maxConnections: row.maxConnections},
    );
    assert.ok(preset.hints.some((hint) => row.hint.test(hint)), `${row.id} hints mention ${row.hint}`);
    assert.ok(preset.label.length > 0);
  });
}

test('presets are listed in the order the UI shows them, Other last', () => {
  assert.deepEqual(
    PRESETS.map((preset) => preset.id),
    ['gmail', 'microsoft365', 'yahoo', 'other'],
  );
  assert.equal(presetById('aol'), undefined);
});

test('endpointFromPreset fills the endpoint and keeps overrides', () => {
  const gmail = endpointFromPreset(presetById('gmail')!);
  assert.equal(gmail.preset, 'gmail');
  assert.equal(gmail.host, 'imap.gmail.com');
  assert.equal(gmail.port, 993);
  assert.equal(gmail.security, 'tls');
  assert.equal(gmail.acceptUntrusted, false);
  assert.equal(gmail.maxConnections, 15);
  assert.ok(gmail.timeouts.connectMs > 0);

  const other = endpointFromPreset(presetById('other')!, {host: 'mail.example.test', port: 143, security: 'starttls', maxConnections: undefined});
  assert.equal(other.preset, 'other');
  assert.equal(other.host, 'mail.example.test');
  assert.equal(other.port, 143);
  assert.equal(other.security, 'starttls');
  assert.equal(other.maxConnections, 100, 'an undefined override keeps the preset value');
});

test('summarizeCapabilities reports presence, values and reasons', () => {
  const summary = summarizeCapabilities(['IMAP4rev1', 'uidplus', 'CONDSTORE', 'APPENDLIMIT=35651584', 'COMPRESS=DEFLATE', 'LITERAL+', 'SPECIAL-USE']);
  const byName = new Map(summary.map((row) => [row.name, row]));
  assert.equal(summary.length, MIGRATION_CAPABILITIES.length);
  assert.equal(byName.get('UIDPLUS')?.present, true, 'case-insensitive');
  assert.equal(byName.get('CONDSTORE')?.present, true);
  assert.equal(byName.get('QRESYNC')?.present, false);
  assert.deepEqual(byName.get('APPENDLIMIT'), {name: 'APPENDLIMIT', present: true, value: '35651584', why: byName.get('APPENDLIMIT')!.why});
  assert.equal(byName.get('COMPRESS=DEFLATE')?.present, true);
  assert.equal(byName.get('COMPRESS=DEFLATE')?.value, undefined);
  assert.equal(byName.get('LITERAL+')?.present, true);
  assert.equal(byName.get('LITERAL-')?.present, false);
  for (const name of ['UIDPLUS', 'CONDSTORE', 'QRESYNC', 'SPECIAL-USE', 'LITERAL+', 'MULTIAPPEND', 'APPENDLIMIT', 'COMPRESS=DEFLATE', 'UTF8=ACCEPT', 'NAMESPACE']) {
    assert.ok(byName.get(name)?.why, `${name} is explained`);
  }
});
