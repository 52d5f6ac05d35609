// What BPF does not carry but consumers need — parent pid, cgroup path, cgroup memory.max — read from /proc and
// /sys/fs/cgroup once per process (cached by TGID), plus RSS from statm for processes that did not fault.
import { readFileSync } from 'node:fs';
import { readCgroup, readPpid } from '../shared/procfs';

interface Info {
  ppid: number;
  cgroup: string;
  seen: number;
}

const MEMMAX_TTL_MS = 10_000;

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
      info = { ppid: readPpid(tgid) ?? 0, cgroup: readCgroup(tgid), seen: this.window };
      this.byTgid.set(tgid, info);
    }
    info.seen = this.window;
    return info;
  }

  rssBytes(tgid: number): number {
    try {
      const statm = readFileSync(`/proc/${tgid}/statm`, 'latin1');
      return Number(statm.split(' ', 2)[1]) * this.pageSize;
    } catch {
      return 0; // exited during the window
    }
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
