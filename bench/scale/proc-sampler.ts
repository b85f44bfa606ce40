// Samples a live process from /proc: its resident-set high-water mark (VmHWM, the kernel's own
// peak, so a sample taken late still sees an early peak) and the bytes it caused to be written to
// storage (/proc/PID/io write_bytes: the state file and the log, not sockets). The last sample
// before the process ends is what is reported; VmHWM cannot be missed that way, write_bytes can
// miss the last interval.

import {readFileSync} from 'node:fs';

export interface ProcSample {
  peakRssKiB: number;
  writeBytes: number;
}

export function readProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const io = readFileSync(`/proc/${pid}/io`, 'latin1');
    return {
      peakRssKiB: Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      writeBytes: Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? 0),
    };
  } catch {
    return undefined;
  }
}

/** Samples `pid` every `intervalMs` until stop(); last() is the latest sample. */
export function sampleProcess(pid: number, intervalMs = 100): {last(): ProcSample; stop(): ProcSample} {
  let latest: ProcSample = {peakRssKiB: 0, writeBytes: 0};
  const take = () => {
    const sample = readProc(pid);
    if (sample) latest = {peakRssKiB: Math.max(latest.peakRssKiB, sample.peakRssKiB), writeBytes: Math.max(latest.writeBytes, sample.writeBytes)};
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    last: () => latest,
    stop: () => {
      clearInterval(timer);
      return latest;
    },
  };
}
