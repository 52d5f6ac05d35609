// Whether a pid still names the process the user was shown, and acting on it only then. A diagnosis carries the
// process's start (ProcSample.startNs); /proc/<pid>/stat has the start of whatever runs under that pid now. The two
// are on different clocks: the BPF collector's startNs is the kernel's task start_time (CLOCK_MONOTONIC ns), the
// /proc collector's is /proc's starttime (CLOCK_BOOTTIME in clock ticks) × 10 ms, and the boot clock runs ahead of
// the monotonic one by the time spent suspended before the process started — somewhere between 0 and the offset
// now. So a start matches when it lies in [boot start − offset now, boot start + one tick): exact for the /proc
// collector, and for the BPF one off only after a suspend, by at most the time suspended since.
//
// There is no pidfd here (Node has no pidfd_open, and these rooms load no FFI): the check and the act happen in one
// synchronous step, so a recycled pid would have to be freed and taken again within microseconds of the check
// instead of across a modal dialog. Renice, which has no pidfd form anyway, is checked again right after.
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { readSmallProcFile } from './procfs';
import { parseStat } from './procfsTasks';

/** /proc's clock tick (USER_HZ, fixed at 100 on every Linux ABI that exposes it) in ns. */
const TICK_NS = 10_000_000;

export interface ProcessIdentity {
  tgid: number;
  /** ProcSample.startNs of the process that was shown. */
  startNs: number;
}

/** /proc/<pid>/stat's starttime (clock ticks since boot), or undefined when no such process runs. */
export function startTicks(pid: number): number | undefined {
  try {
    return parseStat(readSmallProcFile(`/proc/${pid}/stat`))?.startTicks;
  } catch {
    return undefined;
  }
}

/** How far CLOCK_BOOTTIME is ahead of CLOCK_MONOTONIC now (time suspended since boot), to a tick. */
export function bootAheadNs(): number {
  const uptimeNs = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]) * 1e9;
  return Math.max(0, uptimeNs - Number(process.hrtime.bigint()));
}

/** Pure: does `startNs` (either collector's) name the process /proc says started at `ticks`? */
export function startMatches(startNs: number, ticks: number, bootAhead: number): boolean {
  const bootNs = ticks * TICK_NS;
  // One tick of slack below: /proc/uptime, which bootAhead comes from, has a tick's resolution.
  return startNs >= bootNs - bootAhead - TICK_NS && startNs < bootNs + TICK_NS;
}

/** The pid still runs the process that was shown. */
export function isSameProcess(id: ProcessIdentity): boolean {
  const ticks = startTicks(id.tgid);
  return ticks !== undefined && startMatches(id.startNs, ticks, bootAheadNs());
}

/**
 * Sends `signal` to the process that was shown, or to nothing: 'gone' when its pid has exited or now names another
 * process. Throws what kill(2) throws (EPERM for another user's process).
 */
export function signalIfSame(id: ProcessIdentity, signal: NodeJS.Signals): 'sent' | 'gone' {
  if (!isSameProcess(id)) return 'gone';
  process.kill(id.tgid, signal);
  return 'sent';
}

/**
 * Sets the nice value of the process that was shown (its main thread, as renice -p does), or of nothing. 'reused'
 * when the pid changed hands between the check and the call (microseconds): the value then went to the new process.
 */
export function reniceIfSame(id: ProcessIdentity, nice: number): 'set' | 'gone' | 'reused' {
  if (!isSameProcess(id)) return 'gone';
  setPriority(id.tgid, nice);
  return isSameProcess(id) ? 'set' : 'reused';
}
