// Protocol windows → diagnoses with evidence. Pure (no vscode, no I/O): used by the CLI and the extension.
// classifyMetrics is the reference tool's rule table, comparison for comparison; Classifier adds the state a
// rule needs across windows (RSS history) and derives the metrics the way the reference does.
import type { Config } from './config';
import type { CoreLoad, Diagnosis, Evidence, Label, Metrics, Report } from './diagnosis';
import { SEVERITY } from './diagnosis';
import type { ProcSample, Window } from './protocol';

export interface HostInfo {
  ncpu: number;
  memTotalBytes: number;
  pageSize?: number;
}

export interface Verdict {
  label: Label;
  rule: string;
  evidence: Evidence[];
}

const MB = 2 ** 20;

const OK_VERDICT: Verdict = Object.freeze({
  label: 'OK',
  rule: 'ok',
  evidence: Object.freeze([]) as unknown as Evidence[],
});
const NO_PEERS: Diagnosis['preempts'] = Object.freeze([]) as unknown as Diagnosis['preempts'];

/** The rule table. First match wins: OOM risk, CPU-bound, Mem-thrashing, Starved, Noisy neighbor, OK. */
export function classifyMetrics(m: Metrics, cfg: Config): Verdict {
  const ev = (metric: Evidence['metric'], op: Evidence['op'], threshold: number | boolean): Evidence => ({
    metric,
    value: m[metric],
    op,
    threshold,
  });
  const o = cfg.oom;
  if (m.rssGrowing && m.faultsPerSec >= o.faults_per_sec) {
    if (m.rssMb >= o.rss_mb)
      return {
        label: 'OOM risk',
        rule: 'oom.rss_mb',
        evidence: [
          ev('rssGrowing', '==', true),
          ev('rssMb', '>=', o.rss_mb),
          ev('faultsPerSec', '>=', o.faults_per_sec),
        ],
      };
    if (m.rssRatio >= o.rss_ratio)
      return {
        label: 'OOM risk',
        rule: 'oom.rss_ratio',
        evidence: [
          ev('rssGrowing', '==', true),
          ev('rssRatio', '>=', o.rss_ratio),
          ev('faultsPerSec', '>=', o.faults_per_sec),
        ],
      };
  }
  const c = cfg.cpu_bound;
  if (m.faultsPerSec < c.max_faults_per_sec && m.preempted <= c.max_preempted) {
    const calm = [ev('faultsPerSec', '<', c.max_faults_per_sec), ev('preempted', '<=', c.max_preempted)];
    if (m.coreCpuPercent >= c.core_cpu_percent)
      return {
        label: 'CPU-bound',
        rule: 'cpu_bound.core_cpu_percent',
        evidence: [ev('coreCpuPercent', '>=', c.core_cpu_percent), ...calm],
      };
    if (m.cpuPercent > c.cpu_percent)
      return {
        label: 'CPU-bound',
        rule: 'cpu_bound.cpu_percent',
        evidence: [ev('cpuPercent', '>', c.cpu_percent), ...calm],
      };
  }
  const t = cfg.mem_thrashing;
  if (m.cpuPercent < t.max_cpu_percent && m.faults > 0) {
    const low = ev('cpuPercent', '<', t.max_cpu_percent);
    if (m.faultsPerSec > t.severe_faults_per_sec && m.costPerFault > t.severe_cost_per_fault)
      return {
        label: 'Mem-thrashing',
        rule: 'mem_thrashing.severe',
        evidence: [
          ev('faultsPerSec', '>', t.severe_faults_per_sec),
          ev('costPerFault', '>', t.severe_cost_per_fault),
          low,
        ],
      };
    if (m.faultsPerSec > t.moderate_faults_per_sec && m.costPerFault > t.moderate_cost_per_fault)
      return {
        label: 'Mem-thrashing',
        rule: 'mem_thrashing.moderate',
        evidence: [
          ev('faultsPerSec', '>', t.moderate_faults_per_sec),
          ev('costPerFault', '>', t.moderate_cost_per_fault),
          low,
        ],
      };
    if (m.faultsPerSec > t.high_faults_per_sec)
      return {
        label: 'Mem-thrashing',
        rule: 'mem_thrashing.volume',
        evidence: [ev('faultsPerSec', '>', t.high_faults_per_sec), low],
      };
  }
  const s = cfg.starved;
  if (m.cpuPercent < s.max_cpu_percent) {
    if (m.preempted > s.min_preempted)
      return {
        label: 'Starved',
        rule: 'starved.min_preempted',
        evidence: [ev('preempted', '>', s.min_preempted), ev('cpuPercent', '<', s.max_cpu_percent)],
      };
    if (s.runq_wait_percent > 0 && m.runqWaitPercent >= s.runq_wait_percent)
      return {
        label: 'Starved',
        rule: 'starved.runq_wait_percent',
        evidence: [
          ev('runqWaitPercent', '>=', s.runq_wait_percent),
          ev('cpuPercent', '<', s.max_cpu_percent),
        ],
      };
  }
  const n = cfg.noisy_neighbor;
  if (m.preemptsOthers > n.min_preempts_others && m.cpuPercent > n.min_cpu_percent)
    return {
      label: 'Noisy neighbor',
      rule: 'noisy_neighbor',
      evidence: [ev('preemptsOthers', '>', n.min_preempts_others), ev('cpuPercent', '>', n.min_cpu_percent)],
    };
  return OK_VERDICT;
}

/** The reference's RSS tracker: ≥ 2 points, monotonic non-decreasing, and grown by at least min_delta_mb. */
export function isGrowing(mb: readonly number[], minDeltaMb: number): boolean {
  if (mb.length < 2) return false;
  for (let i = 1; i < mb.length; i++) if (mb[i] < mb[i - 1]) return false;
  return mb[mb.length - 1] - mb[0] >= minDeltaMb;
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

const fmtNum = (v: number) => (v >= 10 ? fixed(v, 0) : fixed(v, 1));

export function formatDuration(sec: number): string {
  if (sec < 90) return `${Math.max(1, Math.round(sec))}s`;
  if (sec < 5400) return `${Math.round(sec / 60)}m`;
  return `${(sec / 3600).toFixed(1)}h`;
}

/**
 * One line a human reads, e.g. "RSS 0.3 GB (growing 40 MB/s), 8960 faults/sec". Computed on demand by the views
 * for the rows they show: building it for all 10k processes of a window was most of classify()'s cost.
 */
export function summarize(d: Pick<Diagnosis, 'label' | 'metrics' | 'timeToOomSec'>): string {
  const m = d.metrics;
  const tto = d.timeToOomSec;
  switch (d.label) {
    case 'OOM risk':
      return `RSS ${fixed(m.rssMb / 1024, 1)} GB (growing ${fmtNum(m.rssSlopeMbPerSec)} MB/s), ${fmtNum(m.faultsPerSec)} faults/sec${tto !== null ? `, OOM in ~${formatDuration(tto)}` : ''}`;
    case 'Mem-thrashing':
      return `${fmtNum(m.faultsPerSec)} faults/sec, cost ${fixed(m.costPerFault, 2)} ms/fault, ${fixed(m.cpuPercent, 1)}% CPU`;
    case 'Starved':
      return m.runqWaitPercent > 0
        ? `preempted ${m.preempted}x, waited ${fixed(m.runqWaitPercent, 0)}% of the window, only ${fixed(m.cpuPercent, 1)}% CPU`
        : `preempted ${m.preempted}x, only ${fixed(m.cpuPercent, 1)}% CPU`;
    case 'Noisy neighbor':
      return `preempts others ${m.preemptsOthers}x, ${fixed(m.cpuPercent, 1)}% CPU`;
    case 'CPU-bound':
      return `${fixed(m.coreCpuPercent, 1)}% core, ${fixed(m.cpuPercent, 1)}% system CPU, ${fmtNum(m.faultsPerSec)} faults/sec`;
    case 'OK':
      return `${fixed(m.cpuPercent, 1)}% CPU, RSS ${fmtNum(m.rssMb)} MB`;
  }
}

/** "pressure: cpu 3% · memory 12% · io 0%" (PSI some avg10), or '' when the kernel has no PSI. */
export function pressureText(p: Report['pressure']): string {
  return p ? `pressure: cpu ${fixed(p.cpu, 0)}% · memory ${fixed(p.memory, 0)}% · io ${fixed(p.io, 0)}%` : '';
}

/** Within a label, the number that ranks processes (the reference's Focus order). */
function sortKey(d: Diagnosis): number {
  const m = d.metrics;
  switch (d.label) {
    case 'OOM risk':
      return m.rssMb;
    case 'Mem-thrashing':
      return m.faultsPerSec;
    case 'Starved':
      return m.preempted;
    case 'Noisy neighbor':
      return m.preemptsOthers;
    default:
      return m.coreCpuPercent;
  }
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

export class Classifier {
  private readonly history = new Map<number, RssHistory>();
  private windows = 0;

  constructor(
    private config: Config,
    private readonly host: HostInfo,
  ) {}

  setConfig(config: Config): void {
    this.config = config;
  }

  classify(w: Window): Report {
    const cfg = this.config;
    const n = this.windows++;
    const I = w.durationNs;
    const secs = I / 1e9;
    const online = w.cpuBusyNs.filter((b) => b !== null).length || this.host.ncpu;
    const comm = new Map<number, string>();
    if (w.pairs.length) for (const p of w.procs) comm.set(p.tgid, p.comm);
    const victims = new Map<number, { tgid: number; comm: string; count: number }[]>();
    const aggressors = new Map<number, { tgid: number; comm: string; count: number }[]>();
    for (const pr of w.pairs) {
      const push = (m: typeof victims, k: number, other: number) => {
        const list = m.get(k) ?? [];
        list.push({ tgid: other, comm: comm.get(other) ?? '?', count: pr.count });
        m.set(k, list);
      };
      push(aggressors, pr.victim, pr.aggressor); // who preempted the victim
      push(victims, pr.aggressor, pr.victim); // whom the aggressor preempted
    }
    const diagnoses = w.procs.map((p) => {
      const metrics = this.metrics(p, I, secs, online, n, w.ts / 1000);
      const verdict = classifyMetrics(metrics, cfg);
      const limitMb = this.limitBytes(p) / MB;
      const tto =
        metrics.rssGrowing && metrics.rssSlopeMbPerSec > 0
          ? Math.max(0, (limitMb - metrics.rssMb) / metrics.rssSlopeMbPerSec)
          : null;
      const byCount = (a: { count: number }, b: { count: number }) => b.count - a.count;
      const d: Diagnosis = {
        tgid: p.tgid,
        ppid: p.ppid,
        comm: p.comm,
        cgroup: p.cgroup,
        label: verdict.label,
        rule: verdict.rule,
        evidence: verdict.evidence,
        metrics,
        timeToOomSec: tto,
        preemptedBy: aggressors.get(p.tgid)?.sort(byCount) ?? NO_PEERS, // shared empty list: 10k processes a window
        preempts: victims.get(p.tgid)?.sort(byCount) ?? NO_PEERS,
        lastCpu: p.lastCpu,
      };
      return d;
    });
    this.prune(n);
    diagnoses.sort(bySeverity);

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
      diagnoses,
      cores,
      machineBusyPercent,
      perCoreSaturation: machineBusyPercent < sat ? cores.filter((c) => c.saturated) : [],
      pressure: w.pressure,
      self: {
        cpuPercentOfCore: (100 * w.self.cpuNs) / I,
        rssMb: w.self.rssBytes / MB,
        drainMs: w.self.drainNs / 1e6,
      },
    };
  }

  private limitBytes(p: ProcSample): number {
    return this.config.oom.use_cgroup_limit && p.memMaxBytes
      ? Math.min(p.memMaxBytes, this.host.memTotalBytes)
      : this.host.memTotalBytes;
  }

  private metrics(
    p: ProcSample,
    I: number,
    secs: number,
    ncpu: number,
    window: number,
    tEnd: number,
  ): Metrics {
    const cfg = this.config;
    const faultsPerSec = p.faults / secs;
    const cpuMs = p.cpuNs / 1e6;
    const rssMb = p.rssBytes / MB;
    const ticks = cfg.rss_trend.window_ticks;
    let h = this.history.get(p.tgid);
    if (!h) {
      h = new RssHistory(ticks * (cfg.rss_trend.sub_window_samples ? p.rssSamples.length || 1 : 1), window);
      this.history.set(p.tgid, h);
    }
    h.lastSeen = window;
    h.trim(window - ticks + 1);
    // Parity: one RSS point per window. With sub_window_samples, every in-window sample is a point too.
    if (cfg.rss_trend.sub_window_samples && p.rssSamples.length > 1) {
      const k = p.rssSamples.length;
      for (let i = 0; i < k; i++) h.push(tEnd - secs + (secs * (i + 1)) / k, p.rssSamples[i] / MB, window);
    } else h.push(tEnd, rssMb, window);
    const growing = h.growing(cfg.rss_trend.min_delta_mb);
    const limit = this.limitBytes(p);
    const useCgroup =
      cfg.oom.use_cgroup_limit && p.memMaxBytes !== null && p.memMaxBytes < this.host.memTotalBytes;
    return {
      cpuPercent: (100 * p.cpuNs) / (I * ncpu),
      coreCpuPercent: (100 * p.cpuNs) / I,
      faults: p.faults,
      faultsPerSec,
      costPerFault: cpuMs / secs / (faultsPerSec + 1),
      rssMb,
      rssRatio: limit > 0 ? p.rssBytes / limit : 0,
      rssLimit: useCgroup ? 'cgroup' : 'host',
      rssGrowing: growing,
      rssSlopeMbPerSec: growing ? h.slope() : 0,
      preempted: p.preempted,
      preemptsOthers: p.preemptsOthers,
      // A wait that began in an earlier window is charged when it ends: cap at the window.
      runqWaitPercent: Math.min(100, (100 * p.runqWaitNs) / I),
    };
  }

  /** Parity: forget a process the first window it is absent. With a grace, keep it that many windows. */
  private prune(window: number): void {
    const grace = this.config.rss_trend.absent_grace_windows;
    for (const [tgid, h] of this.history) if (window - h.lastSeen > grace) this.history.delete(tgid); // present ones were just stamped
  }
}

// ---- view filters shared by the CLI and the extension (applied after classification, as the reference does)

const KERNEL_PREFIXES = ['kworker', 'ksoftirqd', 'kthreadd', 'migration', 'watchdog', 'rcu', 'irq/'];

export function isKernelThread(pid: number, comm: string): boolean {
  const c = comm.toLowerCase();
  return pid === 0 || KERNEL_PREFIXES.some((p) => c.startsWith(p));
}

/** Case-insensitive substring match on the cgroup path (which includes the leaf name the reference matched). */
export function matchesCgroup(cgroup: string, filter: string): boolean {
  return cgroup.toLowerCase().includes(filter.toLowerCase());
}

export function isExcluded(p: { tgid: number; comm: string }, exclude: readonly string[]): boolean {
  const c = p.comm.toLowerCase();
  return exclude.some((e) => e === String(p.tgid) || e.toLowerCase() === c);
}
