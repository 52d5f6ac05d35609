// What the classifier produces and every view consumes. Pure types + tiny helpers, no vscode.

export type Label = 'OOM risk' | 'CPU-bound' | 'Mem-thrashing' | 'Starved' | 'Noisy neighbor' | 'OK';

/** Precedence (first match wins), as in the reference tool. */
export const LABELS: readonly Label[] = [
  'OOM risk',
  'CPU-bound',
  'Mem-thrashing',
  'Starved',
  'Noisy neighbor',
  'OK',
];

/** Alert severity for the status bar and grouping: OOM > Mem-thrashing > Starved > Noisy neighbor > CPU-bound > OK. */
export const SEVERITY: Readonly<Record<Label, number>> = {
  'OOM risk': 5,
  'Mem-thrashing': 4,
  Starved: 3,
  'Noisy neighbor': 2,
  'CPU-bound': 1,
  OK: 0,
};

/** The numbers a diagnosis is computed from (one window, one process). */
export interface Metrics {
  /** Share of the whole machine (all CPUs), 0..100. */
  cpuPercent: number;
  /** Share of one core; can exceed 100 for multi-threaded processes. */
  coreCpuPercent: number;
  faults: number;
  faultsPerSec: number;
  /** ms of CPU per fault: (cpuMs/s) / (faults/s + 1), as the reference computes it. */
  costPerFault: number;
  rssMb: number;
  /** RSS / limit, where limit is host MemTotal or (when enabled and set) the cgroup's memory.max. */
  rssRatio: number;
  /** Which limit rssRatio is against. */
  rssLimit: 'host' | 'cgroup';
  rssGrowing: boolean;
  /** MB per second, least-squares over the RSS history (0 when unknown). */
  rssSlopeMbPerSec: number;
  preempted: number;
  preemptsOthers: number;
  /** Share of the window spent runnable but waiting for a CPU, 0..100 (0 when not measured). */
  runqWaitPercent: number;
}

/** One comparison that made a rule fire, so the UI can say *why*. */
export interface Evidence {
  metric: Exclude<keyof Metrics, 'rssLimit'>;
  value: number | boolean;
  op: '>' | '>=' | '<' | '<=' | '==';
  threshold: number | boolean;
}

export interface Diagnosis {
  tgid: number;
  ppid: number;
  comm: string;
  cgroup: string;
  label: Label;
  /** Which rule fired, e.g. "mem_thrashing.volume", "oom.rss_ratio", "ok". */
  rule: string;
  evidence: Evidence[];
  metrics: Metrics;
  /** Estimated seconds until RSS reaches its limit at the current slope; null when not growing. */
  timeToOomSec: number | null;
  /** Processes that preempted this one (aggressors), most frequent first. */
  preemptedBy: { tgid: number; comm: string; count: number }[];
  /** Processes this one preempted (victims), most frequent first. */
  preempts: { tgid: number; comm: string; count: number }[];
  lastCpu: number;
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
  /** All processes of the window, classified before any trimming, sorted by severity then by the label's key. */
  diagnoses: Diagnosis[];
  cores: CoreLoad[];
  machineBusyPercent: number;
  /** Set when one core is ≥ the saturation threshold while the machine as a whole is not. */
  perCoreSaturation: CoreLoad[];
  /** Helper self-overhead during the window. */
  self: { cpuPercentOfCore: number; rssMb: number; drainMs: number };
  /** Machine-wide PSI ("some" avg10, %), when available. */
  pressure?: { cpu: number; memory: number; io: number };
}

export function worstFirst(a: Diagnosis, b: Diagnosis): number {
  return SEVERITY[b.label] - SEVERITY[a.label];
}
