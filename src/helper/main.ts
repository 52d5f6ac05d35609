// The privileged helper: `node helper.js [--interval-ms N] [--rss-samples N] [--max-exits N] [--tasks KIND]`.
// Runs as root (directly or through pkexec), loads the BPF collectors, prints one JSON line per message on
// stdout (see src/shared/wire/protocol.ts) and logs on stderr. It dies with its parent: on stdin EOF, SIGTERM,
// SIGINT, SIGHUP and parent death; on kill -9 the kernel detaches everything because every link is fd-bound.
// A reader that stops reading costs skipped windows, never unbounded memory (issue 11 #6).
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { readingDueMs, rssReadingsPerWindow } from '../shared/accounting/readings';
import { PROFILE_LIMITS } from '../shared/wire/profile';
import {
  type ErrorCode,
  encode,
  LineSplitter,
  type Message,
  PROTOCOL_VERSION,
} from '../shared/wire/protocol';

const startPpid = process.ppid;
declare const HOTSPOT_VERSION: string | undefined;
/** package.json's version (defined by scripts/build.mjs; 'dev' when run from source). */
const VERSION = typeof HOTSPOT_VERSION === 'string' ? HOTSPOT_VERSION : 'dev';
const USAGE =
  'usage: helper.js [--interval-ms 100..600000] [--rss-samples 1..20] [--max-exits 64..65536] [--tasks walk|iter|procfs] [--profile-events kept|on-request]';

interface Args {
  intervalMs: number;
  rssSamples: number;
  /** Size of the map of processes that exited within a window (tests shrink it to provoke drops). */
  maxExits?: number;
  /**
   * How to read per-task counters, in the helper's order of preference: 'walk' (6.7+), 'iter' (5.8+), 'procfs'.
   * A later one skips the earlier (tests of the fallbacks older kernels use); by default the first that loads.
   */
  tasks?: 'walk' | 'iter' | 'procfs';
  /**
   * Where profiles sample: CPU-clock perf events opened at start and kept ('kept', the default), or events each
   * profile opens after the privilege drop ('on-request': the fallback when none could be kept, forced by tests).
   */
  profileEvents?: 'kept' | 'on-request';
}

/** Windows are skipped while more than this is queued for a slow reader… */
export const STDOUT_SOFT_BYTES = 4 * 1024 * 1024;
/** …and the helper gives up when this much is queued, or the reader has not read for this long. */
export const STDOUT_HARD_BYTES = 32 * 1024 * 1024;
const STALLED_READER_MS = 120_000;

/** A window that sends this many processes in full is followed by a garbage collection. */
const BURST_PROCS = 1000;
/** V8's collector, exposed by the launchers' --expose-gc (HELPER_NODE_FLAGS); absent otherwise. */
const collectGarbage = (globalThis as { gc?: () => void }).gc;

const log = (m: string) => process.stderr.write(`hotspot-helper: ${m}\n`);
const send = (m: Message) => process.stdout.write(encode(m));

function fatal(code: ErrorCode, message: string, hint?: string, exitCode = 1): never {
  send({ type: 'error', v: PROTOCOL_VERSION, code, message, hint, fatal: true });
  log(`${code}: ${message}`);
  process.exit(exitCode);
}

/** Only integers in range and known attach points: the helper runs as root and trusts nothing it is given. */
export function parseHelperArgs(argv: readonly string[]): Args {
  const a: Args = { intervalMs: 5000, rssSamples: 0 };
  const int = (flag: string, v: string | undefined, min: number, max: number) => {
    if (v === undefined || !/^\d{1,7}$/.test(v) || Number(v) < min || Number(v) > max)
      throw new Error(`${flag} needs an integer in ${min}..${max}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    if (flag === '--interval-ms') a.intervalMs = int(flag, v, 100, 600_000);
    else if (flag === '--rss-samples') a.rssSamples = int(flag, v, 1, 20);
    else if (flag === '--max-exits') a.maxExits = int(flag, v, 64, 65536);
    else if (flag === '--tasks') {
      if (v !== 'walk' && v !== 'iter' && v !== 'procfs')
        throw new Error('--tasks needs walk, iter or procfs');
      a.tasks = v;
    } else if (flag === '--profile-events') {
      if (v !== 'kept' && v !== 'on-request') throw new Error('--profile-events needs kept or on-request');
      a.profileEvents = v;
    } else throw new Error(`unknown argument ${JSON.stringify(flag).slice(0, 64)}`);
    i++;
  }
  // Each RSS reading is a walk of every task (a sixth of a full pass's cost); readings.ts says why twice a second.
  if (!a.rssSamples) a.rssSamples = rssReadingsPerWindow(a.intervalMs);
  return a;
}

function privileged(): boolean {
  if (process.getuid?.() === 0) return true;
  // Without root, CAP_BPF (39) + CAP_PERFMON (38), or CAP_SYS_ADMIN (21), are enough to load tracing programs.
  const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'latin1'));
  const caps = m ? BigInt(`0x${m[1]}`) : 0n;
  const has = (bit: number) => (caps >> BigInt(bit)) & 1n;
  return has(21) === 1n || (has(38) === 1n && has(39) === 1n);
}

/** PR_SET_PDEATHSIG, then re-check the parent: it may have died before the prctl took effect. */
function dieWithParent(prctl: (...a: number[]) => number): void {
  const PR_SET_PDEATHSIG = 1;
  prctl(PR_SET_PDEATHSIG, 15 /* SIGTERM */, 0, 0, 0);
  if (process.ppid !== startPpid) process.exit(0);
}

/** The profiler's CPU-clock events, opened to keep (see cpuClocks.ts); undefined, with why logged, when none open. */
function keptClocks(m: typeof import('./cpuClocks')): import('./cpuClocks').KeptClocks | undefined {
  const kept = m.keepCpuClocks();
  if (!(kept instanceof m.KeptClocks)) {
    log(`profiler: no CPU-clock perf event could be kept (${kept.error}); profiles will open their own`);
    return undefined;
  }
  log(
    `profiler: ${kept.events.length} CPU-clock perf events kept, disabled${kept.missed.length ? `; not opened: ${kept.missed.join('; ')}` : ''}`,
  );
  return kept;
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseHelperArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${USAGE}\n`);
    fatal('BAD_ARGS', (e as Error).message, USAGE, 2);
  }
  process.stdout.on('error', () => process.exit(0)); // the reader went away
  // Node writes to a pipe synchronously on Linux: a reader that stopped reading froze the helper inside write(),
  // deaf to SIGTERM and to its parent's death. Non-blocking, writes queue instead, and the bounds below apply.
  type PipeHandle = { setBlocking?(on: boolean): void };
  (process.stdout as unknown as { _handle?: PipeHandle })._handle?.setBlocking?.(false);
  if (!existsSync('/sys/kernel/btf/vmlinux'))
    fatal(
      'NO_BTF',
      'This kernel has no BTF (/sys/kernel/btf/vmlinux is missing), so CO-RE programs cannot load.',
      'Use a kernel built with CONFIG_DEBUG_INFO_BTF=y (stock Debian, Ubuntu and Fedora kernels are).',
    );
  if (!privileged())
    fatal(
      'NOT_PRIVILEGED',
      'The helper needs root (or CAP_BPF and CAP_PERFMON) to load BPF programs.',
      "Start it through 'Hotspot: Start' (pkexec) or with sudo.",
    );

  let bpf: typeof import('./session');
  try {
    bpf = await import('./session');
  } catch (e) {
    fatal(
      'NO_LIBBPF',
      `libbpf could not be loaded: ${(e as Error).message}`,
      'Install it: sudo apt-get install libbpf1',
    );
  }
  const { lib, M_MMAP_THRESHOLD } = await import('./libbpf');
  dieWithParent(lib.prctl as (...a: number[]) => number);
  // Large buffers (a window's line, iterator passes) are malloc'ed by Node; glibc raises its mmap threshold after
  // the first such free, and later ones then stay in the heap, freed but resident: 36 MiB at 10,000 processes.
  // A fixed threshold keeps every buffer of 64 KiB and up in its own mapping, returned when freed.
  lib.mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  bpf.setPrintSink((level, line) => {
    const lines = bpf.libbpfLog.lines;
    if (lines) lines.push(line.trimEnd());
    if (level <= 1) process.stderr.write(line); // warnings and info; the verifier log arrives at debug level too
  });

  // Everything the helper needs before it drops root is loaded, and the profiler's perf events opened, before the
  // collectors take their baseline: window 0 counts from there, and start-up work inside it (module loads, one
  // perf_event_open per CPU) took CPU from what the window measured (seen as 0.87x on the matrix's slow guests).
  // The events are opened while the helper may: Debian's and Ubuntu's kernels allow them only to CAP_SYS_ADMIN,
  // which goes with the drop below. Without them profiles open their own, where the kernel lets it.
  const profileRequests = await import('./profileRequests');
  const privileges = await import('./privileges');
  const { nameKernelAddresses } = await import('./kallsyms');
  const clocks = args.profileEvents === 'on-request' ? undefined : keptClocks(await import('./cpuClocks'));

  let session: InstanceType<typeof bpf.Session>;
  try {
    session = new bpf.Session({
      subSamples: args.rssSamples - 1,
      maxExits: args.maxExits,
      tasks: args.tasks,
    });
  } catch (e) {
    if (!(e instanceof bpf.LoadError)) throw e;
    process.stderr.write(`${e.log.join('\n')}\n`);
    if (e.verifierRejected)
      fatal(
        'VERIFIER',
        `The kernel's verifier rejected a Hotspot program: ${e.message}`,
        'The verifier log is in the Hotspot log. Please report it with your kernel version.',
      );
    fatal(
      'ATTACH',
      `Could not load or attach the BPF collectors: ${e.message}`,
      'See the Hotspot log for libbpf details.',
    );
  }
  if (session.tasksError)
    log(`task iterator unavailable (${session.tasksError.message}); reading /proc instead`);
  log(
    `attached: ${JSON.stringify(session.attach)}${session.tasks?.reads === 'iter' && args.tasks !== 'iter' ? ' (no open-coded task iterator here: counters read by task iterator passes)' : ''}`,
  );
  const requester = profileRequests.requesterUid(process.env, startPpid);
  // Opens /proc/kallsyms before it leaves uid 0 (kallsyms shows addresses by the opener's credentials): the
  // profiler names kernel frames through that descriptor later.
  privileges.dropPrivileges(log); // attached: keep only what reading the kernel's counters needs
  const kallsymsFd = privileges.kallsymsFd();
  const profiles = profileRequests.profileService({
    send,
    log,
    requester,
    bpfDir: bpf.bpfDir(),
    clocks,
    kernelNames: async (addrs) =>
      kallsymsFd === undefined ? undefined : nameKernelAddresses(kallsymsFd, addrs),
  });

  let stopping = false;
  const shutdown = (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    profiles.close();
    clocks?.close();
    session.close(); // detach first: nothing stays attached whatever happens to the flush below
    // Let a line already queued reach the reader whole (a reader that stopped reading gets 1 s).
    const exit = () => process.exit(code);
    if (process.stdout.writableLength === 0 || code !== 0) exit();
    process.stdout.write('', exit);
    setTimeout(exit, 1000).unref();
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => shutdown(sig));
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  const requests = new LineSplitter(
    (line) => profiles.onLine(line),
    (e) =>
      send({
        type: 'error',
        v: PROTOCOL_VERSION,
        code: 'BAD_ARGS',
        message: `bad request: ${e.message}`,
        fatal: false,
      }),
    PROFILE_LIMITS.maxLineBytes,
  );
  process.stdin.setEncoding('utf8').on('data', (c: string) => requests.push(c));

  send({
    type: 'hello',
    v: PROTOCOL_VERSION,
    version: VERSION,
    kernel: release(),
    pid: process.pid,
    ncpu: session.ncpu,
    pageSize: session.pageSize,
    memTotalBytes: Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'latin1'))?.[1] ?? 0) * 1024,
    intervalMs: args.intervalMs,
    attach: session.attach,
    cgroupMode: session.cgroups.mode,
    capabilities: session.capabilities(),
  });

  // Backpressure: stdout to a socket queues in memory when the reader does not read.
  let skipped = 0;
  let lastDrained = Date.now();
  const sendWindow = (line: Buffer) => {
    const queued = process.stdout.writableLength;
    if (queued === 0) lastDrained = Date.now();
    if (
      queued > STDOUT_HARD_BYTES ||
      (queued > STDOUT_SOFT_BYTES && Date.now() - lastDrained > STALLED_READER_MS)
    ) {
      log(
        `FATAL: the reader stopped reading (${queued} bytes queued, nothing drained for ` +
          `${Math.round((Date.now() - lastDrained) / 1000)} s); exiting`,
      );
      shutdown('reader stalled', 1);
    }
    if (queued > STDOUT_SOFT_BYTES) {
      skipped++;
      session.unsent();
      return;
    }
    if (skipped) {
      send({ type: 'drops', v: PROTOCOL_VERSION, maps: { windows_skipped: skipped } });
      log(`${skipped} window(s) skipped: the reader was not reading`);
      skipped = 0;
    }
    process.stdout.write(line);
  };

  // Windows are scheduled against the monotonic clock so timer drift does not accumulate.
  // Window 0 starts at the baseline reading (in the Session constructor), not now: its counters do.
  let windowStart = session.baselineNs;
  let n = 0;
  let burst: 'no' | 'sending' | 'over' = 'no';
  let walkOverflowLogged = false;
  const step = () => {
    if (stopping) return;
    n++;
    try {
      if (n % args.rssSamples === 0) {
        const now = process.hrtime.bigint();
        const { line, procs, omitted, drops } = session.window(Number(now - windowStart));
        windowStart = now;
        if (omitted) log(`window too large: ${omitted} least active processes left out`);
        sendWindow(line);
        // Windows that send many processes in full (the first ones, or those after the reader stalled) leave
        // megabytes of garbage in V8's old generation, which then grows to twice that before it is collected:
        // 10-12 MiB held for a dozen windows at 10,000 processes. Collect it after the first ordinary window
        // that follows, once that line has been written (--expose-gc; 10-20 ms, rare).
        if (procs >= BURST_PROCS) burst = 'sending';
        else if (burst === 'sending') burst = 'over';
        // What a window frees (and what loading freed: the kernel's BTF, parsed by libbpf) lies under memory
        // still in use, where free() cannot return it: at 10,000 processes 12-16 MiB stayed resident for good.
        // Trimming finds those pages wherever they are, in 0.05-0.3 ms.
        lib.mallocTrim(0);
        if (drops) send(drops);
        if (!walkOverflowLogged && (session.tasks?.walkOverflows ?? 0) > 0) {
          log(
            'more processes than the task walk holds: those readings go through the task iterator (slower)',
          );
          walkOverflowLogged = true;
        }
      } else session.sampleRss();
      if (burst === 'over' && process.stdout.writableLength === 0) {
        burst = 'no';
        collectGarbage?.();
        lib.mallocTrim(0);
      }
    } catch (e) {
      send({
        type: 'error',
        v: PROTOCOL_VERSION,
        code: 'MAP_READ',
        message: (e as Error).message,
        fatal: false,
      });
    }
    if (process.ppid !== startPpid) shutdown('parent died');
    const due = readingDueMs(n % args.rssSamples, args.rssSamples, args.intervalMs, Math.random);
    const next = Number(windowStart / 1_000_000n) + due;
    setTimeout(step, Math.max(0, next - Number(process.hrtime.bigint() / 1_000_000n)));
  };
  setTimeout(step, readingDueMs(0, args.rssSamples, args.intervalMs, Math.random));
}

main().catch((e) => fatal('INTERNAL', (e as Error).stack ?? String(e)));
