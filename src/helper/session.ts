// One live collection session: the collectors loaded and attached, turned into protocol v2 windows.
// Imported lazily by main.ts, so that a missing libbpf.so.1 becomes a clean NO_LIBBPF error, not a crash.
// Per-task counters come from the BPF task iterator, or — where it cannot load (kernel < 5.8, refused) — from
// /proc read as root; the preemption pairs from sched_switch either way.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CgroupResolver, CgroupTable } from '../host/cgroups';
import { cgroupCapabilities, procfsIoCapabilities } from '../host/procfsSampler';
import { cpuBusyNs, readAllTotals } from '../host/procfsTasks';
import { buildWindowLine, preemptCounts } from '../host/windowBuilder';
import { cgroupRereadKey, machineFacts, SelfCpu } from '../host/windowHead';
import { QUIET, type TaskTotals, WindowAccounting } from '../shared/accounting/taskTotals';
import type { Attach, Drops } from '../shared/wire/protocol';
import { PROTOCOL_VERSION } from '../shared/wire/protocol';
import { lib } from './libbpf';
import { LoadError, libbpfLog } from './loader';
import { HashReader } from './maps';
import { SchedCollector } from './sched';
import { TaskCollector } from './tasks';

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
  /** Undefined when the task iterator could not load: /proc is read instead. */
  readonly tasks?: TaskCollector;
  readonly tasksError?: LoadError;
  readonly ncpu: number;
  private readonly accounting: WindowAccounting;
  private readonly resolver = new CgroupResolver();
  readonly cgroups = new CgroupTable();
  private seq = 0;
  private readonly selfCpu = new SelfCpu();
  private prevBusy: number[];
  private lastDrops = { pairs: 0, exits: 0 };
  /** process.hrtime.bigint() just before the baseline reading: where window 0 starts. */
  readonly baselineNs: bigint;

  readonly pageSize = 4096;

  constructor(opts: {
    /** RSS sub-samples taken within each window. */
    subSamples: number;
    /** Size of the exit map (tests shrink it to provoke drops). */
    maxExits?: number;
    /** 'iter' skips the walk, 'procfs' every BPF reading of tasks (tests of the fallbacks). */
    tasks?: 'walk' | 'iter' | 'procfs';
  }) {
    const { maxExits } = opts;
    const forceProcfs = opts.tasks === 'procfs';
    this.accounting = new WindowAccounting(QUIET, opts.subSamples);
    const dir = bpfDir();
    // The task collector first: the switch collector shares its exit and blocked-time maps.
    if (!forceProcfs)
      try {
        this.tasks = new TaskCollector(path.join(dir, 'tasks.bpf.o'), {
          maxExits,
          walk: opts.tasks !== 'iter',
        });
      } catch (e) {
        if (!(e instanceof LoadError)) throw e;
        this.tasksError = e;
      }
    try {
      this.sched = new SchedCollector(path.join(dir, 'sched.bpf.o'), this.tasks?.sharedMaps());
    } catch (e) {
      this.tasks?.close();
      throw e;
    }
    this.ncpu = lib.numPossibleCpus() as number;
    // Window 0 counts from the baseline below, so its clock starts here too (main.ts), not once hello is out:
    // on a slow machine attach logging, the privilege drop and the hello took 10-20 % of a 1 s window, which
    // window 0 then reported as CPU time beyond its length (a single thread at 110 % of a core).
    this.baselineNs = process.hrtime.bigint();
    this.prevBusy = cpuBusyNs(readFileSync('/proc/stat', 'latin1'));
    // Exits before the baseline are not this session's; then the baseline, so window 0 counts from now.
    this.tasks?.drainExits();
    this.accounting.baseline(this.readTotals());
    this.sched.read();
  }

  get attach(): Attach {
    return {
      switch: this.sched.attach,
      tasks: this.tasks?.reads ?? 'procfs',
      exit: this.tasks?.exitAttach ?? 'none',
    };
  }

  capabilities(): string[] {
    const caps = ['preempt_pairs', 'runq_wait', 'rss_split', 'major_faults', 'rss_samples'];
    if (this.tasks && this.tasks.exitAttach !== 'none') caps.push('exits');
    if (this.tasks) caps.push('io_bytes');
    else caps.push(...procfsIoCapabilities());
    // Sleeps are stamped by the tp_btf on_switch in storage the task collector's readings create.
    if (this.tasks && this.sched.attach === 'tp_btf') caps.push('blocked_time', 'iowait_time');
    caps.push(...cgroupCapabilities(this.cgroups));
    if (HashReader.batchSupported) caps.push('batch_ops');
    return caps;
  }

  private readonly procfsKey = (tgid: number) => cgroupRereadKey(this.seq, tgid);

  private readTotals(): Iterable<TaskTotals> {
    return this.tasks ? this.tasks.read() : readAllTotals(this.procfsKey);
  }

  /** A peek at anon + shmem of every process, kept for the window's anonSamples. */
  sampleRss(): void {
    if (this.tasks)
      this.tasks.readRss((tgid, startNs, pages) =>
        this.accounting.sample(tgid, startNs, pages * this.pageSize),
      );
  }

  /** Closes the window: one protocol line (bounded in size), and a drops message when a map overflowed. */
  window(durationNs: number): { line: Buffer; procs: number; omitted: number; drops?: Drops } {
    const t0 = process.hrtime.bigint();
    const totals = this.readTotals();
    const t1 = process.hrtime.bigint();
    const exits = this.tasks?.drainExits() ?? [];
    const pairs = this.sched.read();
    // The read of the kernel's counters: the iterator pass and its read(), the exit and pair drains (decoding the
    // records into processes is user-space work, in self.cpuNs, not here).
    const collectNs =
      (this.tasks ? this.tasks.lastPassNs : Number(t1 - t0)) + Number(process.hrtime.bigint() - t1);
    const preempt = preemptCounts(pairs); // once: the quiet test and the samples' preempted/preemptsOthers
    const deltas = this.accounting.next(totals, exits, { durationNs, preemptions: preempt });
    const busyNow = cpuBusyNs(readFileSync('/proc/stat', 'latin1'));
    const online = onlineCpus(this.ncpu);
    const cpuBusy: (number | null)[] = [];
    for (let c = 0; c < this.ncpu; c++)
      cpuBusy.push(
        online[c] && busyNow[c] !== undefined
          ? Math.max(0, busyNow[c] - (this.prevBusy[c] ?? busyNow[c]))
          : null,
      );
    this.prevBusy = busyNow;
    const {
      bytes: line,
      sent,
      omitted,
      left,
    } = buildWindowLine(
      {
        type: 'window',
        v: PROTOCOL_VERSION,
        seq: this.seq++,
        ts: Date.now(),
        durationNs: Math.max(1, durationNs),
        cpuBusyNs: cpuBusy,
        pairs,
        ...machineFacts(),
        self: { cpuNs: this.selfCpu.take(), rssBytes: process.memoryUsage.rss(), collectNs },
        quiet: this.accounting.quiet,
      },
      deltas,
      { resolver: this.resolver, table: this.cgroups },
      undefined,
      preempt,
    );
    if (omitted) this.accounting.unreported(left);
    const now = { pairs: this.sched.dropped(), exits: this.tasks?.droppedExits() ?? 0 };
    const delta = { pairs: now.pairs - this.lastDrops.pairs, exits: now.exits - this.lastDrops.exits };
    this.lastDrops = now;
    const drops: Drops | undefined =
      delta.pairs + delta.exits > 0 ? { type: 'drops', v: PROTOCOL_VERSION, maps: delta } : undefined;
    return { line, procs: sent, omitted, drops };
  }

  /** The last window was not sent (the reader was not reading): its news must be in the next one. */
  unsent(): void {
    this.accounting.unreported();
  }

  close(): void {
    this.tasks?.close();
    this.sched.close();
  }
}

export { libbpfLog };
