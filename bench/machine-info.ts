// The machine and the versions a result was measured with, for the head of RESULTS.md.

import {execFile} from 'node:child_process';
import os from 'node:os';
import {promisify} from 'node:util';

const execFileAsync = promisify(execFile);

async function firstLine(command: string, args: string[]): Promise<string> {
  try {
    const {stdout, stderr} = await execFileAsync(command, args);
    return (stdout || stderr).trim().split('\n')[0] ?? '';
  } catch {
    return 'not installed';
  }
}

export function loadAverage(): string {
  return os.loadavg().map((n) => n.toFixed(2)).join(' / ');
}

export async function machineLines(): Promise<string[]> {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return [
    `- Machine: ${os.availableParallelism()} CPUs (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}`,
    `- Node ${process.version}; source and target servers: Dovecot ${await firstLine('dovecot', ['--version'])}`,
  ];
}
