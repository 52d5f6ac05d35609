// The ONE place the kernel-matrix checks read helper messages, helper arguments and the CLI's JSON lines.
// Protocol v3: a task walk or iterator (per-task counters), a sched_switch hook (who preempts whom) and a
// sched_process_exit hook (processes that exit mid-window). The checks ask "which collectors are live", "what did
// window N say about pid P", never for field names.
import { type Message, rssBytes } from '../../src/shared/wire/protocol';

/**
 * How the per-task counters can be read, preferred first: a BPF walk of the task list (6.7+), the BPF task
 * iterator, or /proc read by the helper (forced with --tasks procfs: the fallback for kernels without iterators,
 * proven on every kernel too).
 */
export const TASKS_CANDIDATES = ['walk', 'iter', 'procfs'] as const;
export type TasksCandidate = (typeof TASKS_CANDIDATES)[number];

/** Arguments for the helper: a window length and, optionally, a forced way of reading the task counters. */
export function helperArgs(o: { intervalMs: number; tasks?: TasksCandidate }): string[] {
  const args = ['--interval-ms', String(o.intervalMs)];
  if (o.tasks) args.push('--tasks', o.tasks);
  return args;
}

/**
 * The collectors a protocol-v2 helper runs. The switch and exit hooks cannot be forced onto an attach point
 * (the helper tries tp_btf, then raw_tp): the hello says which one loaded, and the matrix reports that.
 */
export const COLLECTORS = ['switch', 'tasks', 'exit'] as const;
export type CollectorName = (typeof COLLECTORS)[number];

export interface Collector {
  /** switch: who preempts whom; tasks: per-task counters (CPU, wait, faults, switches, RSS); exit: exits. */
  collector: CollectorName;
  /** How it is attached on this kernel: tp_btf, raw_tp, iter, procfs, or none. */
  attach: string;
}

export interface HelloView {
  pid: number;
  kernel: string;
  collectors: Collector[];
  /** The collector every per-process figure comes from (CPU, run-queue wait, faults, switches, RSS). */
  tasks: Collector;
  switcher: Collector;
  exit: Collector;
  capabilities: string[];
}

/** Attach points that mean "not loaded into the kernel" for a collector. */
export const NOT_IN_KERNEL = new Set(['procfs', 'none']);

export interface ProcView {
  ppid: number;
  exited: boolean;
  cpuNs: number;
  runqWaitNs: number;
  /** Minor + major, taken in user or kernel mode. */
  faults: number;
  majFaults: number;
  ivcsw: number;
  /** Time asleep in D, every thread, and the io_schedule() part of it; bytes written to storage. */
  blockedNs: number;
  ioWaitNs: number;
  writeBytes: number;
  /** Resident memory of every kind (anon + file + shmem). */
  rssBytes: number;
  rssAnonBytes: number;
  rssFileBytes: number;
  /** The cgroup path, from the window's cgroup table. */
  cgroup: string;
}

export interface WindowView {
  seq: number;
  durationNs: number;
  /** What the window says about one process; undefined when it did not appear (idle in that window). */
  proc(tgid: number): ProcView | undefined;
}

export interface FatalView {
  code: string;
  message: string;
}

export const isHello = (m: Message): boolean => m.type === 'hello';
export const isWindow = (m: Message): boolean => m.type === 'window';
export const isFatal = (m: Message): boolean => m.type === 'error' && m.fatal;

export function helloView(m: Message): HelloView {
  if (m.type !== 'hello') throw new Error(`expected hello, got ${m.type}`);
  const tasks: Collector = { collector: 'tasks', attach: m.attach.tasks };
  const switcher: Collector = { collector: 'switch', attach: m.attach.switch };
  const exit: Collector = { collector: 'exit', attach: m.attach.exit };
  return {
    pid: m.pid,
    kernel: m.kernel,
    collectors: [tasks, switcher, exit],
    tasks,
    switcher,
    exit,
    capabilities: m.capabilities,
  };
}

export function windowView(m: Message): WindowView {
  if (m.type !== 'window') throw new Error(`expected window, got ${m.type}`);
  const byTgid = new Map(m.procs.map((p) => [p.tgid, p]));
  return {
    seq: m.seq,
    durationNs: m.durationNs,
    proc(tgid) {
      const p = byTgid.get(tgid);
      return (
        p && {
          ppid: p.ppid,
          exited: p.exited,
          cpuNs: p.cpuNs,
          runqWaitNs: p.runqWaitNs,
          faults: p.minFaults + p.majFaults,
          majFaults: p.majFaults,
          ivcsw: p.ivcsw,
          blockedNs: p.blockedNs,
          ioWaitNs: p.ioWaitNs,
          writeBytes: p.writeBytes,
          rssBytes: rssBytes(p),
          rssAnonBytes: p.rssAnonBytes,
          rssFileBytes: p.rssFileBytes,
          cgroup: m.cgroups[p.cg]?.path ?? '?',
        }
      );
    },
  };
}

export function fatalView(m: Message): FatalView {
  if (m.type !== 'error') throw new Error(`expected error, got ${m.type}`);
  return { code: m.code, message: m.message };
}

/** One line of `hotspot --json`: how the CLI's helper collected, and each process's label and cause. */
export interface CliWindowView {
  /** "tasks iter · switch tp_btf · exit tp_btf". */
  attach: string;
  /** How the per-task counters were read (iter, procfs). */
  tasks: string;
  diagnosisOf(tgid: number): { label: string; cause: string } | undefined;
}

export function cliWindowView(line: string): CliWindowView {
  const o = JSON.parse(line) as {
    attach: { switch: string; tasks: string; exit: string };
    processes: { tgid: number; label: string; cause: string }[];
  };
  return {
    attach: `tasks ${o.attach.tasks} · switch ${o.attach.switch} · exit ${o.attach.exit}`,
    tasks: o.attach.tasks,
    diagnosisOf: (tgid) => {
      const p = o.processes.find((x) => x.tgid === tgid);
      return p && { label: p.label, cause: p.cause };
    },
  };
}
