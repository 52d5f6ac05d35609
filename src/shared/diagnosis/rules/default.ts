// The default rule set: what a Linux performance engineer concludes from the kernel's signals. Pure.
//
// CPU is judged from demand, not from preemption counts: time on CPU + time runnable but waiting for a CPU
// (sched_info.run_delay) + time held back by a cgroup CPU quota, over every thread. Memory is judged from the
// growth of what cannot be reclaimed (anonymous + shmem) toward the limit that will kill the process, and
// thrashing from faults that cost time (major faults while memory is short), never from minor-fault volume.
// Every threshold is per second or a share, so 1 s and 5 s windows agree.
//
// Precedence (the order of DEFAULT_RULES; first match wins) follows how much a finding explains: running out of
// memory kills the process, thrashing slows everything it does, waiting for the disk longer than it runs explains a
// process that is slow without using the CPU, waiting for a CPU explains why a process that wants to run does not, making others wait is the cause of someone else's problem, and merely using a core is
// the least news.
import {
  formatBytes,
  formatBytesRate,
  formatCount,
  formatCpu,
  formatDuration,
  formatPercent,
} from '../../format';
import type { Config } from '../config';
import type { Evidence, Metrics } from '../model';
import { type Explainable, ev, type Rule } from './rule';
import { bytes, MiB, missing, named, names } from './words';

/**
 * A leak: unreclaimable memory keeps growing (rising minima, not a sawtooth; new highs at its own rhythm) long and far
 * enough not to be a build's or a start-up's transient heap. The growth must have lasted a share of the time it
 * leaves (a leak that kills in a minute shows within seconds, a slow one within max_sustain_sec) and grown past a
 * floor relative to the headroom. Any speed above the noise is reported: how soon it reaches the limit is its
 * urgency (horizon_sec, see isUrgent), said in the sentence, not a gate that hides it.
 */
function leak(m: Metrics, o: Config['oom']): Evidence[] | null {
  if (!m.anonGrowing || m.secondsToLimit < 0) return null;
  // Growth that has slowed well below its own average is filling a bounded working set (concave: a compiler's heap
  // under load grows for tens of seconds, ever slower); a leak keeps its pace.
  const average = m.anonGrowingSec >= o.min_trend_sec ? m.anonGrownMb / m.anonGrowingSec : 0;
  const minRate = Math.max(o.min_growth_mb_per_sec, o.settling_ratio * average);
  if (m.anonSlopeMbPerSec < minRate) return null;
  const sustain = Math.min(o.max_sustain_sec, Math.max(o.min_trend_sec, o.sustain_share * m.secondsToLimit));
  const floor = Math.max(
    o.min_leak_mb,
    (o.min_leak_headroom_percent / 100) * (m.memRemainingMb + m.anonGrownMb),
  );
  if (m.anonGrowingSec < sustain || m.anonGrownMb < floor) return null;
  return [
    ev(m, 'anonSlopeMbPerSec', '>=', minRate),
    ev(m, 'anonGrowingSec', '>=', sustain),
    ev(m, 'anonGrownMb', '>=', floor),
  ];
}
/** "+5 MiB/s for 4 min": the rate, and how long it has been growing once that is more than a few seconds. */
const growth = (m: Metrics) =>
  `${formatBytesRate(m.anonSlopeMbPerSec * MiB)}${m.anonGrowingSec >= 10 ? ` for ${formatDuration(m.anonGrowingSec)}` : ''}`;
/** " in ~5 s": when it reaches the limit, if it does. */
function inTime(d: Explainable): string {
  const tto = d.timeToOomSec ?? d.metrics.secondsToLimit;
  return tto !== null && tto >= 0 ? ` in ~${formatDuration(tto)}` : '';
}

/** Pages it needs are read back from disk or swap. */
const majorFaults = (m: Metrics, t: Config['mem_thrashing']) =>
  m.majFaultsPerSec >= t.min_major_faults_per_sec && m.majFaultsPerSec > 0;
const majorFaultsPerSec = (d: Explainable) =>
  `reads ${formatCount(d.metrics.majFaultsPerSec)} pages/s back from disk or swap (major faults)`;

/**
 * It waits for the disk more than it runs: a large share of its busy time (on a CPU, waiting for one, or blocked)
 * in io_schedule() waits, and real time, not a blip. Only that part of uninterruptible sleep is the disk; a vfork
 * parent, memory.high throttling or a kernel lock sleep in D too and are never called "disk".
 */
function diskBound(m: Metrics, b: Config['io_bound']): Evidence[] | null {
  return m.diskWaitPercent >= b.min_blocked_percent &&
    m.diskWaitCorePercent >= b.min_blocked_core_percent &&
    m.diskWaitCorePercent > m.coreCpuPercent &&
    m.diskWaitCorePercent > 0
    ? [
        ev(m, 'diskWaitPercent', '>=', b.min_blocked_percent),
        ev(m, 'diskWaitCorePercent', '>=', b.min_blocked_core_percent),
      ]
    : null;
}
/** What it waits for: page-ins of mapped files (major faults), else the larger of what it writes and reads. */
function diskSentence({ metrics: m }: Explainable): string {
  const share = formatPercent(m.diskWaitPercent);
  if (m.majFaultsPerSec >= 50 && m.majFaultsPerSec * 4096 >= 0.5 * m.readBytesPerSec)
    return `reading ${formatCount(m.majFaultsPerSec)} pages/s of file-backed memory from disk, blocked ${share} of the time`;
  const kind =
    m.writeBytesPerSec > m.readBytesPerSec
      ? `: synchronous writes (${formatBytes(m.writeBytesPerSec)}/s)`
      : m.readBytesPerSec > 0
        ? `: reads (${formatBytes(m.readBytesPerSec)}/s)`
        : '';
  return `waiting for the disk ${share} of the time${kind}`;
}

/** A large share of its runnable time is spent not running, and that is real time, not a blip. */
function starved(m: Metrics, s: Config['starved']): boolean {
  const heldBack = m.waitCorePercent + m.throttledCorePercent;
  return m.waitPercent >= s.min_wait_percent && heldBack >= s.min_wait_core_percent && heldBack > 0;
}
/** The cause is whichever holds it back more: the quota of its cgroup, or other processes on its CPUs. */
const byQuota = (m: Metrics) => m.throttledCorePercent > m.waitCorePercent;
const starvedEvidence = (m: Metrics, s: Config['starved']) => [
  ev(m, 'waitPercent', '>=', s.min_wait_percent),
  ev(m, byQuota(m) ? 'throttledCorePercent' : 'waitCorePercent', '>=', s.min_wait_core_percent),
];

/** The default profile's rules, in precedence order. */
export const DEFAULT_RULES = [
  {
    id: 'oom.cgroup',
    label: 'OOM risk',
    when: (m, c) => (m.memLimitKind === 'cgroup' ? leak(m, c.oom) : null),
    says: (d) =>
      `anonymous memory ${growth(d.metrics)}, reaches its cgroup's ${bytes(d.metrics.memLimitMb)} limit${inTime(d)}`,
    rank: (m) => -m.secondsToLimit, // soonest first
  },
  {
    id: 'oom.host',
    label: 'OOM risk',
    when: (m, c) => (m.memLimitKind !== 'cgroup' ? leak(m, c.oom) : null),
    says: (d) =>
      `anonymous memory ${growth(d.metrics)}, uses up the machine's available ${bytes(d.metrics.memRemainingMb)}${inTime(d)}`,
    rank: (m) => -m.secondsToLimit,
  },
  {
    // Without PSI the major faults alone decide (the sentence says pressure was not measured).
    id: 'mem_thrashing.major_faults',
    label: 'Mem-thrashing',
    when: (m, { mem_thrashing: t }) =>
      majorFaults(m, t) && m.memPressure < 0
        ? [ev(m, 'majFaultsPerSec', '>=', t.min_major_faults_per_sec)]
        : null,
    says: (d) => `${majorFaultsPerSec(d)}; memory pressure not measured`,
    rank: (m) => m.majFaultsPerSec,
  },
  {
    id: 'mem_thrashing.pressure',
    label: 'Mem-thrashing',
    when: (m, { mem_thrashing: t }) =>
      majorFaults(m, t) && m.memPressure >= 0 && m.memPressure >= t.min_pressure_percent
        ? [
            ev(m, 'majFaultsPerSec', '>=', t.min_major_faults_per_sec),
            ev(m, 'memPressure', '>=', t.min_pressure_percent),
          ]
        : null,
    says: (d) =>
      `${majorFaultsPerSec(d)} while memory stalls ${formatPercent(d.metrics.memPressure)} of the time`,
    rank: (m) => m.majFaultsPerSec,
  },
  {
    // Pages read back because the cgroup's limit evicted them: thrashing whatever PSI says. Clean file pages
    // are cheap to reclaim and a refault only counts as a stall when the page had been active, so a working set
    // of mapped file pages 4x its cgroup's limit refaulted 4,200 pages/s at 2.7 % PSI (test/kernel/io-bound).
    id: 'mem_thrashing.refaults',
    label: 'Mem-thrashing',
    when: (m, { mem_thrashing: t }) =>
      majorFaults(m, t) &&
      m.memRefaultsPerSec > 0 &&
      m.memRefaultsPerSec >= (t.min_refault_percent / 100) * m.majFaultsPerSec
        ? [
            ev(m, 'majFaultsPerSec', '>=', t.min_major_faults_per_sec),
            ev(m, 'memRefaultsPerSec', '>=', (t.min_refault_percent / 100) * m.majFaultsPerSec),
          ]
        : null,
    says: (d) =>
      `${majorFaultsPerSec(d)}; its memory cgroup reads back ${formatCount(d.metrics.memRefaultsPerSec)} pages/s its limit had evicted`,
    rank: (m) => m.majFaultsPerSec,
  },
  {
    // After memory: a page-in while memory is short is thrashing, and running out kills. Before CPU: a process
    // blocked on the disk longer than it runs is slow for that reason, whatever its CPU figures say.
    id: 'io_bound.disk',
    label: 'I/O-bound',
    when: (m, c) => diskBound(m, c.io_bound),
    says: diskSentence,
    rank: (m) => m.diskWaitPercent,
  },
  {
    id: 'starved.throttled',
    label: 'Starved',
    when: (m, c) => (starved(m, c.starved) && byQuota(m) ? starvedEvidence(m, c.starved) : null),
    says: (d) =>
      `throttled by its cgroup's CPU quota (cpu.max ${formatCpu(d.metrics.cpuQuotaPercent)}), held back ${formatPercent(d.metrics.waitPercent)} of the time it wants to run`,
    rank: (m) => m.waitPercent,
  },
  {
    id: 'starved.runq',
    label: 'Starved',
    when: (m, c) => (starved(m, c.starved) && !byQuota(m) ? starvedEvidence(m, c.starved) : null),
    says: (d) => {
      const base = `waiting for a CPU ${formatPercent(d.metrics.waitPercent)} of the time it wants to run`;
      const behind = named(d.behind?.length ? d.behind : (d.preemptedBy ?? []));
      if (behind.length) return `${base}, behind ${names(behind, 2)}`;
      if (missing(d, 'preempt_pairs')) return `${base} (who holds the CPU is not measured in degraded mode)`;
      return `${base}, gets ${formatCpu(d.metrics.coreCpuPercent)} of a core`;
    },
    rank: (m) => m.waitPercent,
  },
  {
    // Its running makes others wait (their run-queue wait, by its share of their preemptions).
    id: 'noisy_neighbor.caused_wait',
    label: 'Noisy neighbor',
    when: (m, { noisy_neighbor: n }) =>
      m.causedWaitCorePercent >= n.min_caused_wait_percent &&
      m.causedWaitCorePercent > 0 &&
      m.coreCpuPercent >= n.min_core_percent
        ? [
            ev(m, 'causedWaitCorePercent', '>=', n.min_caused_wait_percent),
            ev(m, 'coreCpuPercent', '>=', n.min_core_percent),
          ]
        : null,
    says: (d) => {
      const victims = named(d.holds?.length ? d.holds : (d.preempts ?? []));
      return `its running makes others wait ${formatCpu(d.metrics.causedWaitCorePercent)} of a core${victims.length ? `, mostly ${names(victims, 2)}` : ''}`;
    },
    rank: (m) => m.causedWaitCorePercent,
  },
  {
    // It runs whenever it can and wants about a core or more, whatever it faults.
    id: 'cpu_bound.demand',
    label: 'CPU-bound',
    when: (m, { cpu_bound: c }) =>
      m.demandCorePercent >= c.min_demand_percent && m.demandCorePercent > 0
        ? [ev(m, 'demandCorePercent', '>=', c.min_demand_percent)]
        : null,
    says: ({ metrics: m }) =>
      m.demandCorePercent - m.coreCpuPercent >= 0.05 * m.demandCorePercent
        ? `wants ${formatCpu(m.demandCorePercent)} of a core, gets ${formatCpu(m.coreCpuPercent)}`
        : `runs whenever it can: ${formatCpu(m.coreCpuPercent)} of a core`,
    rank: (m) => m.coreCpuPercent,
  },
] as const satisfies readonly Rule[];

export type DefaultRuleId = (typeof DEFAULT_RULES)[number]['id'];

/** An OOM risk that reaches its limit within the horizon: the status bar shows it as an error, a slower one as a warning. */
export function isUrgent(d: { label: string; timeToOomSec: number | null }, cfg: Config): boolean {
  return d.label === 'OOM risk' && d.timeToOomSec !== null && d.timeToOomSec <= cfg.oom.horizon_sec;
}
