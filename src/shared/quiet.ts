// The consumer's half of Window.quiet: the helper lists a process that did next to nothing by pid only, once the
// consumer holds a full sample of it; this carries that sample forward, counters at zero, so every view still
// sees every live process every window (an idle server stays in the tree) while the helper sends a few bytes
// for it. Pure: the classifier owns one per session.
import type { CgroupSample, ProcSample, Window } from './protocol';

/** What the consumer last got of a live process; one per process, updated in place (10,000 a window). */
class Known {
  /** Its quiet stand-in, reused while nothing changes (the views only read samples). */
  quiet: ProcSample | undefined;
  constructor(
    public sample: ProcSample,
    public cgroup: CgroupSample | undefined,
    public gen: number,
  ) {}
}

export class QuietRoster {
  private readonly known = new Map<number, Known>();
  private gen = 0;

  /** The window with its quiet processes put back as samples (the same object when it lists none). */
  expand(w: Window): Window {
    const gen = ++this.gen;
    for (const p of w.procs) {
      if (p.exited) {
        this.known.delete(p.tgid);
        continue;
      }
      const k = this.known.get(p.tgid);
      if (k) {
        k.sample = p;
        k.cgroup = w.cgroups[p.cg];
        k.gen = gen;
        k.quiet = undefined;
      } else this.known.set(p.tgid, new Known(p, w.cgroups[p.cg], gen));
    }
    const quiet = w.quiet ?? [];
    let out = w;
    if (quiet.length > 0) {
      const procs = w.procs.slice();
      const cgroups = w.cgroups.slice();
      const index = new Map<string, number>();
      for (const [i, c] of cgroups.entries()) index.set(c.path, i);
      for (const tgid of quiet) {
        const k = this.known.get(tgid);
        if (!k || k.gen === gen) continue; // never reported to us (a lost window), or also sent in full
        k.gen = gen;
        // Its cgroup's limits and pressure as of this window when another process of it was sent, else as last
        // seen — without that old window's throttling, which counted that window only.
        let cg = k.cgroup ? index.get(k.cgroup.path) : undefined;
        if (cg === undefined && k.cgroup) {
          cg = cgroups.push({ ...k.cgroup, throttledNs: 0, nrThrottled: 0, nrPeriods: 0 }) - 1;
          index.set(k.cgroup.path, cg);
        }
        if (k.quiet?.cg !== (cg ?? 0)) k.quiet = quietSample(k.sample, cg ?? 0);
        procs.push(k.quiet);
      }
      out = { ...w, procs, cgroups };
    }
    // Neither sent nor quiet: gone (or, from a v2 helper, idle — which v2 consumers never showed either).
    for (const [tgid, k] of this.known) if (k.gen !== gen) this.known.delete(tgid);
    return out;
  }
}

/** The last full sample with nothing counted in this window. */
function quietSample(p: ProcSample, cg: number): ProcSample {
  return {
    tgid: p.tgid,
    ppid: p.ppid,
    comm: p.comm,
    cg,
    kthread: p.kthread,
    threads: p.threads,
    startNs: p.startNs,
    exited: false,
    cpuNs: 0,
    runqWaitNs: 0,
    minFaults: 0,
    majFaults: 0,
    vcsw: 0,
    ivcsw: 0,
    rssAnonBytes: p.rssAnonBytes,
    rssFileBytes: p.rssFileBytes,
    rssShmemBytes: p.rssShmemBytes,
    anonSamples: [p.rssAnonBytes + p.rssShmemBytes],
    preempted: 0,
    preemptsOthers: 0,
    lastCpu: p.lastCpu,
  };
}
