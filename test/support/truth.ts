// Ground truth from /proc and the cgroup files, read by the kernel tests while Hotspot measures, so every assertion
// compares Hotspot's diagnosis with what the kernel itself says about the process.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';

export interface ProcTruth {
  /** ns since the epoch when read. */
  at: number;
  /** sched_info of every live thread, summed: on-CPU ns and run-queue wait ns (/proc/<pid>/schedstat is the leader's only). */
  cpuNs: number;
  runDelayNs: number;
  minflt: number;
  majflt: number;
  rssAnonBytes: number;
  rssFileBytes: number;
  rssShmemBytes: number;
}

function threadIds(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** One process's counters now; undefined once it has gone. */
export function readTruth(pid: number): ProcTruth | undefined {
  try {
    let cpuNs = 0;
    let runDelayNs = 0;
    for (const tid of threadIds(pid)) {
      try {
        const [run, delay] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')
          .split(' ')
          .map(Number);
        cpuNs += run;
        runDelayNs += delay;
      } catch {}
    }
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // stat fields 10 and 12 (minflt, majflt) count the whole thread group, exited threads included.
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return {
      at: Date.now() * 1e6,
      cpuNs,
      runDelayNs,
      minflt: Number(f[10 - 3]),
      majflt: Number(f[12 - 3]),
      rssAnonBytes: kb('RssAnon'),
      rssFileBytes: kb('RssFile'),
      rssShmemBytes: kb('RssShmem'),
    };
  } catch {
    return undefined;
  }
}

/** Run-queue wait of every thread on the machine (ns, by "pid/tid"), for bounds on who made whom wait. */
export function machineRunDelay(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    for (const tid of threadIds(Number(pid)))
      try {
        out.set(
          `${pid}/${tid}`,
          Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]),
        );
      } catch {}
  }
  return out;
}

/**
 * The wait all threads added between two machineRunDelay readings, ns, except `pid`'s own: an upper bound on the
 * wait any one process made the others suffer (a thread born in between counts from 0; one that exited is lost).
 */
export function othersWaitedNs(a: Map<string, number>, b: Map<string, number>, pid: number): number {
  let ns = 0;
  for (const [k, v] of b) if (!k.startsWith(`${pid}/`)) ns += Math.max(0, v - (a.get(k) ?? 0));
  return ns;
}

/** What the kernel says a process got between two readings: shares of a core, and its share of runnable time waiting. */
export function between(a: ProcTruth, b: ProcTruth) {
  const wall = b.at - a.at;
  const cpu = b.cpuNs - a.cpuNs;
  const wait = b.runDelayNs - a.runDelayNs;
  return {
    secs: wall / 1e9,
    cpuCorePercent: (100 * cpu) / wall,
    waitCorePercent: (100 * wait) / wall,
    waitPercent: cpu + wait > 0 ? (100 * wait) / (cpu + wait) : 0,
    minfltPerSec: ((b.minflt - a.minflt) * 1e9) / wall,
    majfltPerSec: ((b.majflt - a.majflt) * 1e9) / wall,
    anonGrowthMbPerSec:
      ((b.rssAnonBytes + b.rssShmemBytes - a.rssAnonBytes - a.rssShmemBytes) / 2 ** 20) * (1e9 / wall),
  };
}

// ---- cgroups (v1 controllers on this hybrid machine; a pure v2 host gets the same through cgroup.subtree_control)

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup v2 mount when it carries the controller, else undefined (hybrid/v1: use the v1 hierarchy). */
function v2With(controller: string): string | undefined {
  for (const root of [CGROUP_ROOT, `${CGROUP_ROOT}/unified`]) {
    try {
      if (readFileSync(`${root}/cgroup.controllers`, 'utf8').split(/\s+/).includes(controller)) return root;
    } catch {}
  }
  return undefined;
}

export interface TestCgroup {
  /** Directory of the cgroup. */
  dir: string;
  version: 1 | 2;
  add(pid: number): void;
  read(file: string): string;
  remove(): void;
}

function make(dir: string, version: 1 | 2): TestCgroup {
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    version,
    add: (pid) => writeFileSync(`${dir}/cgroup.procs`, String(pid)),
    read: (file) => readFileSync(`${dir}/${file}`, 'utf8'),
    remove: () => {
      // Members must be gone first (the tests kill them); a cgroup still busy is retried briefly.
      for (let i = 0; i < 50 && existsSync(dir); i++)
        try {
          rmdirSync(dir);
        } catch {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        }
    },
  };
}

/** A cgroup with a CPU quota of `percent` of one core (v2 cpu.max, else v1 cpu.cfs_quota_us). */
export function cpuQuotaCgroup(name: string, percent: number): TestCgroup {
  const period = 100_000;
  const quota = Math.round((percent / 100) * period);
  const v2 = v2With('cpu');
  if (v2) {
    writeFileSync(`${v2}/cgroup.subtree_control`, '+cpu');
    const cg = make(`${v2}/${name}`, 2);
    writeFileSync(`${cg.dir}/cpu.max`, `${quota} ${period}`);
    return cg;
  }
  const cg = make(`${CGROUP_ROOT}/cpu/${name}`, 1);
  writeFileSync(`${cg.dir}/cpu.cfs_period_us`, String(period));
  writeFileSync(`${cg.dir}/cpu.cfs_quota_us`, String(quota));
  return cg;
}

/** Throttled ns so far of a quota cgroup (cpu.stat throttled_usec on v2, throttled_time ns on v1). */
export function throttledNs(cg: TestCgroup): number {
  const stat = cg.read('cpu.stat');
  const v = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1] ?? 0);
  return cg.version === 2 ? v('throttled_usec') * 1000 : v('throttled_time');
}

/** A cgroup with a memory limit (v2 memory.max + memory.swap.max 0, else v1 memory.limit_in_bytes + swappiness 0). */
export function memoryLimitCgroup(name: string, bytes: number): TestCgroup {
  const v2 = v2With('memory');
  if (v2) {
    writeFileSync(`${v2}/cgroup.subtree_control`, '+memory');
    const cg = make(`${v2}/${name}`, 2);
    writeFileSync(`${cg.dir}/memory.max`, String(bytes));
    try {
      writeFileSync(`${cg.dir}/memory.swap.max`, '0');
    } catch {}
    return cg;
  }
  const cg = make(`${CGROUP_ROOT}/memory/${name}`, 1);
  writeFileSync(`${cg.dir}/memory.limit_in_bytes`, String(bytes));
  try {
    writeFileSync(`${cg.dir}/memory.swappiness`, '0');
  } catch {}
  return cg;
}
