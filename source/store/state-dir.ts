// Where batches live: $MAILFERRY_STATE_DIR, else $XDG_STATE_HOME/mailferry, else ~/.local/state/mailferry.

import {homedir} from 'node:os';
import {join} from 'node:path';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['MAILFERRY_STATE_DIR']) return env['MAILFERRY_STATE_DIR'];
  const xdg = env['XDG_STATE_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'state'), 'mailferry');
}

/** The batch's log file, for the headless commands and the UI alike (`--log` overrides it). */
export function batchLogFile(stateDir: string, name: string): string {
  return join(stateDir, 'logs', `${name}.log`);
}
