// Protocol windows → diagnoses with evidence. Pure (no vscode, no I/O): used by the CLI and the extension.
// The Classifier keeps what a rule needs across windows (memory trends per process, the quiet processes), derives
// each process's figures (metrics.ts, with the CPU attribution of cpuAttribution.ts) and hands them to the
// selected rule set: rules/default.ts (the default profile) or rules/reference.ts (`profile: reference`, the
// original tool's table).
import type { Window } from '../wire/protocol';
import { QuietRoster } from '../wire/quiet';
import type { Config } from './config';
import { attributeCpu, CpuScratch } from './cpuAttribution';
import { metricsOf, timeToOom, type WindowFacts } from './metrics';
import type { CoreLoad, Diagnosis, FullMetrics, Peer, Report, Verdict } from './model';
import { sortBySeverity } from './ordering';
import { DEFAULT_RULES } from './rules/default';
import { classifyMetrics, isGrowing } from './rules/reference';
import { firstMatch } from './rules/rule';
import { MemoryTrends } from './trends';

export type { Verdict };
export { classifyMetrics, isGrowing };

export interface HostInfo {
  ncpu: number;
  memTotalBytes: number;
  /** hello.capabilities: what this session measures. Absent = everything (tests, replays of complete files). */
  capabilities?: readonly string[];
}

const MB = 2 ** 20;
const NO_PEERS: Peer[] = Object.freeze([]) as unknown as Peer[];
const NONE: readonly string[] = Object.freeze([]);
const NO_LIMITS: Diagnosis['limits'] = Object.freeze({ memPath: null, cpuPath: null });

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
  'iowait_time',
  'io_bytes',
] as const;

export class Classifier {
  private readonly trends = new MemoryTrends();
  private windows = 0;
  private readonly missing: readonly string[];
  /** Puts back the processes a window lists as quiet (Window.quiet). */
  private readonly roster = new QuietRoster();
  /** The CPU attribution's per-window arrays, reused (a window's context is not kept past diagnose()). */
  private readonly scratch = new CpuScratch();

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

  /** The window's diagnoses, most severe first (sortBySeverity). */
  classify(sent: Window): Report {
    const report = this.diagnose(sent);
    sortBySeverity(report.diagnoses);
    return report;
  }

  /** The window's diagnoses in the window's order (for a caller that orders them later: DiagnosisPipeline). */
  diagnose(sent: Window): Report {
    const w = this.roster.expand(sent);
    const cfg = this.config;
    const reference = cfg.profile === 'reference';
    const I = w.durationNs;
    const online = w.cpuBusyNs.filter((b) => b !== null).length || this.host.ncpu;
    const ctx = attributeCpu(w, online, this.scratch);
    const facts: WindowFacts = {
      w,
      cfg,
      memTotalBytes: this.host.memTotalBytes,
      ctx,
      trends: this.trends,
      ncpu: online,
      window: this.windows++,
      tEnd: w.ts / 1000,
    };
    const byCount = (a: Peer, b: Peer) => b.count - a.count;
    const pairs = w.pairs.length > 0;
    const diagnoses = w.procs.map((p, i) => {
      const cg = w.cgroups[p.cg];
      const metrics = metricsOf(facts, i);
      const verdict = reference
        ? classifyMetrics(metrics as FullMetrics, cfg)
        : firstMatch(DEFAULT_RULES, metrics, cfg);
      const d: Diagnosis = {
        tgid: p.tgid,
        startNs: p.startNs,
        ppid: p.ppid,
        comm: p.comm,
        kthread: p.kthread,
        cgroup: cg?.path ?? '',
        label: verdict.label,
        rule: verdict.rule,
        evidence: verdict.evidence,
        metrics,
        timeToOomSec: timeToOom(facts, i, metrics),
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
    this.trends.prune(cfg, facts.window, facts.tEnd);

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
}
