// Per-process cumulative counters → per-window deltas. Pure (no I/O): the BPF task iterator and the /proc
// reader both produce TaskTotals; this turns two readings into what happened in between.
// A process is identified by tgid + startNs, so a recycled pid is a new process (counted from zero), not a delta.
// Written for 10,000+ processes a window: one remembered record per process, updated in place; objects are
// allocated only for the processes that did something.
import type { ProcSample } from '../wire/protocol';
import { SlotTable } from './slots';

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
  | 'blockedNs'
  | 'ioWaitNs'
  | 'readBytes'
  | 'writeBytes'
  | 'rssAnonBytes'
  | 'rssFileBytes'
  | 'rssShmemBytes'
  | 'lastCpu'
> & {
  /**
   * Changes when the process moves to another cgroup: the BPF collector's css_set pointer (its low 48 bits, which
   * tell kernel addresses apart), or for /proc a counter that forces a periodic re-read.
   */
  cgroupKey: number;
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
    blockedNs: 0,
    ioWaitNs: 0,
    readBytes: 0,
    writeBytes: 0,
    rssAnonBytes: 0,
    rssFileBytes: 0,
    rssShmemBytes: 0,
    lastCpu: -1,
    cgroupKey: 0,
  };
}

/** One process over one window: counters are deltas, the rest is its state at the end of the window. */
export interface TaskDelta extends TaskTotals {
  exited: boolean;
  /** anon + shmem bytes sampled within the window, oldest first, ending with the end-of-window value. */
  anonSamples: number[];
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
  /** Time blocked in D as a share of the window: a process stuck in D does not run or switch, yet is news. */
  blockedShare: number;
  /** Bytes read from and written to storage. */
  ioBytes: number;
}
export const QUIET: QuietLimits = {
  cpuNs: 100_000,
  runqWaitShare: 0.01,
  preemptions: 10,
  blockedShare: 0.01,
  ioBytes: 64 * 1024,
};

/** What the quiet test needs to know about the window being closed. */
export interface WindowFacts {
  durationNs: number;
  /** Preemptions per process in the window, as victim and as aggressor (windowBuilder.preemptCounts). */
  preemptions?: ReadonlyMap<number, { preempted: number; others: number }>;
}

/** RSS sub-samples kept per process and window unless told otherwise: more would only be thinned out again. */
const MAX_SAMPLES = 32;
const pos = (x: number) => Math.max(x, 0);

/** state bits of a remembered process */
const ENDED = 1; // reported as exited: later readings of the same (zombie) process are not news
const REPORTED = 2; // the consumer holds a full sample of it, taken when the `as*` columns were its values

/**
 * What is remembered of each process between readings, one row per process: the counters as last read (deltas
 * count from them), what the consumer was last sent (the quiet test compares with it), and the window's RSS
 * sub-samples.
 */
const REMEMBERED = {
  startNs: Float64Array,
  cpuNs: Float64Array,
  runqWaitNs: Float64Array,
  minFaults: Float64Array,
  majFaults: Float64Array,
  vcsw: Float64Array,
  ivcsw: Float64Array,
  blockedNs: Float64Array,
  ioWaitNs: Float64Array,
  readBytes: Float64Array,
  writeBytes: Float64Array,
  /** The window in which it was last read (rows of older ones are freed). */
  gen: Uint32Array,
  state: Uint8Array,
  nSamples: Uint8Array,
  samples: Float64Array,
  asRssAnon: Float64Array,
  asRssFile: Float64Array,
  asRssShmem: Float64Array,
  asPpid: Float64Array,
  asThreads: Float64Array,
  asCgroupKey: Float64Array,
};

export class WindowAccounting {
  private readonly seen: SlotTable<typeof REMEMBERED>;
  /** The tgid of each row (to free the rows of processes gone). */
  private tgidOf: number[] = [];
  /** The name the consumer was last sent, per row (strings: they are shared with the collector's). */
  private asComm: string[] = [];
  /** Windows closed, from 1 (a row's gen of 0 marks it free). */
  private gen = 1;
  private baselined = false;
  /** The live processes the last next() left out as quiet (see QuietLimits); empty without limits. */
  quiet: number[] = [];
  private nQuiet = 0;

  /**
   * Without `quiet` limits every process that did anything is reported (tests of the counting itself).
   * `samplesPerWindow`: RSS sub-samples kept per process and window (the helper takes rssSamples − 1).
   */
  constructor(
    private readonly limits?: QuietLimits,
    private readonly samplesPerWindow = MAX_SAMPLES,
  ) {
    this.seen = new SlotTable(REMEMBERED, { samples: samplesPerWindow });
  }

  /** The reading at startup: window 0 then counts from here, not from each process's birth. */
  baseline(current: Iterable<TaskTotals>): void {
    for (const t of current) this.countFrom(this.remember(t), t);
    this.baselined = true;
  }

  /** An RSS sub-sample (anon + shmem bytes) taken within the window. Processes born since the last window have none. */
  sample(tgid: number, startNs: number, bytes: number): void {
    const r = this.seen.rowOf(tgid);
    if (r < 0) return;
    const c = this.seen.cols;
    const n = c.nSamples[r];
    if (c.startNs[r] !== startNs || n >= this.samplesPerWindow) return;
    c.samples[r * this.samplesPerWindow + n] = bytes;
    c.nSamples[r] = n + 1;
  }

  /**
   * Closes a window. `current` is the reading now (live and zombie processes); `exited` are the final totals
   * of processes whose last thread exited since the previous reading (they may be absent from `current`).
   * Returns the processes to report (they ran, faulted, switched, exited, or changed), with their deltas; the
   * live ones left out are in `quiet` (with limits) or did nothing at all (without). A TaskTotals read here is
   * not kept: a collector may hand the same object over for every process.
   */
  next(current: Iterable<TaskTotals>, exited: Iterable<TaskTotals>, facts?: WindowFacts): TaskDelta[] {
    if (!this.baselined) throw new Error('WindowAccounting.next before baseline');
    const gen = ++this.gen;
    const out: TaskDelta[] = [];
    this.nQuiet = 0; // the array is reused: the caller sends it before the next window
    // Exits first: when a pid was recycled within the window, the old process settles its account before the
    // new one takes over the row.
    for (const t of exited) this.account(t, true, gen, out, facts);
    for (const t of current) this.account(t, false, gen, out, facts);
    this.quiet.length = this.nQuiet; // set once: emptied and refilled, it was 10,000 pushes into a new store
    const g = this.seen.cols.gen;
    for (let r = 0; r < this.seen.end; r++)
      if (g[r] !== gen && g[r] !== 0) {
        this.seen.remove(this.tgidOf[r]); // gone: the table stays bounded
        g[r] = 0;
        this.asComm[r] = '';
      }
    return out;
  }

  /**
   * The consumer never got these processes' samples (left out of a window too large to send): report them in
   * full next time. Without an argument, every process (a whole window went unsent).
   */
  unreported(tgids?: Iterable<number>): void {
    const st = this.seen.cols.state;
    if (!tgids) for (let r = 0; r < this.seen.end; r++) st[r] &= ~REPORTED;
    else
      for (const tgid of tgids) {
        const r = this.seen.rowOf(tgid);
        if (r >= 0) st[r] &= ~REPORTED;
      }
  }

  /** Processes remembered (bounded by the processes of the last reading). */
  get size(): number {
    return this.seen.size;
  }

  /** A fresh row for `t` (a recycled pid replaces the old process's), counting from zero. */
  private remember(t: TaskTotals): number {
    this.seen.remove(t.tgid);
    const r = this.seen.add(t.tgid);
    this.seen.cols.startNs[r] = t.startNs;
    this.seen.cols.gen[r] = this.gen;
    this.tgidOf[r] = t.tgid;
    this.asComm[r] = '';
    return r;
  }

  /** The next deltas count from this reading. */
  private countFrom(r: number, t: TaskTotals): void {
    const c = this.seen.cols;
    c.cpuNs[r] = t.cpuNs;
    c.runqWaitNs[r] = t.runqWaitNs;
    c.minFaults[r] = t.minFaults;
    c.majFaults[r] = t.majFaults;
    c.vcsw[r] = t.vcsw;
    c.ivcsw[r] = t.ivcsw;
    c.blockedNs[r] = t.blockedNs;
    c.ioWaitNs[r] = t.ioWaitNs;
    c.readBytes[r] = t.readBytes;
    c.writeBytes[r] = t.writeBytes;
  }

  /** The consumer's copy still describes it: same name, parent, threads, cgroup and resident memory. */
  private unchanged(r: number, t: TaskTotals): boolean {
    const c = this.seen.cols;
    return (
      (c.state[r] & REPORTED) !== 0 &&
      t.rssAnonBytes === c.asRssAnon[r] &&
      t.rssFileBytes === c.asRssFile[r] &&
      t.rssShmemBytes === c.asRssShmem[r] &&
      t.ppid === c.asPpid[r] &&
      t.threads === c.asThreads[r] &&
      t.cgroupKey === c.asCgroupKey[r] &&
      t.comm === this.asComm[r]
    );
  }

  private markReported(r: number, t: TaskTotals): void {
    const c = this.seen.cols;
    c.state[r] |= REPORTED;
    c.asRssAnon[r] = t.rssAnonBytes;
    c.asRssFile[r] = t.rssFileBytes;
    c.asRssShmem[r] = t.rssShmemBytes;
    c.asPpid[r] = t.ppid;
    c.asThreads[r] = t.threads;
    c.asCgroupKey[r] = t.cgroupKey;
    this.asComm[r] = t.comm;
  }

  private account(
    t: TaskTotals,
    exitedNow: boolean,
    gen: number,
    out: TaskDelta[],
    facts: WindowFacts | undefined,
  ): void {
    let r = this.seen.rowOf(t.tgid);
    if (r < 0 || this.seen.cols.startNs[r] !== t.startNs) r = this.remember(t); // new (or a recycled pid): from zero
    // Only now: a new row may have grown the table, and columns taken before it are the old, shorter arrays (a
    // process whose arrival grew the table read its first window as NaN, sent as 0: a window of its work lost).
    const c = this.seen.cols;
    if (c.state[r] & ENDED) {
      c.gen[r] = gen; // a zombie already reported: nothing new, but remember it
      return;
    }
    const cpuNs = pos(t.cpuNs - c.cpuNs[r]);
    const runqWaitNs = pos(t.runqWaitNs - c.runqWaitNs[r]);
    const minFaults = pos(t.minFaults - c.minFaults[r]);
    const majFaults = pos(t.majFaults - c.majFaults[r]);
    const vcsw = pos(t.vcsw - c.vcsw[r]);
    const ivcsw = pos(t.ivcsw - c.ivcsw[r]);
    const blockedNs = pos(t.blockedNs - c.blockedNs[r]);
    // Never more than the blocked time (the in-progress part of a sleep is estimated at each reading).
    const ioWaitNs = Math.min(blockedNs, pos(t.ioWaitNs - c.ioWaitNs[r]));
    const readBytes = pos(t.readBytes - c.readBytes[r]);
    const writeBytes = pos(t.writeBytes - c.writeBytes[r]);
    this.countFrom(r, t);
    if (exitedNow) c.state[r] |= ENDED;
    c.gen[r] = gen;
    const sampled = c.nSamples[r];
    c.nSamples[r] = 0;
    const q = this.limits;
    if (q) {
      if (
        !exitedNow &&
        cpuNs < q.cpuNs &&
        runqWaitNs < q.runqWaitShare * (facts?.durationNs ?? 0) &&
        minFaults === 0 &&
        majFaults === 0 &&
        ivcsw < q.preemptions &&
        blockedNs < q.blockedShare * (facts?.durationNs ?? 0) &&
        readBytes + writeBytes < q.ioBytes &&
        preemptionsOf(facts, t.tgid) < q.preemptions &&
        this.unchanged(r, t)
      ) {
        this.quiet[this.nQuiet++] = t.tgid;
        return;
      }
    } else if (
      !(
        exitedNow ||
        cpuNs > 0 ||
        minFaults > 0 ||
        majFaults > 0 ||
        vcsw > 0 ||
        ivcsw > 0 ||
        blockedNs > 0 ||
        readBytes > 0 ||
        writeBytes > 0
      )
    )
      return;
    this.markReported(r, t);
    const anonSamples: number[] = [];
    for (let i = 0, at = r * this.samplesPerWindow; i < sampled; i++) anonSamples.push(c.samples[at + i]);
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
      blockedNs,
      ioWaitNs,
      readBytes,
      writeBytes,
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
