// Who made whom wait for a CPU, per window: each process's runnable time split into throttled, queued and
// contended, and the contended wait attributed to the processes that held the CPU. Pure.

import type { Window } from '../wire/protocol';
import type { Peer } from './model';

/**
 * Where each process's runnable time went this window, ns, by index into window.procs (see cpuSplit). Typed
 * arrays: one allocation per window, not one object per process.
 */
export interface CpuSplit {
  throttledNs: Float64Array;
  /** All run-queue wait less the throttled part. */
  queuedNs: Float64Array;
  /** The part of queuedNs spent behind other processes (not behind its own threads). */
  contentionNs: Float64Array;
}

/**
 * The per-window arrays of one consumer (a Classifier), kept from window to window: four zeroed buffers of the
 * window's size each window were ~30 bytes a process of what classify allocates. A context made from it holds
 * until the next window it is used for.
 */
export class CpuScratch {
  private buf = new Float64Array(0);

  /** Four arrays of n numbers: the split's three (written whole by cpuSplit) and `caused`, zeroed. */
  take(n: number): [CpuSplit, Float64Array] {
    if (this.buf.length < 4 * n) this.buf = new Float64Array(4 * Math.max(n, this.buf.length / 2));
    const caused = this.buf.subarray(3 * n, 4 * n);
    caused.fill(0);
    const split = {
      throttledNs: this.buf.subarray(0, n),
      queuedNs: this.buf.subarray(n, 2 * n),
      contentionNs: this.buf.subarray(2 * n, 3 * n),
    };
    return [split, caused];
  }
}

export interface CpuContext {
  split: CpuSplit;
  aggressors: Map<number, Peer[]>;
  victims: Map<number, Peer[]>;
  /** Per victim, the processes it waited behind, with the estimated wait (Peer.count = ns per second), most first. */
  behind: Map<number, Peer[]>;
  /** Per aggressor, whom it made wait and how long (Peer.count = ns per second), most first. */
  holds: Map<number, Peer[]>;
  /** Others' wait attributed to each aggressor, ns, by index into window.procs. */
  caused: Float64Array;
}

/** A victim's wait is attributed only when it is at least this share of the window (and to at most this many). */
const MIN_ATTRIBUTED_WAIT = 0.02;
/** Victims that waited at least this share of the window get their list of whom they waited behind. */
const LISTED_WAIT = 0.05;
const MAX_HOLDERS = 5;
/** Fewer preemptions than this in a window say little about who held the CPU; co-located processes are added. */
const FEW_PREEMPTIONS = 10;
/** Assumed slice of an aggressor the window does not list (ns). */
const UNKNOWN_SLICE_NS = 5e5;

/**
 * CPU demand split, per process. A quota's throttled time is the cgroup's: each process under it gets its CPU
 * share of it, and never more than its threads could have run. The kernel charges throttled time to run_delay
 * too (measured on 6.18: a 20 % quota spinner shows ~80 % run-queue wait and ~80 % throttled); where run_delay
 * covers it, only the rest is waiting behind others. A process with more runnable threads than the machine has
 * CPUs waits behind itself: that part of its wait is its own demand, not other processes holding the CPU.
 */
export function cpuSplit(
  w: Window,
  ncpu: number,
  split: CpuSplit = {
    throttledNs: new Float64Array(w.procs.length),
    queuedNs: new Float64Array(w.procs.length),
    contentionNs: new Float64Array(w.procs.length),
  },
): CpuSplit {
  const I = w.durationNs;
  const n = w.procs.length;
  // The CPU time under each quota, when a cgroup of the window has one (most windows have none: no walk then).
  let quotaCpu: Map<string, number> | undefined;
  if (w.cgroups.some((c) => c?.cpuQuotaPath))
    for (const p of w.procs) {
      const q = w.cgroups[p.cg]?.cpuQuotaPath;
      if (q) {
        quotaCpu ??= new Map();
        quotaCpu.set(q, (quotaCpu.get(q) ?? 0) + p.cpuNs);
      }
    }
  for (let i = 0; i < n; i++) {
    const p = w.procs[i];
    let throttledNs = 0;
    const cg = quotaCpu && w.cgroups[p.cg];
    if (cg?.cpuQuotaPath && cg.throttledNs > 0 && p.cpuNs > 0) {
      const all = quotaCpu?.get(cg.cpuQuotaPath) ?? p.cpuNs;
      throttledNs = Math.min(cg.throttledNs * (all > 0 ? p.cpuNs / all : 1), I * Math.max(1, p.threads));
    }
    const queuedNs = Math.max(
      0,
      p.runqWaitNs >= 0.9 * throttledNs ? p.runqWaitNs - throttledNs : p.runqWaitNs,
    );
    const selfNs = Math.max(0, p.cpuNs + queuedNs - ncpu * I);
    split.throttledNs[i] = throttledNs;
    split.queuedNs[i] = queuedNs;
    split.contentionNs[i] = queuedNs - Math.min(queuedNs, selfNs);
  }
  return split;
}

/**
 * Who preempted whom, and whom each process waited behind. A victim's wait behind others is shared among its
 * aggressors by preemptions × the aggressor's average slice (CPU time per switch-out): a loop that keeps the CPU
 * for milliseconds each time holds it far longer than a daemon preempting as often for microseconds. A victim
 * with few preemptions (a nice-19 loop hardly ever runs, so it is hardly ever preempted) also counts the
 * processes that last ran on its CPU, by their CPU time.
 */
export function attributeCpu(w: Window, ncpu: number, scratch?: CpuScratch): CpuContext {
  const I = w.durationNs;
  const [split, caused] = scratch ? scratch.take(w.procs.length) : [undefined, undefined];
  const ctx: CpuContext = {
    split: cpuSplit(w, ncpu, split),
    aggressors: new Map(),
    victims: new Map(),
    behind: new Map(),
    holds: new Map(),
    caused: caused ?? new Float64Array(w.procs.length),
  };
  if (!w.pairs.length) return ctx; // degraded: nobody to attribute to
  // Index of the processes that appear in pairs (not of all 10k: most never do).
  const index = new Map<number, number>();
  for (const pr of w.pairs) {
    index.set(pr.victim, -1);
    index.set(pr.aggressor, -1);
  }
  for (let i = 0; i < w.procs.length; i++) if (index.has(w.procs[i].tgid)) index.set(w.procs[i].tgid, i);
  for (const [tgid, i] of index) if (i < 0) index.delete(tgid);
  const comm = (tgid: number) => {
    const i = index.get(tgid);
    return i === undefined ? '?' : w.procs[i].comm;
  };
  const slice = (tgid: number) => {
    const i = index.get(tgid);
    if (i === undefined) return UNKNOWN_SLICE_NS;
    const p = w.procs[i];
    return p.cpuNs / Math.max(1, p.vcsw + p.ivcsw);
  };
  const push = (m: Map<number, Peer[]>, k: number, peer: Peer) => {
    const list = m.get(k);
    if (list) list.push(peer);
    else m.set(k, [peer]);
  };
  const weights = new Map<number, Map<number, number>>(); // victim → aggressor → weight
  const total = new Map<number, number>();
  for (const pr of w.pairs) {
    push(ctx.aggressors, pr.victim, { tgid: pr.aggressor, comm: comm(pr.aggressor), count: pr.count });
    push(ctx.victims, pr.aggressor, { tgid: pr.victim, comm: comm(pr.victim), count: pr.count });
    total.set(pr.victim, (total.get(pr.victim) ?? 0) + pr.count);
    let m = weights.get(pr.victim);
    if (!m) {
      m = new Map();
      weights.set(pr.victim, m);
    }
    m.set(pr.aggressor, (m.get(pr.aggressor) ?? 0) + pr.count * slice(pr.aggressor));
  }
  // Per CPU, the busiest processes that last ran there (for victims with few preemptions), built on first use.
  let onCpu: Map<number, number[]> | undefined;
  const colocated = (cpu: number): number[] => {
    if (!onCpu) {
      onCpu = new Map();
      for (let i = 0; i < w.procs.length; i++) {
        const p = w.procs[i];
        if (p.lastCpu < 0 || p.cpuNs < MIN_ATTRIBUTED_WAIT * I) continue;
        const l = onCpu.get(p.lastCpu);
        if (l) l.push(i);
        else onCpu.set(p.lastCpu, [i]);
      }
      for (const l of onCpu.values()) {
        l.sort((a, b) => w.procs[b].cpuNs - w.procs[a].cpuNs).splice(MAX_HOLDERS);
        for (const i of l) index.set(w.procs[i].tgid, i); // holders get their wait attributed by index
      }
    }
    return onCpu.get(cpu) ?? [];
  };
  // Scratch space reused for every victim: thousands of waiting processes must not mean thousands of maps.
  const who: number[] = [];
  const weight: number[] = [];
  for (let vi = 0; vi < w.procs.length; vi++) {
    const waitNs = ctx.split.contentionNs[vi];
    if (waitNs < MIN_ATTRIBUTED_WAIT * I) continue;
    const v = w.procs[vi];
    who.length = 0;
    weight.length = 0;
    const m = weights.get(v.tgid);
    if (m)
      for (const [a, x] of m) {
        who.push(a);
        weight.push(x);
      }
    const listed = waitNs >= LISTED_WAIT * I;
    if (listed && (total.get(v.tgid) ?? 0) < FEW_PREEMPTIONS && v.lastCpu >= 0)
      for (const ai of colocated(v.lastCpu)) {
        const a = w.procs[ai];
        if (a.tgid === v.tgid) continue;
        const k = who.indexOf(a.tgid);
        if (k >= 0) weight[k] += a.cpuNs;
        else {
          who.push(a.tgid);
          weight.push(a.cpuNs);
        }
      }
    let sum = 0;
    for (const x of weight) sum += x;
    if (!(sum > 0)) continue;
    const list: Peer[] | undefined = listed ? [] : undefined;
    for (let k = 0; k < who.length; k++) {
      // A weight is what the holder could have made the victim wait: its slices after preempting it, or its CPU
      // time on the victim's CPU. The victim's wait is shared by weight but never beyond it: one long-slice loop
      // that preempted a victim a few times must not take the wait the victim spent behind others.
      const ns = Math.min((waitNs * weight[k]) / sum, weight[k]);
      const ai = index.get(who[k]);
      if (ai !== undefined) ctx.caused[ai] += ns;
      if (!list || ns < LISTED_WAIT * I) continue;
      const perSec = (ns * 1e9) / I;
      list.push({ tgid: who[k], comm: comm(who[k]), count: perSec });
      push(ctx.holds, who[k], { tgid: v.tgid, comm: v.comm, count: perSec });
    }
    if (list?.length) ctx.behind.set(v.tgid, list.sort((x, y) => y.count - x.count).slice(0, MAX_HOLDERS));
  }
  for (const l of ctx.holds.values()) l.sort((x, y) => y.count - x.count).splice(MAX_HOLDERS);
  return ctx;
}
