// Where the target Dovecots keep their mail. Each run starts on an empty target and the one
// before is deleted, so every run creates the corpus's files again right after thousands were
// removed. On ext4 without a journal (this machine's root) the kernel then skips every inode
// freed in the last minute or more while looking for a free one (fs/ext4/ialloc.c,
// find_inode_bit() and recently_deleted(), one buffer lookup per skipped inode): the target's
// CPU for the same corpus swung from 3.9 s to 10.3 s depending on what ran just before, which
// decided the ratios more than the tools did. In RAM (tmpfs) that cost is gone for
// every tool alike; when RAM is short the bench stays on disk and says so.

import {existsSync, readFileSync, statfsSync} from 'node:fs';
import os from 'node:os';

const TMPFS_MAGIC = 0x01021994;
const SHM = '/dev/shm';

export interface TargetStorage {
  /** Parent directory for target servers; undefined: the system temp dir. */
  parentDir?: string;
  /** One line for RESULTS.md. */
  description: string;
}

function memAvailableBytes(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'latin1'));
    return match ? Number(match[1]) * 1024 : os.freemem();
  } catch {
    return os.freemem();
  }
}

/** `largestTargetBytes`: the most mail one target holds at once (one run's corpus). */
export function chooseTargetStorage(largestTargetBytes: number, forceDisk: boolean): TargetStorage {
  const onDisk = (why: string): TargetStorage => ({
    description: `target servers' mail on disk (${os.tmpdir()}): ${why}; runs that follow a deleted target can pay for the deleted inodes (see bench/target-storage.ts)`,
  });
  if (forceDisk) return onDisk('--target-on-disk');
  if (!existsSync(SHM)) return onDisk(`${SHM} does not exist`);
  try {
    const fs = statfsSync(SHM);
    if (fs.type !== TMPFS_MAGIC) return onDisk(`${SHM} is not tmpfs`);
    // Room for the data plus Dovecot's indexes, and RAM left over for everything else.
    const needed = Math.ceil(largestTargetBytes * 1.2) + 512 * 1024 * 1024;
    if (fs.bavail * fs.bsize < needed) return onDisk(`${SHM} has less than ${(needed / 2 ** 30).toFixed(1)} GiB free`);
    if (memAvailableBytes() < 2 * needed) return onDisk(`less than ${((2 * needed) / 2 ** 30).toFixed(1)} GiB of RAM available`);
  } catch (error) {
    return onDisk(`cannot check ${SHM}: ${String(error)}`);
  }
  return {parentDir: SHM, description: `target servers' mail in RAM (tmpfs ${SHM}), so that deleting one run's target does not slow the next run's (see bench/target-storage.ts)`};
}
