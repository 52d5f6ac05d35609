// The default rule set: what a Linux performance engineer concludes from the kernel's signals. Pure.
//
// CPU is judged from demand, not from preemption counts: time on CPU + time runnable but waiting for a CPU
// (sched_info.run_delay) + time held back by a cgroup CPU quota, over every thread. Memory is judged from the
// growth of what cannot be reclaimed (anonymous + shmem) toward the limit that will kill the process, and
// thrashing from faults that cost time (major faults while memory is short), never from minor-fault volume.
// Every threshold is per second or a share, so 1 s and 5 s windows agree.
//
// Precedence (first match wins) follows how much a finding explains: running out of memory kills the process,
// thrashing slows everything it does, waiting for a CPU explains why a process that wants to run does not,
// making others wait is the cause of someone else's problem, and merely using a core is the least news.
import type { Config } from '../config';
import type { Evidence, Label, Metrics, Verdict } from '../diagnosis';

export const DEFAULT_PRECEDENCE: readonly Label[] = [
  'OOM risk',
  'Mem-thrashing',
  'Starved',
  'Noisy neighbor',
  'CPU-bound',
  'OK',
];

const OK: Verdict = Object.freeze({
  label: 'OK',
  rule: 'ok',
  evidence: Object.freeze([]) as unknown as Evidence[],
});

/** One comparison that held, for the evidence list (module-level: no closure per process and window). */
function ev(
  m: Metrics,
  metric: Evidence['metric'],
  op: Evidence['op'],
  threshold: number | boolean,
): Evidence {
  return { metric, value: m[metric] ?? 0, op, threshold };
}

export function classifyDefault(m: Metrics, cfg: Config): Verdict {
  // OOM risk: unreclaimable memory grows (rising minima, not a sawtooth) and reaches the limit within the horizon.
  const o = cfg.oom;
  if (m.anonGrowing && m.secondsToLimit >= 0 && m.secondsToLimit <= o.horizon_sec)
    return {
      label: 'OOM risk',
      rule: m.memLimitKind === 'cgroup' ? 'oom.cgroup' : 'oom.host',
      evidence: [
        ev(m, 'anonGrowing', '==', true),
        ev(m, 'anonSlopeMbPerSec', '>=', o.min_growth_mb_per_sec),
        ev(m, 'secondsToLimit', '<=', o.horizon_sec),
      ],
    };

  // Mem-thrashing: pages it needs are read back from disk or swap while memory is short. Without PSI the
  // major faults alone decide (the explanation says pressure was not measured).
  const t = cfg.mem_thrashing;
  if (m.majFaultsPerSec >= t.min_major_faults_per_sec && m.majFaultsPerSec > 0) {
    if (m.memPressure < 0)
      return {
        label: 'Mem-thrashing',
        rule: 'mem_thrashing.major_faults',
        evidence: [ev(m, 'majFaultsPerSec', '>=', t.min_major_faults_per_sec)],
      };
    if (m.memPressure >= t.min_pressure_percent)
      return {
        label: 'Mem-thrashing',
        rule: 'mem_thrashing.pressure',
        evidence: [
          ev(m, 'majFaultsPerSec', '>=', t.min_major_faults_per_sec),
          ev(m, 'memPressure', '>=', t.min_pressure_percent),
        ],
      };
  }

  // Starved: a large share of its runnable time is spent not running, and that is real time, not a blip.
  const s = cfg.starved;
  const heldBack = m.waitCorePercent + m.throttledCorePercent;
  if (m.waitPercent >= s.min_wait_percent && heldBack >= s.min_wait_core_percent && heldBack > 0) {
    // The cause is whichever holds it back more: the quota of its cgroup, or other processes on its CPUs.
    const quota = m.throttledCorePercent > m.waitCorePercent;
    return {
      label: 'Starved',
      rule: quota ? 'starved.throttled' : 'starved.runq',
      evidence: [
        ev(m, 'waitPercent', '>=', s.min_wait_percent),
        ev(m, quota ? 'throttledCorePercent' : 'waitCorePercent', '>=', s.min_wait_core_percent),
      ],
    };
  }

  // Noisy neighbor: its running makes others wait (their run-queue wait, by its share of their preemptions).
  const n = cfg.noisy_neighbor;
  if (
    m.causedWaitCorePercent >= n.min_caused_wait_percent &&
    m.causedWaitCorePercent > 0 &&
    m.coreCpuPercent >= n.min_core_percent
  )
    return {
      label: 'Noisy neighbor',
      rule: 'noisy_neighbor.caused_wait',
      evidence: [
        ev(m, 'causedWaitCorePercent', '>=', n.min_caused_wait_percent),
        ev(m, 'coreCpuPercent', '>=', n.min_core_percent),
      ],
    };

  // CPU-bound: it runs whenever it can and wants about a core or more, whatever it faults.
  const c = cfg.cpu_bound;
  if (m.demandCorePercent >= c.min_demand_percent && m.demandCorePercent > 0)
    return {
      label: 'CPU-bound',
      rule: 'cpu_bound.demand',
      evidence: [ev(m, 'demandCorePercent', '>=', c.min_demand_percent)],
    };

  return OK;
}
