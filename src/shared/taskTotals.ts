// Per-process cumulative counters → per-window deltas. Pure (no I/O): the BPF task iterator and the /proc
// reader both produce TaskTotals; this turns two readings into what happened in between.
// A process is identified by tgid + startNs, so a recycled pid is a new process (counted from zero), not a delta.
// Written for 10,000+ processes a window: one remembered record per process, updated in place; objects are
// allocated only for the processes that did something.
import type { ProcSample } from './protocol';

/**
 * What the kernel has counted for one process since it started (threads summed, reaped threads included): the
 * fields of a protocol sample, cumulative instead of per window, plus what tells a move to another cgroup.
 */
export type TaskTotals = Pick<
  ProcSample,
  | 'tgid'
  | 'startNs'
  | 'ppid'
  | 'comm'
  | 'kthread'
  | 'threads'
  | 'cpuNs'
  | 'runqWaitNs'
  | 'minFaults'
  | 'majFaults'
  | 'vcsw'
  | 'ivcsw'
  | 'rssAnonBytes'
  | 'rssFileBytes'
  | 'rssShmemBytes'
  | 'lastCpu'
> & {
  /** Changes when the process moves to another cgroup (kernfs ids, or the /proc text). */
  cgroupKey: string;
};

/** A process with nothing counted yet: the record a collector fills in (and tests start from). */
export function emptyTotals(tgid: number): TaskTotals {
  return {
    tgid,
    startNs: 0,
    ppid: 0,
    comm: '',
    kthread: false,
    threads: 0,
    cpuNs: 0,
    runqWaitNs: 0,
    minFaults: 0,
    majFaults: 0,
    vcsw: 0,
    ivcsw: 0,
    rssAnonBytes: 0,
    rssFileBytes: 0,
    rssShmemBytes: 0,
    lastCpu: -1,
    cgroupKey: '',
  };
}

/** One process over one window: counters are deltas, the rest is its state at the end of the window. */
export interface TaskDelta extends TaskTotals {
  exited: boolean;
  /** anon + shmem bytes sampled within the window, oldest first, ending with the end-of-window value. */
  anonSamples: number[];
}

interface Seen {
  startNs: number;
  cpuNs: number;
  runqWaitNs: number;
  minFaults: number;
  majFaults: number;
  vcsw: number;
  ivcsw: number;
  /** It was reported as exited: later readings of the same (zombie) process are not news. */
  ended: boolean;
  /** The window in which it was last read (older ones are forgotten). */
  gen: number;
  samples: number[];
}

export const isActive = (d: TaskDelta): boolean =>
  d.exited || d.cpuNs > 0 || d.minFaults > 0 || d.majFaults > 0 || d.vcsw > 0 || d.ivcsw > 0;

/** Sub-samples kept per process and window: more would only be thinned out again. */
const MAX_SAMPLES = 32;
const pos = (x: number) => Math.max(x, 0);

export class WindowAccounting {
  private readonly seen = new Map<number, Seen>();
  private gen = 0;
  private baselined = false;

  /** The reading at startup: window 0 then counts from here, not from each process's birth. */
  baseline(current: Iterable<TaskTotals>): void {
    for (const t of current) this.remember(t, false);
    this.baselined = true;
  }

  /** An RSS sub-sample (anon + shmem bytes) taken within the window. Processes born since the last window have none. */
  sample(tgid: number, startNs: number, bytes: number): void {
    const s = this.seen.get(tgid);
    if (s && s.startNs === startNs && s.samples.length < MAX_SAMPLES) s.samples.push(bytes);
  }

  /**
   * Closes a window. `current` is the reading now (live and zombie processes); `exited` are the final totals
   * of processes whose last thread exited since the previous reading (they may be absent from `current`).
   * Returns the processes that did something (ran, faulted, switched, or exited), with their deltas.
   */
  next(current: Iterable<TaskTotals>, exited: Iterable<TaskTotals>): TaskDelta[] {
    if (!this.baselined) throw new Error('WindowAccounting.next before baseline');
    const gen = ++this.gen;
    const out: TaskDelta[] = [];
    // Exits first: when a pid was recycled within the window, the old process settles its account before the
    // new one takes over the slot.
    for (const t of exited) this.account(t, true, gen, out);
    for (const t of current) this.account(t, false, gen, out);
    for (const [tgid, s] of this.seen) if (s.gen !== gen) this.seen.delete(tgid); // gone: the map stays bounded
    return out;
  }

  /** Processes remembered (bounded by the processes of the last reading). */
  get size(): number {
    return this.seen.size;
  }

  private remember(t: TaskTotals, ended: boolean): Seen {
    const s: Seen = {
      startNs: t.startNs,
      cpuNs: t.cpuNs,
      runqWaitNs: t.runqWaitNs,
      minFaults: t.minFaults,
      majFaults: t.majFaults,
      vcsw: t.vcsw,
      ivcsw: t.ivcsw,
      ended,
      gen: this.gen,
      samples: [],
    };
    this.seen.set(t.tgid, s);
    return s;
  }

  private account(t: TaskTotals, exitedNow: boolean, gen: number, out: TaskDelta[]): void {
    let s = this.seen.get(t.tgid);
    if (s && s.startNs === t.startNs) {
      if (s.ended) {
        s.gen = gen; // a zombie already reported: nothing new, but remember it
        return;
      }
    } else {
      // New within the window (or a recycled pid): it counts from zero.
      const fresh = { ...t, cpuNs: 0, runqWaitNs: 0, minFaults: 0, majFaults: 0, vcsw: 0, ivcsw: 0 };
      s = this.remember(fresh, false);
    }
    const cpuNs = pos(t.cpuNs - s.cpuNs);
    const runqWaitNs = pos(t.runqWaitNs - s.runqWaitNs);
    const minFaults = pos(t.minFaults - s.minFaults);
    const majFaults = pos(t.majFaults - s.majFaults);
    const vcsw = pos(t.vcsw - s.vcsw);
    const ivcsw = pos(t.ivcsw - s.ivcsw);
    s.cpuNs = t.cpuNs;
    s.runqWaitNs = t.runqWaitNs;
    s.minFaults = t.minFaults;
    s.majFaults = t.majFaults;
    s.vcsw = t.vcsw;
    s.ivcsw = t.ivcsw;
    s.ended = exitedNow;
    s.gen = gen;
    const samples = s.samples;
    if (!(exitedNow || cpuNs > 0 || minFaults > 0 || majFaults > 0 || vcsw > 0 || ivcsw > 0)) {
      samples.length = 0;
      return;
    }
    s.samples = [];
    samples.push(t.rssAnonBytes + t.rssShmemBytes);
    out.push({
      tgid: t.tgid,
      startNs: t.startNs,
      ppid: t.ppid,
      comm: t.comm,
      kthread: t.kthread,
      threads: exitedNow ? 0 : t.threads,
      cpuNs,
      runqWaitNs,
      minFaults,
      majFaults,
      vcsw,
      ivcsw,
      rssAnonBytes: t.rssAnonBytes,
      rssFileBytes: t.rssFileBytes,
      rssShmemBytes: t.rssShmemBytes,
      lastCpu: t.lastCpu,
      cgroupKey: t.cgroupKey,
      exited: exitedNow,
      anonSamples: samples,
    });
  }
}
