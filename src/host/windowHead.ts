// The head of a window — what it says about the machine and about the collector itself — read the same way by the
// helper (src/helper/session.ts) and the /proc collector (procfsSampler.ts), each reading taken once per window.
import { readFileSync } from 'node:fs';
import type { Window } from '../shared/wire/protocol';
import { readPressure } from './procfs';

/** /proc/<pid>/cgroup is re-read this often per process (/proc has no css_set pointer to say it changed). */
export const CGROUP_REREAD_WINDOWS = 4;

/** The cgroupKey of a /proc reading: changes every CGROUP_REREAD_WINDOWS windows, staggered by pid. */
export const cgroupRereadKey = (seq: number, tgid: number) =>
  Math.floor((seq + tgid) / CGROUP_REREAD_WINDOWS);

export function memAvailableBytes(): number {
  try {
    return Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'latin1'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Memory available and pressure (when the kernel has PSI), as a window carries them. */
export function machineFacts(): Pick<Window, 'memAvailableBytes' | 'pressure'> {
  const pressure = readPressure();
  return { memAvailableBytes: memAvailableBytes(), ...(pressure ? { pressure } : {}) };
}

/** This process's CPU time per window. */
export class SelfCpu {
  private last = process.cpuUsage();

  /** ns of CPU since the previous call: one reading, so the next window's delta starts where this one ends. */
  take(): number {
    const now = process.cpuUsage();
    const ns = (now.user - this.last.user + now.system - this.last.system) * 1000;
    this.last = now;
    return ns;
  }
}
