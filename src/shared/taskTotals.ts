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
  /** Changes when the process moves to another cgroup (the BPF collector's css_set pointer, or the /proc text). */
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

/** What is remembered of a process between readings (a class: 10,000 of them are read every window). */
class Seen {
  // Counters as last read (deltas count from them); doubles from the start, as they will hold nanoseconds.
  cpuNs = 0.5;
  runqWaitNs = 0.5;
  minFaults = 0.5;
  majFaults = 0.5;
  vcsw = 0.5;
  ivcsw = 0.5;
  /** It was reported as exited: later readings of the same (zombie) process are not news. */
  ended = false;
  /** The window in which it was last read (older ones are forgotten). */
  gen: number;
  /**
   * RSS sub-samples of the current window: the first `nSamples` of a buffer kept from window to window, so that
   * 10,000 processes sampled twice a window and mostly quiet allocate nothing (an array emptied and refilled
   * every window was a new backing store per process, promoted to the old generation and collected in bursts).
   */
  samples: number[] = [];
  nSamples = 0;
  /** The consumer holds a full sample of it (so it may be listed as quiet), taken when these were its values: */
  reported = false;
  rssAnon = 0;
  rssFile = 0;
  rssShmem = 0;
  comm = '';
  ppid = 0;
  threads = 0;
  cgroupKey = '';

  constructor(
    readonly startNs: number,
    t: TaskTotals,
    gen: number,
  ) {
    this.countFrom(t);
    this.gen = gen;
  }

  /** The next deltas count from this reading. */
  countFrom(t: TaskTotals): void {
    this.cpuNs = t.cpuNs;
    this.runqWaitNs = t.runqWaitNs;
    this.minFaults = t.minFaults;
    this.majFaults = t.majFaults;
    this.vcsw = t.vcsw;
    this.ivcsw = t.ivcsw;
  }

  /** The consumer's copy still describes it: same name, parent, threads, cgroup and resident memory. */
  unchanged(t: TaskTotals): boolean {
    return (
      this.reported &&
      t.rssAnonBytes === this.rssAnon &&
      t.rssFileBytes === this.rssFile &&
      t.rssShmemBytes === this.rssShmem &&
      t.comm === this.comm &&
      t.ppid === this.ppid &&
      t.threads === this.threads &&
      t.cgroupKey === this.cgroupKey
    );
  }

  markReported(t: TaskTotals): void {
    this.reported = true;
    this.rssAnon = t.rssAnonBytes;
    this.rssFile = t.rssFileBytes;
    this.rssShmem = t.rssShmemBytes;
    this.comm = t.comm;
    this.ppid = t.ppid;
    this.threads = t.threads;
    this.cgroupKey = t.cgroupKey;
  }
}

/**
 * Below all of these in one window, a process the consumer already knows — same name, parent, threads, cgroup
 * and resident memory to the byte — is *quiet*: listed by pid in `Window.quiet` instead of as a full sample.
 * Nothing a diagnosis reads can be in it (0.1 ms of CPU is 0.01 % of a core over a 1 s window; Starved needs a
 * wait of 10 % of a core), yet a daemon that wakes once a second is most of a busy host's processes: 10,000 full
 * samples a window were most of the helper's CPU time and of the consumer's parsing. What a quiet window counted
 * is not carried over.
 */
export interface QuietLimits {
  cpuNs: number;
  /**
   * Run-queue wait as a share of the window: on a loaded machine each wake-up of a sleeper can wait milliseconds
   * (an absolute 1 ms limit made a third of 10,000 sleepers news at load 50), still far below what Starved needs.
   */
  runqWaitShare: number;
  /** Involuntary switches, and preemptions as victim or aggressor in the window's pairs. */
  preemptions: number;
}
export const QUIET: QuietLimits = { cpuNs: 100_000, runqWaitShare: 0.01, preemptions: 10 };

/** What the quiet test needs to know about the window being closed. */
export interface WindowFacts {
  durationNs: number;
  /** Preemptions per process in the window, as victim and as aggressor (windowBuilder.preemptCounts). */
  preemptions?: ReadonlyMap<number, { preempted: number; others: number }>;
}

/** Sub-samples kept per process and window: more would only be thinned out again. */
const MAX_SAMPLES = 32;
const pos = (x: number) => Math.max(x, 0);

export class WindowAccounting {
  private readonly seen = new Map<number, Seen>();
  private gen = 0;
  private baselined = false;
  /** The live processes the last next() left out as quiet (see QuietLimits); empty without limits. */
  quiet: number[] = [];

  /** Without `quiet` limits every process that did anything is reported (tests of the counting itself). */
  constructor(private readonly limits?: QuietLimits) {}

  /** The reading at startup: window 0 then counts from here, not from each process's birth. */
  baseline(current: Iterable<TaskTotals>): void {
    for (const t of current) this.remember(t);
    this.baselined = true;
  }

  /** An RSS sub-sample (anon + shmem bytes) taken within the window. Processes born since the last window have none. */
  sample(tgid: number, startNs: number, bytes: number): void {
    const s = this.seen.get(tgid);
    if (!s || s.startNs !== startNs || s.nSamples >= MAX_SAMPLES) return;
    if (s.nSamples < s.samples.length) s.samples[s.nSamples] = bytes;
    else s.samples.push(bytes);
    s.nSamples++;
  }

  /**
   * Closes a window. `current` is the reading now (live and zombie processes); `exited` are the final totals
   * of processes whose last thread exited since the previous reading (they may be absent from `current`).
   * Returns the processes to report (they ran, faulted, switched, exited, or changed), with their deltas; the
   * live ones left out are in `quiet` (with limits) or did nothing at all (without).
   */
  next(current: Iterable<TaskTotals>, exited: Iterable<TaskTotals>, facts?: WindowFacts): TaskDelta[] {
    if (!this.baselined) throw new Error('WindowAccounting.next before baseline');
    const gen = ++this.gen;
    const out: TaskDelta[] = [];
    this.quiet.length = 0; // reused: the caller sends it before the next window
    // Exits first: when a pid was recycled within the window, the old process settles its account before the
    // new one takes over the slot.
    for (const t of exited) this.account(t, true, gen, out, facts);
    for (const t of current) this.account(t, false, gen, out, facts);
    for (const [tgid, s] of this.seen) if (s.gen !== gen) this.seen.delete(tgid); // gone: the map stays bounded
    return out;
  }

  /**
   * The consumer never got these processes' samples (left out of a window too large to send): report them in
   * full next time. Without an argument, every process (a whole window went unsent).
   */
  unreported(tgids?: Iterable<number>): void {
    if (!tgids) for (const s of this.seen.values()) s.reported = false;
    else
      for (const tgid of tgids) {
        const s = this.seen.get(tgid);
        if (s) s.reported = false;
      }
  }

  /** Processes remembered (bounded by the processes of the last reading). */
  get size(): number {
    return this.seen.size;
  }

  private remember(t: TaskTotals, counters: TaskTotals = t): Seen {
    const s = new Seen(t.startNs, counters, this.gen);
    this.seen.set(t.tgid, s);
    return s;
  }

  private account(
    t: TaskTotals,
    exitedNow: boolean,
    gen: number,
    out: TaskDelta[],
    facts: WindowFacts | undefined,
  ): void {
    let s = this.seen.get(t.tgid);
    if (s && s.startNs === t.startNs) {
      if (s.ended) {
        s.gen = gen; // a zombie already reported: nothing new, but remember it
        return;
      }
    } else s = this.remember(t, ZERO); // new within the window (or a recycled pid): it counts from zero
    const cpuNs = pos(t.cpuNs - s.cpuNs);
    const runqWaitNs = pos(t.runqWaitNs - s.runqWaitNs);
    const minFaults = pos(t.minFaults - s.minFaults);
    const majFaults = pos(t.majFaults - s.majFaults);
    const vcsw = pos(t.vcsw - s.vcsw);
    const ivcsw = pos(t.ivcsw - s.ivcsw);
    s.countFrom(t);
    s.ended = exitedNow;
    s.gen = gen;
    const sampled = s.nSamples;
    s.nSamples = 0;
    const q = this.limits;
    if (q) {
      if (
        !exitedNow &&
        cpuNs < q.cpuNs &&
        runqWaitNs < q.runqWaitShare * (facts?.durationNs ?? 0) &&
        minFaults === 0 &&
        majFaults === 0 &&
        ivcsw < q.preemptions &&
        preemptionsOf(facts, t.tgid) < q.preemptions &&
        s.unchanged(t)
      ) {
        this.quiet.push(t.tgid);
        return;
      }
    } else if (!(exitedNow || cpuNs > 0 || minFaults > 0 || majFaults > 0 || vcsw > 0 || ivcsw > 0)) return;
    s.markReported(t);
    const anonSamples = s.samples.slice(0, sampled);
    anonSamples.push(t.rssAnonBytes + t.rssShmemBytes);
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
      anonSamples,
    });
  }
}

function preemptionsOf(facts: WindowFacts | undefined, tgid: number): number {
  const c = facts?.preemptions?.get(tgid);
  return c ? c.preempted + c.others : 0;
}

/** Counters of a process first seen now: everything it counted happened since it started. */
const ZERO: TaskTotals = emptyTotals(0);
