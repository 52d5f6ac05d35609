// Processes and windows built by hand for the unit tests, shaped like the helper's (see test/fixtures/*.jsonl for
// recorded ones): one builder per stage — cumulative totals, per-window deltas, protocol v2 samples and windows —
// all from the same idle single-threaded process, every field present; cgroup 0 is the root with no limits.

import { unlimitedCgroup } from '../../src/host/cgroups';
import { emptyTotals, type TaskDelta, type TaskTotals } from '../../src/shared/accounting/taskTotals';
import {
  type CgroupSample,
  PROTOCOL_VERSION,
  type ProcSample,
  type Window,
} from '../../src/shared/wire/protocol';

export const MB = 2 ** 20;
export const GB = 2 ** 30;

/** What every stage has in common: an idle single-threaded process, its counters at zero. */
function idle(tgid: number) {
  const { cgroupKey: _, ...counters } = emptyTotals(tgid); // cgroupKey is the collector's, not the protocol's
  return { ...counters, ppid: 1, comm: `p${tgid}`, threads: 1, lastCpu: 0 };
}

/** A process's cumulative counters as a collector reads them (the input of WindowAccounting). */
export function totals(tgid: number, startNs: number, over: Partial<TaskTotals> = {}): TaskTotals {
  return { ...idle(tgid), startNs, cgroupKey: 0, ...over };
}

/** One process over one window (the input of the window builder); started at tgid ns unless told. */
export function delta(tgid: number, over: Partial<TaskDelta> = {}): TaskDelta {
  return { ...totals(tgid, tgid), exited: false, anonSamples: [0], ...over };
}

export function proc(p: Partial<ProcSample> & { tgid: number }): ProcSample {
  const anon = p.rssAnonBytes ?? 10 * MB;
  return {
    ...idle(p.tgid),
    cg: 0,
    startNs: 1000 + p.tgid,
    exited: false,
    rssAnonBytes: anon,
    rssFileBytes: 5 * MB,
    anonSamples: [anon + (p.rssShmemBytes ?? 0)],
    preempted: 0,
    preemptsOthers: 0,
    ...p,
  };
}

export function cgroup(c: Partial<CgroupSample> = {}): CgroupSample {
  return { ...unlimitedCgroup('/'), ...c };
}

/** Window `seq` of `secs` seconds (ts advances by the window length). */
export function win(seq: number, procs: ProcSample[], extra: Partial<Window> = {}, secs = 1): Window {
  return {
    type: 'window',
    v: PROTOCOL_VERSION,
    seq,
    ts: 1_700_000_000_000 + (seq + 1) * secs * 1000,
    durationNs: secs * 1e9,
    cpuBusyNs: [5e8 * secs, 5e8 * secs],
    procs,
    cgroups: [cgroup()],
    pairs: [],
    memAvailableBytes: 8 * GB,
    self: { cpuNs: 1e6, rssBytes: 50 * MB, collectNs: 1e5 },
    ...extra,
  };
}

export const host = { ncpu: 2, memTotalBytes: 16 * GB };
