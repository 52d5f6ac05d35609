// Per-process cumulative counters → per-window deltas. Pure (no I/O): the BPF task iterator and the /proc
// reader both produce TaskTotals; this turns two readings into what happened in between.
// A process is identified by tgid + startNs, so a recycled pid is a new process (counted from zero), not a delta.

/** What the kernel has counted for one process since it started (threads summed, reaped threads included). */
export interface TaskTotals {
  tgid: number;
  startNs: number;
  ppid: number;
  comm: string;
  kthread: boolean;
  threads: number;
  cpuNs: number;
  runqWaitNs: number;
  minFaults: number;
  majFaults: number;
  vcsw: number;
  ivcsw: number;
  rssAnonBytes: number;
  rssFileBytes: number;
  rssShmemBytes: number;
  lastCpu: number;
  /** Changes when the process moves to another cgroup (kernfs ids, or the /proc text). */
  cgroupKey: string;
}

const COUNTERS = ['cpuNs', 'runqWaitNs', 'minFaults', 'majFaults', 'vcsw', 'ivcsw'] as const;
type Counter = (typeof COUNTERS)[number];
type Counters = Record<Counter, number>;

/** One process over one window: counters are deltas, the rest is its state at the end of the window. */
export interface TaskDelta extends TaskTotals {
  exited: boolean;
  /** anon + shmem bytes sampled within the window, oldest first, ending with the end-of-window value. */
  anonSamples: number[];
}

interface Seen extends Counters {
  startNs: number;
  /** It was reported as exited: later readings of the same (zombie) process are not news. */
  ended: boolean;
}

function counters(t: TaskTotals): Counters {
  return {
    cpuNs: t.cpuNs,
    runqWaitNs: t.runqWaitNs,
    minFaults: t.minFaults,
    majFaults: t.majFaults,
    vcsw: t.vcsw,
    ivcsw: t.ivcsw,
  };
}

export const isActive = (d: TaskDelta): boolean =>
  d.exited || d.cpuNs > 0 || d.minFaults > 0 || d.majFaults > 0 || d.vcsw > 0 || d.ivcsw > 0;

/** Sub-samples kept per process and window: more would only be thinned out again. */
const MAX_SAMPLES = 32;

export class WindowAccounting {
  private seen = new Map<number, Seen>();
  private samples = new Map<number, { startNs: number; bytes: number[] }>();
  private baselined = false;

  /** The reading at startup: window 0 then counts from here, not from each process's birth. */
  baseline(current: Iterable<TaskTotals>): void {
    for (const t of current) this.seen.set(t.tgid, { startNs: t.startNs, ended: false, ...counters(t) });
    this.baselined = true;
  }

  /** An RSS sub-sample (anon + shmem bytes) taken within the window. */
  sample(tgid: number, startNs: number, bytes: number): void {
    const s = this.samples.get(tgid);
    if (!s || s.startNs !== startNs) this.samples.set(tgid, { startNs, bytes: [bytes] });
    else if (s.bytes.length < MAX_SAMPLES) s.bytes.push(bytes);
  }

  /**
   * Closes a window. `current` is the reading now (live and zombie processes); `exited` are the final totals
   * of processes whose last thread exited since the previous reading (they may be absent from `current`).
   * Returns every process with its deltas, idle ones included (the caller decides what to send).
   */
  next(current: Iterable<TaskTotals>, exited: Iterable<TaskTotals>): TaskDelta[] {
    if (!this.baselined) throw new Error('WindowAccounting.next before baseline');
    const out: TaskDelta[] = [];
    const next = new Map<number, Seen>();
    const finals = new Map<number, TaskTotals>();
    for (const e of exited) {
      const other = finals.get(e.tgid);
      if (!other || e.startNs >= other.startNs) finals.set(e.tgid, e); // pid reused twice: keep the later one
    }
    const emit = (t: TaskTotals, exitedNow: boolean) => {
      const before = this.seen.get(t.tgid);
      const same = before && before.startNs === t.startNs ? before : undefined;
      if (same?.ended) {
        next.set(t.tgid, same); // a zombie already reported: nothing new, but remember it
        return;
      }
      const d = { ...t, exited: exitedNow, anonSamples: [] as number[] } as TaskDelta;
      for (const k of COUNTERS) d[k] = Math.max(0, t[k] - (same?.[k] ?? 0));
      const s = this.samples.get(t.tgid);
      if (s && s.startNs === t.startNs) d.anonSamples = s.bytes;
      d.anonSamples.push(t.rssAnonBytes + t.rssShmemBytes);
      if (exitedNow) d.threads = 0;
      out.push(d);
      // An exit record of a recycled pid must not replace the live process that now has that pid.
      if (!(exitedNow && next.has(t.tgid)))
        next.set(t.tgid, { startNs: t.startNs, ended: exitedNow, ...counters(t) });
    };
    for (const t of current) {
      const fin = finals.get(t.tgid);
      if (fin && fin.startNs === t.startNs) {
        // Both a zombie reading and the exit record: the larger of each counter is the later one.
        const merged = { ...fin };
        for (const k of COUNTERS) merged[k] = Math.max(fin[k], t[k]);
        if (!merged.rssAnonBytes && !merged.rssFileBytes) {
          merged.rssAnonBytes = t.rssAnonBytes;
          merged.rssFileBytes = t.rssFileBytes;
          merged.rssShmemBytes = t.rssShmemBytes;
        }
        finals.delete(t.tgid);
        emit(merged, true);
      } else emit(t, false);
    }
    for (const fin of finals.values()) emit(fin, true);
    this.seen = next; // processes neither live nor exited are forgotten: the map never outgrows the machine
    this.samples = new Map();
    return out;
  }

  /** Processes remembered (bounded by the live processes of the last reading). */
  get size(): number {
    return this.seen.size;
  }
}
