// From per-process deltas to one protocol window line, shared by the helper and the /proc collector:
// idle processes are left out, the cgroup table is built for the ones sent, and the line is bounded in size
// (issue 11 #7) by leaving out the least active processes and saying how many in `omitted`.
import type { CgroupResolver, CgroupTable } from './cgroups';
import type { CgroupSample, PreemptPair, ProcSample, Window } from './protocol';
import { isActive, type TaskDelta } from './taskTotals';

/** Window lines are kept below this, far under the consumer's MAX_LINE_BYTES. */
export const WINDOW_BYTES = 4 * 1024 * 1024;

/** Activity used to choose what stays when a window must shrink: CPU, then faults, then switches. */
export function activity(d: TaskDelta): number {
  return (
    d.cpuNs + (d.minFaults + d.majFaults * 100) * 10_000 + (d.vcsw + d.ivcsw) * 1_000 + (d.exited ? 1e6 : 0)
  );
}

export interface WindowParts extends Omit<Window, 'procs' | 'cgroups' | 'omitted'> {}

/** Sums the preemption pairs into per-process counts. */
export function preemptCounts(
  pairs: readonly PreemptPair[],
): Map<number, { preempted: number; others: number }> {
  const out = new Map<number, { preempted: number; others: number }>();
  const at = (tgid: number) => {
    const e = out.get(tgid) ?? { preempted: 0, others: 0 };
    out.set(tgid, e);
    return e;
  };
  for (const p of pairs) {
    at(p.victim).preempted += p.count;
    at(p.aggressor).others += p.count;
  }
  return out;
}

/**
 * Encodes the window as one JSON line (with its newline) of at most `maxBytes`, most active processes first.
 * The cgroup table holds only the cgroups of the processes sent.
 */
export function buildWindowLine(
  parts: WindowParts,
  deltas: readonly TaskDelta[],
  cgroups: { resolver: CgroupResolver; table: CgroupTable },
  maxBytes = WINDOW_BYTES,
): { line: string; sent: number; omitted: number } {
  const active = deltas.filter(isActive).sort((a, b) => activity(b) - activity(a));
  const preempt = preemptCounts(parts.pairs);
  // Cgroup indices into a provisional table; only those of processes that fit are kept.
  const refIdx = active.map((d) =>
    cgroups.table.indexOf(cgroups.resolver.refOf(d.tgid, d.startNs, d.cgroupKey)),
  );
  cgroups.resolver.endWindow();
  const table = cgroups.table.take();
  const head = JSON.stringify({ ...parts, procs: [], cgroups: [] });
  let budget = maxBytes - head.length - 64; // room for `omitted` and the newline
  const procParts: string[] = [];
  const cgParts: string[] = [];
  const cgMap = new Map<number, number>();
  let omitted = 0;
  for (let i = 0; i < active.length; i++) {
    const d = active[i];
    const pc = preempt.get(d.tgid);
    let cg = cgMap.get(refIdx[i]);
    let cgText = '';
    if (cg === undefined) cgText = JSON.stringify(table[refIdx[i]] satisfies CgroupSample);
    const sample: ProcSample = {
      tgid: d.tgid,
      ppid: d.ppid,
      comm: d.comm,
      cg: cg ?? cgParts.length,
      kthread: d.kthread,
      threads: d.threads,
      startNs: d.startNs,
      exited: d.exited,
      cpuNs: d.cpuNs,
      runqWaitNs: d.runqWaitNs,
      minFaults: d.minFaults,
      majFaults: d.majFaults,
      vcsw: d.vcsw,
      ivcsw: d.ivcsw,
      rssAnonBytes: d.rssAnonBytes,
      rssFileBytes: d.rssFileBytes,
      rssShmemBytes: d.rssShmemBytes,
      anonSamples: d.anonSamples,
      preempted: pc?.preempted ?? 0,
      preemptsOthers: pc?.others ?? 0,
      lastCpu: d.lastCpu,
    };
    const text = JSON.stringify(sample);
    const cost = text.length + 1 + (cgText ? cgText.length + 1 : 0);
    if (cost > budget) {
      omitted++;
      continue; // a smaller, less active one may still fit
    }
    budget -= cost;
    if (cg === undefined) {
      cg = cgParts.length;
      cgMap.set(refIdx[i], cg);
      cgParts.push(cgText);
    }
    procParts.push(text);
  }
  // procs and cgroups are the last keys of `head`: splice the parts in (no String.replace: `$&` in a name).
  const tail = '"procs":[],"cgroups":[]}';
  const body = `${head.slice(0, -tail.length)}"procs":[${procParts.join(',')}],"cgroups":[${cgParts.join(',')}]`;
  const line = `${body}${omitted ? `,"omitted":${omitted}` : ''}}\n`;
  return { line, sent: procParts.length, omitted };
}
