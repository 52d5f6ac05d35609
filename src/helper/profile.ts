// The on-demand CPU profile: loads bpf/profile.bpf.o for one request and attaches it to a software CPU-clock perf
// event on every online CPU — the events the helper opened and kept at start (src/helper/cpuClocks.ts), or, where
// it could not keep any, events opened now — and after the duration (or a cancel, or the process's exit) detaches
// everything and reads the counted stacks. Every perf event and link is a descriptor of this process, so the kernel
// detaches them too if the helper dies, even by kill -9.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import koffi from 'koffi';
import type { ProfileRequest, ProfileResult, ProfileStack } from '../shared/wire/profile';
import { PROTOCOL_VERSION } from '../shared/wire/protocol';
import {
  type ClockAttachment,
  ClockError,
  EACCES,
  type KeptClocks,
  onlineCpus,
  openCpuClock,
} from './cpuClocks';
import type { KernelNames } from './kallsyms';
import { errno, lib, strerror } from './libbpf';
import { type LoadedObject, loadObject } from './loader';

const libbpf = koffi.load('libbpf.so.1');
const closeFd = koffi.load('libc.so.6').func('int close(int fd)');
const findProgram = libbpf.func('void *bpf_object__find_program_by_name(void *obj, const char *name)');
const attachPerfEvent = libbpf.func('void *bpf_program__attach_perf_event(void *prog, int pfd)');
const updateElem = libbpf.func(
  'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)',
);

const MAX_DEPTH = 127; // bpf/profile.h PROFILE_MAX_DEPTH
const EFAULT = 14;
/** The result line stays well under the protocol's 8 MiB: the least sampled stacks are left out beyond this. */
const MESSAGE_BUDGET = 6 * 1024 * 1024;
/** How often the helper checks that the profiled process still exists. */
const ALIVE_POLL_MS = 200;

export class ProfileError extends Error {
  override name = 'ProfileError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Field 22 of /proc/<pid>/stat (start time in ticks): with the pid it names one process, not a later reuse. */
export function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function comms(pid: number, into: Map<number, string>): void {
  try {
    for (const t of readdirSync(`/proc/${pid}/task`))
      try {
        into.set(Number(t), readFileSync(`/proc/${pid}/task/${t}/comm`, 'latin1').trim().slice(0, 64));
      } catch {}
  } catch {}
}

interface Attached {
  obj: LoadedObject;
  /** Links of events opened for this profile (each closes its event when destroyed)… */
  links: unknown[];
  /** …or the program on the helper's kept events. */
  kept?: ClockAttachment;
}

/** What a profile needs from the helper. */
export interface ProfileEnv {
  bpfDir: string;
  kernelNames: (addrs: bigint[]) => Promise<KernelNames | undefined>;
  /** The CPU-clock events kept since start, when the helper could open them. */
  clocks?: KeptClocks;
  log: (m: string) => void;
}

/** Attaches the loaded program to the kept events, or else to a perf event per online CPU opened now. */
function attachAll(a: Attached, hz: number, env: ProfileEnv): void {
  const prog = findProgram(a.obj.obj, 'on_sample');
  if (!prog) throw new ProfileError('bpf/profile.bpf.o has no on_sample program');
  const clocks = env.clocks;
  if (clocks && !clocks.unusable) {
    try {
      a.kept = clocks.attach(lib.programFd(prog) as number, hz);
      return;
    } catch (e) {
      if (!(e instanceof ClockError)) throw e;
      if (!clocks.unusable) throw new ProfileError(e.message);
      env.log(`the kept perf events cannot be used (${clocks.unusable}); profiles open their own`);
    }
  }
  let lastError = 0;
  for (const cpu of onlineCpus()) {
    const fd = openCpuClock(cpu, hz, false);
    if (fd < 0) {
      lastError = -fd;
      continue; // a CPU that went offline since the list was read
    }
    const link = attachPerfEvent(prog, fd);
    if (!link) {
      lastError = errno();
      closeFd(fd);
      continue;
    }
    a.links.push(link);
  }
  if (a.links.length === 0) {
    const why = strerror(lastError);
    throw new ProfileError(`could not open a CPU-clock perf event on any CPU: ${why}`, perfHint(lastError));
  }
}

/**
 * What to do about a refused perf event, opened on request because none could be kept at start. Debian's and
 * Ubuntu's kernels add perf_event_paranoid 3 (and 4), which refuses perf_event_open to anything without
 * CAP_SYS_ADMIN; the helper keeps only CAP_PERFMON once attached.
 */
function perfHint(err: number): string {
  let paranoid = Number.NaN;
  try {
    paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'latin1').trim());
  } catch {}
  if (err === EACCES && paranoid >= 3)
    return `This kernel restricts perf events to CAP_SYS_ADMIN (kernel.perf_event_paranoid = ${paranoid}, a Debian/Ubuntu setting). Allow the helper's CAP_PERFMON with: sudo sysctl kernel.perf_event_paranoid=2`;
  return 'The kernel needs CONFIG_PERF_EVENTS, and the helper CAP_PERFMON (or root).';
}

/** Ends sampling: the kept events are disabled and lose the program, events opened for the profile close. */
function stopSampling(a: Attached): void {
  for (const l of a.links.splice(0)) lib.destroyLink(l); // closes the perf event descriptor too
  a.kept?.detach();
  a.kept = undefined;
}

function detach(a: Attached): void {
  stopSampling(a);
  a.obj.close();
}

interface RawStack {
  tid: number;
  user: number[];
  kernel: bigint[];
  count: number;
}

/** The counted samples, as (thread, user stack, kernel stack) → count, with each stack read from the stack map. */
function collect(a: Attached): { stacks: RawStack[]; lost: number } {
  const countsFd = a.obj.map('counts');
  const stacksFd = a.obj.map('stacks');
  const userCache = new Map<number, number[]>();
  const kernCache = new Map<number, bigint[]>();
  const frames = Buffer.alloc(MAX_DEPTH * 8);
  const readStack = (id: number): bigint[] => {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(id);
    if ((lib.lookupElem(stacksFd, key, frames) as number) !== 0) return [];
    const out: bigint[] = [];
    for (let i = 0; i < MAX_DEPTH; i++) {
      const ip = frames.readBigUInt64LE(i * 8);
      if (ip === 0n) break;
      out.push(ip);
    }
    return out;
  };
  let lost = 0;
  const stacks: RawStack[] = [];
  const key = Buffer.alloc(16);
  const next = Buffer.alloc(16);
  const value = Buffer.alloc(8);
  let prev: Buffer | null = null;
  while ((lib.getNextKey(countsFd, prev, next) as number) === 0) {
    next.copy(key);
    prev = key;
    if ((lib.lookupElem(countsFd, key, value) as number) !== 0) continue;
    const count = Number(value.readBigUInt64LE(0));
    const tid = key.readUInt32LE(4);
    const userId = key.readInt32LE(8);
    const kernId = key.readInt32LE(12);
    // A user stack id of -EFAULT means no user stack at that sample (a kernel-only moment); any other error
    // (-EEXIST, -ENOMEM: a full or colliding stack map) means the stack was lost.
    if ((userId < 0 && userId !== -EFAULT) || (kernId < 0 && kernId !== -EFAULT)) {
      lost += count;
      continue;
    }
    let user = userCache.get(userId);
    if (!user) {
      user = userId < 0 ? [] : userFrames(readStack(userId));
      userCache.set(userId, user);
    }
    let kernel = kernCache.get(kernId);
    if (!kernel) {
      kernel = kernId < 0 ? [] : readStack(kernId);
      kernCache.set(kernId, kernel);
    }
    stacks.push({ tid, user, kernel, count });
  }
  const lostFd = a.obj.map('lost');
  const ncpu = lib.numPossibleCpus() as number;
  const per = Buffer.alloc(8 * ncpu);
  if ((lib.lookupElem(lostFd, Buffer.alloc(4), per) as number) === 0)
    for (let c = 0; c < ncpu; c++) lost += Number(per.readBigUInt64LE(c * 8));
  return { stacks, lost };
}

/** User space ends here on x86-64 (47-bit addresses): a frame-pointer walk through code built without frame
 *  pointers reads garbage, and the first value beyond it ends the stack. */
const USER_TOP = 0x0000_8000_0000_0000n;
function userFrames(ips: bigint[]): number[] {
  const out: number[] = [];
  for (const ip of ips) {
    if (ip >= USER_TOP || ip < 4096n) break;
    out.push(Number(ip));
  }
  return out;
}

/** Keeps the most sampled stacks that fit the message budget; returns them and the samples of those left out. */
function withinBudget(stacks: ProfileStack[]): { kept: ProfileStack[]; omitted: number } {
  stacks.sort((x, y) => y.count - x.count);
  let bytes = 0;
  let omitted = 0;
  const kept: ProfileStack[] = [];
  for (const s of stacks) {
    bytes += 48 + s.user.length * 16 + s.kernel.reduce((n, k) => n + k.length + 3, 0);
    if (bytes > MESSAGE_BUDGET) omitted += s.count;
    else kept.push(s);
  }
  return { kept, omitted };
}

export interface RunningProfile {
  readonly id: string;
  /** Where it samples: the helper's kept perf events, or events opened for this profile. */
  readonly events: string;
  /** Ends sampling now; the answer carries what was sampled so far. */
  cancel(): void;
  /** Detaches without answering (the helper is exiting). */
  abort(): void;
}

/**
 * Starts a profile of `req.pid` (ownership already checked by the caller). `done` gets the result once sampling
 * ended, however it ended; errors before sampling starts are thrown as ProfileError.
 */
export function startProfile(
  req: ProfileRequest,
  env: ProfileEnv,
  done: (r: ProfileResult) => void,
): RunningProfile {
  const start = startTicks(req.pid);
  if (start === undefined)
    throw new ProfileError(`no process ${req.pid}`, 'Check the pid: the process may have exited.');
  const obj = loadObject(path.join(env.bpfDir, 'profile.bpf.o'), [], {}, ['on_sample']);
  const a: Attached = { obj, links: [] };
  const threadNames = new Map<number, string>();
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  const startedAt = Date.now();
  const t0 = process.hrtime.bigint();
  const finish = (ended: ProfileResult['ended'] | 'abort') => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    clearInterval(poll);
    const durationMs = Number((process.hrtime.bigint() - t0) / 1_000_000n);
    stopSampling(a); // before reading
    if (ended === 'abort') {
      a.obj.close();
      return;
    }
    let collected: ReturnType<typeof collect>;
    try {
      collected = collect(a);
    } finally {
      a.obj.close(); // everything is detached and freed before kernel frames are named (asynchronously)
    }
    if (ended !== 'exited') comms(req.pid, threadNames);
    const addrs = new Set<bigint>();
    for (const st of collected.stacks) for (const ip of st.kernel) addrs.add(ip);
    const named = addrs.size
      ? env.kernelNames([...addrs]).catch(() => undefined)
      : Promise.resolve(undefined);
    void named.then((k) => {
      const stacks: ProfileStack[] = collected.stacks.map((st) => ({
        tid: st.tid,
        user: st.user,
        kernel: st.kernel.map((ip) => k?.names.get(ip) ?? '[kernel]'),
        count: st.count,
      }));
      const perThread = new Map<number, number>();
      let samples = 0;
      for (const st of stacks) {
        perThread.set(st.tid, (perThread.get(st.tid) ?? 0) + st.count);
        samples += st.count;
      }
      const { kept, omitted } = withinBudget(stacks);
      done({
        type: 'profile',
        v: PROTOCOL_VERSION,
        id: req.id,
        pid: req.pid,
        frequency: req.frequency,
        startedAt,
        durationMs,
        samples,
        lost: collected.lost,
        omitted,
        ended,
        kernelSymbols: addrs.size === 0 || (k?.real ?? false),
        threads: [...perThread].map(([tid, n]) => ({ tid, comm: threadNames.get(tid) ?? '', samples: n })),
        stacks: kept,
      });
    });
  };
  try {
    const cfg = Buffer.alloc(8);
    cfg.writeUInt32LE(req.pid, 0);
    if ((updateElem(obj.map('target'), Buffer.alloc(4), cfg, 0) as number) !== 0)
      throw new ProfileError(`could not set the profile's target: ${strerror(errno())}`);
    attachAll(a, req.frequency, env);
  } catch (e) {
    detach(a);
    throw e;
  }
  comms(req.pid, threadNames);
  timer = setTimeout(() => finish('duration'), req.durationMs);
  poll = setInterval(() => {
    if (startTicks(req.pid) !== start) finish('exited');
  }, ALIVE_POLL_MS);
  const events = a.kept ? `${a.kept.cpus} kept perf events` : `${a.links.length} perf events opened for it`;
  return { id: req.id, events, cancel: () => finish('cancelled'), abort: () => finish('abort') };
}
