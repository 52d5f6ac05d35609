// Ground truth for blocked time from the kernel's own scheduler statistics (CONFIG_SCHEDSTATS, on while
// kernel.sched_schedstats is 1): /proc/PID/sched's sum_block_runtime is the time off CPU in uninterruptible sleep,
// from dequeue to enqueue, wait_sum the time runnable but not running, se.sum_exec_runtime the time on a CPU.
// Debian's kernels have it (off by default); a kernel without it has no sysctl.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const SYSCTL = '/proc/sys/kernel/sched_schedstats';

/** Switches scheduler statistics on; returns what restores the setting, or undefined if the kernel has none. */
export function schedstatsOn(): (() => void) | undefined {
  if (!existsSync(SYSCTL)) return undefined;
  const was = readFileSync(SYSCTL, 'latin1').trim();
  writeFileSync(SYSCTL, '1');
  return () => writeFileSync(SYSCTL, was);
}

export interface SchedTimes {
  blockedNs: number;
  waitNs: number;
  cpuNs: number;
}

/** A thread's (a single-threaded process's) cumulative times, ns; undefined where a field is missing. */
export function schedTimes(pid: number): SchedTimes | undefined {
  const text = readFileSync(`/proc/${pid}/sched`, 'latin1');
  // Printed in ms with six decimals, as "name : value"; the statistics' prefix differs between kernels.
  const ms = (name: string) => Number(new RegExp(`(?:^|\\.)${name}\\s*:\\s*([\\d.]+)`, 'm').exec(text)?.[1]);
  const t = {
    blockedNs: ms('sum_block_runtime') * 1e6,
    waitNs: ms('wait_sum') * 1e6,
    cpuNs: ms('sum_exec_runtime') * 1e6,
  };
  return Object.values(t).every(Number.isFinite) ? t : undefined;
}

/** The blocked share between two readings: blocked / (blocked + waiting + running). */
export function blockedShareBetween(a: SchedTimes, b: SchedTimes): number {
  const blocked = b.blockedNs - a.blockedNs;
  return blocked / Math.max(1, blocked + b.waitNs - a.waitNs + b.cpuNs - a.cpuNs);
}
