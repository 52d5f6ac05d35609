// /proc and bpftool lookups shared by the kernel tests, the e2e tests and the benchmarks.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Ids of every BPF program loaded on the machine. */
export const bpfProgIds = (): Set<number> =>
  new Set(
    (
      JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as { id: number }[]
    ).map((p) => p.id),
  );

/** BPF program ids a process holds: the fdinfo of its prog and link fds carries prog_id. */
export function bpfProgIdsOf(pid: number): number[] {
  const ids: number[] = [];
  try {
    for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
      const m = /^prog_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.push(Number(m[1]));
    }
  } catch {}
  return ids;
}

/** Pids whose command line has `file` as one of its arguments. */
export function pidsRunning(file: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(file);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Hotspot's program names (bpftool truncates names to 15 characters; ours are shorter). */
const OURS = /^(on_switch|on_switch_raw|dump_tasks|dump_rss|walk_tasks|sample_rss|on_exit_btf|on_exit_raw)$/;

/** Ids of loaded BPF programs with Hotspot's names. */
export const ourProgIds = (): number[] =>
  (
    JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as {
      id: number;
      name?: string;
    }[]
  )
    .filter((p) => OURS.test(p.name ?? ''))
    .map((p) => p.id);

/** Ids of loaded programs named on_sample: the profiler's, loaded for one profile and freed after it. */
export const onSampleIds = (): number[] =>
  (
    JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as {
      id: number;
      name?: string;
    }[]
  )
    .filter((p) => p.name === 'on_sample')
    .map((p) => p.id);

/** BPF links attached to any of these programs. */
export const linksTo = (ids: readonly number[]): { prog_id: number }[] =>
  (
    JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { prog_id: number }[]
  ).filter((l) => ids.includes(l.prog_id));

/** Perf event descriptors a process holds (anon_inode:[perf_event]); 0 for a process that is gone. */
export function perfFds(pid: number): number {
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`))
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:[perf_event]') n++;
      } catch {}
  } catch {}
  return n;
}

/** How many CPUs are online (/sys/devices/system/cpu/online: "0-3,6"); the helper keeps one perf event per each. */
export function onlineCpuCount(): number {
  return readFileSync('/sys/devices/system/cpu/online', 'latin1')
    .trim()
    .split(',')
    .reduce((n, r) => {
      const [a, b] = r.split('-').map(Number);
      return n + (b ?? a) - a + 1;
    }, 0);
}
