// "Is this process one of these roots or a descendant of one?" — shared by the CLI's --pid filter and the
// extension's terminal/task/debug scoping. Pure: the caller supplies how to find a parent (window ppids first,
// /proc for ancestors that were idle during the window).

export type ParentOf = (pid: number) => number | undefined;

const MAX_DEPTH = 64; // deeper than any real process tree; also stops a cycle from a recycled pid

export class ProcessTreeFilter {
  private readonly memo = new Map<number, boolean>();

  constructor(
    private readonly roots: ReadonlySet<number>,
    private readonly parentOf: ParentOf,
  ) {}

  includes(pid: number): boolean {
    const path: number[] = [];
    let verdict = false;
    for (let p: number | undefined = pid, depth = 0; p !== undefined && p > 1 && depth < MAX_DEPTH; depth++) {
      const known = this.memo.get(p);
      if (known !== undefined) {
        verdict = known;
        break;
      }
      path.push(p);
      if (this.roots.has(p)) {
        verdict = true;
        break;
      }
      p = this.parentOf(p);
    }
    for (const p of path) this.memo.set(p, verdict);
    return verdict;
  }
}

/** Parent lookup from one window's samples, falling back to `fallback` (e.g. /proc/<pid>/stat). */
export function parentsFrom(procs: readonly { tgid: number; ppid: number }[], fallback?: ParentOf): ParentOf {
  const ppid = new Map<number, number>();
  for (const p of procs) if (p.ppid > 0) ppid.set(p.tgid, p.ppid);
  return (pid) => ppid.get(pid) ?? fallback?.(pid);
}
