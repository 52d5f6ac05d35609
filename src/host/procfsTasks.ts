// The kernel's per-process counters read from /proc: the same TaskTotals the BPF task iterator produces, for
// the unprivileged degraded collector and for the helper on kernels without task iterators.
// Per process: stat (faults, flags, start time, CPU, threads), status (RSS by kind, context switches) and
// schedstat (CPU ns, run-queue wait; summed over /proc/<pid>/task/* when the process has several threads).
import { readdirSync } from 'node:fs';
import type { TaskTotals } from '../shared/accounting/taskTotals';
import { readSmallProcFile } from './procfs';

const CLK_TCK = 100; // USER_HZ: fixed at 100 on every Linux ABI that exposes it to /proc
const PF_KTHREAD = 0x00200000;

export interface StatFields {
  comm: string;
  ppid: number;
  flags: number;
  minFaults: number;
  majFaults: number;
  ticks: number;
  threads: number;
  startTicks: number;
  rssPages: number;
  lastCpu: number;
  /** delayacct_blkio_ticks: the main thread's block I/O waits, counted only while kernel.task_delayacct is on. */
  blkioTicks: number;
}

/** Parses /proc/<pid>/stat; the comm field may contain spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): StatFields | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).split(' '); // f[0] is field 3 (state)
  const n = (i: number) => Number(f[i - 3]);
  return {
    comm: text.slice(open + 1, close),
    ppid: n(4),
    flags: n(9),
    minFaults: n(10),
    majFaults: n(12),
    ticks: n(14) + n(15), // utime + stime
    threads: n(20),
    startTicks: n(22),
    rssPages: n(24),
    lastCpu: n(39),
    blkioTicks: n(42) || 0,
  };
}

/** Fields of /proc/<pid>/status the collector needs (kB values in bytes). */
export function parseStatus(text: string): {
  rssAnonBytes: number;
  rssFileBytes: number;
  rssShmemBytes: number;
  vcsw: number;
  ivcsw: number;
} {
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  const n = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    rssAnonBytes: kb('RssAnon'),
    rssFileBytes: kb('RssFile'),
    rssShmemBytes: kb('RssShmem'),
    vcsw: n('voluntary_ctxt_switches'),
    ivcsw: n('nonvoluntary_ctxt_switches'),
  };
}

/** [on-CPU ns, run-queue wait ns] of one thread, or undefined once it is gone. */
function schedstat(file: string): [number, number] | undefined {
  try {
    const [cpu, wait] = readSmallProcFile(file).split(' ', 2).map(Number);
    return Number.isFinite(cpu) && Number.isFinite(wait) ? [cpu, wait] : undefined;
  } catch {
    return undefined;
  }
}

/** read_bytes and write_bytes of /proc/<pid>/io; 0 where we may not read it (another user's, unprivileged). */
export function readIoBytes(tgid: number): { readBytes: number; writeBytes: number } {
  try {
    const text = readSmallProcFile(`/proc/${tgid}/io`);
    const n = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { readBytes: n('read_bytes'), writeBytes: n('write_bytes') };
  } catch {
    return { readBytes: 0, writeBytes: 0 };
  }
}

/** One process's totals from /proc, or undefined if it vanished meanwhile. */
export function readProcessTotals(tgid: number): TaskTotals | undefined {
  let st: StatFields | undefined;
  let status: ReturnType<typeof parseStatus>;
  try {
    st = parseStat(readSmallProcFile(`/proc/${tgid}/stat`));
    status = parseStatus(readSmallProcFile(`/proc/${tgid}/status`));
  } catch {
    return undefined;
  }
  if (!st) return undefined;
  let cpuNs = 0;
  let runqWaitNs = 0;
  const own = st.threads > 1 ? undefined : schedstat(`/proc/${tgid}/schedstat`);
  if (own) [cpuNs, runqWaitNs] = own;
  else {
    // Several threads: /proc/<pid>/schedstat is the main thread's alone, so sum them.
    try {
      for (const tid of readdirSync(`/proc/${tgid}/task`)) {
        const s = schedstat(`/proc/${tgid}/task/${tid}/schedstat`);
        if (s) {
          cpuNs += s[0];
          runqWaitNs += s[1];
        }
      }
    } catch {
      return undefined;
    }
    // Threads already reaped are in stat's utime+stime (tick resolution) but in no schedstat.
    cpuNs = Math.max(cpuNs, st.ticks * (1e9 / CLK_TCK));
  }
  return {
    tgid,
    startNs: st.startTicks * (1e9 / CLK_TCK),
    ppid: st.ppid,
    comm: st.comm,
    kthread: (st.flags & PF_KTHREAD) !== 0,
    threads: st.threads,
    cpuNs,
    runqWaitNs,
    minFaults: st.minFaults,
    majFaults: st.majFaults,
    ...status,
    // /proc has no time in D: only the I/O waits delay accounting counts (the main thread's, and only for
    // processes started while it was on), which are then the blocked time we know of.
    blockedNs: st.blkioTicks * (1e9 / CLK_TCK),
    ioWaitNs: st.blkioTicks * (1e9 / CLK_TCK),
    ...readIoBytes(tgid),
    lastCpu: st.lastCpu,
    cgroupKey: 0,
  };
}

/** Every process's totals. `cgroupKeyOf` lets the caller force a periodic cgroup re-read. */
export function readAllTotals(cgroupKeyOf: (tgid: number) => number = () => 0): TaskTotals[] {
  const out: TaskTotals[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const tgid = Number(name);
    const t = readProcessTotals(tgid);
    if (t) {
      t.cgroupKey = cgroupKeyOf(tgid);
      out.push(t);
    }
  }
  return out;
}

/** kernel.task_delayacct: 1 when delay accounting counts the I/O waits of processes started from now on. */
export function delayAccountingOn(): boolean {
  try {
    return readSmallProcFile('/proc/sys/kernel/task_delayacct').trim() === '1';
  } catch {
    return false;
  }
}

/** Busy ns per CPU from /proc/stat (user nice system irq softirq steal; tick resolution). */
export function cpuBusyNs(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].split(' ').map(Number);
    out[Number(m[1])] = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * (1e9 / CLK_TCK);
  }
  return out;
}
