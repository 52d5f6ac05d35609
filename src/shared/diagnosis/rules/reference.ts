// The reference tool's rule table, comparison for comparison (strict and non-strict as its code has them, not its
// docs). Selected with `profile: reference`; its golden vectors live in test/unit/classifier.test.ts. Pure.
// First match wins, in the order of REFERENCE_RULES: OOM risk, CPU-bound, Mem-thrashing, Starved, Noisy neighbor.
import { formatBytesRate, formatCount, formatCpu, formatDuration, formatPercent } from '../../format';
import type { Config } from '../config';
import type { FullMetrics, Verdict } from '../model';
import { type Explainable, ev, firstMatch, type Rule } from './rule';
import { bytes, MiB } from './words';

const growingFast = (m: FullMetrics, o: Config['oom']) => m.rssGrowing && m.faultsPerSec >= o.faults_per_sec;
/** RSS growing with faults, and past the limit the reference sets on it: in MiB, or as a share of memory. */
function growingPast(metric: 'rssMb' | 'rssRatio') {
  const key = metric === 'rssMb' ? 'rss_mb' : 'rss_ratio';
  return (m: FullMetrics, { oom: o }: Config) =>
    growingFast(m, o) && m[metric] >= o[key]
      ? [
          ev(m, 'rssGrowing', '==', true),
          ev(m, metric, '>=', o[key]),
          ev(m, 'faultsPerSec', '>=', o.faults_per_sec),
        ]
      : null;
}
/** Few faults and few preemptions: what the reference requires of CPU-bound. */
const calm = (m: FullMetrics, c: Config['cpu_bound']) =>
  m.faultsPerSec < c.max_faults_per_sec && m.preempted <= c.max_preempted;
const calmEvidence = (m: FullMetrics, c: Config['cpu_bound']) => [
  ev(m, 'faultsPerSec', '<', c.max_faults_per_sec),
  ev(m, 'preempted', '<=', c.max_preempted),
];
/** Faulting while using little CPU: where the reference looks for thrashing. */
const faultingIdle = (m: FullMetrics, t: Config['mem_thrashing']) =>
  m.cpuPercent < t.max_cpu_percent && m.faults > 0;

/** Many faults, each costing CPU, while using little of it: the reference's severe and moderate tiers. */
function costlyFaults(tier: 'severe' | 'moderate') {
  return (m: FullMetrics, { mem_thrashing: t }: Config) => {
    const faults = t[`${tier}_faults_per_sec`];
    const cost = t[`${tier}_cost_per_fault`];
    return faultingIdle(m, t) && m.faultsPerSec > faults && m.costPerFault > cost
      ? [
          ev(m, 'faultsPerSec', '>', faults),
          ev(m, 'costPerFault', '>', cost),
          ev(m, 'cpuPercent', '<', t.max_cpu_percent),
        ]
      : null;
  };
}

function oomSays(d: Explainable): string {
  const m = d.metrics;
  const tto = d.timeToOomSec;
  return `RSS ${bytes(m.rssMb)} growing ${formatBytesRate((m.rssSlopeMbPerSec ?? 0) * MiB)}, ${formatCount(m.faultsPerSec)} faults/s${tto !== null ? `, fills memory in ~${formatDuration(tto)}` : ''}`;
}
const cpuSays = ({ metrics: m }: Explainable) =>
  `${formatCpu(m.coreCpuPercent)} of a core, ${formatCount(m.faultsPerSec)} faults/s`;
const thrashSays = ({ metrics: m }: Explainable) =>
  `${formatCount(m.faultsPerSec)} page faults/s, ${formatCpu(m.coreCpuPercent)} of a core`;

/** The reference profile's rules, in precedence order; each label ranks by the reference's Focus order. */
export const REFERENCE_RULES = [
  { id: 'oom.rss_mb', label: 'OOM risk', when: growingPast('rssMb'), says: oomSays, rank: (m) => m.rssMb },
  {
    id: 'oom.rss_ratio',
    label: 'OOM risk',
    when: growingPast('rssRatio'),
    says: oomSays,
    rank: (m) => m.rssMb,
  },
  {
    id: 'cpu_bound.core_cpu_percent',
    label: 'CPU-bound',
    when: (m, { cpu_bound: c }) =>
      calm(m, c) && m.coreCpuPercent >= c.core_cpu_percent
        ? [ev(m, 'coreCpuPercent', '>=', c.core_cpu_percent), ...calmEvidence(m, c)]
        : null,
    says: cpuSays,
    rank: (m) => m.coreCpuPercent,
  },
  {
    id: 'cpu_bound.cpu_percent',
    label: 'CPU-bound',
    when: (m, { cpu_bound: c }) =>
      calm(m, c) && m.cpuPercent > c.cpu_percent
        ? [ev(m, 'cpuPercent', '>', c.cpu_percent), ...calmEvidence(m, c)]
        : null,
    says: cpuSays,
    rank: (m) => m.coreCpuPercent,
  },
  {
    id: 'mem_thrashing.severe',
    label: 'Mem-thrashing',
    when: costlyFaults('severe'),
    says: thrashSays,
    rank: (m) => m.faultsPerSec,
  },
  {
    id: 'mem_thrashing.moderate',
    label: 'Mem-thrashing',
    when: costlyFaults('moderate'),
    says: thrashSays,
    rank: (m) => m.faultsPerSec,
  },
  {
    id: 'mem_thrashing.volume',
    label: 'Mem-thrashing',
    when: (m, { mem_thrashing: t }) =>
      faultingIdle(m, t) && m.faultsPerSec > t.high_faults_per_sec
        ? [ev(m, 'faultsPerSec', '>', t.high_faults_per_sec), ev(m, 'cpuPercent', '<', t.max_cpu_percent)]
        : null,
    says: thrashSays,
    rank: (m) => m.faultsPerSec,
  },
  {
    id: 'starved.min_preempted',
    label: 'Starved',
    when: (m, { starved: s }) =>
      m.cpuPercent < s.max_cpu_percent && m.preempted > s.min_preempted
        ? [ev(m, 'preempted', '>', s.min_preempted), ev(m, 'cpuPercent', '<', s.max_cpu_percent)]
        : null,
    says: ({ metrics: m }) =>
      `preempted ${formatCount(m.preempted)} times, gets ${formatCpu(m.coreCpuPercent)} of a core`,
    rank: (m) => m.preempted,
  },
  {
    // Opt-in (runq_wait_percent 0 turns it off).
    id: 'starved.runq_wait_percent',
    label: 'Starved',
    when: (m, { starved: s }) =>
      m.cpuPercent < s.max_cpu_percent && s.runq_wait_percent > 0 && m.runqWaitPercent >= s.runq_wait_percent
        ? [ev(m, 'runqWaitPercent', '>=', s.runq_wait_percent), ev(m, 'cpuPercent', '<', s.max_cpu_percent)]
        : null,
    says: ({ metrics: m }) =>
      `waiting for a CPU ${formatPercent(m.runqWaitPercent ?? 0)} of the window, gets ${formatCpu(m.coreCpuPercent)} of a core`,
    rank: (m) => m.preempted,
  },
  {
    id: 'noisy_neighbor',
    label: 'Noisy neighbor',
    when: (m, { noisy_neighbor: n }) =>
      m.preemptsOthers > n.min_preempts_others && m.cpuPercent > n.min_cpu_percent
        ? [ev(m, 'preemptsOthers', '>', n.min_preempts_others), ev(m, 'cpuPercent', '>', n.min_cpu_percent)]
        : null,
    says: ({ metrics: m }) =>
      `preempted others ${formatCount(m.preemptsOthers)} times, ${formatCpu(m.coreCpuPercent)} of a core`,
    rank: (m) => m.preemptsOthers,
  },
] as const satisfies readonly Rule<string, FullMetrics>[];

export type ReferenceRuleId = (typeof REFERENCE_RULES)[number]['id'];

/** The rule table over one process's figures (the golden tests call it directly). */
export function classifyMetrics(m: FullMetrics, cfg: Config): Verdict {
  return firstMatch(REFERENCE_RULES, m, cfg);
}

/** The reference's RSS tracker: ≥ 2 points, monotonic non-decreasing, and grown by at least min_delta_mb. */
export function isGrowing(mb: readonly number[], minDeltaMb: number): boolean {
  if (mb.length < 2) return false;
  for (let i = 1; i < mb.length; i++) if (mb[i] < mb[i - 1]) return false;
  return mb[mb.length - 1] - mb[0] >= minDeltaMb;
}
