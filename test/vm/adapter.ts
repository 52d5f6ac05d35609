// The ONE place the kernel-matrix checks read helper messages, helper arguments and the CLI's JSON lines.
// Protocol v1 today. When the helper moves to protocol v2 (task-iterator collector), only this file changes:
// the checks ask "which collectors are live", "what did window N say about pid P", never for field names.
import type { Message } from '../../src/shared/protocol';

/** Fault attach points the v1 helper can be forced onto with --fault-attach, most preferred first. */
export const FAULT_ATTACH_CANDIDATES = ['tp_btf', 'raw_tp', 'tracepoint', 'fentry', 'kprobe'] as const;
export type FaultAttachCandidate = (typeof FAULT_ATTACH_CANDIDATES)[number];

/** Arguments for the helper: a window length and, optionally, a forced fault attach point (no fallback). */
export function helperArgs(o: { intervalMs: number; faultAttach?: FaultAttachCandidate }): string[] {
  const args = ['--interval-ms', String(o.intervalMs)];
  if (o.faultAttach) args.push('--fault-attach', o.faultAttach);
  return args;
}

/** The collectors a protocol-v1 helper runs; every one must be live in the kernel on every kernel of the matrix. */
export const COLLECTORS = ['faults', 'sched'] as const;
/** The collector whose attach point --fault-attach forces. */
export const FORCED_COLLECTOR = 'faults';

export interface Collector {
  /** What it measures: 'sched' (CPU, preemptions, run-queue wait) or 'faults' (page faults, RSS). */
  collector: string;
  /** How it is attached on this kernel (tp_btf, raw_tp, tracepoint, fentry, kprobe, …). */
  attach: string;
}

export interface HelloView {
  pid: number;
  kernel: string;
  collectors: Collector[];
  /** The collector that measures CPU time and run-queue wait, and how it is attached. */
  cpu: Collector;
  /** The collector that counts page faults and reads RSS (its attach point is what --fault-attach forces). */
  faults: Collector;
  /** The live fault attach point (what --fault-attach forced, or the helper's fallback choice). */
  faultAttach: string;
}

export interface ProcView {
  cpuNs: number;
  faults: number;
  rssBytes: number;
  runqWaitNs: number;
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
  const cpu = { collector: 'sched', attach: m.attach.sched };
  const faults = { collector: FORCED_COLLECTOR, attach: m.attach.faults };
  return {
    pid: m.pid,
    kernel: m.kernel,
    collectors: [cpu, faults],
    cpu,
    faults,
    faultAttach: m.attach.faults,
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
      return p && { cpuNs: p.cpuNs, faults: p.faults, rssBytes: p.rssBytes, runqWaitNs: p.runqWaitNs };
    },
  };
}

export function fatalView(m: Message): FatalView {
  if (m.type !== 'error') throw new Error(`expected error, got ${m.type}`);
  return { code: m.code, message: m.message };
}

/** One line of `hotspot --json`: the collector the CLI used and each process's label. */
export interface CliWindowView {
  faultAttach: string;
  labelOf(tgid: number): string | undefined;
}

export function cliWindowView(line: string): CliWindowView {
  const o = JSON.parse(line) as { faultAttach: string; processes: { tgid: number; label: string }[] };
  return {
    faultAttach: o.faultAttach,
    labelOf: (tgid) => o.processes.find((p) => p.tgid === tgid)?.label,
  };
}
