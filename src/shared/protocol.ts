// The helper → consumer wire protocol: one JSON object per line on the helper's stdout.
// Pure module (no vscode, no node:fs): the helper, the CLI, the extension and the tests share it.

export const PROTOCOL_VERSION = 1;
/** A line longer than this is rejected unparsed, so a runaway helper cannot exhaust the consumer's memory. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

/** How the page-fault collector is attached; chosen at run time by the helper. */
export type FaultAttach = 'tp_btf' | 'raw_tp' | 'tracepoint' | 'fentry' | 'kprobe' | 'procfs';
export const FAULT_ATTACH_POINTS: readonly FaultAttach[] = [
  'tp_btf',
  'raw_tp',
  'tracepoint',
  'fentry',
  'kprobe',
  'procfs',
];

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
  /** Which attach point is live for each collector. 'procfs' = degraded, unprivileged mode. */
  attach: { sched: 'tp_btf' | 'procfs'; faults: FaultAttach };
  /** e.g. 'batch_ops', 'runq_wait', 'rss_samples', 'involuntary_preempt', 'cgroup_memory_max', 'degraded'. */
  capabilities: string[];
}

export interface ProcSample {
  tgid: number;
  /** Parent process id (from /proc; 0 when unknown). Lets consumers scope to a process tree. */
  ppid: number;
  comm: string;
  /** cgroup v2 path relative to the cgroup root, e.g. "/user.slice/user-0.slice/session-1.scope". */
  cgroup: string;
  /** On-CPU time during the window, including the slice still running at read time. */
  cpuNs: number;
  /** Page faults during the window. */
  faults: number;
  /** Resident set size at the end of the window. */
  rssBytes: number;
  /** RSS sampled during the window (oldest first, last one == rssBytes). Lets a trend show within a window. */
  rssSamples: number[];
  /** Involuntary preemptions suffered (switched out while still runnable). */
  preempted: number;
  /** Involuntary preemptions this process caused to others. */
  preemptsOthers: number;
  /** Time spent runnable but waiting for a CPU, when the collector measures it (else 0). */
  runqWaitNs: number;
  /** CPU the process last ran on, -1 when unknown. */
  lastCpu: number;
  /** memory.max of the process's cgroup, null when unlimited or unknown. */
  memMaxBytes: number | null;
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
  procs: ProcSample[];
  pairs: PreemptPair[];
  /** The helper's own cost during the window. */
  self: { cpuNs: number; rssBytes: number; drainNs: number };
  /** Machine-wide pressure stall information ("some" avg10, %), when the kernel has PSI. */
  pressure?: Pressure;
}

export interface Pressure {
  cpu: number;
  memory: number;
  io: number;
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
}

export type Message = Hello | Window | Drops | HelperError;

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

function proc(v: unknown, path: string): ProcSample {
  const o = obj(v, path);
  const memMax = o.memMaxBytes;
  if (memMax !== null && (typeof memMax !== 'number' || !(memMax > 0)))
    fail(`${path}.memMaxBytes`, 'expected a positive number or null');
  return {
    tgid: num(o, 'tgid', path, 0),
    ppid: num(o, 'ppid', path, 0),
    comm: str(o, 'comm', path, 64),
    cgroup: str(o, 'cgroup', path),
    cpuNs: num(o, 'cpuNs', path, 0),
    faults: num(o, 'faults', path, 0),
    rssBytes: num(o, 'rssBytes', path, 0),
    rssSamples: arr(o, 'rssSamples', path).map((s, i) => {
      if (typeof s !== 'number' || !(s >= 0)) fail(`${path}.rssSamples[${i}]`, 'expected a number ≥ 0');
      return s;
    }),
    preempted: num(o, 'preempted', path, 0),
    preemptsOthers: num(o, 'preemptsOthers', path, 0),
    runqWaitNs: num(o, 'runqWaitNs', path, 0),
    lastCpu: num(o, 'lastCpu', path, -1),
    memMaxBytes: memMax as number | null,
  };
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
  if (o.v !== PROTOCOL_VERSION)
    fail('message.v', `unsupported protocol version ${String(o.v)} (want ${PROTOCOL_VERSION})`);
  switch (o.type) {
    case 'hello': {
      const attach = obj(o.attach, 'hello.attach');
      const faults = attach.faults as FaultAttach;
      if (!FAULT_ATTACH_POINTS.includes(faults)) fail('hello.attach.faults', 'unknown attach point');
      if (attach.sched !== 'tp_btf' && attach.sched !== 'procfs')
        fail('hello.attach.sched', 'unknown attach point');
      const caps = arr(o, 'capabilities', 'hello');
      if (!caps.every((c) => typeof c === 'string')) fail('hello.capabilities', 'expected strings');
      return {
        type: 'hello',
        v: PROTOCOL_VERSION,
        version: str(o, 'version', 'hello', 64),
        kernel: str(o, 'kernel', 'hello', 256),
        pid: num(o, 'pid', 'hello', 1),
        ncpu: num(o, 'ncpu', 'hello', 1),
        pageSize: num(o, 'pageSize', 'hello', 1),
        memTotalBytes: num(o, 'memTotalBytes', 'hello', 1),
        intervalMs: num(o, 'intervalMs', 'hello', 1),
        attach: { sched: attach.sched, faults },
        capabilities: caps as string[],
      };
    }
    case 'window': {
      const self = obj(o.self, 'window.self');
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
        procs: arr(o, 'procs', 'window').map((p, i) => proc(p, `window.procs[${i}]`)),
        pairs: arr(o, 'pairs', 'window').map((p, i) => {
          const q = obj(p, `window.pairs[${i}]`);
          const path = `window.pairs[${i}]`;
          return {
            victim: num(q, 'victim', path, 0),
            aggressor: num(q, 'aggressor', path, 0),
            count: num(q, 'count', path, 0),
          };
        }),
        self: {
          cpuNs: num(self, 'cpuNs', 'window.self', 0),
          rssBytes: num(self, 'rssBytes', 'window.self', 0),
          drainNs: num(self, 'drainNs', 'window.self', 0),
        },
        ...(o.pressure === undefined ? {} : { pressure: pressure(o.pressure) }),
      };
    }
    case 'drops': {
      const maps = obj(o.maps, 'drops.maps');
      const out: Record<string, number> = {};
      for (const k of Object.keys(maps)) out[k] = num(maps, k, 'drops.maps', 0);
      return { type: 'drops', v: PROTOCOL_VERSION, maps: out };
    }
    case 'error': {
      const fatal = o.fatal;
      if (typeof fatal !== 'boolean') fail('error.fatal', 'expected a boolean');
      const hint = o.hint === undefined ? undefined : str(o, 'hint', 'error');
      return {
        type: 'error',
        v: PROTOCOL_VERSION,
        code: str(o, 'code', 'error', 32) as ErrorCode,
        message: str(o, 'message', 'error'),
        hint,
        fatal,
      };
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
