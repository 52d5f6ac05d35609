// Degraded, unprivileged collector: the same protocol v2 windows as the helper, read from /proc instead of a BPF
// task iterator (see procfsTasks.ts). Used when elevation is unavailable (no pkexec/polkit, cancelled, not
// installed). What /proc cannot give — who preempted whom — is absent, and hello.capabilities says 'degraded'.
// Processes that start and end between two readings are not seen at all (no exit hook).
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { WindowAccounting } from '../shared/accounting/taskTotals';
import { type Hello, PROTOCOL_VERSION, parseLine, type Window } from '../shared/wire/protocol';
import { CgroupResolver, CgroupTable } from './cgroups';
import { cpuBusyNs, delayAccountingOn, readAllTotals } from './procfsTasks';
import { buildWindowLine } from './windowBuilder';
import { cgroupRereadKey, machineFacts, SelfCpu } from './windowHead';

export class ProcfsSampler {
  private readonly accounting = new WindowAccounting();
  private readonly resolver = new CgroupResolver();
  private readonly table = new CgroupTable();
  private prevCpu: number[];
  private prevAt = process.hrtime.bigint();
  private readonly selfCpu = new SelfCpu();
  private seq = 0;
  private readonly pageSize = 4096;

  constructor() {
    this.prevCpu = cpuBusyNs(readFileSync('/proc/stat', 'latin1'));
    this.accounting.baseline(readAllTotals(this.cgroupKey));
  }

  private readonly cgroupKey = (tgid: number) => cgroupRereadKey(this.seq, tgid);

  hello(intervalMs: number): Hello {
    return {
      type: 'hello',
      v: PROTOCOL_VERSION,
      version: 'procfs',
      kernel: release(),
      pid: process.pid,
      ncpu: cpus().length,
      pageSize: this.pageSize,
      memTotalBytes: totalmem(),
      intervalMs,
      attach: { switch: 'none', tasks: 'procfs', exit: 'none' },
      cgroupMode: this.table.mode,
      capabilities: [
        'degraded',
        'runq_wait',
        'rss_split',
        'major_faults',
        ...procfsIoCapabilities(),
        ...cgroupCapabilities(this.table),
      ],
    };
  }

  /** The next window as one protocol line (bounded in size). */
  sampleLine(): string {
    const t0 = process.hrtime.bigint();
    const totals = readAllTotals(this.cgroupKey);
    const collectNs = Number(process.hrtime.bigint() - t0);
    const now = process.hrtime.bigint();
    const durationNs = Math.max(1, Number(now - this.prevAt));
    this.prevAt = now;
    const deltas = this.accounting.next(totals, []);
    const cpu = cpuBusyNs(readFileSync('/proc/stat', 'latin1'));
    const busy = cpu.map((t, i) => (t === undefined ? null : Math.max(0, t - (this.prevCpu[i] ?? t))));
    this.prevCpu = cpu;
    return buildWindowLine(
      {
        type: 'window',
        v: PROTOCOL_VERSION,
        seq: this.seq++,
        ts: Date.now(),
        durationNs,
        cpuBusyNs: busy,
        pairs: [],
        ...machineFacts(),
        self: { cpuNs: this.selfCpu.take(), rssBytes: process.memoryUsage.rss(), collectNs },
      },
      deltas,
      { resolver: this.resolver, table: this.table },
    ).bytes.toString();
  }

  /** The next window, parsed (for consumers that want the object). */
  sample(): Window {
    return parseLine(this.sampleLine()) as Window;
  }
}

/**
 * What /proc gives of blocked time and I/O: never the time in D ('blocked_time' is missing: blockedNs is the I/O
 * wait only); the I/O waits of delay accounting while kernel.task_delayacct is on (for processes started since,
 * main thread only); read and write bytes of the processes /proc/PID/io lets us read: the user's own as the
 * unprivileged reader; as the helper (uid 0 with CAP_BPF and CAP_PERFMON left), not those with more capabilities.
 */
export function procfsIoCapabilities(): string[] {
  const caps: string[] = [];
  if (delayAccountingOn()) caps.push('iowait_time');
  if (process.getuid?.() === 0) caps.push('io_bytes');
  return caps;
}

export function cgroupCapabilities(table: CgroupTable): string[] {
  const m = table.mounts;
  const caps: string[] = [];
  if (m.mode === 'none') return caps;
  if ((m.mode === 'v2' && m.v2) || m.memory) caps.push('cgroup_memory');
  if ((m.mode === 'v2' && m.v2) || m.cpu) caps.push('cgroup_cpu');
  if (m.v2) caps.push('cgroup_pressure');
  return caps;
}
