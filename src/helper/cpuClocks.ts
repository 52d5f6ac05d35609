// Software CPU-clock perf events for the profiler, one per online CPU. Debian's and Ubuntu's kernels
// (kernel.perf_event_paranoid 3, a distribution patch) refuse perf_event_open to anything without CAP_SYS_ADMIN,
// which the helper gives up once it has attached its collectors. So it opens these events at start, while still
// root, disabled, and keeps them for its life: a profile request then attaches its program to each kept event
// through a BPF link, sets the period, resets and enables them; the end of the profile disables them and closes the
// links, so between profiles they count nothing and run no program. Closing a link detaches the program from the
// event (unlike PERF_EVENT_IOC_SET_BPF, which holds it until the event is freed), which is why links are used here.
//
// The events are opened in period mode, not frequency mode: for the CPU clock the kernel turns a frequency into a
// fixed period at open and clears attr.freq, so PERF_EVENT_IOC_PERIOD on such an event takes nanoseconds, and a
// frequency given to it would be read as a period. Period mode makes that explicit; it samples exactly as
// frequency mode does for this clock.
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { errno, strerror } from './libbpf';

const libc = koffi.load('libc.so.6');
const libbpf = koffi.load('libbpf.so.1');
const syscall = libc.func('long syscall(long number, ...)');
const closeFd = libc.func('int close(int fd)');
// ioctl is variadic; its third argument is a pointer or 0 for every request used here (NULL passes 0).
const ioctl = libc.func('int ioctl(int fd, unsigned long request, void *arg)');
const linkCreate = libbpf.func(
  'int bpf_link_create(int prog_fd, int target_fd, int attach_type, const void *opts)',
);

const SYS_perf_event_open = 298; // x86-64 (the only architecture shipped)
const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_CPU_CLOCK = 0;
const PERF_ATTR_SIZE = 128;
const ATTR_DISABLED = 1n; // the first flag bit
const PERF_FLAG_FD_CLOEXEC = 8;
const PERF_EVENT_IOC_ENABLE = 0x2400;
const PERF_EVENT_IOC_DISABLE = 0x2401;
const PERF_EVENT_IOC_RESET = 0x2403;
const PERF_EVENT_IOC_PERIOD = 0x40082404; // _IOW('$', 4, __u64)
const BPF_PERF_EVENT = 41; // enum bpf_attach_type
export const EACCES = 13;
const EINVAL = 22;
const EBUSY = 16;
const EOPNOTSUPP = 95;
/** The period the kept events are opened with (99 Hz); every profile sets its own before enabling them. */
const DEFAULT_HZ = 99;

/** Nanoseconds between samples at `hz`: what the kernel derives from a frequency for this clock. */
export const periodNs = (hz: number): bigint => BigInt(Math.floor(1e9 / hz));

/** struct perf_event_attr: the software CPU clock, one sample every periodNs(hz), user and kernel. */
function perfAttr(hz: number, disabled: boolean): Buffer {
  const a = Buffer.alloc(PERF_ATTR_SIZE);
  a.writeUInt32LE(PERF_TYPE_SOFTWARE, 0);
  a.writeUInt32LE(PERF_ATTR_SIZE, 4);
  a.writeBigUInt64LE(BigInt(PERF_COUNT_SW_CPU_CLOCK), 8);
  a.writeBigUInt64LE(periodNs(hz), 16); // sample_period
  a.writeBigUInt64LE(disabled ? ATTR_DISABLED : 0n, 40); // the flag bits
  return a;
}

export function onlineCpus(): number[] {
  const out: number[] = [];
  for (const range of readFileSync('/sys/devices/system/cpu/online', 'latin1').trim().split(',')) {
    const [a, b] = range.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/** A CPU-clock event on `cpu` for every process (pid -1): its fd, or -errno. */
export function openCpuClock(cpu: number, hz: number, disabled: boolean): number {
  const fd = Number(
    syscall(
      SYS_perf_event_open,
      'void *',
      perfAttr(hz, disabled),
      'int',
      -1,
      'int',
      cpu,
      'int',
      -1,
      'unsigned long',
      PERF_FLAG_FD_CLOEXEC,
    ),
  );
  return fd < 0 ? -errno() : fd;
}

export class ClockError extends Error {
  override name = 'ClockError';
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

/** A program attached to every kept event; detach() ends that (idempotent). */
export interface ClockAttachment {
  readonly cpus: number;
  detach(): void;
}

export class KeptClocks {
  /** Why the kept events cannot take a program on this kernel, once found (profiles then open their own). */
  unusable: string | undefined;
  private attached: ClockAttachment | undefined;
  constructor(
    readonly events: readonly { cpu: number; fd: number }[],
    /** The online CPUs whose event could not be opened, with why (a profile samples only the others). */
    readonly missed: readonly string[] = [],
  ) {}

  /**
   * Attaches `progFd` to every kept event at `hz` and enables them. Throws ClockError with everything undone; a
   * kernel without BPF perf links (before 5.15) also marks the events unusable.
   */
  attach(progFd: number, hz: number): ClockAttachment {
    if (this.attached) throw new ClockError('the kept perf events are in use', EBUSY);
    const period = Buffer.alloc(8);
    period.writeBigUInt64LE(periodNs(hz));
    const done: { fd: number; link: number }[] = [];
    const undo = () => {
      for (const d of done.splice(0)) {
        ioctl(d.fd, PERF_EVENT_IOC_DISABLE, null);
        closeFd(d.link);
      }
    };
    const fail = (what: string, err: number): never => {
      undo();
      throw new ClockError(`${what}: ${strerror(err)}`, err);
    };
    for (const { cpu, fd } of this.events) {
      if ((ioctl(fd, PERF_EVENT_IOC_PERIOD, period) as number) !== 0)
        fail(`could not set the sampling period on CPU ${cpu}`, errno());
      ioctl(fd, PERF_EVENT_IOC_RESET, null);
      const link = linkCreate(progFd, fd, BPF_PERF_EVENT, null) as number;
      if (link < 0) {
        if (done.length === 0 && (link === -EINVAL || link === -EOPNOTSUPP))
          this.unusable = `this kernel cannot link a BPF program to a perf event (${strerror(link)})`;
        fail(`could not attach the sampling program on CPU ${cpu}`, -link);
      }
      done.push({ fd, link });
      if ((ioctl(fd, PERF_EVENT_IOC_ENABLE, null) as number) !== 0)
        fail(`could not enable the perf event on CPU ${cpu}`, errno());
    }
    const attachment: ClockAttachment = {
      cpus: done.length,
      detach: () => {
        undo(); // disabled first, so no sample runs the program while its link goes
        if (this.attached === attachment) this.attached = undefined;
      },
    };
    this.attached = attachment;
    return attachment;
  }

  close(): void {
    this.attached?.detach();
    for (const { fd } of this.events) closeFd(fd);
  }
}

/**
 * Opens a disabled CPU-clock event per online CPU, to keep. Call while the helper still holds every privilege;
 * returns why when none could be opened (the helper carries on: profiles then open their own events).
 */
export function keepCpuClocks(): KeptClocks | { error: string } {
  const events: { cpu: number; fd: number }[] = [];
  const refused: string[] = [];
  let cpus: number[];
  try {
    cpus = onlineCpus();
  } catch (e) {
    return { error: `the online CPUs are unknown: ${(e as Error).message}` };
  }
  for (const cpu of cpus) {
    const fd = openCpuClock(cpu, DEFAULT_HZ, true);
    if (fd >= 0) events.push({ cpu, fd });
    else refused.push(`CPU ${cpu}: ${strerror(fd)}`);
  }
  if (events.length === 0) return { error: refused.join('; ') || 'no online CPU' };
  return new KeptClocks(events, refused);
}
