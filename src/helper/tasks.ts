// The task collector's user-space half: one pass of bpf/tasks.bpf.o's iterator per window (per-thread records
// summed into processes), cheap leader-only passes for RSS sub-samples, and the drain of processes that exited.
import { closeSync, readSync } from 'node:fs';
import type { Attach } from '../shared/protocol';
import type { TaskTotals } from '../shared/taskTotals';
import { lib, strerror } from './libbpf';
import { LoadError, type LoadedObject, loadObject } from './loader';
import { HashReader, PerCpuArrayReader } from './maps';

// bpf/hotspot.h
export const TASK_REC_SIZE = 184;
const RSS_REC_SIZE = 24;
const EXIT_KEY_SIZE = 16;
const MAX_EXITS = 16384;
const REC_KTHREAD = 1;
const REC_PROCESS = 2;
const DROP_EXITS = 1;

/** Offsets in struct task_rec. */
const O = {
  tgid: 0,
  pid: 4,
  flags: 8,
  ppid: 12,
  start: 16,
  exec: 24,
  delay: 32,
  nvcsw: 40,
  nivcsw: 48,
  minflt: 56,
  majflt: 64,
  sigExec: 72,
  sigNvcsw: 80,
  sigNivcsw: 88,
  sigMinflt: 96,
  sigMajflt: 104,
  rssFile: 112,
  rssAnon: 120,
  rssShmem: 128,
  cgDfl: 136,
  cgMem: 144,
  cgCpu: 152,
  cpu: 160,
  comm: 168,
} as const;

const u64 = (b: Buffer, o: number) => Number(b.readBigUInt64LE(o));

function comm(b: Buffer, o: number): string {
  const end = b.indexOf(0, o);
  return b.toString('utf8', o, end < 0 || end > o + 16 ? o + 16 : end);
}

/** Exit-hook programs in order of preference. */
const EXIT_PROGRAMS: [Attach['exit'], string | undefined][] = [
  ['tp_btf', 'on_exit_btf'],
  ['raw_tp', 'on_exit_raw'],
  ['none', undefined],
];

export class TaskCollector {
  readonly obj: LoadedObject;
  readonly exitAttach: Attach['exit'];
  private readonly tasksLinkFd: number;
  private readonly rssLinkFd: number;
  /** Reused read buffer; it grows (doubling) if a pass has more than it holds. */
  private buf = Buffer.allocUnsafe(1 << 20);
  private readonly exits?: HashReader;
  private readonly drops?: PerCpuArrayReader;
  /** Cumulative ns spent reading passes (iterator run time included: it runs inside read()). */
  readNs = 0;

  constructor(file: string, maxExits = MAX_EXITS) {
    let last: LoadError | undefined;
    for (const [attach, prog] of EXIT_PROGRAMS) {
      try {
        const sizes: Record<string, number> = maxExits === MAX_EXITS ? {} : { exits: maxExits };
        this.obj = loadObject(file, ['dump_tasks', 'dump_rss', ...(prog ? [prog] : [])], sizes);
        this.exitAttach = attach;
        this.tasksLinkFd = lib.linkFd(this.obj.link('dump_tasks')) as number;
        this.rssLinkFd = lib.linkFd(this.obj.link('dump_rss')) as number;
        if (prog) {
          this.exits = new HashReader(this.obj.map('exits'), EXIT_KEY_SIZE, TASK_REC_SIZE, maxExits);
          this.drops = new PerCpuArrayReader(this.obj.map('drops'), 8, lib.numPossibleCpus() as number);
        }
        return;
      } catch (e) {
        if (!(e instanceof LoadError)) throw e;
        last = e;
      }
    }
    throw last;
  }

  /** One iterator pass into this.buf; returns the byte count. */
  private pass(linkFd: number): number {
    const t0 = process.hrtime.bigint();
    const fd = lib.iterCreate(linkFd) as number;
    if (fd < 0) throw new Error(`bpf_iter_create: ${strerror(fd)}`);
    let len = 0;
    try {
      for (;;) {
        if (this.buf.length - len < 64 * 1024) {
          const bigger = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, len);
          this.buf = bigger;
        }
        const n = readSync(fd, this.buf, len, this.buf.length - len, null);
        if (n === 0) break;
        len += n;
      }
    } finally {
      closeSync(fd);
    }
    this.readNs += Number(process.hrtime.bigint() - t0);
    return len;
  }

  /** Every process now: its threads summed, plus what its reaped threads left in the signal struct. */
  read(): Map<number, TaskTotals> {
    const len = this.pass(this.tasksLinkFd);
    const b = this.buf;
    const out = new Map<number, TaskTotals>();
    for (let o = 0; o + TASK_REC_SIZE <= len; o += TASK_REC_SIZE) {
      const tgid = b.readUInt32LE(o + O.tgid);
      const flags = b.readUInt32LE(o + O.flags);
      let t = out.get(tgid);
      if (!t) {
        t = {
          tgid,
          startNs: 0,
          ppid: 0,
          comm: '',
          kthread: (flags & REC_KTHREAD) !== 0,
          threads: 0,
          cpuNs: 0,
          runqWaitNs: 0,
          minFaults: 0,
          majFaults: 0,
          vcsw: 0,
          ivcsw: 0,
          rssAnonBytes: 0,
          rssFileBytes: 0,
          rssShmemBytes: 0,
          lastCpu: -1,
          cgroupKey: '',
        };
        out.set(tgid, t);
      }
      addThread(t, b, o);
      if (flags & REC_PROCESS && !t.startNs) addProcess(t, b, o);
    }
    return out;
  }

  /** anon + shmem pages per process leader: the light pass for sub-window RSS samples. */
  readRss(visit: (tgid: number, startNs: number, pages: number) => void): void {
    const len = this.pass(this.rssLinkFd);
    const b = this.buf;
    for (let o = 0; o + RSS_REC_SIZE <= len; o += RSS_REC_SIZE)
      visit(b.readUInt32LE(o), u64(b, o + 8), u64(b, o + 16));
  }

  /** Final totals of processes that ended since the last drain. */
  drainExits(): TaskTotals[] {
    if (!this.exits) return [];
    const { values, count } = this.exits.read(true);
    const out: TaskTotals[] = [];
    for (let i = 0; i < count; i++) {
      const o = i * TASK_REC_SIZE;
      const t: TaskTotals = {
        tgid: values.readUInt32LE(o + O.tgid),
        startNs: 0,
        ppid: 0,
        comm: '',
        kthread: (values.readUInt32LE(o + O.flags) & REC_KTHREAD) !== 0,
        threads: 0,
        cpuNs: 0,
        runqWaitNs: 0,
        minFaults: 0,
        majFaults: 0,
        vcsw: 0,
        ivcsw: 0,
        rssAnonBytes: 0,
        rssFileBytes: 0,
        rssShmemBytes: 0,
        lastCpu: -1,
        cgroupKey: '',
      };
      addThread(t, values, o);
      addProcess(t, values, o);
      out.push(t);
    }
    return out;
  }

  droppedExits(): number {
    if (!this.drops) return 0;
    const buf = this.drops.read(DROP_EXITS);
    let n = 0;
    for (let c = 0; c < this.drops.ncpu; c++) n += u64(buf, c * 8);
    return n;
  }
}

function addThread(t: TaskTotals, b: Buffer, o: number): void {
  t.threads++;
  t.cpuNs += u64(b, o + O.exec);
  t.runqWaitNs += u64(b, o + O.delay);
  t.vcsw += u64(b, o + O.nvcsw);
  t.ivcsw += u64(b, o + O.nivcsw);
  t.minFaults += u64(b, o + O.minflt);
  t.majFaults += u64(b, o + O.majflt);
  if (b.readUInt32LE(o + O.pid) === t.tgid || t.lastCpu < 0) t.lastCpu = b.readUInt32LE(o + O.cpu);
}

function addProcess(t: TaskTotals, b: Buffer, o: number): void {
  const page = 4096;
  t.startNs = u64(b, o + O.start);
  t.ppid = b.readUInt32LE(o + O.ppid);
  t.comm = comm(b, o + O.comm);
  t.cpuNs += u64(b, o + O.sigExec);
  t.vcsw += u64(b, o + O.sigNvcsw);
  t.ivcsw += u64(b, o + O.sigNivcsw);
  t.minFaults += u64(b, o + O.sigMinflt);
  t.majFaults += u64(b, o + O.sigMajflt);
  // percpu_counter.count can dip below zero transiently (per-CPU deltas not folded yet).
  t.rssFileBytes = Math.max(0, Number(b.readBigInt64LE(o + O.rssFile))) * page;
  t.rssAnonBytes = Math.max(0, Number(b.readBigInt64LE(o + O.rssAnon))) * page;
  t.rssShmemBytes = Math.max(0, Number(b.readBigInt64LE(o + O.rssShmem))) * page;
  t.cgroupKey = `${u64(b, o + O.cgDfl)}:${u64(b, o + O.cgMem)}:${u64(b, o + O.cgCpu)}`;
}
