// From per-process deltas to one protocol window line, shared by the helper and the /proc collector: the cgroup
// table is built for the processes sent, and the line is bounded in size (issue 11 #7) by leaving out the least
// active processes and saying how many in `omitted`.

import type { TaskDelta } from '../shared/accounting/taskTotals';
import type { CgroupSample, PreemptPair, Window } from '../shared/wire/protocol';
import type { CgroupResolver, CgroupTable } from './cgroups';

/** Window lines are kept below this, far under the consumer's MAX_LINE_BYTES. */
export const WINDOW_BYTES = 4 * 1024 * 1024;

/** Activity used to choose what stays when a window must shrink: CPU and blocked time, then faults, then switches. */
export function activity(d: TaskDelta): number {
  return (
    d.cpuNs +
    d.blockedNs +
    (d.minFaults + d.majFaults * 100) * 10_000 +
    (d.vcsw + d.ivcsw) * 1_000 +
    (d.exited ? 1e6 : 0)
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
/**
 * Appends JSON text to one growing, reused Buffer: digits are written byte by byte, so a window of 10,000
 * processes makes no intermediate strings (they were most of the helper's garbage-collection time).
 */
const WRITER_KEEP_BYTES = 1 << 20;

export class JsonWriter {
  buf = Buffer.allocUnsafe(WRITER_KEEP_BYTES);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  /** ASCII text without characters that need escaping (keys, punctuation). */
  raw(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }

  /** A number; non-finite ones (a malformed /proc file) as 0 so the line stays valid JSON. */
  num(x: number): void {
    if (!Number.isFinite(x)) x = 0;
    if (!Number.isSafeInteger(x)) {
      this.raw(String(x));
      return;
    }
    this.room(17);
    if (x < 0) {
      this.buf[this.len++] = 45; // '-'
      x = -x;
    }
    const start = this.len;
    do {
      this.buf[this.len++] = 48 + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
    for (let i = start, j = this.len - 1; i < j; i++, j--) {
      const t = this.buf[i];
      this.buf[i] = this.buf[j];
      this.buf[j] = t;
    }
  }

  /** Any string, JSON-quoted and escaped; or, `quoted` false, JSON text as it is. */
  str(s: string, quoted = true): void {
    const q = quoted ? JSON.stringify(s) : s;
    this.room(Buffer.byteLength(q));
    this.len += this.buf.write(q, this.len);
  }

  bool(b: boolean): void {
    this.raw(b ? 'true' : 'false');
  }
}

/** One ProcSample as JSON into `w`. */
function writeProc(w: JsonWriter, d: TaskDelta, cg: number, preempted: number, preemptsOthers: number): void {
  w.raw('{"tgid":');
  w.num(d.tgid);
  w.raw(',"ppid":');
  w.num(d.ppid);
  w.raw(',"comm":');
  w.str(d.comm);
  w.raw(',"cg":');
  w.num(cg);
  w.raw(',"kthread":');
  w.bool(d.kthread);
  w.raw(',"threads":');
  w.num(d.threads);
  w.raw(',"startNs":');
  w.num(d.startNs);
  w.raw(',"exited":');
  w.bool(d.exited);
  w.raw(',"cpuNs":');
  w.num(d.cpuNs);
  w.raw(',"runqWaitNs":');
  w.num(d.runqWaitNs);
  w.raw(',"minFaults":');
  w.num(d.minFaults);
  w.raw(',"majFaults":');
  w.num(d.majFaults);
  w.raw(',"vcsw":');
  w.num(d.vcsw);
  w.raw(',"ivcsw":');
  w.num(d.ivcsw);
  w.raw(',"blockedNs":');
  w.num(d.blockedNs);
  w.raw(',"ioWaitNs":');
  w.num(d.ioWaitNs);
  w.raw(',"readBytes":');
  w.num(d.readBytes);
  w.raw(',"writeBytes":');
  w.num(d.writeBytes);
  w.raw(',"rssAnonBytes":');
  w.num(d.rssAnonBytes);
  w.raw(',"rssFileBytes":');
  w.num(d.rssFileBytes);
  w.raw(',"rssShmemBytes":');
  w.num(d.rssShmemBytes);
  w.raw(',"anonSamples":[');
  for (let i = 0; i < d.anonSamples.length; i++) {
    if (i) w.raw(',');
    w.num(d.anonSamples[i]);
  }
  w.raw('],"preempted":');
  w.num(preempted);
  w.raw(',"preemptsOthers":');
  w.num(preemptsOthers);
  w.raw(',"lastCpu":');
  w.num(d.lastCpu);
  w.raw('}');
}

const shared = new JsonWriter();

/**
 * Encodes the window as one JSON line (with its newline) of at most `maxBytes`, most active processes first.
 * `deltas` are the processes to report (WindowAccounting.next); the cgroup table holds only the cgroups of the
 * ones sent. The returned bytes are a fresh copy (the writer is reused); `left` are the tgids omitted.
 */
export function buildWindowLine(
  parts: WindowParts,
  deltas: readonly TaskDelta[],
  cgroups: { resolver: CgroupResolver; table: CgroupTable },
  maxBytes = WINDOW_BYTES,
  /** The pairs summed per process, when the caller already has them (preemptCounts(parts.pairs)). */
  preempt = preemptCounts(parts.pairs),
): { bytes: Buffer; sent: number; omitted: number; left: number[] } {
  const active = deltas;
  const score = active.map(activity);
  const order = active.map((_, i) => i).sort((a, b) => score[b] - score[a]);
  // Cgroup indices into a provisional table; only those of processes that fit are kept.
  const refIdx = active.map((d) =>
    cgroups.table.indexOf(cgroups.resolver.refOf(d.tgid, d.startNs, d.cgroupKey)),
  );
  cgroups.resolver.endWindow();
  const table = cgroups.table.take();
  // The line is written into one reused buffer: head, quiet pids, procs, cgroups (a window of 10,000 quiet
  // processes made 60 KiB strings three times over when the head, quiet list included, was stringified).
  const { quiet, ...rest } = parts;
  const head = JSON.stringify({ ...rest, procs: [], cgroups: [] });
  const tail = '"procs":[],"cgroups":[]}';
  const w = shared;
  w.len = 0;
  w.str(head.slice(0, -tail.length), false);
  if (quiet) {
    w.raw('"quiet":[');
    for (let i = 0; i < quiet.length; i++) {
      if (i) w.raw(',');
      w.num(quiet[i]);
    }
    w.raw('],');
  }
  w.raw('"procs":[');
  let budget = maxBytes - w.len - 64; // room for `omitted` and the newline
  const procsStart = w.len;
  const cgParts: string[] = [];
  const cgMap = new Map<number, number>();
  let sent = 0;
  const left: number[] = [];
  for (const i of order) {
    const d = active[i];
    const pc = preempt.get(d.tgid);
    const known = cgMap.get(refIdx[i]);
    const cgText = known === undefined ? JSON.stringify(table[refIdx[i]] satisfies CgroupSample) : '';
    const mark = w.len;
    if (w.len > procsStart) w.raw(',');
    writeProc(w, d, known ?? cgParts.length, pc?.preempted ?? 0, pc?.others ?? 0);
    const cost = w.len - mark + (cgText ? Buffer.byteLength(cgText) + 1 : 0);
    if (cost > budget) {
      w.len = mark; // take it back: a smaller, less active one may still fit
      left.push(d.tgid);
      continue;
    }
    budget -= cost;
    sent++;
    if (known === undefined) {
      cgMap.set(refIdx[i], cgParts.length);
      cgParts.push(cgText);
    }
  }
  const omitted = left.length;
  w.raw('],"cgroups":[');
  w.str(cgParts.join(','), false);
  w.raw(`]${omitted ? `,"omitted":${omitted}` : ''}}\n`);
  const bytes = Buffer.from(w.buf.subarray(0, w.len));
  // The first window carries every process in full; later ones only what changed: do not keep its size.
  if (w.buf.length > WRITER_KEEP_BYTES) w.buf = Buffer.allocUnsafe(WRITER_KEEP_BYTES);
  return { bytes, sent, omitted, left };
}
