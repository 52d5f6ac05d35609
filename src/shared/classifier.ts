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
  helperPid?: number;
}

export interface Verdict {
  label: Label;
  rule: string;
  evidence: Evidence[];
}

const MB = 2 ** 20;

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
  return { label: 'OK', rule: 'ok', evidence: [] };
}

/** The reference's RSS tracker: ≥ 2 points, monotonic non-decreasing, and grown by at least min_delta_mb. */
export function isGrowing(mb: readonly number[], minDeltaMb: number): boolean {
  if (mb.length < 2) return false;
  for (let i = 1; i < mb.length; i++) if (mb[i] < mb[i - 1]) return false;
  return mb[mb.length - 1] - mb[0] >= minDeltaMb;
}

/** Least-squares slope (MB/s) of (t seconds, MB) points; 0 with fewer than two distinct times. */
export function slope(points: readonly { t: number; mb: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let st = 0;
  let sm = 0;
  for (const p of points) {
    st += p.t;
    sm += p.mb;
  }
  const mt = st / n;
  const mm = sm / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.mb - mm);
    den += (p.t - mt) ** 2;
  }
  return den > 0 ? num / den : 0;
}

const fmtNum = (v: number) => (v >= 10 ? v.toFixed(0) : v.toFixed(1));

export function formatDuration(sec: number): string {
  if (sec < 90) return `${Math.max(1, Math.round(sec))}s`;
  if (sec < 5400) return `${Math.round(sec / 60)}m`;
  return `${(sec / 3600).toFixed(1)}h`;
}

function summarize(label: Label, m: Metrics, tto: number | null): string {
  switch (label) {
    case 'OOM risk':
      return `RSS ${(m.rssMb / 1024).toFixed(1)} GB (growing ${fmtNum(m.rssSlopeMbPerSec)} MB/s), ${fmtNum(m.faultsPerSec)} faults/sec${tto !== null ? `, OOM in ~${formatDuration(tto)}` : ''}`;
    case 'Mem-thrashing':
      return `${fmtNum(m.faultsPerSec)} faults/sec, cost ${m.costPerFault.toFixed(2)} ms/fault, ${m.cpuPercent.toFixed(1)}% CPU`;
    case 'Starved':
      return m.runqWaitPercent > 0
        ? `preempted ${m.preempted}x, waited ${m.runqWaitPercent.toFixed(0)}% of the window, only ${m.cpuPercent.toFixed(1)}% CPU`
        : `preempted ${m.preempted}x, only ${m.cpuPercent.toFixed(1)}% CPU`;
    case 'Noisy neighbor':
      return `preempts others ${m.preemptsOthers}x, ${m.cpuPercent.toFixed(1)}% CPU`;
    case 'CPU-bound':
      return `${m.coreCpuPercent.toFixed(1)}% core, ${m.cpuPercent.toFixed(1)}% system CPU, ${fmtNum(m.faultsPerSec)} faults/sec`;
    case 'OK':
      return `${m.cpuPercent.toFixed(1)}% CPU, RSS ${fmtNum(m.rssMb)} MB`;
  }
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

interface History {
  points: { t: number; mb: number; window: number }[];
  lastSeen: number;
}

export class Classifier {
  private readonly history = new Map<number, History>();
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
    const comm = new Map(w.procs.map((p) => [p.tgid, p.comm]));
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
        ...verdict,
        summary: summarize(verdict.label, metrics, tto),
        metrics,
        timeToOomSec: tto,
        preemptedBy: (aggressors.get(p.tgid) ?? []).sort(byCount),
        preempts: (victims.get(p.tgid) ?? []).sort(byCount),
        lastCpu: p.lastCpu,
      };
      return d;
    });
    this.prune(n, new Set(w.procs.map((p) => p.tgid)));
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
    const h = this.history.get(p.tgid) ?? { points: [], lastSeen: window };
    h.lastSeen = window;
    // Parity: one RSS point per window. With sub_window_samples, every in-window sample is a point too.
    const samples = cfg.rss_trend.sub_window_samples ? p.rssSamples : [p.rssBytes];
    samples.forEach((b, i) => {
      h.points.push({ t: tEnd - secs + (secs * (i + 1)) / samples.length, mb: b / MB, window });
    });
    const keepFrom = window - cfg.rss_trend.window_ticks + 1;
    h.points = h.points.filter((pt) => pt.window >= keepFrom);
    this.history.set(p.tgid, h);
    const mb = h.points.map((pt) => pt.mb);
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
      rssGrowing: isGrowing(mb, cfg.rss_trend.min_delta_mb),
      rssSlopeMbPerSec: slope(h.points),
      preempted: p.preempted,
      preemptsOthers: p.preemptsOthers,
      runqWaitPercent: (100 * p.runqWaitNs) / I,
    };
  }

  /** Parity: forget a process the first window it is absent. With a grace, keep it that many windows. */
  private prune(window: number, present: Set<number>): void {
    const grace = this.config.rss_trend.absent_grace_windows;
    for (const [tgid, h] of this.history)
      if (!present.has(tgid) && window - h.lastSeen > grace) this.history.delete(tgid);
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
