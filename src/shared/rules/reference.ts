// The reference tool's rule table, comparison for comparison (strict and non-strict as its code has them, not its
// docs). Selected with `profile: reference`; its golden vectors live in test/unit/classifier.test.ts. Pure.
import type { Config } from '../config';
import type { Evidence, FullMetrics, Verdict } from '../diagnosis';

export const OK_VERDICT: Verdict = Object.freeze({
  label: 'OK',
  rule: 'ok',
  evidence: Object.freeze([]) as unknown as Evidence[],
});

/** The rule table. First match wins: OOM risk, CPU-bound, Mem-thrashing, Starved, Noisy neighbor, OK. */
export function classifyMetrics(m: FullMetrics, cfg: Config): Verdict {
  const ev = (metric: Evidence['metric'], op: Evidence['op'], threshold: number | boolean): Evidence => ({
    metric,
    value: m[metric] ?? 0,
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
