// One process's figures for one window (Metrics), from its sample, its cgroup, the window's CPU attribution and
// its memory trend. Rates are per second and CPU is % of one core, so 1 s and 5 s windows give the same numbers.
// Pure.
import type { CgroupSample, Window } from '../wire/protocol';
import type { Config } from './config';
import type { CpuContext } from './cpuAttribution';
import type { Metrics } from './model';
import type { GrowthRun, MemoryTrends } from './trends';

const MB = 2 ** 20;

/** What every process of one window is measured against (one record per window, not per process). */
export interface WindowFacts {
  w: Window;
  cfg: Config;
  /** Host MemTotal, bytes. */
  memTotalBytes: number;
  ctx: CpuContext;
  trends: MemoryTrends;
  /** CPUs online in the window. */
  ncpu: number;
  /** The classifier's window count (the reference tracker's clock). */
  window: number;
  /** Seconds since the epoch at the window's end. */
  tEnd: number;
}

/** The figures of w.procs[i]. */
export function metricsOf(f: WindowFacts, i: number): Metrics {
  const { w, cfg, ctx } = f;
  const p = w.procs[i];
  const cg = w.cgroups[p.cg];
  const I = w.durationNs;
  const secs = I / 1e9;
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
  let limit = f.memTotalBytes;
  let kind: Metrics['memLimitKind'] = 'host';
  if (cg && cg.memLimitBytes !== null && cg.memLimitBytes < f.memTotalBytes) {
    const used = cg.memAnonBytes ?? cg.memUsageBytes ?? anon;
    const left = Math.max(0, cg.memLimitBytes - used);
    if (left <= memAvailable) {
      remaining = left;
      limit = cg.memLimitBytes;
      kind = 'cgroup';
    }
  }
  const pressure = cg?.memPressure ?? w.pressure?.memory ?? -1;

  let run: GrowthRun | null = null;
  let rssGrowing = false;
  let rssSlope = 0;
  if (cfg.profile === 'reference')
    [rssGrowing, rssSlope] = f.trends.reference(cfg, p, rss, secs, f.window, f.tEnd);
  else run = f.trends.anon(cfg, p, i, anon, secs, f.tEnd);
  const anonSlope = run ? run.rate : 0;
  // Blocked time as a share of its busy thread-time (threads asleep in S count for nothing): on CPU + waiting
  // for a CPU + blocked in D. The disk's part is what io_schedule() waited for (ProcSample.ioWaitNs).
  const busy = p.cpuNs + p.runqWaitNs + p.blockedNs;
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
    anonGrowingSec: run ? run.sec : 0,
    anonGrownMb: run ? run.mb : 0,
    blockedPercent: p.blockedNs > 0 ? (100 * p.blockedNs) / busy : 0,
    diskWaitPercent: p.ioWaitNs > 0 ? (100 * p.ioWaitNs) / busy : 0,
    diskWaitCorePercent: p.ioWaitNs > 0 ? core * p.ioWaitNs : 0,
    readBytesPerSec: p.readBytes > 0 ? p.readBytes / secs : 0,
    writeBytesPerSec: p.writeBytes > 0 ? p.writeBytes / secs : 0,
    memLimitMb: limit / MB,
    memRemainingMb: remaining / MB,
    memLimitKind: kind,
    secondsToLimit: anonSlope > 0 ? remaining / MB / anonSlope : -1,
    memPressure: pressure,
    memRefaultsPerSec: cg && cg.memRefaults !== null ? cg.memRefaults / secs : -1,
  };
  if (cfg.profile !== 'reference') return m;
  // The reference rules' own figures, only under their profile.
  const refLimitBytes = referenceLimitBytes(f, cg);
  m.cpuPercent = (100 * p.cpuNs) / (I * f.ncpu);
  m.costPerFault = p.cpuNs / 1e6 / secs / (faultsPerSec + 1);
  m.rssRatio = refLimitBytes > 0 ? rss / refLimitBytes : 0;
  m.rssLimit = refLimitBytes < f.memTotalBytes ? 'cgroup' : 'host';
  m.rssGrowing = rssGrowing;
  m.rssSlopeMbPerSec = rssSlope;
  // A wait that began in an earlier window is charged when it ends: cap at the window.
  m.runqWaitPercent = Math.min(100, core * p.runqWaitNs);
  return m;
}

/** What rss_ratio is measured against: the cgroup's limit with use_cgroup_limit, else host MemTotal. */
function referenceLimitBytes(
  f: Pick<WindowFacts, 'cfg' | 'memTotalBytes'>,
  cg: CgroupSample | undefined,
): number {
  const total = f.memTotalBytes;
  return f.cfg.oom.use_cgroup_limit && cg?.memLimitBytes && cg.memLimitBytes < total
    ? cg.memLimitBytes
    : total;
}

/** Seconds until memory is used up at the current growth, null when not growing. */
export function timeToOom(f: WindowFacts, i: number, m: Metrics): number | null {
  if (f.cfg.profile !== 'reference') return m.secondsToLimit >= 0 ? m.secondsToLimit : null;
  // The reference's: RSS growth toward its limit.
  const slope = m.rssSlopeMbPerSec ?? 0;
  if (!m.rssGrowing || slope <= 0) return null;
  return Math.max(0, (referenceLimitBytes(f, f.w.cgroups[f.w.procs[i].cg]) / MB - m.rssMb) / slope);
}
