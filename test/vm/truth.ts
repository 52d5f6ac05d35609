// Ground truth for the kernel matrix: what /proc says about a process, read at the moment each helper message
// arrives, so a window's figures are compared with /proc over (nearly) the same interval on a machine of any speed.
import { readFileSync } from 'node:fs';
import type { Message } from '../../src/shared/wire/protocol';
import type { Run } from '../support/helper';
import { isHello, isWindow, windowView } from './adapter';

const PAGE = 4096;

export interface Truth {
  /** On-CPU time (ns) of the main thread: /proc/PID/schedstat field 1. */
  cpuNs: number;
  /** Time spent runnable but waiting for a CPU (ns): /proc/PID/schedstat field 2. */
  runqWaitNs: number;
  /** Times it was given a CPU (schedstat field 3): run-queue wait is only added up as each of these happens. */
  slices: number;
  /** minflt + majflt of the whole process. */
  faults: number;
  majFaults: number;
  /** Involuntary context switches (main thread: the workloads are single-threaded). */
  ivcsw: number;
  rssBytes: number;
  rssAnonBytes: number;
  rssFileBytes: number;
}

export function readTruth(pid: number): Truth | undefined {
  try {
    const [run, wait, slices] = readFileSync(`/proc/${pid}/schedstat`, 'latin1')
      .trim()
      .split(' ')
      .map(Number);
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const rssPages = Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]);
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const field = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
    return {
      cpuNs: run,
      runqWaitNs: wait,
      slices,
      faults: Number(f[7]) + Number(f[9]),
      majFaults: Number(f[9]),
      ivcsw: field('nonvoluntary_ctxt_switches'),
      rssBytes: rssPages * PAGE,
      rssAnonBytes: field('RssAnon') * 1024,
      rssFileBytes: field('RssFile') * 1024,
    };
  } catch {
    return undefined; // the process is gone
  }
}

/** Stopped by a signal (SIGSTOP): its counters are frozen until SIGCONT. */
export function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return /^[Tt]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

export interface Snapshot {
  atNs: bigint;
  procs: Map<number, Truth>;
}

export interface Observed {
  /** /proc as the hello arrived (the window clock starts right after the hello is sent). */
  atHello?: Snapshot;
  /** /proc as window `seq` arrived. */
  atWindow: Map<number, Snapshot>;
}

/**
 * Snapshots /proc for `pids` synchronously as each hello and window is parsed (the listener runs after
 * runHelper's own parser for the same chunk), so the reading is not delayed by awaits in the test.
 */
export function observe(r: Run, pids: readonly number[]): Observed {
  const seen: Observed = { atWindow: new Map() };
  let handled = 0;
  const snap = (): Snapshot => ({
    atNs: process.hrtime.bigint(),
    procs: new Map(pids.flatMap((p) => ((t) => (t ? [[p, t] as const] : []))(readTruth(p)))),
  });
  r.child.stdout?.on('data', () => {
    for (; handled < r.messages.length; handled++) {
      const m: Message = r.messages[handled];
      if (isHello(m)) seen.atHello = snap();
      else if (isWindow(m)) seen.atWindow.set(windowView(m).seq, snap());
    }
  });
  return seen;
}

/** Truth deltas for one pid between two snapshots, with the interval's length. */
export function truthDelta(a: Snapshot, b: Snapshot, pid: number): (Truth & { spanNs: number }) | undefined {
  const x = a.procs.get(pid);
  const y = b.procs.get(pid);
  if (!x || !y) return undefined;
  return {
    spanNs: Number(b.atNs - a.atNs),
    cpuNs: y.cpuNs - x.cpuNs,
    runqWaitNs: y.runqWaitNs - x.runqWaitNs,
    slices: y.slices - x.slices,
    faults: y.faults - x.faults,
    majFaults: y.majFaults - x.majFaults,
    ivcsw: y.ivcsw - x.ivcsw,
    rssBytes: y.rssBytes,
    rssAnonBytes: y.rssAnonBytes,
    rssFileBytes: y.rssFileBytes,
  };
}
