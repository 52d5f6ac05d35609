// The scheduler collector's user-space half: drains bpf/sched.bpf.o's maps once per window and credits the
// slice still running on each CPU at read time (the BPF side only accounts a slice when it ends).
import type { PreemptPair } from '../shared/protocol';
import { lib } from './libbpf';
import { type LoadedObject, loadObject } from './loader';
import { HashReader, PerCpuArrayReader } from './maps';

export const MAX_PROCS = 65536; // bpf/hotspot.h
const MAX_PAIRS = 16384;
const PROC_CPU_SIZE = 64;
const CPU_STATE_SIZE = 32;

export interface SchedProc {
  cpuNs: number;
  preempted: number;
  preemptsOthers: number;
  runqWaitNs: number;
  lastCpu: number;
  comm: string;
}

export interface SchedWindow {
  procs: Map<number, SchedProc>;
  pairs: PreemptPair[];
  cpuBusyNs: number[];
  drops: { procs: number; pairs: number };
}

/** What was credited for a slice still running at the previous read, so it is not counted twice. */
interface InFlight {
  ts: bigint;
  tgid: number;
  creditedNs: number;
}

function comm(buf: Buffer, off: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 || end > off + 16 ? off + 16 : end);
}

export class SchedCollector {
  readonly obj: LoadedObject;
  private readonly procs: HashReader;
  private readonly pairs: HashReader;
  private readonly cpus: PerCpuArrayReader;
  private readonly drops: PerCpuArrayReader;
  private readonly inFlight: (InFlight | undefined)[];
  private readonly lastBusy: bigint[];

  constructor(file: string, maxProcs = MAX_PROCS) {
    this.obj = loadObject(file, ['on_switch', 'on_exec'], maxProcs === MAX_PROCS ? {} : { procs: maxProcs });
    const ncpu = lib.numPossibleCpus() as number;
    this.procs = new HashReader(this.obj.map('procs'), 4, PROC_CPU_SIZE, maxProcs);
    this.pairs = new HashReader(this.obj.map('pairs'), 8, 8, MAX_PAIRS);
    this.cpus = new PerCpuArrayReader(this.obj.map('cpus'), CPU_STATE_SIZE, ncpu);
    this.drops = new PerCpuArrayReader(this.obj.map('drops'), 8, ncpu);
    this.inFlight = new Array(ncpu).fill(undefined);
    this.lastBusy = new Array(ncpu).fill(0n);
    this.readCpus(process.hrtime.bigint(), new Map()); // baseline for busy-time deltas
  }

  get ncpu(): number {
    return this.cpus.ncpu;
  }

  read(): SchedWindow {
    // CPU states first, then the drain: a slice that ends in between is in the drain and corrected next window.
    const extra = new Map<number, number>();
    const cpuBusyNs = this.readCpus(process.hrtime.bigint(), extra);
    const procs = new Map<number, SchedProc>();
    const { keys, values, count } = this.procs.read(true);
    for (let i = 0; i < count; i++) {
      const o = i * PROC_CPU_SIZE;
      procs.set(keys.readUInt32LE(i * 4), {
        cpuNs: Number(values.readBigUInt64LE(o)),
        preempted: Number(values.readBigUInt64LE(o + 8)),
        preemptsOthers: Number(values.readBigUInt64LE(o + 16)),
        runqWaitNs: Number(values.readBigUInt64LE(o + 24)),
        lastCpu: values.readUInt32LE(o + 40),
        comm: comm(values, o + 48),
      });
    }
    for (const [tgid, ns] of extra) {
      const p = procs.get(tgid);
      if (p) p.cpuNs = Math.max(0, p.cpuNs + ns);
      else if (ns > 0)
        procs.set(tgid, { cpuNs: ns, preempted: 0, preemptsOthers: 0, runqWaitNs: 0, lastCpu: -1, comm: '' });
    }
    const pairs: PreemptPair[] = [];
    const pr = this.pairs.read(true);
    for (let i = 0; i < pr.count; i++) {
      const key = pr.keys.readBigUInt64LE(i * 8);
      pairs.push({
        victim: Number(key >> 32n),
        aggressor: Number(key & 0xffffffffn),
        count: Number(pr.values.readBigUInt64LE(i * 8)),
      });
    }
    return { procs, pairs, cpuBusyNs, drops: { procs: this.dropCount(0), pairs: this.dropCount(1) } };
  }

  /** Per-CPU busy time since the last read, plus in-flight credits/corrections per TGID into `extra`. */
  private readCpus(now: bigint, extra: Map<number, number>): number[] {
    const buf = this.cpus.read(0);
    const busy: number[] = [];
    const add = (tgid: number, ns: number) => extra.set(tgid, (extra.get(tgid) ?? 0) + ns);
    for (let c = 0; c < this.cpus.ncpu; c++) {
      const o = c * this.cpus.stride;
      const tgid = buf.readUInt32LE(o);
      const pid = buf.readUInt32LE(o + 4);
      const ts = buf.readBigUInt64LE(o + 8);
      const total = buf.readBigUInt64LE(o + 16);
      let ns = Number(total - this.lastBusy[c]);
      this.lastBusy[c] = total;
      const prev = this.inFlight[c];
      if (prev && prev.ts !== ts) {
        // That slice has ended and the BPF side accounted all of it: take back what we credited early.
        add(prev.tgid, -prev.creditedNs);
        ns -= prev.creditedNs;
        this.inFlight[c] = undefined;
      }
      if (pid !== 0 && ts > 0n && now > ts) {
        const sofar = Number(now - ts);
        const credit = sofar - (this.inFlight[c]?.creditedNs ?? 0);
        add(tgid, credit);
        ns += credit;
        this.inFlight[c] = { ts, tgid, creditedNs: sofar };
      }
      busy.push(Math.max(0, ns));
    }
    return busy;
  }

  private dropCount(reason: number): number {
    const buf = this.drops.read(reason);
    let n = 0;
    for (let c = 0; c < this.drops.ncpu; c++) n += Number(buf.readBigUInt64LE(c * 8));
    return n;
  }
}
