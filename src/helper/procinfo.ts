// What BPF does not carry but consumers need — parent pid, cgroup path, cgroup memory.max — read from /proc and
// /sys/fs/cgroup once per process (cached by TGID), plus RSS from statm for processes that did not fault.
// File reads were most of the helper's own CPU with thousands of processes, so statm reads have a budget.
import { readFileSync } from 'node:fs';
import { readCgroup, readPpid, readSmallProcFile } from '../shared/procfs';

export interface Info {
  ppid: number;
  cgroup: string;
  seen: number;
  /** Last RSS read from statm, and the window it was read in (-1: never). */
  rssBytes: number;
  rssWindow: number;
}

const MEMMAX_TTL_MS = 10_000;
/**
 * statm reads per window. RSS only grows through page faults, and a faulting process's RSS comes from BPF; a
 * process that did not fault can only have shrunk (free, reclaim), so its statm is refreshed round-robin: every
 * window below this many processes, every ceil(n / budget) windows above.
 */
const STATM_BUDGET = 64;

export class ProcInfo {
  private readonly byTgid = new Map<number, Info>();
  private readonly memMax = new Map<string, { value: number | null; at: number }>();
  private window = 0;

  constructor(private readonly pageSize: number) {}

  /** Call once per window; forgets processes not seen for a while (pids are recycled). */
  nextWindow(): void {
    this.window++;
    if (this.window % 16 === 0)
      for (const [tgid, info] of this.byTgid) if (this.window - info.seen > 16) this.byTgid.delete(tgid);
  }

  get(tgid: number): Info {
    let info = this.byTgid.get(tgid);
    if (!info) {
      info = {
        ppid: readPpid(tgid) ?? 0,
        cgroup: readCgroup(tgid),
        seen: this.window,
        rssBytes: 0,
        rssWindow: -1,
      };
      this.byTgid.set(tgid, info);
    }
    info.seen = this.window;
    return info;
  }

  /** RSS of a process that did not fault this window; `needing` = how many such processes the window has. */
  rssBytes(tgid: number, info: Info, needing: number): number {
    const period = Math.ceil(needing / STATM_BUDGET);
    if (info.rssWindow >= 0 && period > 1 && (this.window + tgid) % period !== 0) return info.rssBytes;
    try {
      const statm = readSmallProcFile(`/proc/${tgid}/statm`);
      info.rssBytes = Number(statm.split(' ', 2)[1]) * this.pageSize;
    } catch {
      info.rssBytes = 0; // exited during the window
    }
    info.rssWindow = this.window;
    return info.rssBytes;
  }

  /** A faulting process's RSS comes from BPF; remember it for the windows in which it does not fault. */
  noteRss(info: Info, bytes: number): void {
    info.rssBytes = bytes;
    info.rssWindow = this.window;
  }

  /** memory.max of a cgroup v2 path, null for "max" (unlimited) or when unknown. */
  memoryMax(cgroup: string): number | null {
    const now = Date.now();
    const hit = this.memMax.get(cgroup);
    if (hit && now - hit.at < MEMMAX_TTL_MS) return hit.value;
    let value: number | null = null;
    if (cgroup && !cgroup.includes('..')) {
      try {
        const text = readFileSync(`/sys/fs/cgroup${cgroup}/memory.max`, 'latin1').trim();
        value = text === 'max' ? null : Number(text) || null;
      } catch {
        value = null;
      }
    }
    this.memMax.set(cgroup, { value, at: now });
    return value;
  }
}
