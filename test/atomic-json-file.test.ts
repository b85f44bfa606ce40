import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {AtomicJsonFile} from '../source/store/atomic-json-file.js';
import {MigrationError} from '../source/imap/imap-error.js';

const adapterModule = fileURLToPath(new URL('../source/store/atomic-json-file.ts', import.meta.url));

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailferry-atomic-'));
});
after(() => {
  rmSync(dir, {recursive: true, force: true});
});

let counter = 0;
function freshFile(): string {
  counter += 1;
  return join(dir, `state-${counter}.json`);
}

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

/** A pid that certainly belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('AtomicJsonFile basics', () => {
  it('reads null when there is no file', async () => {
    assert.equal(await new AtomicJsonFile(freshFile()).read(), null);
  });

  it('round-trips compact JSON', async () => {
    const file = freshFile();
    const adapter = new AtomicJsonFile<{a: number; b: string[]}>(file);
    await adapter.write({a: 1, b: ['x', 'y']});
    assert.equal(readFileSync(file, 'utf8'), '{"a":1,"b":["x","y"]}');
    assert.deepEqual(await adapter.read(), {a: 1, b: ['x', 'y']});
  });

  it('writes bigint values as decimal strings instead of crashing', async () => {
    const file = freshFile();
    await new AtomicJsonFile<unknown>(file).write({uidValidity: 18446744073709551615n, n: 1});
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {uidValidity: '18446744073709551615', n: 1});
  });

  it('creates the file with mode 0600', async () => {
    const file = freshFile();
    await new AtomicJsonFile(file).write({a: 1});
    assert.equal(mode(file), 0o600);
  });

  it('leaves mode 0600 on a file that existed with a looser mode', async () => {
    const file = freshFile();
    writeFileSync(file, '{"old":true}');
    chmodSync(file, 0o644);
    await new AtomicJsonFile(file).write({a: 1});
    assert.equal(mode(file), 0o600);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {a: 1});
  });

  it('writeSync writes the same way, mode 0600, no temp file left', async () => {
    const file = freshFile();
    writeFileSync(file, '{}', {mode: 0o666});
    chmodSync(file, 0o666);
    new AtomicJsonFile(file).writeSync({sync: 1n});
    assert.equal(readFileSync(file, 'utf8'), '{"sync":"1"}');
    assert.equal(mode(file), 0o600);
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith(`${file.split('/').pop()}.tmp`)), []);
  });

  it('passes parsed data through the parse option', async () => {
    const file = freshFile();
    writeFileSync(file, '{"v":1}');
    const adapter = new AtomicJsonFile<{v: number; upgraded: boolean}>(file, {parse: (raw) => ({...(raw as {v: number}), upgraded: true})});
    assert.deepEqual(await adapter.read(), {v: 1, upgraded: true});
  });

  it('writes nothing when the check option refuses the data', async () => {
    const file = freshFile();
    const adapter = new AtomicJsonFile<{secret?: string; a: number}>(file, {
      check: (data) => {
        if (data.secret) throw new Error('refused');
      },
    });
    await adapter.write({a: 1});
    await assert.rejects(adapter.write({a: 2, secret: 'x'}), /refused/);
    assert.equal(readFileSync(file, 'utf8'), '{"a":1}');
    assert.throws(() => adapter.writeSync({a: 3, secret: 'x'}), /refused/);
    assert.equal(readFileSync(file, 'utf8'), '{"a":1}');
  });

  it('writeNew refuses to replace an existing file', async () => {
    const file = freshFile();
    const adapter = new AtomicJsonFile(file);
    await adapter.writeNew({first: true});
    await assert.rejects(adapter.writeNew({first: false}), (error: NodeJS.ErrnoException) => error.code === 'EEXIST');
    assert.equal(readFileSync(file, 'utf8'), '{"first":true}');
    assert.equal(mode(file), 0o600);
  });
});

describe('AtomicJsonFile damage and crashes', () => {
  it('a corrupt file gives an error naming the file and the .bak copy', async () => {
    const file = freshFile();
    writeFileSync(file, '{"a":1,"b":[');
    await assert.rejects(new AtomicJsonFile(file).read(), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, new RegExp(`State file ${file} is damaged`));
      assert.match(error.hint, new RegExp(`${file}\\.bak`));
      return true;
    });
  });

  it('an empty file is reported as damaged, not read as no state', async () => {
    const file = freshFile();
    writeFileSync(file, '');
    await assert.rejects(new AtomicJsonFile(file).read(), /is empty/);
  });

  it('a partial temp file from an interrupted write leaves the previous state readable and writable', async () => {
    const file = freshFile();
    const adapter = new AtomicJsonFile<{n: number}>(file);
    await adapter.write({n: 1});
    // What a crash between the temp write and the rename leaves behind.
    writeFileSync(`${file}.tmp-${process.pid}`, '{"n":2,"trunc');
    writeFileSync(`${file}.tmp-999999999`, '{"n":3');
    assert.deepEqual(await new AtomicJsonFile(file).read(), {n: 1});
    await adapter.write({n: 4});
    assert.deepEqual(await new AtomicJsonFile(file).read(), {n: 4});
  });

  it('removeStaleTempFiles deletes temp files of dead processes only', async () => {
    const file = freshFile();
    const dead = await deadPid();
    const name = file.split('/').pop()!;
    writeFileSync(`${file}.tmp-${dead}`, 'x');
    writeFileSync(`${file}.tmp-${dead}-exit`, 'x');
    writeFileSync(`${file}.bak.tmp-${dead}`, 'x');
    writeFileSync(`${file}.tmp-${process.pid}`, 'x');
    new AtomicJsonFile(file).removeStaleTempFiles();
    const left = readdirSync(dir).filter((entry) => entry.startsWith(name)).sort();
    assert.deepEqual(left, [`${name}.tmp-${process.pid}`]);
  });

  it('a process killed mid-write in a loop always leaves a valid state, never older than before', {timeout: 120_000}, async () => {
    const file = freshFile();
    // The child rewrites the file as fast as it can with a payload big enough that the kill
    // usually lands inside a write; every state carries a check value derived from its number.
    const child = `
      import {AtomicJsonFile} from ${JSON.stringify(adapterModule)};
      const adapter = new AtomicJsonFile(${JSON.stringify(file)});
      let seq = ((await adapter.read())?.seq ?? 0);
      const payload = 'p'.repeat(1_500_000);
      for (;;) {
        seq += 1;
        await adapter.write({seq, check: seq * 7, payload});
        process.stdout.write(seq + '\\n');
      }
    `;
    let lastSeq = 0;
    let leftovers = 0;
    // At least 8 rounds, and more (up to 40) until a kill has been seen to land mid-write.
    for (let round = 0; round < 40 && (round < 8 || leftovers === 0); round++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], {stdio: ['ignore', 'pipe', 'inherit']});
      let written = 0;
      const firstWrites = new Promise<void>((resolve) => {
        proc.stdout!.on('data', (chunk: Buffer) => {
          written += chunk.toString().split('\n').length - 1;
          if (written >= 2) resolve();
        });
      });
      const exited = new Promise((resolve) => proc.on('exit', resolve));
      await Promise.race([firstWrites, exited]);
      // A different point inside the write cycle each round.
      await new Promise((resolve) => setTimeout(resolve, (round * 37) % 90));
      proc.kill('SIGKILL');
      await exited;
      const state = (await new AtomicJsonFile<{seq: number; check: number; payload: string}>(file).read())!;
      assert.ok(state, `round ${round}: no state at all`);
      assert.equal(state.check, state.seq * 7, `round ${round}: state mixes two writes`);
      assert.equal(state.payload.length, 1_500_000, `round ${round}: payload truncated`);
      assert.ok(state.seq >= lastSeq + 2, `round ${round}: state went back or lost confirmed writes (${state.seq} after ${lastSeq})`);
      lastSeq = state.seq;
      if (existsSync(`${file}.tmp-${proc.pid}`)) leftovers += 1;
    }
    // Proof that kills did land mid-write (a temp file was left behind) at least once.
    assert.ok(leftovers > 0, 'no kill landed inside a write; the test proved nothing');
  });
});

describe('AtomicJsonFile write ordering', () => {
  it('serializes overlapping writes: newest data wins, a resolved write is on disk', async () => {
    const file = freshFile();
    const serialized: number[] = [];
    const adapter = new AtomicJsonFile<{seq: number; pad: string}>(file, {check: (data) => void serialized.push(data.seq)});
    const pad = 'x'.repeat(200_000);
    const writes: Promise<void>[] = [];
    for (let seq = 1; seq <= 30; seq++) {
      const done = adapter.write({seq, pad}).then(async () => {
        const onDisk = (await new AtomicJsonFile<{seq: number}>(file).read())!.seq;
        assert.ok(onDisk >= seq, `write ${seq} resolved while the file held ${onDisk}`);
      });
      writes.push(done);
      // Let some writes start while others are queued.
      if (seq % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(writes);
    assert.equal((await adapter.read())!.seq, 30);
    // Writes queued behind a running one collapse: fewer disk writes than calls, in order.
    assert.ok(serialized.length < 30, `${serialized.length} disk writes for 30 calls`);
    assert.deepEqual(serialized, [...serialized].sort((a, b) => a - b));
    assert.equal(serialized[serialized.length - 1], 30);
  });

  it('a failed write does not block the next one', async () => {
    const file = freshFile();
    let refuse = true;
    const adapter = new AtomicJsonFile<{n: number}>(file, {
      check: () => {
        if (refuse) throw new Error('refused');
      },
    });
    await assert.rejects(adapter.write({n: 1}));
    refuse = false;
    await adapter.write({n: 2});
    assert.deepEqual(await adapter.read(), {n: 2});
  });
});

describe('AtomicJsonFile backup copy', () => {
  it('keeps the previous good file as .bak, mode 0600', async () => {
    const file = freshFile();
    const adapter = new AtomicJsonFile<{n: number}>(file, {backupIntervalMs: 0});
    await adapter.write({n: 1});
    assert.equal(existsSync(`${file}.bak`), false);
    await adapter.write({n: 2});
    assert.equal(readFileSync(`${file}.bak`, 'utf8'), '{"n":1}');
    assert.equal(mode(`${file}.bak`), 0o600);
    await adapter.write({n: 3});
    assert.equal(readFileSync(`${file}.bak`, 'utf8'), '{"n":2}');
  });

  it('rotates at most once per interval', async () => {
    const file = freshFile();
    const adapter = new AtomicJsonFile<{n: number}>(file); // default: one minute
    for (let n = 1; n <= 5; n++) await adapter.write({n});
    assert.equal(readFileSync(`${file}.bak`, 'utf8'), '{"n":1}');
  });

  it('never replaces a good .bak with a damaged file', async () => {
    const file = freshFile();
    const first = new AtomicJsonFile<{n: number}>(file, {backupIntervalMs: 0});
    await first.write({n: 1});
    await first.write({n: 2});
    writeFileSync(file, '{"n":');
    await new AtomicJsonFile<{n: number}>(file, {backupIntervalMs: 0}).write({n: 3});
    assert.equal(readFileSync(`${file}.bak`, 'utf8'), '{"n":1}');
    assert.equal(readFileSync(file, 'utf8'), '{"n":3}');
  });
});
