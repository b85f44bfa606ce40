// CPU time of a live process from /proc/PID/stat (proc(5) fields 14-17: utime, stime, cutime,
// cstime, in clock ticks of 1/100 s). The children's part counts processes it has reaped: for a
// Dovecot master, its imap and auth processes once they have ended.

import {readFileSync} from 'node:fs';

export interface ProcessCpu {
  /** Seconds of the process itself. */
  user: number;
  system: number;
  /** Seconds of its ended, reaped children. */
  childrenUser: number;
  childrenSystem: number;
}

export function processCpu(pid: number): ProcessCpu {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map((field) => Number(field) / 100) as [number, number, number, number];
  return {user: utime, system: stime, childrenUser: cutime, childrenSystem: cstime};
}
