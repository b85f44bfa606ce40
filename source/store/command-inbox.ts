// Commands for a batch that another process is running (`mailferry batch stop NAME` from a second
// shell while `mailferry batch start NAME` runs under cron or in tmux). Each command is one small
// JSON file in a directory beside the state file, written atomically; the running process is told
// by inotify (fs.watch) and also polls the directory, applies the commands in order and deletes them.

import {randomUUID} from 'node:crypto';
import {mkdirSync, watch, type FSWatcher} from 'node:fs';
import {mkdir, readdir, readFile, rename, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';

export type RemoteAction = 'stop' | 'resume' | 'sync-now' | 'complete' | 'add' | 'remove';

export interface RemoteCommand {
  action: RemoteAction;
  /** Mailboxes by EmailAddress; none means all (for add and remove: exactly these). */
  mailboxes?: string[];
  /** add: absolute path of the CSV the rows are in; the running process reads the passwords from
   *  it, so no secret is ever in a command file. */
  csvPath?: string;
  at: string;
}

export function commandDirFor(stateFile: string): string {
  return `${stateFile}.commands`;
}

/** Returns the command's file: it is gone once the running process has taken the command. */
export async function postCommand(stateFile: string, command: Omit<RemoteCommand, 'at'>): Promise<string> {
  const dir = commandDirFor(stateFile);
  await mkdir(dir, {recursive: true, mode: 0o700});
  // Sortable name: time first, so commands are applied in the order they were given.
  const name = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}.json`;
  const temporary = join(dir, `.${name}.tmp`);
  await writeFile(temporary, JSON.stringify({...command, at: new Date().toISOString()}), {mode: 0o600});
  await rename(temporary, join(dir, name));
  return join(dir, name);
}

/**
 * Applies commands as they arrive; returns a function that stops watching. A command is picked up
 * at once through fs.watch; the poll every intervalMs is for where no notification comes (a state
 * directory on NFS, the inotify watch limit reached).
 */
export function watchCommands(
  stateFile: string,
  handle: (command: RemoteCommand) => Promise<void> | void,
  onError: (error: unknown) => void,
  intervalMs = 500,
): () => void {
  const dir = commandDirFor(stateFile);
  let stopped = false;
  let running = false;
  // A command that lands while the directory is being read must not wait for the next poll.
  let again = false;
  const drain = async () => {
    let names: string[];
    try {
      names = (await readdir(dir)).filter(isCommandFile).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) {
      // A process that stopped watching leaves the rest for the next one that opens the batch
      // (or for the sender of an add/remove, which applies it itself: batch-membership.ts).
      if (stopped) return;
      const file = join(dir, name);
      let command: RemoteCommand | undefined;
      try {
        command = JSON.parse(await readFile(file, 'utf8')) as RemoteCommand;
      } finally {
        await rm(file, {force: true});
      }
      if (command && !stopped) await handle(command);
    }
  };
  const poll = async () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await drain();
      } while (again && !stopped);
    } catch (error) {
      onError(error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void poll(), intervalMs);
  timer.unref();
  let watcher: FSWatcher | undefined;
  try {
    mkdirSync(dir, {recursive: true, mode: 0o700});
    watcher = watch(dir, {persistent: false}, (_event, name) => {
      if (!name || isCommandFile(name)) void poll();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // Polling alone still delivers every command.
  }
  void poll();
  return () => {
    stopped = true;
    clearInterval(timer);
    watcher?.close();
  };
}

/** Finished command files; `.NAME.tmp` is one being written. */
function isCommandFile(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.');
}
