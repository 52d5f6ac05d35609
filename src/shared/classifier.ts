// Protocol windows → diagnoses with evidence. Pure (no vscode, no I/O): used by the CLI and the extension.
// The Classifier keeps the state a rule needs across windows (memory history per process), derives the metrics
// from protocol samples, and hands them to the selected rule set: rules/default.ts (the default profile) or
// rules/reference.ts (`profile: reference`, the original tool's table). The wording lives in explain.ts.
import type { Config } from './config';
import type { CoreLoad, Diagnosis, FullMetrics, Metrics, Peer, Report, Verdict } from './diagnosis';
import { SEVERITY } from './diagnosis';
import { cause } from './explain';
import type { CgroupSample, ProcSample, Window } from './protocol';
import { QuietRoster } from './quiet';
import { classifyDefault } from './rules/default';
import { classifyMetrics, isGrowing } from './rules/reference';

export type { Verdict };
export { classifyMetrics, isGrowing };

export interface HostInfo {
  ncpu: number;
  memTotalBytes: number;
  pageSize?: number;
  /** hello.capabilities: what this session measures. Absent = everything (tests, replays of complete files). */
  capabilities?: readonly string[];
}

const MB = 2 ** 20;
const NO_PEERS: Peer[] = Object.freeze([]) as unknown as Peer[];
const NONE: readonly string[] = Object.freeze([]);
const NO_LIMITS: Diagnosis['limits'] = Object.freeze({ memPath: null, cpuPath: null });

/** Rules of the default profile (the others are the reference's). */
const DEFAULT_RULES = new Set([
  'oom.cgroup',
  'oom.host',
  'mem_thrashing.pressure',
  'mem_thrashing.major_faults',
  'starved.runq',
  'starved.throttled',
  'noisy_neighbor.caused_wait',
  'cpu_bound.demand',
]);

/**
 * Signals the default rules read, by hello capability. In degraded mode (the /proc collector) some are absent and
 * each diagnosis lists them, so the explanation can say what it could not see.
 */
export const WANTED_SIGNALS = [
  'preempt_pairs',
  'runq_wait',
  'rss_split',
  'major_faults',
  'cgroup_memory',
  'cgroup_cpu',
  'cgroup_pressure',
] as const;

/** The one sentence the views show: explain.ts's cause(), kept under its old name for the views. */
export function summarize(d: Parameters<typeof cause>[0]): string {
  return cause(d);
}

/** Least-squares slope (MB/s) of (t seconds, MB) points; 0 with fewer than two distinct times. */
export function slope(t: readonly number[], mb: readonly number[]): number {
  const n = t.length;
  if (n < 2) return 0;
  let st = 0;
  let sm = 0;
  for (let i = 0; i < n; i++) {
    st += t[i];
    sm += mb[i];
  }
  const mt = st / n;
  const mm = sm / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (t[i] - mt) * (mb[i] - mm);
    den += (t[i] - mt) ** 2;
  }
  return den > 0 ? num / den : 0;
}

/**
 * v.toFixed(digits) for digits 0..2, without the runtime call: summaries are built for every process every window
 * (10k of them took 8 ms with toFixed). Falls back to toFixed outside the fast range.
 */
export function fixed(v: number, digits: 0 | 1 | 2): string {
  const scale = digits === 0 ? 1 : digits === 1 ? 10 : 100;
  const r = Math.round(v * scale);
  if (!(v >= 0) || r >= 2 ** 31) return v.toFixed(digits);
  if (digits === 0) return String(r);
  const int = (r / scale) | 0;
  const frac = r - int * scale;
  return `${int}.${digits === 2 && frac < 10 ? '0' : ''}${frac}`;
}

export function formatDuration(sec: number): string {
  if (sec < 90) return `${Math.max(1, Math.round(sec))}s`;
  if (sec < 5400) return `${Math.round(sec / 60)}m`;
  return `${(sec / 3600).toFixed(1)}h`;
}

/** "pressure: cpu 3% · memory 12% · io 0%" (PSI some avg10), or '' when the kernel has no PSI. */
export function pressureText(p: Report['pressure']): string {
  return p ? `pressure: cpu ${fixed(p.cpu, 0)}% · memory ${fixed(p.memory, 0)}% · io ${fixed(p.io, 0)}%` : '';
}

/** Within a label, the number that ranks processes (the reference's Focus order; the default's own figures). */
function sortKey(d: Diagnosis): number {
  const m = d.metrics;
  switch (d.label) {
    case 'OOM risk':
      return DEFAULT_RULES.has(d.rule) ? -m.secondsToLimit : m.rssMb; // soonest first
    case 'Mem-thrashing':
      return DEFAULT_RULES.has(d.rule) ? m.majFaultsPerSec : m.faultsPerSec;
    case 'Starved':
      return DEFAULT_RULES.has(d.rule) ? m.waitPercent : m.preempted;
    case 'Noisy neighbor':
      return DEFAULT_RULES.has(d.rule) ? m.causedWaitCorePercent : m.preemptsOthers;
    default:
      return m.coreCpuPercent;
  }
}

/**
 * Sorts in place like bySeverity, with each key computed once: a comparator that derives keys costs more than
 * the rest of classify() for 10k processes.
 */
function sortBySeverity(ds: Diagnosis[]): void {
  const n = ds.length;
  // One number per process that sorts like (severity desc, key desc, tgid asc), sorted natively without a
  // comparator: severity and a clamped, rounded key in the high part, the tgid's rank in the low 24 bits.
  // Exact while it stays below 2^53; a window too large for that takes the comparator path.
  if (n < 1 << 16) {
    const byTgid = new Float64Array(n);
    for (let i = 0; i < n; i++) byTgid[i] = ds[i].tgid * 65536 + i;
    byTgid.sort();
    const rank = new Uint32Array(n);
    for (let r = 0; r < n; r++) rank[byTgid[r] % 65536] = r;
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = Math.min(2 ** 22 - 1, Math.max(0, Math.round(sortKey(ds[i]) * 10 + 2 ** 21))); // ±209k, 0.1 steps
      const high = SEVERITY[ds[i].label] * 2 ** 22 + k;
      packed[i] = (2 ** 25 - 1 - high) * 2 ** 24 + rank[i] * 256; // rank < 2^16 fits the low 24 bits
    }
    // Recover the index from the rank: rank → index table.
    const at = new Uint32Array(n);
    for (let i = 0; i < n; i++) at[rank[i]] = i;
    packed.sort();
    const copy = ds.slice();
    for (let r = 0; r < n; r++) ds[r] = copy[at[Math.floor((packed[r] % 2 ** 24) / 256)]];
    return;
  }
  const sev = new Float64Array(n);
  const key = new Float64Array(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    sev[i] = SEVERITY[ds[i].label];
    key[i] = sortKey(ds[i]);
    order[i] = i;
  }
  order.sort((a, b) => sev[b] - sev[a] || key[b] - key[a] || ds[a].tgid - ds[b].tgid);
  const copy = ds.slice();
  for (let i = 0; i < n; i++) ds[i] = copy[order[i]];
}

export function bySeverity(a: Diagnosis, b: Diagnosis): number {
  return SEVERITY[b.label] - SEVERITY[a.label] || sortKey(b) - sortKey(a) || a.tgid - b.tgid;
}

/** The single most severe non-OK diagnosis, for the status bar (OOM > Mem-thrashing > Starved > Noisy > CPU-bound). */
export function alertOf(report: Report): Diagnosis | undefined {
  let best: Diagnosis | undefined;
  for (const d of report.diagnoses) if (d.label !== 'OK' && (!best || bySeverity(d, best) < 0)) best = d;
  return best;
}

/**
 * One process's RSS points over the trend window, in a fixed ring of typed arrays: classifying 10k processes a
 * window then allocates nothing per point (arrays that shift and grow churned the GC).
 */
class RssHistory {
  private t: Float64Array;
  private mb: Float64Array;
  private win: Float64Array;
  private start = 0;
  private len = 0;
  lastSeen: number;

  constructor(capacity: number, window: number) {
    this.t = new Float64Array(capacity);
    this.mb = new Float64Array(capacity);
    this.win = new Float64Array(capacity);
    this.lastSeen = window;
  }

  push(t: number, mb: number, window: number): void {
    const cap = this.t.length;
    if (this.len === cap) this.grow(cap * 2);
    const i = (this.start + this.len++) % this.t.length;
    this.t[i] = t;
    this.mb[i] = mb;
    this.win[i] = window;
  }

  /** Forgets points older than `window`. */
  trim(window: number): void {
    while (this.len && this.win[this.start] < window) {
      this.start = (this.start + 1) % this.t.length;
      this.len--;
    }
  }

  private grow(cap: number): void {
    const [t, mb, win] = [new Float64Array(cap), new Float64Array(cap), new Float64Array(cap)];
    for (let k = 0; k < this.len; k++) {
      const i = (this.start + k) % this.t.length;
      t[k] = this.t[i];
      mb[k] = this.mb[i];
      win[k] = this.win[i];
    }
    [this.t, this.mb, this.win, this.start] = [t, mb, win, 0];
  }

  private at(k: number): number {
    return (this.start + k) % this.t.length;
  }

  /** isGrowing() over the ring: ≥ 2 points, never decreasing, grown by at least minDeltaMb. */
  growing(minDeltaMb: number): boolean {
    if (this.len < 2) return false;
    for (let k = 1; k < this.len; k++) if (this.mb[this.at(k)] < this.mb[this.at(k - 1)]) return false;
    return this.mb[this.at(this.len - 1)] - this.mb[this.start] >= minDeltaMb;
  }

  /** slope() over the ring, MB/s. */
  slope(): number {
    const n = this.len;
    if (n < 2) return 0;
    let st = 0;
    let sm = 0;
    for (let k = 0; k < n; k++) {
      st += this.t[this.at(k)];
      sm += this.mb[this.at(k)];
    }
    const mt = st / n;
    const mm = sm / n;
    let num = 0;
    let den = 0;
    for (let k = 0; k < n; k++) {
      const dt = this.t[this.at(k)] - mt;
      num += dt * (this.mb[this.at(k)] - mm);
      den += dt * dt;
    }
    return den > 0 ? num / den : 0;
  }
}

/**
 * Unreclaimable memory (anon + shmem, MiB) of one process over the trend window: a ring of (t, MiB) points in typed
 * arrays. When full, neighbouring points are merged into their minimum, which keeps what the trend is judged on
 * (the minima) and bounds the work per process whatever the window length or sample rate.
 */
export class AnonTrend {
  private static readonly CAP = 64;
  private t = new Float64Array(AnonTrend.CAP);
  private v = new Float64Array(AnonTrend.CAP);
  /** Points are t[off .. off+len): trimming moves `off`, so dropping old points copies nothing. */
  private off = 0;
  private len = 0;
  lastSeenSec = 0;

  constructor(readonly startNs: number) {}

  push(t: number, mb: number): void {
    if (this.off + this.len === AnonTrend.CAP) {
      if (this.len > AnonTrend.CAP / 2) this.compact();
      else {
        this.t.copyWithin(0, this.off, this.off + this.len);
        this.v.copyWithin(0, this.off, this.off + this.len);
        this.off = 0;
      }
    }
    const i = this.off + this.len++;
    this.t[i] = t;
    this.v[i] = mb;
  }

  /** Forgets points older than `since` (seconds). */
  trim(since: number): void {
    while (this.len && this.t[this.off] < since) {
      this.off++;
      this.len--;
    }
  }

  /** Halves the points, keeping the lower of each neighbouring pair (the minima are what the trend reads). */
  private compact(): void {
    const end = this.off + this.len;
    let j = 0;
    for (let i = this.off; i + 1 < end; i += 2) {
      const lo = this.v[i] <= this.v[i + 1] ? i : i + 1;
      this.t[j] = this.t[lo];
      this.v[j++] = this.v[lo];
    }
    if (this.len % 2) {
      this.t[j] = this.t[end - 1];
      this.v[j++] = this.v[end - 1];
    }
    this.off = 0;
    this.len = j;
  }

  /** Minima of three equal time slices of [from, last]; null when a slice is empty. */
  private minima(from: number): [number, number, number] | null {
    const end = this.off + this.len;
    const step = (this.t[end - 1] - from) / 3;
    let m0 = Infinity;
    let m1 = Infinity;
    let m2 = Infinity;
    for (let i = this.off; i < end; i++) {
      const t = this.t[i];
      if (t < from) continue;
      const b = (t - from) / step;
      const v = this.v[i];
      if (b < 1) m0 = Math.min(v, m0);
      else if (b < 2) m1 = Math.min(v, m1);
      else m2 = Math.min(v, m2);
    }
    return m0 === Infinity || m1 === Infinity || m2 === Infinity ? null : [m0, m1, m2];
  }

  /** Least-squares slope (MiB/s) of the points since `from`. */
  private slopeSince(from: number): number {
    const end = this.off + this.len;
    let n = 0;
    let st = 0;
    let sv = 0;
    let stt = 0;
    let stv = 0;
    const t0 = from; // centred on `from` for precision (times are seconds since the epoch)
    for (let i = this.off; i < end; i++) {
      const t = this.t[i] - t0;
      if (t < 0) continue;
      const v = this.v[i];
      n++;
      st += t;
      sv += v;
      stt += t * t;
      stv += t * v;
    }
    const den = n * stt - st * st;
    return n >= 2 && den > 0 ? (n * stv - st * sv) / den : 0;
  }

  /**
   * Growing when, over at least minTrendSec, the minima of three successive slices rise by at least minRate MiB/s
   * (a bounded sawtooth returns to the same floor, so its minima stay flat). Judged over the whole history, or,
   * while the whole history's minima never fall, over a recent part of it (a leak that began after a flat spell).
   * Returns the growth rate in MiB/s (regression over the recent half), 0 when not growing.
   */
  growth(minTrendSec: number, minRate: number): number {
    const n = this.len;
    const end = this.off + n;
    if (n < 3 || this.v[end - 1] <= this.v[this.off]) return 0; // the common case: flat or shrinking, O(1)
    const first = this.t[this.off];
    const last = this.t[end - 1];
    const span = last - first;
    if (span < minTrendSec) return 0;
    const rising = (m: [number, number, number] | null, s: number) =>
      m !== null && m[0] < m[1] && m[1] < m[2] && (m[2] - m[0]) / ((2 * s) / 3) >= minRate;
    const whole = this.minima(first);
    let recent = Math.max(minTrendSec, span / 2);
    if (!rising(whole, span)) {
      if (whole === null || whole[1] < whole[0] || whole[2] < whole[1]) return 0;
      // The recent half, then the shortest span believed.
      if (recent >= span || !rising(this.minima(last - recent), recent)) {
        recent = minTrendSec;
        if (recent >= span || !rising(this.minima(last - recent), recent)) return 0;
      }
    }
    const rate = this.slopeSince(last - recent);
    return rate >= minRate && rate > 0 ? rate : 0;
  }
}

/**
 * Where each process's runnable time went this window, ns, by index into window.procs (see cpuSplit). Typed
 * arrays: one allocation per window, not one object per process.
 */
interface CpuSplit {
  throttledNs: Float64Array;
  /** All run-queue wait less the throttled part. */
  queuedNs: Float64Array;
  /** The part of queuedNs spent behind other processes (not behind its own threads). */
  contentionNs: Float64Array;
}

interface Window2 {
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

export class Classifier {
  private readonly history = new Map<number, RssHistory>();
  private readonly trends = new Map<number, AnonTrend>();
  private windows = 0;
  private readonly missing: readonly string[];
  /** Puts back the processes a window lists as quiet (Window.quiet). */
  private readonly roster = new QuietRoster();

  constructor(
    private config: Config,
    private readonly host: HostInfo,
  ) {
    const caps = host.capabilities;
    this.missing = caps ? Object.freeze(WANTED_SIGNALS.filter((c) => !caps.includes(c))) : NONE;
  }

  setConfig(config: Config): void {
    this.config = config;
  }

  classify(sent: Window): Report {
    const w = this.roster.expand(sent);
    const cfg = this.config;
    const reference = cfg.profile === 'reference';
    const n = this.windows++;
    const I = w.durationNs;
    const secs = I / 1e9;
    const tEnd = w.ts / 1000;
    const online = w.cpuBusyNs.filter((b) => b !== null).length || this.host.ncpu;
    const ctx = this.windowContext(w, online);
    const byCount = (a: Peer, b: Peer) => b.count - a.count;
    const pairs = w.pairs.length > 0;
    const diagnoses = w.procs.map((p, i) => {
      const cg = w.cgroups[p.cg];
      const metrics = this.metrics(p, i, cg, w, ctx, I, secs, online, n, tEnd);
      const verdict = reference
        ? classifyMetrics(metrics as FullMetrics, cfg)
        : classifyDefault(metrics, cfg);
      const d: Diagnosis = {
        tgid: p.tgid,
        ppid: p.ppid,
        comm: p.comm,
        kthread: p.kthread,
        cgroup: cg?.path ?? '',
        label: verdict.label,
        rule: verdict.rule,
        evidence: verdict.evidence,
        metrics,
        timeToOomSec: reference
          ? this.referenceTto(metrics, p, cg)
          : metrics.secondsToLimit >= 0
            ? metrics.secondsToLimit
            : null,
        // Shared empty lists, and no lookups at all in a window without pairs: 10k processes a window.
        preemptedBy: (pairs && ctx.aggressors.get(p.tgid)?.sort(byCount)) || NO_PEERS,
        preempts: (pairs && ctx.victims.get(p.tgid)?.sort(byCount)) || NO_PEERS,
        behind: (pairs && ctx.behind.get(p.tgid)) || NO_PEERS,
        holds: (pairs && ctx.holds.get(p.tgid)) || NO_PEERS,
        lastCpu: p.lastCpu,
        limits:
          cg?.memLimitPath || cg?.cpuQuotaPath
            ? { memPath: cg.memLimitPath, cpuPath: cg.cpuQuotaPath }
            : NO_LIMITS,
        missing: this.missing,
      };
      return d;
    });
    this.prune(n, tEnd);
    sortBySeverity(diagnoses);

    const sat = cfg.per_core.saturation_percent;
    const cores: CoreLoad[] = [];
    w.cpuBusyNs.forEach((b, cpu) => {
      if (b === null) return;
      const busyPercent = Math.min(100, (100 * b) / I);
      cores.push({ cpu, busyPercent, saturated: busyPercent >= sat });
    });
    const machineBusyPercent = cores.length ? cores.reduce((s, c) => s + c.busyPercent, 0) / cores.length : 0;
    return {
      seq: w.seq,
      ts: w.ts,
      durationNs: I,
      profile: cfg.profile,
      diagnoses,
      cores,
      machineBusyPercent,
      perCoreSaturation: machineBusyPercent < sat ? cores.filter((c) => c.saturated) : [],
      pressure: w.pressure,
      memAvailableMb: w.memAvailableBytes / MB,
      self: {
        cpuPercentOfCore: (100 * w.self.cpuNs) / I,
        rssMb: w.self.rssBytes / MB,
        drainMs: w.self.collectNs / 1e6,
      },
    };
  }

  /**
   * CPU demand split, per process. A quota's throttled time is the cgroup's: each process under it gets its CPU
   * share of it, and never more than its threads could have run. The kernel charges throttled time to run_delay
   * too (measured on 6.18: a 20 % quota spinner shows ~80 % run-queue wait and ~80 % throttled); where run_delay
   * covers it, only the rest is waiting behind others. A process with more runnable threads than the machine has
   * CPUs waits behind itself: that part of its wait is its own demand, not other processes holding the CPU.
   */
  private cpuSplit(w: Window, ncpu: number): CpuSplit {
    const I = w.durationNs;
    const n = w.procs.length;
    const split: CpuSplit = {
      throttledNs: new Float64Array(n),
      queuedNs: new Float64Array(n),
      contentionNs: new Float64Array(n),
    };
    let quotaCpu: Map<string, number> | undefined;
    for (const p of w.procs) {
      const q = w.cgroups[p.cg]?.cpuQuotaPath;
      if (q) {
        quotaCpu ??= new Map();
        quotaCpu.set(q, (quotaCpu.get(q) ?? 0) + p.cpuNs);
      }
    }
    for (let i = 0; i < n; i++) {
      const p = w.procs[i];
      const cg = w.cgroups[p.cg];
      let throttledNs = 0;
      if (quotaCpu && cg?.cpuQuotaPath && cg.throttledNs > 0 && p.cpuNs > 0) {
        const all = quotaCpu.get(cg.cpuQuotaPath) ?? p.cpuNs;
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
  private windowContext(w: Window, ncpu: number): Window2 {
    const I = w.durationNs;
    const ctx: Window2 = {
      split: this.cpuSplit(w, ncpu),
      aggressors: new Map(),
      victims: new Map(),
      behind: new Map(),
      holds: new Map(),
      caused: new Float64Array(w.procs.length),
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
        const ns = (waitNs * weight[k]) / sum;
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

  private metrics(
    p: ProcSample,
    i: number,
    cg: CgroupSample | undefined,
    w: Window,
    ctx: Window2,
    I: number,
    secs: number,
    ncpu: number,
    window: number,
    tEnd: number,
  ): Metrics {
    const cfg = this.config;
    const faults = p.minFaults + p.majFaults;
    const faultsPerSec = faults / secs;
    const rss = p.rssAnonBytes + p.rssFileBytes + p.rssShmemBytes;
    const anon = p.rssAnonBytes + p.rssShmemBytes;
    const core = 100 / I; // ns → % of one core

    const throttledNs = ctx.split.throttledNs[i];
    const queuedNs = ctx.split.queuedNs[i];
    const contentionNs = ctx.split.contentionNs[i];
    const heldBack = contentionNs + throttledNs;
    const runnable = p.cpuNs + queuedNs + throttledNs;

    // Memory: the limit that kills it is whichever of its cgroup's limit and the host runs out first.
    const memAvailable = w.memAvailableBytes;
    let remaining = memAvailable;
    let limit = this.host.memTotalBytes;
    let kind: Metrics['memLimitKind'] = 'host';
    if (cg && cg.memLimitBytes !== null && cg.memLimitBytes < this.host.memTotalBytes) {
      const used = cg.memAnonBytes ?? cg.memUsageBytes ?? anon;
      const left = Math.max(0, cg.memLimitBytes - used);
      if (left <= memAvailable) {
        remaining = left;
        limit = cg.memLimitBytes;
        kind = 'cgroup';
      }
    }
    const pressure = cg?.memPressure ?? w.pressure?.memory ?? -1;

    let anonSlope = 0;
    let rssGrowing = false;
    let rssSlope = 0;
    if (cfg.profile === 'reference') [rssGrowing, rssSlope] = this.referenceTrend(p, rss, secs, window, tEnd);
    else anonSlope = this.anonTrend(p, anon, secs, tEnd);
    const m: Metrics = {
      coreCpuPercent: core * p.cpuNs,
      faults,
      faultsPerSec,
      rssMb: rss / MB,
      preempted: p.preempted,
      preemptsOthers: p.preemptsOthers,
      waitCorePercent: contentionNs > 0 ? core * contentionNs : 0,
      throttledCorePercent: throttledNs > 0 ? core * throttledNs : 0,
      demandCorePercent: runnable > 0 ? core * runnable : 0,
      waitPercent: heldBack > 0 ? (100 * heldBack) / runnable : 0,
      causedWaitCorePercent: ctx.caused[i] > 0 ? core * ctx.caused[i] : 0,
      cpuQuotaPercent: cg?.cpuQuotaPercent ?? 0,
      minFaultsPerSec: p.minFaults > 0 ? p.minFaults / secs : 0,
      majFaultsPerSec: p.majFaults > 0 ? p.majFaults / secs : 0,
      anonMb: anon / MB,
      anonGrowing: anonSlope > 0,
      anonSlopeMbPerSec: Math.max(anonSlope, 0),
      memLimitMb: limit / MB,
      memRemainingMb: remaining / MB,
      memLimitKind: kind,
      secondsToLimit: anonSlope > 0 ? remaining / MB / anonSlope : -1,
      memPressure: pressure,
    };
    if (cfg.profile !== 'reference') return m;
    // The reference rules' own figures, only under their profile.
    const refLimitBytes = this.referenceLimitBytes(cg);
    m.cpuPercent = (100 * p.cpuNs) / (I * ncpu);
    m.costPerFault = p.cpuNs / 1e6 / secs / (faultsPerSec + 1);
    m.rssRatio = refLimitBytes > 0 ? rss / refLimitBytes : 0;
    m.rssLimit = refLimitBytes < this.host.memTotalBytes ? 'cgroup' : 'host';
    m.rssGrowing = rssGrowing;
    m.rssSlopeMbPerSec = rssSlope;
    // A wait that began in an earlier window is charged when it ends: cap at the window.
    m.runqWaitPercent = Math.min(100, core * p.runqWaitNs);
    return m;
  }

  /** Pushes this window's anon + shmem samples and returns the growth rate (MiB/s), 0 when not growing. */
  private anonTrend(p: ProcSample, anonBytes: number, secs: number, tEnd: number): number {
    const o = this.config.oom;
    let h = this.trends.get(p.tgid);
    if (!h || h.startNs !== p.startNs) {
      h = new AnonTrend(p.startNs); // a new process, or a pid reused by another one
      this.trends.set(p.tgid, h);
    }
    h.lastSeenSec = tEnd;
    const k = p.anonSamples.length;
    // Samples are spread over the window, the last one at its end (as the collector takes them).
    if (k > 0) for (let i = 0; i < k; i++) h.push(tEnd - secs + (secs * (i + 1)) / k, p.anonSamples[i] / MB);
    else h.push(tEnd, anonBytes / MB);
    h.trim(tEnd - o.trend_window_sec);
    return h.growth(o.min_trend_sec, o.min_growth_mb_per_sec);
  }

  // ---- the reference profile's state and limits

  /** What rss_ratio is measured against: the cgroup's limit with use_cgroup_limit, else host MemTotal. */
  private referenceLimitBytes(cg: CgroupSample | undefined): number {
    const total = this.host.memTotalBytes;
    return this.config.oom.use_cgroup_limit && cg?.memLimitBytes && cg.memLimitBytes < total
      ? cg.memLimitBytes
      : total;
  }

  private referenceTto(m: Metrics, _p: ProcSample, cg: CgroupSample | undefined): number | null {
    const slope = m.rssSlopeMbPerSec ?? 0;
    if (!m.rssGrowing || slope <= 0) return null;
    return Math.max(0, (this.referenceLimitBytes(cg) / MB - m.rssMb) / slope);
  }

  /** The reference's RSS tracker (one point per window; with sub_window_samples, the in-window samples too). */
  private referenceTrend(
    p: ProcSample,
    rss: number,
    secs: number,
    window: number,
    tEnd: number,
  ): [boolean, number] {
    const cfg = this.config;
    const ticks = cfg.rss_trend.window_ticks;
    let h = this.history.get(p.tgid);
    if (!h) {
      h = new RssHistory(ticks * (cfg.rss_trend.sub_window_samples ? p.anonSamples.length || 1 : 1), window);
      this.history.set(p.tgid, h);
    }
    h.lastSeen = window;
    h.trim(window - ticks + 1);
    if (cfg.rss_trend.sub_window_samples && p.anonSamples.length > 1) {
      // v2 samples unreclaimable memory only; file-backed RSS is taken as it was at the window's end.
      const file = p.rssFileBytes;
      const k = p.anonSamples.length;
      for (let i = 0; i < k; i++)
        h.push(tEnd - secs + (secs * (i + 1)) / k, (p.anonSamples[i] + file) / MB, window);
    } else h.push(tEnd, rss / MB, window);
    const growing = h.growing(cfg.rss_trend.min_delta_mb);
    return [growing, growing ? h.slope() : 0];
  }

  /**
   * Parity: forget a process the first window it is absent (with a grace, that many windows). The default
   * profile's memory history is kept while it is within the trend window, so an idle window does not reset it.
   */
  private prune(window: number, tEnd: number): void {
    const grace = this.config.rss_trend.absent_grace_windows;
    for (const [tgid, h] of this.history) if (window - h.lastSeen > grace) this.history.delete(tgid); // present ones were just stamped
    const keep = this.config.oom.trend_window_sec;
    if (window % 8 === 0)
      for (const [tgid, h] of this.trends) if (tEnd - h.lastSeenSec > keep) this.trends.delete(tgid);
  }
}

// ---- view filters shared by the CLI and the extension (applied after classification, as the reference does)

/**
 * Kernel threads, as the kernel flags them (PF_KTHREAD in the protocol's `kthread`): a name says nothing — a user
 * process may call itself kworker/…, and kernel threads such as kdamond or jbd2 match no list of prefixes.
 */
export function isKernelThread(d: Pick<Diagnosis, 'tgid' | 'kthread'>): boolean {
  return d.tgid === 0 || d.kthread;
}

/** Case-insensitive substring match on the cgroup path (which includes the leaf name the reference matched). */
export function matchesCgroup(cgroup: string, filter: string): boolean {
  return cgroup.toLowerCase().includes(filter.toLowerCase());
}

export function isExcluded(p: { tgid: number; comm: string }, exclude: readonly string[]): boolean {
  const c = p.comm.toLowerCase();
  return exclude.some((e) => e === String(p.tgid) || e.toLowerCase() === c);
}
