// Protocol v2 windows built by hand for the classifier's unit tests, shaped like the helper's (see
// test/fixtures/*.jsonl for recorded ones): every field present, cgroup 0 is the root with no limits.
import { type CgroupSample, PROTOCOL_VERSION, type ProcSample, type Window } from '../../src/shared/protocol';

export const MB = 2 ** 20;
export const GB = 2 ** 30;

export function proc(p: Partial<ProcSample> & { tgid: number }): ProcSample {
  const anon = p.rssAnonBytes ?? 10 * MB;
  return {
    ppid: 1,
    comm: `p${p.tgid}`,
    cg: 0,
    kthread: false,
    threads: 1,
    startNs: 1000 + p.tgid,
    exited: false,
    cpuNs: 0,
    runqWaitNs: 0,
    minFaults: 0,
    majFaults: 0,
    vcsw: 0,
    ivcsw: 0,
    rssAnonBytes: anon,
    rssFileBytes: 5 * MB,
    rssShmemBytes: 0,
    anonSamples: [anon + (p.rssShmemBytes ?? 0)],
    preempted: 0,
    preemptsOthers: 0,
    lastCpu: 0,
    ...p,
  };
}

export function cgroup(c: Partial<CgroupSample> = {}): CgroupSample {
  return {
    path: '/',
    memLimitBytes: null,
    memLimitPath: null,
    memUsageBytes: null,
    memAnonBytes: null,
    memPressure: null,
    cpuQuotaPercent: null,
    cpuQuotaPath: null,
    throttledNs: 0,
    nrThrottled: 0,
    nrPeriods: 0,
    ...c,
  };
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
