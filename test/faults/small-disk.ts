// A real full disk for one target user: a tmpfs of a given size mounted on the user's home (its
// Maildir and indexes), so Dovecot's writes fail with ENOSPC as on a full volume. Needs root
// (mount); `available()` says whether this machine lets us, so the scenario can fall back to a quota.

import {execFile, execFileSync} from 'node:child_process';
import {mkdir, mkdtemp, rmdir, stat, statfs} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {dovecotPaths} from '../helpers/dovecot-config.js';
import type {DovecotServer} from '../helpers/dovecot-pair.js';

const run = promisify(execFile);

// A mount must not outlive the campaign when it dies: lazily detached on exit.
const mounted = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const dir of mounted) {
      try {
        execFileSync('umount', ['-l', dir]);
      } catch {
        // already gone
      }
    }
  });
}

let probed: boolean | undefined;

/** Whether tmpfs mounts work here (root with CAP_SYS_ADMIN); probed once. */
export async function smallDiskAvailable(): Promise<boolean> {
  if (probed !== undefined) return probed;
  if (process.getuid?.() !== 0) return (probed = false);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-tmpfs-probe-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    await run('umount', [dir]);
    probed = true;
  } catch {
    probed = false;
  } finally {
    await rmdir(dir).catch(() => undefined);
  }
  return probed;
}

export interface SmallDisk {
  readonly dir: string;
  /** What an admin does when the volume is grown: the mail written so far stays. */
  resize(kib: number): Promise<void>;
  /** What the volume holds, in KiB. */
  usedKiB(): Promise<number>;
  /** Detached at once even while Dovecot still has files open, so the server's dir can be removed. */
  remove(): Promise<void>;
}

/** Mounts a `kib` KiB tmpfs on `login`'s home on `server`, owned by the mail user. */
export async function mountSmallDisk(server: DovecotServer, login: string, kib: number): Promise<SmallDisk> {
  installExitHook();
  const home = path.dirname(server.mailDir(login));
  const owner = await stat(dovecotPaths(server.dir).mailRoot);
  await mkdir(home, {recursive: true});
  await run('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0700,uid=${owner.uid},gid=${owner.gid}`, 'tmpfs', home]);
  mounted.add(home);
  return {
    dir: home,
    resize: async (size) => {
      await run('mount', ['-o', `remount,size=${size}k`, home]);
    },
    usedKiB: async () => {
      const fs = await statfs(home);
      return Math.ceil(((fs.blocks - fs.bfree) * fs.bsize) / 1024);
    },
    remove: async () => {
      if (!mounted.delete(home)) return;
      await run('umount', ['-l', home]);
    },
  };
}
