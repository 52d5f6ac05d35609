// The task collector's user-space half. Each window, every process's counters: by one run of walk_tasks, which
// writes a record per process into memory shared with us (kernel 6.7+), or else by a pass of the dump_tasks
// iterator (a record per thread, summed here). Between windows, cheap RSS sub-samples (sample_rss, or the
// dump_rss iterator). And the drain of processes that exited. Over 400 lines because the walk and the iterator
// fill the same totals from the same records, and both share the record decoding and the exit drain.
import { closeSync, readdirSync, readSync } from 'node:fs';
import { SlotTable } from '../shared/accounting/slots';
import { emptyTotals, type TaskTotals } from '../shared/accounting/taskTotals';
import type { Attach } from '../shared/wire/protocol';
import { EXIT_KEY, RSS_REC, TASK_REC, WALK_STATE } from './layout';
import { lib, mapShared, strerror, testRunOpts } from './libbpf';
import { type LoadedObject, loadFirst } from './loader';
import { HashReader, PerCpuArrayReader } from './maps';

// bpf/hotspot.h: the records' layouts from the objects' BTF, the constants by hand.
export const TASK_REC_SIZE = TASK_REC.size;
const RSS_REC_SIZE = RSS_REC.size;
const EXIT_KEY_SIZE = EXIT_KEY.size;
const MAX_EXITS = 16384;
const REC_KTHREAD = 1;
const REC_PROCESS = 2;
const DROP_EXITS = 1;
const WALK_TASKS = 0;
const WALK_RSS = 1;

/** Exit-hook programs in order of preference. */
const EXIT_PROGRAMS: [Attach['exit'], string[]][] = [
  // on_fork gives each new thread its blocked-time storage (task storage needs the BTF-typed pointers of tp_btf).
  ['tp_btf', ['on_exit_btf', 'on_fork']],
  ['raw_tp', ['on_exit_raw']],
  ['none', []],
];

/**
 * Records the walks can hold: half as many again as the processes running at start, and at least 4,096. A walk
 * that finds more says so, and that reading takes the iterator's way instead (correct, only slower). The arrays
 * are mapped into the helper whole, so their size shows in its RSS (2.6 MiB at 10,000 processes).
 */
function walkCapacity(): number {
  let processes = 0;
  for (const name of readdirSync('/proc'))
    if (name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57) processes++;
  return Math.max(4096, Math.ceil((1.5 * processes) / 1024) * 1024);
}

/** One SEC("syscall") walk and the array it fills, mapped into our memory. */
class Walk {
  private readonly progFd: number;
  private readonly stateFd: number;
  private readonly opts = testRunOpts();
  private readonly key = Buffer.alloc(4);
  private readonly state = Buffer.alloc(WALK_STATE.size);
  private readonly shared: ReturnType<typeof mapShared>;
  /** The array's records, as bytes and as 32-bit words (records are 8-byte aligned, little-endian like us). */
  readonly bytes: Buffer;
  readonly words: Uint32Array;

  constructor(
    obj: LoadedObject,
    program: string,
    which: number,
    array: string,
    recordSize: number,
    capacity: number,
  ) {
    this.progFd = obj.programFd(program);
    this.stateFd = obj.map('walk_state');
    this.key.writeUInt32LE(which);
    this.shared = mapShared(obj.map(array), capacity * recordSize);
    this.bytes = Buffer.from(this.shared.memory);
    this.words = new Uint32Array(this.shared.memory);
  }

  /** Runs the walk; returns how many records it wrote, or -1 when they did not all fit. */
  run(): number {
    const rc = lib.testRun(this.progFd, this.opts) as number;
    const rl = rc < 0 ? rc : (lib.lookupElem(this.stateFd, this.key, this.state) as number);
    if (rl < 0) throw new Error(`walking tasks: ${strerror(rl)}`);
    return this.state.readUInt32LE(WALK_STATE.truncated) ? -1 : this.state.readUInt32LE(WALK_STATE.count);
  }

  close(): void {
    this.shared.unmap();
  }
}

export class TaskCollector {
  readonly obj: LoadedObject;
  readonly exitAttach: Attach['exit'];
  private readonly tasksLinkFd: number;
  private readonly rssLinkFd: number;
  /** walk_tasks and sample_rss (open-coded task iterator, kernel 6.7+) when this kernel loads them. */
  private readonly walks?: { tasks: Walk; rss: Walk };
  /** Reused read buffer for iterator passes; it grows (doubling) if a pass has more than it holds. */
  private buf = Buffer.allocUnsafe(1 << 20);
  private readonly exits?: HashReader;
  private readonly drops?: PerCpuArrayReader;
  /** Cumulative ns spent reading the kernel's counters (walks or iterator passes, run inside the call). */
  readNs = 0;
  /** The last full reading's walk or iterator pass, with its read, in ns (not the decoding that follows). */
  lastPassNs = 0;
  /** Readings that took the iterator's way because the walk had more processes than its array holds. */
  walkOverflows = 0;

  constructor(
    file: string,
    opts: {
      maxExits?: number;
      /** false: the iterators only (what kernels before 6.7 do). */
      walk?: boolean;
      /** Records the walks hold (tests make it small to see a walk overflow). */
      walkCapacity?: number;
    } = {},
  ) {
    const { maxExits = MAX_EXITS, walk = true } = opts;
    const sizes: Record<string, number> = maxExits === MAX_EXITS ? {} : { exits: maxExits };
    const capacity = opts.walkCapacity ?? walkCapacity();
    const arrays = { task_out: capacity, rss_out: capacity };
    // Each exit hook with the walks first, then without them (kernels before 6.7): the iterators stay attached
    // either way, for a walk that overflows.
    const alternatives = EXIT_PROGRAMS.flatMap(([attach, progs]) => {
      const programs = ['dump_tasks', 'dump_rss', ...progs];
      const withWalk: [Attach['exit'], boolean] = [attach, true];
      const without: [Attach['exit'], boolean] = [attach, false];
      return [
        ...(walk ? [[withWalk, programs, ['walk_tasks', 'sample_rss'], arrays] as const] : []),
        [without, programs, []] as const,
      ];
    });
    let walked: boolean;
    [this.obj, [this.exitAttach, walked]] = loadFirst(
      file,
      alternatives,
      (obj, choice) => [obj, choice] as const,
      sizes,
    );
    if (walked)
      this.walks = {
        tasks: new Walk(this.obj, 'walk_tasks', WALK_TASKS, 'task_out', TASK_REC_SIZE, capacity),
        rss: new Walk(this.obj, 'sample_rss', WALK_RSS, 'rss_out', RSS_REC_SIZE, capacity),
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
    return len;
  }

  /** Runs a walk, or where there is none (or it overflowed) an iterator pass; times it (`ns`). */
  private records(
    walk: Walk | undefined,
    linkFd: number,
    recordSize: number,
  ): { words: Uint32Array; bytes: Buffer; count: number; ns: number } {
    const t0 = process.hrtime.bigint();
    let count = walk ? walk.run() : -1;
    let words = walk?.words;
    let bytes = walk?.bytes;
    if (count < 0) {
      if (walk) this.walkOverflows++;
      count = Math.floor(this.pass(linkFd) / recordSize);
      bytes = this.buf;
      words = new Uint32Array(this.buf.buffer, this.buf.byteOffset, this.buf.length >> 2);
    }
    const ns = Number(process.hrtime.bigint() - t0);
    this.readNs += ns;
    return { words: words as Uint32Array, bytes: bytes as Buffer, count, ns };
  }

  /** Every process of the last reading, one row each (kept from reading to reading: names are decoded once). */
  private readonly reading = new TaskReading();

  /**
   * Every process now: its threads summed, plus what its reaped threads left in the signal struct. The iterable
   * hands over one reused TaskTotals per process, valid until the next read().
   */
  read(): Iterable<TaskTotals> {
    const { words, bytes, count, ns } = this.records(this.walks?.tasks, this.tasksLinkFd, TASK_REC_SIZE);
    this.lastPassNs = ns;
    this.reading.decode(words, bytes, count);
    return this.reading;
  }

  /** How readings are taken: 'walk' (walk_tasks and sample_rss, 6.7+) or 'iter' (the iterators). */
  get reads(): 'walk' | 'iter' {
    return this.walks ? 'walk' : 'iter';
  }

  /** anon + shmem pages per process leader: the light reading for sub-window RSS samples. */
  readRss(visit: (tgid: number, startNs: number, pages: number) => void): void {
    const { words: w, count } = this.records(this.walks?.rss, this.rssLinkFd, RSS_REC_SIZE);
    for (let i = 0, o = 0; i < count; i++, o += RSS_REC_SIZE / 4)
      visit(w[o + R.tgid], q(w, o + R.start), q(w, o + R.pages));
  }

  close(): void {
    this.walks?.tasks.close();
    this.walks?.rss.close();
    this.obj.close();
  }

  /** Final totals of processes that ended since the last drain. */
  drainExits(): TaskTotals[] {
    if (!this.exits) return [];
    const { values, count } = this.exits.read(true);
    const w = new Uint32Array(values.buffer, values.byteOffset, (count * TASK_REC_SIZE) / 4);
    const out: TaskTotals[] = [];
    for (let i = 0; i < count; i++) out.push(exitTotals(w, i * W.size, values));
    return out;
  }

  /** The maps on_switch (sched.bpf.o) writes into: exit records to complete, and per-thread blocked time. */
  sharedMaps(): Record<string, number> {
    return { exits: this.obj.map('exits'), blocked: this.obj.map('blocked') };
  }

  droppedExits(): number {
    return this.drops?.sum(DROP_EXITS) ?? 0;
  }
}

/** struct rss_rec in 32-bit words. */
const R = {
  tgid: RSS_REC.tgid / 4,
  start: RSS_REC.start_ns / 4,
  pages: RSS_REC.anon_shmem_pages / 4,
} as const;

/** struct task_rec in 32-bit words (offsets from the object's BTF, src/helper/layout.ts). */
const w4 = (bytes: number) => bytes / 4;
const W = {
  size: w4(TASK_REC.size),
  tgid: w4(TASK_REC.tgid),
  pid: w4(TASK_REC.pid),
  flags: w4(TASK_REC.flags),
  ppid: w4(TASK_REC.ppid),
  start: w4(TASK_REC.start_ns),
  exec: w4(TASK_REC.exec_ns),
  delay: w4(TASK_REC.run_delay_ns),
  nvcsw: w4(TASK_REC.nvcsw),
  nivcsw: w4(TASK_REC.nivcsw),
  minflt: w4(TASK_REC.min_flt),
  majflt: w4(TASK_REC.maj_flt),
  blocked: w4(TASK_REC.blocked_ns),
  iowait: w4(TASK_REC.iowait_ns),
  readBytes: w4(TASK_REC.read_bytes),
  writeBytes: w4(TASK_REC.write_bytes),
  sigExec: w4(TASK_REC.sig_exec_ns),
  sigNvcsw: w4(TASK_REC.sig_nvcsw),
  sigNivcsw: w4(TASK_REC.sig_nivcsw),
  sigMinflt: w4(TASK_REC.sig_min_flt),
  sigMajflt: w4(TASK_REC.sig_maj_flt),
  sigBlocked: w4(TASK_REC.sig_blocked_ns),
  sigIowait: w4(TASK_REC.sig_iowait_ns),
  sigReadBytes: w4(TASK_REC.sig_read_bytes),
  sigWriteBytes: w4(TASK_REC.sig_write_bytes),
  rssFile: w4(TASK_REC.rss_file),
  rssAnon: w4(TASK_REC.rss_anon),
  rssShmem: w4(TASK_REC.rss_shmem),
  cssSet: w4(TASK_REC.css_set),
  cpu: w4(TASK_REC.cpu),
  threads: w4(TASK_REC.threads),
  comm: w4(TASK_REC.comm),
} as const;

/** A u64 word pair as a number (counters stay far below 2^53). */
const q = (w: Uint32Array, i: number) => w[i] + w[i + 1] * 4294967296;
/** An s64 (percpu_counter.count can dip below zero transiently), clamped at 0, in bytes. */
const pageBytes = (w: Uint32Array, i: number) =>
  w[i + 1] & 0x80000000 ? 0 : (w[i] + w[i + 1] * 4294967296) * PAGE;
/**
 * The css_set pointer as a cgroupKey: its low 48 bits, exact in a double (kernel addresses differ only there).
 */
const cssKey = (w: Uint32Array, i: number) => w[i] + (w[i + 1] & 0xffff) * 4294967296;
const PAGE = 4096;

/** The group leader's name: the NUL-terminated start of the record's 16-byte comm. */
function commOf(buf: Buffer, word: number): string {
  const at = word * 4;
  const end = buf.indexOf(0, at);
  return buf.toString('utf8', at, end < 0 || end > at + 16 ? at + 16 : end);
}

/** The final totals in an exit record (one per process: its last thread plus the signal struct). */
function exitTotals(w: Uint32Array, o: number, buf: Buffer): TaskTotals {
  return {
    tgid: w[o + W.tgid],
    startNs: q(w, o + W.start),
    ppid: w[o + W.ppid],
    comm: commOf(buf, o + W.comm),
    kthread: (w[o + W.flags] & REC_KTHREAD) !== 0,
    threads: 1,
    cpuNs: q(w, o + W.exec) + q(w, o + W.sigExec),
    runqWaitNs: q(w, o + W.delay),
    minFaults: q(w, o + W.minflt) + q(w, o + W.sigMinflt),
    majFaults: q(w, o + W.majflt) + q(w, o + W.sigMajflt),
    vcsw: q(w, o + W.nvcsw) + q(w, o + W.sigNvcsw),
    ivcsw: q(w, o + W.nivcsw) + q(w, o + W.sigNivcsw),
    blockedNs: q(w, o + W.blocked) + q(w, o + W.sigBlocked),
    ioWaitNs: q(w, o + W.iowait) + q(w, o + W.sigIowait),
    readBytes: q(w, o + W.readBytes) + q(w, o + W.sigReadBytes),
    writeBytes: q(w, o + W.writeBytes) + q(w, o + W.sigWriteBytes),
    rssAnonBytes: pageBytes(w, o + W.rssAnon),
    rssFileBytes: pageBytes(w, o + W.rssFile),
    rssShmemBytes: pageBytes(w, o + W.rssShmem),
    lastCpu: w[o + W.cpu],
    cgroupKey: cssKey(w, o + W.cssSet),
  };
}

/** One row per process of a pass: the per-thread records summed. */
const ROWS = {
  tgid: Uint32Array,
  /** The pass that last saw the process (0: the row is free). */
  gen: Uint32Array,
  /** 1: a kernel thread; 2: the process-wide fields were read in this pass */
  flags: Uint8Array,
  startNs: Float64Array,
  ppid: Uint32Array,
  threads: Uint32Array,
  cpuNs: Float64Array,
  runqWaitNs: Float64Array,
  minFaults: Float64Array,
  majFaults: Float64Array,
  vcsw: Float64Array,
  ivcsw: Float64Array,
  blockedNs: Float64Array,
  ioWaitNs: Float64Array,
  readBytes: Float64Array,
  writeBytes: Float64Array,
  rssAnon: Float64Array,
  rssFile: Float64Array,
  rssShmem: Float64Array,
  lastCpu: Int32Array,
  cgroupKey: Float64Array,
  /** The comm bytes as four words, to decode the name again only when they change. */
  comm: Uint32Array,
};
const KTHREAD = 1;
const HAS_PROCESS = 2;

/**
 * The processes of the last pass as columns, iterable as TaskTotals through one object refilled row by row:
 * 10,000 processes cost their rows, not 10,000 objects (WindowAccounting copies what it keeps).
 */
class TaskReading implements Iterable<TaskTotals> {
  private readonly t = new SlotTable(ROWS, { comm: 4 });
  private names: string[] = [];
  private gen = 0;

  /** Sums `count` records (per thread or per process) into one row per process. */
  decode(w: Uint32Array, buf: Buffer, count: number): void {
    const gen = ++this.gen;
    const t = this.t;
    for (let i = 0, o = 0; i < count; i++, o += W.size) {
      const tgid = w[o + W.tgid];
      let r = t.rowOf(tgid);
      if (r < 0) {
        r = t.add(tgid);
        t.cols.tgid[r] = tgid;
        this.names[r] = '';
      }
      const c = t.cols; // after add(): the columns may have grown
      if (c.gen[r] !== gen) {
        c.gen[r] = gen;
        c.flags[r] = w[o + W.flags] & REC_KTHREAD ? KTHREAD : 0;
        c.threads[r] = 0;
        c.cpuNs[r] = 0;
        c.runqWaitNs[r] = 0;
        c.minFaults[r] = 0;
        c.majFaults[r] = 0;
        c.vcsw[r] = 0;
        c.ivcsw[r] = 0;
        c.blockedNs[r] = 0;
        c.ioWaitNs[r] = 0;
        c.readBytes[r] = 0;
        c.writeBytes[r] = 0;
        c.lastCpu[r] = -1;
      }
      c.threads[r] += w[o + W.threads];
      c.cpuNs[r] += q(w, o + W.exec);
      c.runqWaitNs[r] += q(w, o + W.delay);
      c.vcsw[r] += q(w, o + W.nvcsw);
      c.ivcsw[r] += q(w, o + W.nivcsw);
      c.minFaults[r] += q(w, o + W.minflt);
      c.majFaults[r] += q(w, o + W.majflt);
      c.blockedNs[r] += q(w, o + W.blocked);
      c.ioWaitNs[r] += q(w, o + W.iowait);
      c.readBytes[r] += q(w, o + W.readBytes);
      c.writeBytes[r] += q(w, o + W.writeBytes);
      if (w[o + W.pid] === tgid || c.lastCpu[r] < 0) c.lastCpu[r] = w[o + W.cpu];
      if (w[o + W.flags] & REC_PROCESS && !(c.flags[r] & HAS_PROCESS)) this.addProcess(r, w, o, buf);
    }
    const c = t.cols;
    for (let r = 0; r < t.end; r++)
      if (c.gen[r] !== gen && c.gen[r] !== 0) {
        t.remove(c.tgid[r]); // gone
        c.gen[r] = 0;
      }
  }

  /** The process-wide fields, once per process and pass (the first record that carries them). */
  private addProcess(r: number, w: Uint32Array, o: number, buf: Buffer): void {
    const c = this.t.cols;
    c.flags[r] |= HAS_PROCESS;
    c.startNs[r] = q(w, o + W.start);
    c.ppid[r] = w[o + W.ppid];
    const k = o + W.comm;
    const n = r * 4;
    if (
      w[k] !== c.comm[n] ||
      w[k + 1] !== c.comm[n + 1] ||
      w[k + 2] !== c.comm[n + 2] ||
      w[k + 3] !== c.comm[n + 3]
    ) {
      c.comm.set(w.subarray(k, k + 4), n);
      this.names[r] = commOf(buf, k);
    }
    c.cpuNs[r] += q(w, o + W.sigExec);
    c.vcsw[r] += q(w, o + W.sigNvcsw);
    c.ivcsw[r] += q(w, o + W.sigNivcsw);
    c.minFaults[r] += q(w, o + W.sigMinflt);
    c.majFaults[r] += q(w, o + W.sigMajflt);
    c.blockedNs[r] += q(w, o + W.sigBlocked);
    c.ioWaitNs[r] += q(w, o + W.sigIowait);
    c.readBytes[r] += q(w, o + W.sigReadBytes);
    c.writeBytes[r] += q(w, o + W.sigWriteBytes);
    c.rssFile[r] = pageBytes(w, o + W.rssFile);
    c.rssAnon[r] = pageBytes(w, o + W.rssAnon);
    c.rssShmem[r] = pageBytes(w, o + W.rssShmem);
    c.cgroupKey[r] = cssKey(w, o + W.cssSet);
  }

  /** The iteration over the live rows: one TaskTotals, refilled from the next row by each step. */
  private readonly row: TaskTotals = emptyTotals(0);
  private readonly step = { done: false, value: this.row };
  private at = -1;
  private readonly iterator: Iterator<TaskTotals> = { next: () => this.next() };

  [Symbol.iterator](): Iterator<TaskTotals> {
    this.at = -1;
    return this.iterator;
  }

  private next(): IteratorResult<TaskTotals> {
    const c = this.t.cols;
    let r = this.at + 1;
    while (r < this.t.end && c.gen[r] !== this.gen) r++;
    this.at = r;
    this.step.done = r >= this.t.end;
    if (this.step.done) return this.step;
    const t = this.row;
    t.tgid = c.tgid[r];
    t.startNs = c.startNs[r];
    t.ppid = c.ppid[r];
    t.comm = this.names[r];
    t.kthread = (c.flags[r] & KTHREAD) !== 0;
    t.threads = c.threads[r];
    t.cpuNs = c.cpuNs[r];
    t.runqWaitNs = c.runqWaitNs[r];
    t.minFaults = c.minFaults[r];
    t.majFaults = c.majFaults[r];
    t.vcsw = c.vcsw[r];
    t.ivcsw = c.ivcsw[r];
    t.blockedNs = c.blockedNs[r];
    t.ioWaitNs = c.ioWaitNs[r];
    t.readBytes = c.readBytes[r];
    t.writeBytes = c.writeBytes[r];
    t.rssAnonBytes = c.rssAnon[r];
    t.rssFileBytes = c.rssFile[r];
    t.rssShmemBytes = c.rssShmem[r];
    t.lastCpu = c.lastCpu[r];
    t.cgroupKey = c.cgroupKey[r];
    return this.step;
  }
}
