import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {checkSecretFileMode, describeSecretSource, readSecret} from '../source/engine/credentials/secret-source.js';
import {MigrationError} from '../source/imap/imap-error.js';
import {redact} from '../source/log/secret-redaction.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailferry-secret-'));
});
after(async () => {
  await rm(dir, {recursive: true, force: true});
});

const isConfigError = (pattern: RegExp, forbidden?: string) => (error: unknown) => {
  assert.ok(error instanceof MigrationError, String(error));
  assert.equal(error.kind, 'config');
  assert.match(error.message, pattern);
  assert.ok(error.hint.length > 0);
  if (forbidden) assert.ok(!`${error.message} ${error.hint}`.includes(forbidden));
  return true;
};

describe('readSecret from a file', () => {
  const cases: Array<[name: string, content: string, expected: string]> = [
    ['trailing newline', 'Adm1n-file-pw\n', 'Adm1n-file-pw'],
    ['no newline', 'Adm1n-file-pw', 'Adm1n-file-pw'],
    ['CRLF', 'Adm1n-file-pw\r\n', 'Adm1n-file-pw'],
    ['only the first line', 'Adm1n-file-pw\nsecond line\n', 'Adm1n-file-pw'],
    ['spaces are part of the secret', '  spaced pw  \n', '  spaced pw  '],
    ['a BOM from a Windows editor is not', '\uFEFFAdm1n-bom-pw\r\n', 'Adm1n-bom-pw'],
  ];
  for (const [name, content, expected] of cases) {
    it(name, async () => {
      const path = join(dir, `secret-${name.replace(/\W+/g, '-')}`);
      await writeFile(path, content, {mode: 0o600});
      assert.equal(await readSecret({from: 'file', path}, 'target admin password'), expected);
    });
  }

  it('registers what it read for redaction', async () => {
    const path = join(dir, 'redacted');
    await writeFile(path, 'Redact-me-9931\n', {mode: 0o600});
    await readSecret({from: 'file', path}, 'source admin password');
    assert.equal(redact('login with Redact-me-9931 failed'), 'login with *** failed');
  });

  it('explains a missing file, naming the file and the secret', async () => {
    const path = join(dir, 'missing');
    await assert.rejects(
      readSecret({from: 'file', path}, 'target admin password'),
      isConfigError(/target admin password from file .*missing: the file does not exist/),
    );
  });

  it('refuses an empty first line', async () => {
    const path = join(dir, 'empty');
    await writeFile(path, '\nAdm1n-second-line\n', {mode: 0o600});
    await assert.rejects(readSecret({from: 'file', path}, 'target admin password'), isConfigError(/is empty/, 'Adm1n-second-line'));
  });
});

describe('checkSecretFileMode', () => {
  it('warns when group or others can read the file, says who, and gives the chmod to run', async () => {
    const path = join(dir, 'open-mode');
    await writeFile(path, 'x\n');
    await chmod(path, 0o644);
    assert.deepEqual(await checkSecretFileMode(path, 'migration CSV'), {
      path,
      what: 'migration CSV',
      mode: 0o644,
      message: `The migration CSV ${path} holds passwords and can be read by every user on this machine (mode 0644); restrict it with: chmod 600 ${path}`,
    });
    await chmod(path, 0o640);
    assert.match((await checkSecretFileMode(path, 'target admin password file'))?.message ?? '', /^The target admin password file .* can be read by its group \(mode 0640\)/);
  });

  it('is quiet for a private file and for one it cannot examine', async () => {
    const path = join(dir, 'private-mode');
    await writeFile(path, 'x\n');
    await chmod(path, 0o600);
    assert.equal(await checkSecretFileMode(path, 'migration CSV'), undefined);
    assert.equal(await checkSecretFileMode(join(dir, 'no-such-file'), 'migration CSV'), undefined);
  });
});

describe('readSecret from the environment', () => {
  const name = 'MAILFERRY_TEST_SECRET_' + process.pid;
  after(() => {
    delete process.env[name];
  });

  it('returns the value as is', async () => {
    process.env[name] = ' Env-secret-77 ';
    assert.equal(await readSecret({from: 'env', name}, 'source admin password'), ' Env-secret-77 ');
  });

  it('says when the variable is not set', async () => {
    delete process.env[name];
    await assert.rejects(readSecret({from: 'env', name}, 'source admin password'), isConfigError(new RegExp(`${name} is not set`)));
  });

  it('says when the variable is empty', async () => {
    process.env[name] = '';
    await assert.rejects(readSecret({from: 'env', name}, 'source admin password'), isConfigError(new RegExp(`${name} is empty`)));
  });
});

/** A stream that claims to be a terminal, recording raw-mode switches. */
function fakeTerminal() {
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    isRaw: false,
    rawModes: [] as boolean[],
    setRawMode(mode: boolean) {
      input.isRaw = mode;
      input.rawModes.push(mode);
      return input;
    },
  });
  const output = new PassThrough();
  let shown = '';
  output.on('data', (chunk: Buffer) => {
    shown += chunk.toString();
  });
  return {input, output, shown: () => shown};
}

describe('readSecret from a prompt', () => {
  it('refuses with a clear error when stdin is not a terminal', async () => {
    await assert.rejects(
      readSecret({from: 'prompt'}, 'target admin password', {input: new PassThrough(), output: new PassThrough()}),
      isConfigError(/Cannot prompt for the target admin password: standard input is not a terminal/),
    );
  });

  it('reads a line in raw mode without echoing it; backspace and arrow keys are handled', async () => {
    const terminal = fakeTerminal();
    const secret = readSecret({from: 'prompt'}, 'target admin password', terminal);
    terminal.input.write('Typ3d-sec');
    terminal.input.write('x\u007f');
    terminal.input.write('\u001b[Dret\r');
    assert.equal(await secret, 'Typ3d-secret');
    assert.deepEqual(terminal.input.rawModes, [true, false]);
    assert.match(terminal.shown(), /Enter the target admin password/);
    assert.ok(!terminal.shown().includes('Typ3d'));
  });

  it('is cancelled by Ctrl-C', async () => {
    const terminal = fakeTerminal();
    const secret = readSecret({from: 'prompt'}, 'source admin password', terminal);
    terminal.input.write('abc\u0003');
    await assert.rejects(secret, isConfigError(/cancelled/));
    assert.equal(terminal.input.isRaw, false);
  });

  it('refuses an empty answer', async () => {
    const terminal = fakeTerminal();
    const secret = readSecret({from: 'prompt'}, 'source admin password', terminal);
    terminal.input.write('\r');
    await assert.rejects(secret, isConfigError(/No source admin password was entered/));
  });
});

describe('describeSecretSource', () => {
  it('names the source without the secret', () => {
    assert.equal(describeSecretSource({from: 'file', path: '/etc/mailferry/admin.pw'}), 'file /etc/mailferry/admin.pw');
    assert.equal(describeSecretSource({from: 'env', name: 'TARGET_PW'}), 'env TARGET_PW');
    assert.equal(describeSecretSource({from: 'prompt'}), 'prompt');
  });
});
