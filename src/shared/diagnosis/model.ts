// What the classifier produces and every view consumes. Pure types + tiny helpers, no vscode.
import type { RuleId } from './rules';

export type { RuleId };

export type Label =
  | 'OOM risk'
  | 'CPU-bound'
  | 'Mem-thrashing'
  | 'I/O-bound'
  | 'Starved'
  | 'Noisy neighbor'
  | 'OK';

/** The reference tool's precedence (first match wins). The default profile's order is in rules/default.ts. */
export const LABELS: readonly Label[] = [
  'OOM risk',
  'CPU-bound',
  'Mem-thrashing',
  'Starved',
  'Noisy neighbor',
  'OK',
  'I/O-bound', // the default profile's own: the reference never gives it
];

/**
 * Alert severity for the status bar and grouping: OOM > Mem-thrashing > I/O-bound > Starved > Noisy neighbor >
 * CPU-bound > OK.
 */
export const SEVERITY: Readonly<Record<Label, number>> = {
  'OOM risk': 6,
  'Mem-thrashing': 5,
  'I/O-bound': 4,
  Starved: 3,
  'Noisy neighbor': 2,
  'CPU-bound': 1,
  OK: 0,
};

/** Which rule set labels the processes: the default (demand, unreclaimable growth) or the reference tool's. */
export type Profile = 'default' | 'reference';
export const PROFILES: readonly Profile[] = ['default', 'reference'];

/**
 * Figures only the reference rules read (`profile: reference`). Under the default profile they are left out of
 * each process's Metrics: seven more boxed numbers per process and window were a third of classify()'s time.
 */
export interface ReferenceMetrics {
  /** Share of the whole machine (all CPUs), 0..100. */
  cpuPercent: number;
  /** ms of CPU per fault: (cpuMs/s) / (faults/s + 1), as the reference computes it (not the cost of a fault). */
  costPerFault: number;
  /** RSS / limit, where limit is host MemTotal or (when enabled and set) the cgroup's memory limit. */
  rssRatio: number;
  /** Which limit rssRatio is against. */
  rssLimit: 'host' | 'cgroup';
  /** The reference's RSS tracker: monotonic over its window_ticks and grown by min_delta_mb. */
  rssGrowing: boolean;
  /** MiB per second, least-squares over the reference RSS history (0 when not growing). */
  rssSlopeMbPerSec: number;
  /** Run-queue wait as a share of the window, 0..100 (the reference profile's opt-in Starved rule). */
  runqWaitPercent: number;
}

/**
 * The numbers a diagnosis is computed from (one window, one process). Rates are per second and CPU figures are
 * % of ONE core unless the name says otherwise, so 1 s and 5 s windows give the same numbers.
 */
export interface Metrics extends Partial<ReferenceMetrics> {
  /** Share of one core; can exceed 100 for multi-threaded processes. */
  coreCpuPercent: number;
  /** Page faults in the window, minor + major. */
  faults: number;
  faultsPerSec: number;
  /** Resident memory, all kinds (anonymous + file-backed + shmem), MiB. */
  rssMb: number;
  /** Involuntary switches to other processes in the window (from the preemption pairs). */
  preempted: number;
  /** Involuntary switches of others to this process in the window. */
  preemptsOthers: number;

  // ---- CPU demand (default profile), % of one core, every thread
  /**
   * Time runnable but waiting for a CPU behind other processes: sched_info.run_delay less the quota's throttled
   * time and less what its own threads beyond the machine's CPUs must wait anyway.
   */
  waitCorePercent: number;
  /** Time its cgroup was held back by a CPU quota while it was active. */
  throttledCorePercent: number;
  /** What it wanted: on CPU + waiting + throttled. */
  demandCorePercent: number;
  /** Share of its runnable time (on CPU + all its waiting + throttled) held back by others or a quota, 0..100. */
  waitPercent: number;
  /** Others' run-queue wait attributed to this process (by its share of their preemptions). */
  causedWaitCorePercent: number;
  /** The quota that throttles it (cpu.max / cfs_quota_us), % of one core; 0 when none. */
  cpuQuotaPercent: number;

  // ---- memory (default profile)
  minFaultsPerSec: number;
  majFaultsPerSec: number;
  /** Memory that cannot be reclaimed without swap: anonymous + shmem, MiB. */
  anonMb: number;
  /** Rising minima of anon + shmem over the trend window, and a projection that reaches the limit in the horizon. */
  anonGrowing: boolean;
  /** MiB per second of anon + shmem growth (0 when not growing). */
  anonSlopeMbPerSec: number;
  /** How long it has been growing without a pause longer than its own rhythm (s; 0 when not growing). */
  anonGrowingSec: number;
  /** How much it has grown over that time (MiB; 0 when not growing). */
  anonGrownMb: number;

  // ---- blocked in the kernel (default profile): shares of its busy thread-time (on CPU + waiting + blocked)
  /** Asleep in uninterruptible sleep (D, not TASK_NOLOAD), every thread, 0..100. */
  blockedPercent: number;
  /** The part of that spent waiting for the disk (io_schedule(): reads, page-ins, writeback, direct I/O, flushes). */
  diskWaitPercent: number;
  /** The disk wait as an amount: % of one core (thread-time per second). */
  diskWaitCorePercent: number;
  /** Bytes per second it caused to be read from / written to storage. */
  readBytesPerSec: number;
  writeBytesPerSec: number;
  /** The limit that will kill it: its cgroup's memory limit, else the host (MemTotal), MiB. */
  memLimitMb: number;
  /** What is left before that limit: limit − the limiting cgroup's anon + shmem, or MemAvailable on the host. */
  memRemainingMb: number;
  memLimitKind: 'host' | 'cgroup';
  /** memRemainingMb ÷ anonSlopeMbPerSec: seconds until the limit at the current growth; -1 when not growing. */
  secondsToLimit: number;
  /** Memory pressure stall ("some" avg10, %) of its cgroup, else of the machine; -1 when unknown. */
  memPressure: number;
  /** Pages per second its memory-limited cgroup read back after its own reclaim evicted them; -1 when unknown. */
  memRefaultsPerSec: number;
}

/** Metrics that hold a number or a yes/no (what Evidence can point at). */
export type MetricKey = {
  [K in keyof Required<Metrics>]: Required<Metrics>[K] extends number | boolean ? K : never;
}[keyof Metrics];

/** Metrics as the reference rules get them: every figure present. */
export type FullMetrics = Metrics & ReferenceMetrics;

/** One comparison that made a rule fire, so the UI can say *why*. */
export interface Evidence {
  metric: MetricKey;
  value: number | boolean;
  op: '>' | '>=' | '<' | '<=' | '==';
  threshold: number | boolean;
}

export interface Peer {
  tgid: number;
  comm: string;
  count: number;
}

export interface Diagnosis {
  tgid: number;
  /** When the process started (ProcSample.startNs: monotonic ns): with tgid, which process this is, pid reuse aside. */
  startNs: number;
  ppid: number;
  comm: string;
  /** A kernel thread (the kernel's PF_KTHREAD flag, not a guess from its name). */
  kthread: boolean;
  cgroup: string;
  label: Label;
  /**
   * Which rule fired, e.g. "starved.throttled", "oom.cgroup", "mem_thrashing.volume" (reference), "ok". Together
   * with metrics and the peers it is everything its sentence needs to say the cause in words (rules/).
   */
  rule: RuleId;
  evidence: Evidence[];
  metrics: Metrics;
  /** Estimated seconds until unreclaimable memory reaches its limit at the current slope; null when not growing. */
  timeToOomSec: number | null;
  /** Processes that preempted this one (aggressors), most frequent first. */
  preemptedBy: Peer[];
  /** Processes this one preempted (victims), most frequent first. */
  preempts: Peer[];
  /**
   * Whom it waited for a CPU behind, with the estimated wait in ns per second as `count` (its preemptions by each, weighted
   * by how long each holds the CPU per slice; processes that last ran on its CPU when it was seldom preempted).
   */
  behind: Peer[];
  /** Whom it made wait, with the estimated wait in ns per second as `count`. */
  holds: Peer[];
  lastCpu: number;
  /** The cgroups whose limits act on it (memory limit, CPU quota); null when none below the host. */
  limits: { memPath: string | null; cpuPath: string | null };
  /** Signals the rules wanted but this session does not deliver (degraded mode), e.g. 'preempt_pairs'. */
  missing: readonly string[];
  /**
   * Set while the label is held over from an earlier window (the Stabilizer): the diagnosis of the last window
   * that really had it. Words about the label use its figures, and say that it is held.
   */
  heldFrom?: Diagnosis;
}

export interface CoreLoad {
  cpu: number;
  busyPercent: number;
  saturated: boolean;
}

export interface Report {
  seq: number;
  ts: number;
  durationNs: number;
  /** The rule set that labelled them. */
  profile?: Profile;
  /** All processes of the window, classified before any trimming, in ordering.ts's order. */
  diagnoses: Diagnosis[];
  cores: CoreLoad[];
  machineBusyPercent: number;
  /** Set when one core is ≥ the saturation threshold while the machine as a whole is not. */
  perCoreSaturation: CoreLoad[];
  /** Helper self-overhead during the window (drainMs: its time to read the kernel's counters). */
  self: { cpuPercentOfCore: number; rssMb: number; drainMs: number };
  /** Machine-wide PSI ("some" avg10, %), when available. */
  pressure?: { cpu: number; memory: number; io: number };
  /** MemAvailable at the end of the window, MiB. */
  memAvailableMb?: number;
}

/** What a rule set decides for one process: the label, the rule that fired and the comparisons that held. */
export interface Verdict {
  label: Label;
  rule: RuleId;
  evidence: Evidence[];
}
