// A lowdb Adapter for one JSON file that is never left half-written: the data goes to a private
// temporary file which is fsynced and then renamed over the target (rename is atomic on POSIX),
// and the directory is fsynced so the rename itself survives a power cut. A crash at any point
// leaves either the previous file or the new one.
//
// lowdb's own JSONFile adapter (steno) does the tmp+rename but neither fsyncs nor sets a mode,
// and JSONFilePreset swaps in an in-memory adapter when NODE_ENV=test, hence this adapter.

import {closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync as writeFdSync, fchmodSync} from 'node:fs';
import {chmod, link, open, readFile, rename, unlink} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import type {Adapter} from 'lowdb';
import {MigrationError} from '../imap/imap-error.js';

export interface AtomicJsonFileOptions<T> {
  /** Turns parsed JSON into T (validation, upgrades); throw to reject the file. */
  parse?: (raw: unknown) => T;
  /** Runs on the data before every write; throw to refuse the write. */
  check?: (data: T) => void;
  /** Least time between two rotations of `<file>.bak` (default one minute). */
  backupIntervalMs?: number;
  /** Called after each successful write with the bytes written (state write statistics). */
  onWritten?: (bytes: number) => void;
}

const FILE_MODE = 0o600;

export class AtomicJsonFile<T> implements Adapter<T> {
  readonly file: string;
  readonly backupFile: string;
  private readonly tempFile: string;
  private readonly options: AtomicJsonFileOptions<T>;
  private lastBackupAt = Number.NEGATIVE_INFINITY;
  /** The write running now (settled, never rejecting), so the next one starts after it. */
  private inFlight: Promise<void> = Promise.resolve();
  /** The write waiting for inFlight; later writes join it and only the newest data is written. */
  private queued: Promise<void> | undefined;
  private pending: {data: T} | undefined;

  constructor(file: string, options: AtomicJsonFileOptions<T> = {}) {
    this.file = file;
    this.backupFile = `${file}.bak`;
    this.tempFile = `${file}.tmp-${process.pid}`;
    this.options = options;
  }

  /** The data in the file, or null when there is no file yet. */
  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw this.ioError('read', error);
    }
    return this.decode(text);
  }

  /** read() without event-loop turns, for opening thousands of small files at once. */
  readSync(): T | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw this.ioError('read', error);
    }
    return this.decode(text);
  }

  /**
   * Writes are serialized: a write that arrives while another is on disk waits for it, and
   * several waiting writes collapse into one with the newest data, so two renames never race.
   */
  write(data: T): Promise<void> {
    this.pending = {data};
    if (!this.queued) {
      this.queued = this.inFlight.then(() => {
        const next = this.pending!.data;
        this.pending = undefined;
        this.queued = undefined;
        const run = this.writeNow(next);
        this.inFlight = run.catch(() => undefined);
        return run;
      });
    }
    return this.queued;
  }

  /**
   * Synchronous write for a process 'exit' handler, where no promise will ever settle. It uses
   * its own temporary file so that it cannot mix bytes with an async write still in flight; it
   * skips the backup rotation to stay short.
   */
  writeSync(data: T): void {
    const json = this.serialize(data);
    const temp = `${this.tempFile}-exit`;
    try {
      const fd = openSync(temp, 'w', FILE_MODE);
      try {
        fchmodSync(fd, FILE_MODE);
        writeFdSync(fd, json);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.file);
      fsyncDirectorySync(dirname(this.file));
    } catch (error) {
      removeQuietlySync(temp);
      throw this.ioError('write', error);
    }
    this.options.onWritten?.(Buffer.byteLength(json));
  }

  /** Writes the file only if it does not exist yet (exclusive create; link() fails with EEXIST). */
  async writeNew(data: T): Promise<void> {
    const json = this.serialize(data);
    await this.writeTemp(json);
    try {
      await link(this.tempFile, this.file);
    } catch (error) {
      await removeQuietly(this.tempFile);
      if (errorCode(error) === 'EEXIST') throw error;
      throw this.ioError('write', error);
    }
    await removeQuietly(this.tempFile);
    await fsyncDirectory(dirname(this.file));
    this.options.onWritten?.(Buffer.byteLength(json));
  }

  /** Deletes temporary files left by processes that died mid-write (their pid is gone). */
  removeStaleTempFiles(): void {
    const prefixes = [`${basename(this.file)}.tmp-`, `${basename(this.backupFile)}.tmp-`];
    let names: string[];
    try {
      names = readdirSync(dirname(this.file));
    } catch {
      return;
    }
    for (const name of names) {
      const prefix = prefixes.find((candidate) => name.startsWith(candidate));
      if (!prefix) continue;
      const pid = Number.parseInt(name.slice(prefix.length), 10);
      if (Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid)) removeQuietlySync(join(dirname(this.file), name));
    }
  }

  private async writeNow(data: T): Promise<void> {
    const json = this.serialize(data);
    await this.writeTemp(json);
    try {
      await this.rotateBackup();
      await rename(this.tempFile, this.file);
    } catch (error) {
      await removeQuietly(this.tempFile);
      throw this.ioError('write', error);
    }
    await fsyncDirectory(dirname(this.file));
    this.options.onWritten?.(Buffer.byteLength(json));
  }

  private async writeTemp(json: string): Promise<void> {
    try {
      const handle = await open(this.tempFile, 'w', FILE_MODE);
      try {
        // A temp file left by an earlier process with this pid keeps its old mode under 'w'.
        await handle.chmod(FILE_MODE);
        await handle.writeFile(json, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      await removeQuietly(this.tempFile);
      throw this.ioError('write', error);
    }
  }

  /**
   * Keeps the current file as `<file>.bak` before it is replaced, at most once per interval:
   * cheap insurance if the file is ever damaged outside our control (disk full on a filesystem
   * that lies about fsync, an editor). A hard link costs no copy. Only a file that parses is
   * kept, so a damaged file never replaces a good backup.
   */
  private async rotateBackup(): Promise<void> {
    const now = Date.now();
    if (now - this.lastBackupAt < (this.options.backupIntervalMs ?? 60_000)) return;
    try {
      JSON.parse(await readFile(this.file, 'utf8'));
    } catch {
      return; // no file yet, or not valid JSON: keep whatever backup there is
    }
    this.lastBackupAt = now;
    const linkTemp = `${this.backupFile}.tmp-${process.pid}`;
    await removeQuietly(linkTemp);
    await link(this.file, linkTemp);
    await rename(linkTemp, this.backupFile);
    // The old file may have had a looser mode; the backup holds the same data, so same rule.
    await chmod(this.backupFile, FILE_MODE);
  }

  private serialize(data: T): string {
    this.options.check?.(data);
    try {
      return JSON.stringify(data);
    } catch (error) {
      // Only a BigInt makes JSON.stringify throw on our data; the replacer is slower, so it is
      // the fallback rather than the rule.
      if (!(error instanceof TypeError)) throw error;
      return JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    }
  }

  private decode(text: string): T {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new MigrationError({
        kind: 'config',
        message: `State file ${this.file} is damaged and cannot be read (${text.length === 0 ? 'it is empty' : (error as Error).message})`,
        hint: `The last good state may be in ${this.backupFile}: check it and copy it over ${this.file}, or remove the batch and create it again`,
        retryable: false,
      });
    }
    return this.options.parse ? this.options.parse(raw) : (raw as T);
  }

  private ioError(action: 'read' | 'write', error: unknown): MigrationError {
    if (error instanceof MigrationError) return error;
    const code = errorCode(error);
    const hint =
      code === 'ENOSPC' || code === 'EDQUOT'
        ? `Free disk space in ${dirname(this.file)}; the previous state file is kept`
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? `Check that ${dirname(this.file)} is writable by this user, or choose another state directory`
          : `Check the state directory ${dirname(this.file)}`;
    return new MigrationError(
      {kind: 'config', message: `Could not ${action} state file ${this.file}: ${code ?? (error as Error)?.message ?? String(error)}`, hint, retryable: false},
      {cause: error},
    );
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}

export function errorCode(error: unknown): string | undefined {
  return error && typeof error === 'object' && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

async function fsyncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory (EINVAL); the rename has happened regardless.
  }
}

function fsyncDirectorySync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // As above: best effort.
  }
}

async function removeQuietly(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}

function removeQuietlySync(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
