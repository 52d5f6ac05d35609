// One live collection session: both collectors loaded and attached, turned into protocol messages per window.
// Imported lazily by main.ts, so that a missing libbpf.so.1 becomes a clean NO_LIBBPF error, not a crash.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readPressure } from '../shared/procfs';
import type { Drops, ProcSample, Window } from '../shared/protocol';
import { PROTOCOL_VERSION } from '../shared/protocol';
import { DEFAULT_FAULT_ORDER, FaultCollector, type KernelFaultAttach } from './faults';
import { libbpfLog } from './loader';
import { HashReader } from './maps';
import { ProcInfo } from './procinfo';
import { SchedCollector } from './sched';

export { setPrintSink } from './libbpf';
export { LoadError } from './loader';

/** BPF objects live next to the helper: <repo>/bpf for dist/helper.js, or <install>/bpf. Never from input. */
export function bpfDir(): string {
  for (const dir of [path.join(__dirname, 'bpf'), path.join(__dirname, '..', 'bpf')])
    try {
      readFileSync(path.join(dir, 'sched.bpf.o'), { flag: 'r' }).length;
      return dir;
    } catch {
      /* try the next layout */
    }
  return path.join(__dirname, '..', 'bpf');
}

function onlineCpus(ncpu: number): boolean[] {
  const online = new Array<boolean>(ncpu).fill(false);
  try {
    for (const range of readFileSync('/sys/devices/system/cpu/online', 'latin1').trim().split(',')) {
      const [a, b] = range.split('-').map(Number);
      for (let c = a; c <= (b ?? a) && c < ncpu; c++) online[c] = true;
    }
  } catch {
    online.fill(true);
  }
  return online;
}

export class Session {
  readonly sched: SchedCollector;
  readonly faults: FaultCollector;
  private readonly info: ProcInfo;
  private rssPeeks = new Map<number, number[]>();
  private seq = 0;
  private lastCpuUsage = process.cpuUsage();
  private lastDrops = { procs: 0, pairs: 0, faults: 0 };

  constructor(
    faultOrder: readonly KernelFaultAttach[] = DEFAULT_FAULT_ORDER,
    readonly pageSize = 4096,
    maxProcs?: number,
  ) {
    const dir = bpfDir();
    this.sched = new SchedCollector(path.join(dir, 'sched.bpf.o'), maxProcs);
    try {
      this.faults = new FaultCollector(path.join(dir, 'faults.bpf.o'), faultOrder, maxProcs);
    } catch (e) {
      this.sched.obj.close();
      throw e;
    }
    this.info = new ProcInfo(pageSize);
  }

  capabilities(): string[] {
    const caps = ['runq_wait', 'rss_samples', 'involuntary_preempt', 'cgroup_memory_max'];
    if (HashReader.batchSupported) caps.push('batch_ops');
    return caps;
  }

  /** A peek at RSS of the processes that are faulting (RSS only moves through faults), kept for the window. */
  sampleRss(): void {
    for (const [tgid, f] of this.faults.read(false)) {
      if (f.rssPages === 0) continue;
      const list = this.rssPeeks.get(tgid);
      if (list) list.push(f.rssPages * this.pageSize);
      else this.rssPeeks.set(tgid, [f.rssPages * this.pageSize]);
    }
  }

  window(durationNs: number): { window: Window; drops?: Drops } {
    const t0 = process.hrtime.bigint();
    const sched = this.sched.read();
    const faults = this.faults.read(true);
    const drainNs = Number(process.hrtime.bigint() - t0);
    this.info.nextWindow();
    const procs: ProcSample[] = [];
    const tgids = new Set([...sched.procs.keys(), ...faults.keys()]);
    let needStatm = 0;
    for (const tgid of tgids) if (!(faults.get(tgid)?.rssPages ?? 0)) needStatm++;
    for (const tgid of tgids) {
      if (tgid === 0) continue;
      const s = sched.procs.get(tgid);
      const f = faults.get(tgid);
      const info = this.info.get(tgid);
      let rssBytes: number;
      if (f && f.rssPages > 0) {
        rssBytes = f.rssPages * this.pageSize;
        this.info.noteRss(info, rssBytes);
      } else rssBytes = this.info.rssBytes(tgid, info, needStatm);
      const rssSamples = [...(this.rssPeeks.get(tgid) ?? []), rssBytes];
      procs.push({
        tgid,
        ppid: info.ppid,
        comm: s?.comm || f?.comm || '',
        cgroup: info.cgroup,
        cpuNs: s?.cpuNs ?? 0,
        faults: f?.faults ?? 0,
        rssBytes,
        rssSamples,
        preempted: s?.preempted ?? 0,
        preemptsOthers: s?.preemptsOthers ?? 0,
        runqWaitNs: s?.runqWaitNs ?? 0,
        lastCpu: s?.lastCpu ?? -1,
        memMaxBytes: this.info.memoryMax(info.cgroup),
      });
    }
    this.rssPeeks = new Map();
    const online = onlineCpus(sched.cpuBusyNs.length);
    const cpu = process.cpuUsage(this.lastCpuUsage);
    this.lastCpuUsage = process.cpuUsage();
    const window: Window = {
      type: 'window',
      v: PROTOCOL_VERSION,
      seq: this.seq++,
      ts: Date.now(),
      durationNs,
      cpuBusyNs: sched.cpuBusyNs.map((ns, c) => (online[c] ? ns : null)),
      procs,
      pairs: sched.pairs,
      self: { cpuNs: (cpu.user + cpu.system) * 1000, rssBytes: process.memoryUsage.rss(), drainNs },
      pressure: readPressure(),
    };
    const now = { ...sched.drops, faults: this.faults.dropped() };
    const delta = {
      procs: now.procs - this.lastDrops.procs,
      pairs: now.pairs - this.lastDrops.pairs,
      faults: now.faults - this.lastDrops.faults,
    };
    this.lastDrops = now;
    const drops: Drops | undefined =
      delta.procs + delta.pairs + delta.faults > 0
        ? { type: 'drops', v: PROTOCOL_VERSION, maps: delta }
        : undefined;
    return { window, drops };
  }

  close(): void {
    this.faults.obj.close();
    this.sched.obj.close();
  }
}

export { libbpfLog };
