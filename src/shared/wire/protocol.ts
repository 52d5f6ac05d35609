// The helper → consumer wire protocol: one JSON object per line on the helper's stdout.
// Pure module (no vscode, no node:fs): the helper, the CLI, the extension and the tests share it. Over 400 lines
// because the message types and the validating parser of each field stay side by side (a field added to one is
// seen missing from the other).
import { plainText } from '../format';
import { type ProfileResult, validateProfile } from './profile';

export const PROTOCOL_VERSION = 4;
/**
 * Versions this parser reads: v3 is v4 without the blocked time and I/O volume of ProcSample (read as 0), v2 is v3
 * without `Window.quiet` (recordings made by Hotspot 0.2 and 0.3 still replay).
 */
const READABLE_VERSIONS: readonly unknown[] = [2, 3, 4];
/** ProcSample fields added in v4; a sample of an older version reads them as 0. */
const V4_FIELDS = ['blockedNs', 'ioWaitNs', 'readBytes', 'writeBytes'] as const;
/** A line longer than this is rejected unparsed, so a runaway helper cannot exhaust the consumer's memory. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

/**
 * How each collector is attached; chosen at run time by the helper and reported in hello.
 * - switch: who preempts whom (tp_btf or raw_tp on sched_switch; 'none' in degraded mode).
 * - tasks: per-task counters: 'walk' (a BPF program walking the task list, kernel 6.7+), 'iter' (a BPF task
 *   iterator), or 'procfs' ('/proc' read by the helper or, degraded, by the user).
 * - exit: processes that exit mid-window keep their last counters (sched_process_exit; 'none' when absent).
 */
export interface Attach {
  switch: 'tp_btf' | 'raw_tp' | 'none';
  tasks: 'walk' | 'iter' | 'procfs';
  exit: 'tp_btf' | 'raw_tp' | 'none';
}

export interface Hello {
  type: 'hello';
  v: number;
  /** Helper version (package.json version). */
  version: string;
  /** `uname -r` of the machine being observed. */
  kernel: string;
  /** The helper's own pid, so consumers can exclude it and measure its overhead. */
  pid: number;
  /** Possible CPUs (array size of per-CPU data); offline CPUs report null busy time. */
  ncpu: number;
  pageSize: number;
  memTotalBytes: number;
  intervalMs: number;
  attach: Attach;
  /** How cgroups are mounted: pure v2, hybrid (v1 controllers + a v2 tree), or v1 only. */
  cgroupMode: 'v2' | 'hybrid' | 'v1' | 'none';
  /**
   * Signals this session delivers, e.g. 'preempt_pairs', 'runq_wait', 'rss_split', 'major_faults',
   * 'cgroup_memory', 'cgroup_cpu', 'cgroup_pressure', 'exits', 'degraded'. Consumers say which are missing.
   * Blocked time and I/O: 'blocked_time' (ProcSample.blockedNs is measured), 'iowait_time' (ioWaitNs is;
   * from /proc only with delay accounting, and only for processes started after it was switched on),
   * 'io_bytes' (readBytes and writeBytes are).
   */
  capabilities: string[];
}

/** One process (thread group) over one window. Counters are deltas over the window, summed over all its threads. */
export interface ProcSample {
  tgid: number;
  /** Parent process id (0 when unknown). Lets consumers scope to a process tree, also after the process exited. */
  ppid: number;
  comm: string;
  /** Index into Window.cgroups. */
  cg: number;
  /** A kernel thread (PF_KTHREAD), whatever its name. */
  kthread: boolean;
  /** Live threads at the end of the window (0 once exited). */
  threads: number;
  /** Start time, ns since boot: with tgid it tells a process from a later one that reuses its pid. */
  startNs: number;
  /** The process exited during the window; its counters run up to its exit. */
  exited: boolean;
  /** On-CPU time, including the slice still running at read time and threads that exited. */
  cpuNs: number;
  /** Time runnable but waiting for a CPU (sched_info.run_delay), every thread. */
  runqWaitNs: number;
  /** Minor page faults, taken in user or kernel mode (e.g. inside read() into a fresh buffer). */
  minFaults: number;
  /** Major page faults: the page had to be read from disk or swap. */
  majFaults: number;
  /** Voluntary context switches (sleeps, I/O, locks). */
  vcsw: number;
  /** Involuntary context switches (preempted while runnable). */
  ivcsw: number;
  /**
   * Time asleep in uninterruptible sleep (state D, TASK_UNINTERRUPTIBLE without TASK_NOLOAD), every thread,
   * including a sleep still going on at the end of the window. Waits for the disk, but also for a journal commit,
   * a kernel lock, a vfork child or memory.high throttling: only ioWaitNs is known to be I/O. 0 without the
   * 'blocked_time' capability. Per process, the share of its busy thread-time spent blocked is
   * blockedNs / (blockedNs + cpuNs + runqWaitNs) (threads asleep in S count for nothing).
   */
  blockedNs: number;
  /** The part of blockedNs in io_schedule() waits (in_iowait): reads, writeback, direct I/O, a cache flush. */
  ioWaitNs: number;
  /** Bytes the process caused to be read from storage (read_bytes of /proc/PID/io: reads, page-ins, readahead). */
  readBytes: number;
  /** Bytes it caused to be written to storage: pages it dirtied, and direct writes (write_bytes of /proc/PID/io). */
  writeBytes: number;
  /** Resident memory at the end of the window, by kind: anonymous, file-backed, shared memory (tmpfs/shm). */
  rssAnonBytes: number;
  rssFileBytes: number;
  rssShmemBytes: number;
  /** anon + shmem (memory that cannot be reclaimed without swap) sampled within the window, oldest first. */
  anonSamples: number[];
  /** Involuntary switches to another process (from the preemption pairs; 0 without the switch collector). */
  preempted: number;
  /** Involuntary switches this process caused to others. */
  preemptsOthers: number;
  /** CPU the process last ran on, -1 when unknown. */
  lastCpu: number;
}

/** A cgroup that processes of the window belong to, with the limits that act on them. */
export interface CgroupSample {
  /** Path relative to the cgroup root (v2 tree; on v1-only hosts, the memory controller's path). */
  path: string;
  /** The nearest memory limit up the path (memory.max or v1 memory.limit_in_bytes); null = none below the host. */
  memLimitBytes: number | null;
  /** The cgroup that limit is set on. */
  memLimitPath: string | null;
  /** Charged memory of that limiting cgroup (memory.current / memory.usage_in_bytes). */
  memUsageBytes: number | null;
  /** Anonymous + shmem memory of that limiting cgroup (memory.stat): what reclaim cannot free without swap. */
  memAnonBytes: number | null;
  /** memory.pressure "some" avg10 of this cgroup, %; null without PSI for cgroups. */
  memPressure: number | null;
  /**
   * Pages the limiting cgroup read back during the window after its own reclaim had evicted them (memory.stat
   * workingset refaults, file + anon): memory too small for what it uses. Null without a limit, on the first
   * window, or when the kernel does not say (absent from older helpers).
   */
  memRefaults: number | null;
  /** The nearest CPU quota up the path (cpu.max / cfs_quota_us ÷ period), in % of one core; null = none. */
  cpuQuotaPercent: number | null;
  /** The cgroup that quota is set on. */
  cpuQuotaPath: string | null;
  /** Time that cgroup was throttled during the window (cpu.stat), and in how many periods of how many. */
  throttledNs: number;
  nrThrottled: number;
  nrPeriods: number;
}

export interface PreemptPair {
  victim: number;
  aggressor: number;
  count: number;
}

export interface Window {
  type: 'window';
  v: number;
  seq: number;
  /** Wall-clock end of the window, ms since the epoch. */
  ts: number;
  durationNs: number;
  /** Busy ns per CPU index; null for an offline CPU. */
  cpuBusyNs: (number | null)[];
  /** The processes to report: they ran, faulted, switched, exited or changed, or are new to this session. */
  procs: ProcSample[];
  /**
   * Live processes left out of `procs` because they did next to nothing (src/shared/accounting/taskTotals.ts QuietLimits):
   * each was in `procs` of an earlier window of this session with the same name, parent, threads, cgroup and
   * resident memory it has now. Consumers carry that sample forward with zero counters (src/shared/wire/quiet.ts).
   * Absent (v2, the degraded /proc sampler of an older version) means: what is not in `procs` did nothing.
   */
  quiet?: number[];
  /** The cgroups procs[].cg points into. */
  cgroups: CgroupSample[];
  pairs: PreemptPair[];
  /** MemAvailable from /proc/meminfo at the end of the window. */
  memAvailableBytes: number;
  /** The helper's own cost during the window (collectNs: time to read the kernel's counters). */
  self: { cpuNs: number; rssBytes: number; collectNs: number };
  /** Machine-wide pressure stall information ("some" avg10, %), when the kernel has PSI. */
  pressure?: Pressure;
  /** Processes left out because the window would have exceeded its size bound (least active first). */
  omitted?: number;
}

export interface Pressure {
  cpu: number;
  memory: number;
  io: number;
}

/** "switch tp_btf · tasks iter · exit tp_btf": how the session collects, for logs and headers. */
export function describeAttach(h: Pick<Hello, 'attach'>): string {
  return `switch ${h.attach.switch} · tasks ${h.attach.tasks} · exit ${h.attach.exit}`;
}

/** Resident memory of a sample, all kinds. */
export function rssBytes(p: ProcSample): number {
  return p.rssAnonBytes + p.rssFileBytes + p.rssShmemBytes;
}

export interface Drops {
  type: 'drops';
  v: number;
  /** Updates lost because a map was full, per map name, during the last window. */
  maps: Record<string, number>;
}

export type ErrorCode =
  | 'NO_BTF'
  | 'NO_LIBBPF'
  | 'NOT_PRIVILEGED'
  | 'VERIFIER'
  | 'ATTACH'
  | 'BAD_ARGS'
  | 'MAP_READ'
  | 'WINDOW_TOO_LARGE'
  | 'PROFILE'
  | 'INTERNAL';

export interface HelperError {
  type: 'error';
  v: number;
  code: ErrorCode;
  /** One sentence a user can read: what happened. */
  message: string;
  /** What to do about it. */
  hint?: string;
  /** True when the helper is about to exit. */
  fatal: boolean;
  /** The request this answers (a refused or failed profile request). */
  id?: string;
}

export type Message = Hello | Window | Drops | HelperError | ProfileResult;

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

// ---------------------------------------------------------------- validation
// Hand-written checks (no schema library): the protocol is small and the parser is a hot-ish path.

type Obj = Record<string, unknown>;

function fail(path: string, what: string): never {
  throw new ProtocolError(`${path}: ${what}`);
}
function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object');
  return v as Obj;
}
function num(o: Obj, k: string, path: string, min = -Infinity): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    fail(`${path}.${k}`, `expected a number ≥ ${min}`);
  return v;
}
function str(o: Obj, k: string, path: string, max = 4096): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max)
    fail(`${path}.${k}`, `expected a string of at most ${max} chars`);
  return v;
}
function arr(o: Obj, k: string, path: string): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) fail(`${path}.${k}`, 'expected an array');
  return v;
}

function bool(o: Obj, k: string, path: string): boolean {
  const v = o[k];
  if (typeof v !== 'boolean') fail(`${path}.${k}`, 'expected a boolean');
  return v;
}
/** Text from the observed machine (process names, paths) never carries control or bidi characters past here. */
function text(o: Obj, k: string, path: string, max = 4096): string {
  return plainText(str(o, k, path, max));
}
function nullableNum(o: Obj, k: string, path: string): number | null {
  return o[k] === null ? null : num(o, k, path, 0);
}
function nullableText(o: Obj, k: string, path: string): string | null {
  return o[k] === null ? null : text(o, k, path);
}
function numbers(o: Obj, k: string, path: string): number[] {
  return arr(o, k, path).map((s, i) => {
    if (typeof s !== 'number' || !(s >= 0)) fail(`${path}.${k}[${i}]`, 'expected a number ≥ 0');
    return s;
  });
}

function pids(o: Obj, k: string, path: string): number[] {
  return arr(o, k, path).map((s, i) => {
    if (!Number.isInteger(s) || (s as number) < 0) fail(`${path}.${k}[${i}]`, 'expected a process id');
    return s as number;
  });
}

function v4Fields(o: Obj, path: string, version: unknown): Pick<ProcSample, (typeof V4_FIELDS)[number]> {
  const out = { blockedNs: 0, ioWaitNs: 0, readBytes: 0, writeBytes: 0 };
  if (version === 2 || version === 3) return out;
  for (const k of V4_FIELDS) out[k] = num(o, k, path, 0);
  if (out.ioWaitNs > out.blockedNs) fail(`${path}.ioWaitNs`, 'expected at most blockedNs');
  return out;
}

function proc(value: unknown, path: string, ncg: number, v: unknown): ProcSample {
  const o = obj(value, path);
  const cg = num(o, 'cg', path, 0);
  if (!Number.isInteger(cg) || cg >= ncg)
    fail(`${path}.cg`, `expected an index into window.cgroups (< ${ncg})`);
  return {
    tgid: num(o, 'tgid', path, 0),
    ppid: num(o, 'ppid', path, 0),
    comm: text(o, 'comm', path, 64),
    cg,
    kthread: bool(o, 'kthread', path),
    threads: num(o, 'threads', path, 0),
    startNs: num(o, 'startNs', path, 0),
    exited: bool(o, 'exited', path),
    cpuNs: num(o, 'cpuNs', path, 0),
    runqWaitNs: num(o, 'runqWaitNs', path, 0),
    minFaults: num(o, 'minFaults', path, 0),
    majFaults: num(o, 'majFaults', path, 0),
    vcsw: num(o, 'vcsw', path, 0),
    ivcsw: num(o, 'ivcsw', path, 0),
    ...v4Fields(o, path, v),
    rssAnonBytes: num(o, 'rssAnonBytes', path, 0),
    rssFileBytes: num(o, 'rssFileBytes', path, 0),
    rssShmemBytes: num(o, 'rssShmemBytes', path, 0),
    anonSamples: numbers(o, 'anonSamples', path),
    preempted: num(o, 'preempted', path, 0),
    preemptsOthers: num(o, 'preemptsOthers', path, 0),
    lastCpu: num(o, 'lastCpu', path, -1),
  };
}

function cgroup(v: unknown, path: string): CgroupSample {
  const o = obj(v, path);
  const pct = nullableNum(o, 'memPressure', path);
  if (pct !== null && pct > 100) fail(`${path}.memPressure`, 'expected a percentage');
  return {
    path: text(o, 'path', path),
    memLimitBytes: nullableNum(o, 'memLimitBytes', path),
    memLimitPath: nullableText(o, 'memLimitPath', path),
    memUsageBytes: nullableNum(o, 'memUsageBytes', path),
    memAnonBytes: nullableNum(o, 'memAnonBytes', path),
    memPressure: pct,
    memRefaults: o.memRefaults === undefined ? null : nullableNum(o, 'memRefaults', path),
    cpuQuotaPercent: nullableNum(o, 'cpuQuotaPercent', path),
    cpuQuotaPath: nullableText(o, 'cpuQuotaPath', path),
    throttledNs: num(o, 'throttledNs', path, 0),
    nrThrottled: num(o, 'nrThrottled', path, 0),
    nrPeriods: num(o, 'nrPeriods', path, 0),
  };
}

const SWITCH_ATTACH: readonly Attach['switch'][] = ['tp_btf', 'raw_tp', 'none'];
const TASKS_ATTACH: readonly Attach['tasks'][] = ['walk', 'iter', 'procfs'];
const EXIT_ATTACH: readonly Attach['exit'][] = ['tp_btf', 'raw_tp', 'none'];
const CGROUP_MODES: readonly Hello['cgroupMode'][] = ['v2', 'hybrid', 'v1', 'none'];

function oneOf<T>(o: Obj, k: string, path: string, allowed: readonly T[]): T {
  const v = o[k] as T;
  if (!allowed.includes(v)) fail(`${path}.${k}`, `expected one of ${allowed.join(', ')}`);
  return v;
}

function pressure(v: unknown): Pressure {
  const o = obj(v, 'window.pressure');
  const pct = (k: string) => {
    const n = num(o, k, 'window.pressure', 0);
    if (n > 100) fail(`window.pressure.${k}`, 'expected a percentage');
    return n;
  };
  return { cpu: pct('cpu'), memory: pct('memory'), io: pct('io') };
}

/** Validates an already-decoded JSON value as a protocol message. Throws ProtocolError naming the bad field. */
export function validateMessage(value: unknown): Message {
  const o = obj(value, 'message');
  if (!READABLE_VERSIONS.includes(o.v))
    fail(
      'message.v',
      `unsupported protocol version ${String(o.v).slice(0, 16)} (this version reads ${READABLE_VERSIONS.slice(0, -1).join(', ')} and ${READABLE_VERSIONS.at(-1)}): the helper and this ` +
        'extension or CLI come from different Hotspot versions; reinstall the helper (Hotspot: Install Helper), ' +
        'or re-record the file',
    );
  switch (o.type) {
    case 'hello': {
      const attach = obj(o.attach, 'hello.attach');
      const caps = arr(o, 'capabilities', 'hello');
      if (!caps.every((c) => typeof c === 'string' && c.length <= 64))
        fail('hello.capabilities', 'expected short strings');
      return {
        type: 'hello',
        v: PROTOCOL_VERSION,
        version: text(o, 'version', 'hello', 64),
        kernel: text(o, 'kernel', 'hello', 256),
        pid: num(o, 'pid', 'hello', 1),
        ncpu: num(o, 'ncpu', 'hello', 1),
        pageSize: num(o, 'pageSize', 'hello', 1),
        memTotalBytes: num(o, 'memTotalBytes', 'hello', 1),
        intervalMs: num(o, 'intervalMs', 'hello', 1),
        attach: {
          switch: oneOf(attach, 'switch', 'hello.attach', SWITCH_ATTACH),
          tasks: oneOf(attach, 'tasks', 'hello.attach', TASKS_ATTACH),
          exit: oneOf(attach, 'exit', 'hello.attach', EXIT_ATTACH),
        },
        cgroupMode: oneOf(o, 'cgroupMode', 'hello', CGROUP_MODES),
        capabilities: caps as string[],
      };
    }
    case 'window': {
      const self = obj(o.self, 'window.self');
      const cgroups = arr(o, 'cgroups', 'window').map((c, i) => cgroup(c, `window.cgroups[${i}]`));
      return {
        type: 'window',
        v: PROTOCOL_VERSION,
        seq: num(o, 'seq', 'window', 0),
        ts: num(o, 'ts', 'window', 0),
        durationNs: num(o, 'durationNs', 'window', 1),
        cpuBusyNs: arr(o, 'cpuBusyNs', 'window').map((b, i) => {
          if (b !== null && (typeof b !== 'number' || !(b >= 0)))
            fail(`window.cpuBusyNs[${i}]`, 'expected a number ≥ 0 or null');
          return b as number | null;
        }),
        procs: arr(o, 'procs', 'window').map((p, i) => proc(p, `window.procs[${i}]`, cgroups.length, o.v)),
        cgroups,
        pairs: arr(o, 'pairs', 'window').map((p, i) => {
          const q = obj(p, `window.pairs[${i}]`);
          const path = `window.pairs[${i}]`;
          return {
            victim: num(q, 'victim', path, 0),
            aggressor: num(q, 'aggressor', path, 0),
            count: num(q, 'count', path, 0),
          };
        }),
        memAvailableBytes: num(o, 'memAvailableBytes', 'window', 0),
        self: {
          cpuNs: num(self, 'cpuNs', 'window.self', 0),
          rssBytes: num(self, 'rssBytes', 'window.self', 0),
          collectNs: num(self, 'collectNs', 'window.self', 0),
        },
        ...(o.pressure === undefined ? {} : { pressure: pressure(o.pressure) }),
        ...(o.omitted === undefined ? {} : { omitted: num(o, 'omitted', 'window', 0) }),
        ...(o.quiet === undefined ? {} : { quiet: pids(o, 'quiet', 'window') }),
      };
    }
    case 'drops': {
      const maps = obj(o.maps, 'drops.maps');
      const out: Record<string, number> = Object.create(null);
      for (const k of Object.keys(maps)) out[plainText(k).slice(0, 64)] = num(maps, k, 'drops.maps', 0);
      return { type: 'drops', v: PROTOCOL_VERSION, maps: out };
    }
    case 'error': {
      const fatal = o.fatal;
      if (typeof fatal !== 'boolean') fail('error.fatal', 'expected a boolean');
      const hint = o.hint === undefined ? undefined : text(o, 'hint', 'error');
      return {
        type: 'error',
        v: PROTOCOL_VERSION,
        code: str(o, 'code', 'error', 32) as ErrorCode,
        message: text(o, 'message', 'error'),
        hint,
        fatal,
        ...(typeof o.id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(o.id) ? { id: o.id } : {}),
      };
    }
    case 'profile':
      try {
        return validateProfile(o, PROTOCOL_VERSION);
      } catch (e) {
        throw new ProtocolError((e as Error).message);
      }
    default:
      fail('message.type', `unknown message type ${JSON.stringify(o.type)}`);
  }
}

/** Parses one line of helper output. Throws ProtocolError with a short reason on anything invalid. */
export function parseLine(line: string): Message {
  if (line.length > MAX_LINE_BYTES)
    throw new ProtocolError(`line of ${line.length} bytes exceeds the ${MAX_LINE_BYTES} byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new ProtocolError(`not JSON: ${(e as Error).message}`);
  }
  return validateMessage(value);
}

export function encode(msg: Message): string {
  return `${JSON.stringify(msg)}\n`;
}

/**
 * Splits a byte stream into lines without ever buffering more than MAX_LINE_BYTES:
 * an oversize line is reported once through onError and then skipped up to its newline.
 */
export class LineSplitter {
  private buf = '';
  private skipping = false;
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onError: (err: ProtocolError) => void,
    private readonly maxBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        this.buf = '';
        continue;
      }
      const line = this.buf + piece;
      this.buf = '';
      if (line.length > this.maxBytes)
        this.onError(new ProtocolError(`line exceeds the ${this.maxBytes} byte limit`));
      else if (line.trim() !== '') this.onLine(line);
    }
    if (this.skipping) return;
    this.buf += chunk.slice(start);
    if (this.buf.length > this.maxBytes) {
      this.onError(new ProtocolError(`line exceeds the ${this.maxBytes} byte limit`));
      this.buf = '';
      this.skipping = true;
    }
  }
}
