// Degraded, unprivileged collector: the same protocol messages as the helper, sampled from /proc instead of BPF.
// Used when elevation is unavailable (no pkexec/polkit, cancelled, not installed) so the user still gets
// CPU-bound and OOM risk. What /proc cannot give is reported as zero and announced in hello.capabilities
// ('degraded'): preemption pairs, per-event fault costs. Faults come from minflt+majflt deltas; CPU from
// utime+stime deltas (clock-tick resolution); per-CPU busy time from /proc/stat.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { readCgroup, readPressure, readRunqWaitNs, readSmallProcFile } from './procfs';
import { type Hello, PROTOCOL_VERSION, type ProcSample, type Window } from './protocol';

const CLK_TCK = 100; // USER_HZ: fixed at 100 on every Linux ABI that exposes it to /proc
const NS_PER_TICK = 1e9 / CLK_TCK;

interface Prev {
  ticks: number;
  faults: number;
  runqWaitNs: number;
}

interface StatFields {
  comm: string;
  ppid: number;
  faults: number;
  ticks: number;
  lastCpu: number;
  rssPages: number;
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
    faults: n(10) + n(12), // minflt + majflt
    ticks: n(14) + n(15), // utime + stime
    rssPages: n(24),
    lastCpu: n(39),
  };
}

function cpuBusyTicks(): number[] {
  const out: number[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].split(' ').map(Number);
    out[Number(m[1])] = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; // user nice system irq softirq steal
  }
  return out;
}

export class ProcfsSampler {
  private prev = new Map<number, Prev>();
  private prevCpu: number[] = cpuBusyTicks();
  private prevAt = process.hrtime.bigint();
  private seq = 0;
  private readonly pageSize = 4096;

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
      attach: { sched: 'procfs', faults: 'procfs' },
      capabilities: ['degraded', 'runq_wait', 'psi'],
    };
  }

  /** One window since the previous call. Only processes that used CPU or faulted are reported, like the helper. */
  sample(): Window {
    const now = process.hrtime.bigint();
    const durationNs = Number(now - this.prevAt);
    this.prevAt = now;
    const next = new Map<number, Prev>();
    const procs: ProcSample[] = [];
    for (const name of readdirSync('/proc')) {
      const tgid = Number(name);
      if (!Number.isInteger(tgid)) continue;
      let st: StatFields | undefined;
      try {
        st = parseStat(readSmallProcFile(`/proc/${tgid}/stat`));
      } catch {
        continue; // exited meanwhile
      }
      if (!st) continue;
      const before = this.prev.get(tgid);
      const cpuNs = before ? (st.ticks - before.ticks) * NS_PER_TICK : 0;
      const faults = before ? st.faults - before.faults : 0;
      // schedstat on first sight and for processes that ran (a starved one still runs a little); an idle one's
      // wait cannot have moved much, so its last reading carries forward.
      const active = cpuNs > 0 || faults > 0;
      const runq = !before || active ? (readRunqWaitNs(tgid) ?? -1) : before.runqWaitNs;
      next.set(tgid, { ticks: st.ticks, faults: st.faults, runqWaitNs: runq });
      if (!before || !active) continue; // first sight: no delta yet
      const rssBytes = st.rssPages * this.pageSize;
      procs.push({
        tgid,
        ppid: st.ppid,
        comm: st.comm,
        cgroup: readCgroup(tgid),
        cpuNs,
        faults,
        rssBytes,
        rssSamples: [rssBytes],
        preempted: 0,
        preemptsOthers: 0,
        runqWaitNs: runq >= 0 && before.runqWaitNs >= 0 ? Math.max(0, runq - before.runqWaitNs) : 0,
        lastCpu: st.lastCpu,
        memMaxBytes: null,
      });
    }
    this.prev = next;
    const cpu = cpuBusyTicks();
    const cpuBusyNs = cpu.map((t, i) =>
      t === undefined ? null : Math.max(0, t - (this.prevCpu[i] ?? t)) * NS_PER_TICK,
    );
    this.prevCpu = cpu;
    const self = process.memoryUsage();
    return {
      type: 'window',
      v: PROTOCOL_VERSION,
      seq: this.seq++,
      ts: Date.now(),
      durationNs,
      cpuBusyNs,
      procs,
      pairs: [],
      pressure: readPressure(),
      self: { cpuNs: 0, rssBytes: self.rss, drainNs: 0 },
    };
  }
}
