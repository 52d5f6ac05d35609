// Degraded, unprivileged collector: the same protocol v2 windows as the helper, read from /proc instead of a BPF
// task iterator (see procfsTasks.ts). Used when elevation is unavailable (no pkexec/polkit, cancelled, not
// installed). What /proc cannot give — who preempted whom — is absent, and hello.capabilities says 'degraded'.
// Processes that start and end between two readings are not seen at all (no exit hook).
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { type Hello, PROTOCOL_VERSION, parseLine, type Window } from '../shared/protocol';
import { WindowAccounting } from '../shared/taskTotals';
import { CgroupResolver, CgroupTable } from './cgroups';
import { readPressure } from './procfs';
import { cpuBusyNs, readAllTotals } from './procfsTasks';
import { buildWindowLine } from './windowBuilder';

/** /proc/<pid>/cgroup is re-read this often per process (no css_set pointer to tell us it changed). */
const CGROUP_REREAD_WINDOWS = 4;

export function memAvailableBytes(): number {
  try {
    return Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'latin1'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

export class ProcfsSampler {
  private readonly accounting = new WindowAccounting();
  private readonly resolver = new CgroupResolver();
  private readonly table = new CgroupTable();
  private prevCpu: number[];
  private prevAt = process.hrtime.bigint();
  private lastCpuUsage = process.cpuUsage();
  private seq = 0;
  private readonly pageSize = 4096;

  constructor() {
    this.prevCpu = cpuBusyNs(readFileSync('/proc/stat', 'latin1'));
    this.accounting.baseline(readAllTotals(this.cgroupKey));
  }

  private readonly cgroupKey = (tgid: number) => Math.floor((this.seq + tgid) / CGROUP_REREAD_WINDOWS);

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
      capabilities: ['degraded', 'runq_wait', 'rss_split', 'major_faults', ...cgroupCapabilities(this.table)],
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
    const usage = process.cpuUsage(this.lastCpuUsage);
    this.lastCpuUsage = process.cpuUsage();
    return buildWindowLine(
      {
        type: 'window',
        v: PROTOCOL_VERSION,
        seq: this.seq++,
        ts: Date.now(),
        durationNs,
        cpuBusyNs: busy,
        pairs: [],
        memAvailableBytes: memAvailableBytes(),
        self: { cpuNs: (usage.user + usage.system) * 1000, rssBytes: process.memoryUsage.rss(), collectNs },
        ...(readPressure() ? { pressure: readPressure() } : {}),
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

export function cgroupCapabilities(table: CgroupTable): string[] {
  const m = table.mounts;
  const caps: string[] = [];
  if (m.mode === 'none') return caps;
  if ((m.mode === 'v2' && m.v2) || m.memory) caps.push('cgroup_memory');
  if ((m.mode === 'v2' && m.v2) || m.cpu) caps.push('cgroup_cpu');
  if (m.v2) caps.push('cgroup_pressure');
  return caps;
}
