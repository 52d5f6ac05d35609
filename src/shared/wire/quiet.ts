// The consumer's half of Window.quiet: the helper lists a process that did next to nothing by pid only, once the
// consumer holds a full sample of it; this carries that sample forward, counters at zero, so every view still
// sees every live process every window (an idle server stays in the tree) while the helper sends a few bytes
// for it. Pure: the classifier owns one per session.
import type { CgroupSample, ProcSample, Window } from './protocol';

/** What the consumer last got of a live process; one per process, updated in place (10,000 a window). */
class Known {
  /** Its quiet stand-in, reused while nothing changes (the views only read samples). */
  quiet: ProcSample | undefined;
  /** Taken out of the roster (exited or gone): a stale position hint must not find it. */
  gone = false;
  constructor(
    readonly tgid: number,
    public sample: ProcSample,
    public cgroup: CgroupSample | undefined,
    public gen: number,
  ) {}
}

export class QuietRoster {
  private readonly known = new Map<number, Known>();
  /**
   * The entry of each position of the last window's sent processes. A helper sends its processes in the same
   * order window after window, so the entry is found by position (checked by tgid) and the map is asked only
   * when the order changed: a map lookup per process was a few per cent of classifying 10,000.
   */
  private byPosition: (Known | undefined)[] = [];
  private gen = 0;

  /** The window with its quiet processes put back as samples (the same object when it lists none). */
  expand(w: Window): Window {
    const gen = ++this.gen;
    let stamped = 0; // known processes stamped with this generation, so the sweep below can be skipped
    const sent = w.procs;
    const byPosition = this.byPosition;
    for (let i = 0; i < sent.length; i++) {
      const p = sent[i];
      if (p.exited) {
        const k = this.known.get(p.tgid);
        if (k) this.forget(k);
        if (k?.gen === gen) stamped--;
        byPosition[i] = undefined;
        continue;
      }
      const hint = byPosition[i];
      const k = hint !== undefined && hint.tgid === p.tgid && !hint.gone ? hint : this.known.get(p.tgid);
      if (k) {
        if (k.gen !== gen) stamped++;
        k.sample = p;
        k.cgroup = w.cgroups[p.cg];
        k.gen = gen;
        k.quiet = undefined;
        byPosition[i] = k;
      } else {
        const added = new Known(p.tgid, p, w.cgroups[p.cg], gen);
        this.known.set(p.tgid, added);
        byPosition[i] = added;
        stamped++;
      }
    }
    byPosition.length = sent.length;
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
        stamped++;
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
    // Neither sent nor quiet: gone (or, from a v2 helper, idle — which v2 consumers never showed either). When
    // every known process was stamped, nobody is gone and the walk over 10,000 entries is skipped.
    if (stamped !== this.known.size) for (const k of this.known.values()) if (k.gen !== gen) this.forget(k);
    return out;
  }

  private forget(k: Known): void {
    k.gone = true;
    this.known.delete(k.tgid);
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
    blockedNs: 0,
    ioWaitNs: 0,
    readBytes: 0,
    writeBytes: 0,
    rssAnonBytes: p.rssAnonBytes,
    rssFileBytes: p.rssFileBytes,
    rssShmemBytes: p.rssShmemBytes,
    anonSamples: [p.rssAnonBytes + p.rssShmemBytes],
    preempted: 0,
    preemptsOthers: 0,
    lastCpu: p.lastCpu,
  };
}
