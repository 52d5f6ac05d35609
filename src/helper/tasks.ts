// The task collector's user-space half: one pass of bpf/tasks.bpf.o's iterator per window (per-thread records
// summed into processes), cheap leader-only passes for RSS sub-samples, and the drain of processes that exited.
import { closeSync, readSync } from 'node:fs';
import type { Attach } from '../shared/protocol';
import type { TaskTotals } from '../shared/taskTotals';
import { lib, strerror, testRunOpts } from './libbpf';
import { type LoadedObject, loadFirst } from './loader';
import { HashReader, PerCpuArrayReader } from './maps';

// bpf/hotspot.h
export const TASK_REC_SIZE = 168;
const RSS_REC_SIZE = 24;
const RSS_OUT_MAX = 32768;
const EXIT_KEY_SIZE = 16;
const MAX_EXITS = 16384;
const REC_KTHREAD = 1;
const REC_PROCESS = 2;
const DROP_EXITS = 1;

/** A u64 as a number without a BigInt (counters stay far below 2^53). */
const u64 = (b: Buffer, o: number) => b.readUInt32LE(o) + b.readUInt32LE(o + 4) * 4294967296;
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
  /** sample_rss (open-coded task iterator, kernel 6.7+) when this kernel loads it; else dump_rss is walked. */
  private readonly sampler?: { progFd: number; mapFd: number; opts: Buffer; key: Buffer; out: Buffer };
  /** Reused read buffer; it grows (doubling) if a pass has more than it holds. */
  private buf = Buffer.allocUnsafe(1 << 20);
  private readonly exits?: HashReader;
  private readonly drops?: PerCpuArrayReader;
  /** Cumulative ns spent reading passes (iterator run time included: it runs inside read()). */
  readNs = 0;
  /** The last full pass's iterator run and read() of its records, ns (not the decoding that follows). */
  lastPassNs = 0;

  constructor(file: string, maxExits = MAX_EXITS) {
    const sizes: Record<string, number> = maxExits === MAX_EXITS ? {} : { exits: maxExits };
    // Each exit hook with the sample_rss walk first, then without it (kernels before 6.7).
    const alternatives = EXIT_PROGRAMS.flatMap(([attach, prog]) => {
      const programs = ['dump_tasks', 'dump_rss', ...(prog ? [prog] : [])];
      const withWalk: [Attach['exit'], boolean] = [attach, true];
      const without: [Attach['exit'], boolean] = [attach, false];
      return [[withWalk, programs, ['sample_rss']] as const, [without, programs, []] as const];
    });
    let sampled: boolean;
    [this.obj, [this.exitAttach, sampled]] = loadFirst(
      file,
      alternatives,
      (obj, choice) => [obj, choice] as const,
      sizes,
    );
    if (sampled)
      this.sampler = {
        progFd: this.obj.programFd('sample_rss'),
        mapFd: this.obj.map('rss_out'),
        opts: testRunOpts(),
        key: Buffer.alloc(4),
        out: Buffer.alloc(8 + RSS_OUT_MAX * RSS_REC_SIZE),
      };
    this.tasksLinkFd = lib.linkFd(this.obj.link('dump_tasks')) as number;
    this.rssLinkFd = lib.linkFd(this.obj.link('dump_rss')) as number;
    if (this.exitAttach !== 'none') {
      this.exits = new HashReader(this.obj.map('exits'), EXIT_KEY_SIZE, TASK_REC_SIZE, maxExits);
      this.drops = new PerCpuArrayReader(this.obj.map('drops'), 8, lib.numPossibleCpus() as number);
    }
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

  /** Per-process records reused from pass to pass (10,000 fresh objects a window were a GC cost). */
  private readonly procs = new Map<number, Proc>();
  private gen = 0;

  /** Every process now: its threads summed, plus what its reaped threads left in the signal struct. */
  read(): Map<number, TaskTotals> {
    const before = this.readNs;
    const len = this.pass(this.tasksLinkFd);
    this.lastPassNs = this.readNs - before;
    // Records are 8-byte aligned and little-endian like the host: index them as 32-bit words.
    const w = new Uint32Array(this.buf.buffer, this.buf.byteOffset, Math.floor(len / 4));
    const out = this.procs;
    const gen = ++this.gen;
    for (let o = 0; o + W.size <= w.length; o += W.size) {
      const tgid = w[o + W.tgid];
      const flags = w[o + W.flags];
      let t = out.get(tgid);
      if (!t) {
        t = newProc(tgid);
        out.set(tgid, t);
      }
      if (t.gen !== gen) {
        reset(t);
        t.gen = gen;
        t.kthread = (flags & REC_KTHREAD) !== 0;
      }
      addThread(t, w, o);
      if (flags & REC_PROCESS && !t.startNs) addProcess(t, w, o, this.buf);
    }
    for (const [tgid, t] of out) if (t.gen !== gen) out.delete(tgid);
    return out;
  }

  /** How sub-window RSS samples are taken: 'walk' (sample_rss, 6.7+) or 'iter' (dump_rss). */
  get rssSampling(): 'walk' | 'iter' {
    return this.sampler ? 'walk' : 'iter';
  }

  /** anon + shmem pages per process leader: the light pass for sub-window RSS samples. */
  readRss(visit: (tgid: number, startNs: number, pages: number) => void): void {
    const s = this.sampler;
    if (s) {
      const t0 = process.hrtime.bigint();
      const rc = lib.testRun(s.progFd, s.opts) as number;
      const rl = rc < 0 ? rc : (lib.lookupElem(s.mapFd, s.key, s.out) as number);
      this.readNs += Number(process.hrtime.bigint() - t0);
      if (rl < 0) throw new Error(`sample_rss: ${strerror(rl)}`);
      const count = s.out.readUInt32LE(0);
      if (s.out.readUInt32LE(4) === 0) {
        for (let i = 0, o = 8; i < count; i++, o += RSS_REC_SIZE)
          visit(s.out.readUInt32LE(o), u64(s.out, o + 8), u64(s.out, o + 16));
        return;
      }
      // More processes than the walk records: this sample takes the iterator's way.
    }
    const len = this.pass(this.rssLinkFd);
    const b = this.buf;
    for (let o = 0; o + RSS_REC_SIZE <= len; o += RSS_REC_SIZE)
      visit(b.readUInt32LE(o), u64(b, o + 8), u64(b, o + 16));
  }

  /** Final totals of processes that ended since the last drain. */
  drainExits(): TaskTotals[] {
    if (!this.exits) return [];
    const { values, count } = this.exits.read(true);
    const w = new Uint32Array(values.buffer, values.byteOffset, (count * TASK_REC_SIZE) / 4);
    const out: TaskTotals[] = [];
    for (let i = 0; i < count; i++) {
      const o = i * W.size;
      const t = newProc(w[o + W.tgid]);
      t.kthread = (w[o + W.flags] & REC_KTHREAD) !== 0;
      addThread(t, w, o);
      addProcess(t, w, o, values);
      out.push(t);
    }
    return out;
  }

  droppedExits(): number {
    return this.drops?.sum(DROP_EXITS) ?? 0;
  }
}

/** struct task_rec in 32-bit words. */
const W = {
  size: TASK_REC_SIZE / 4,
  tgid: 0,
  pid: 1,
  flags: 2,
  ppid: 3,
  start: 4,
  exec: 6,
  delay: 8,
  nvcsw: 10,
  nivcsw: 12,
  minflt: 14,
  majflt: 16,
  sigExec: 18,
  sigNvcsw: 20,
  sigNivcsw: 22,
  sigMinflt: 24,
  sigMajflt: 26,
  rssFile: 28,
  rssAnon: 30,
  rssShmem: 32,
  cssSet: 34,
  cpu: 36,
  comm: 38,
} as const;

/** A u64 word pair as a number (counters stay far below 2^53). */
const q = (w: Uint32Array, i: number) => w[i] + w[i + 1] * 4294967296;
/** An s64 (percpu_counter.count can dip below zero transiently), clamped at 0. */
const pages = (w: Uint32Array, i: number) => (w[i + 1] & 0x80000000 ? 0 : w[i] + w[i + 1] * 4294967296);

/**
 * TaskTotals plus what lets a pass skip re-decoding unchanged names and cgroup ids. A class, so every record has
 * one hidden class with its numeric fields laid out from the start: records built by object spread decoded
 * three times slower (10,000 a pass).
 */
class Proc implements TaskTotals {
  startNs = 0.5;
  ppid = 0;
  comm = '';
  kthread = false;
  threads = 0;
  cpuNs = 0.5;
  runqWaitNs = 0.5;
  minFaults = 0.5;
  majFaults = 0.5;
  vcsw = 0.5;
  ivcsw = 0.5;
  rssAnonBytes = 0.5;
  rssFileBytes = 0.5;
  rssShmemBytes = 0.5;
  lastCpu = -1;
  cgroupKey = '';
  gen = 0;
  comm0 = -1;
  comm1 = 0;
  comm2 = 0;
  comm3 = 0;
  /** The css_set pointer as two words (-1: none read yet). */
  cg0 = -1;
  cg1 = 0;
  constructor(readonly tgid: number) {
    reset(this);
  }
}

function newProc(tgid: number): Proc {
  return new Proc(tgid);
}

function reset(t: TaskTotals): void {
  t.startNs = 0;
  t.threads = 0;
  t.cpuNs = 0;
  t.runqWaitNs = 0;
  t.minFaults = 0;
  t.majFaults = 0;
  t.vcsw = 0;
  t.ivcsw = 0;
  t.rssAnonBytes = 0;
  t.rssFileBytes = 0;
  t.rssShmemBytes = 0;
  t.lastCpu = -1;
}

function addThread(t: TaskTotals, w: Uint32Array, o: number): void {
  t.threads++;
  t.cpuNs += q(w, o + W.exec);
  t.runqWaitNs += q(w, o + W.delay);
  t.vcsw += q(w, o + W.nvcsw);
  t.ivcsw += q(w, o + W.nivcsw);
  t.minFaults += q(w, o + W.minflt);
  t.majFaults += q(w, o + W.majflt);
  if (w[o + W.pid] === t.tgid || t.lastCpu < 0) t.lastCpu = w[o + W.cpu];
}

function addProcess(t: Proc, w: Uint32Array, o: number, buf: Buffer): void {
  const page = 4096;
  t.startNs = q(w, o + W.start);
  t.ppid = w[o + W.ppid];
  const c = o + W.comm;
  if (w[c] !== t.comm0 || w[c + 1] !== t.comm1 || w[c + 2] !== t.comm2 || w[c + 3] !== t.comm3) {
    [t.comm0, t.comm1, t.comm2, t.comm3] = [w[c], w[c + 1], w[c + 2], w[c + 3]];
    const at = c * 4;
    const end = buf.indexOf(0, at);
    t.comm = buf.toString('utf8', at, end < 0 || end > at + 16 ? at + 16 : end);
  }
  t.cpuNs += q(w, o + W.sigExec);
  t.vcsw += q(w, o + W.sigNvcsw);
  t.ivcsw += q(w, o + W.sigNivcsw);
  t.minFaults += q(w, o + W.sigMinflt);
  t.majFaults += q(w, o + W.sigMajflt);
  t.rssFileBytes = pages(w, o + W.rssFile) * page;
  t.rssAnonBytes = pages(w, o + W.rssAnon) * page;
  t.rssShmemBytes = pages(w, o + W.rssShmem) * page;
  const g = o + W.cssSet;
  if (w[g] !== t.cg0 || w[g + 1] !== t.cg1) {
    t.cg0 = w[g];
    t.cg1 = w[g + 1];
    t.cgroupKey = `${w[g + 1]}:${w[g]}`; // a kernel pointer, both words (it does not fit a double)
  }
}
