// Once the BPF programs are attached the helper only reads its maps and a few world-readable /proc and /sys files,
// so it gives up what root could otherwise still do. It leaves uid 0 for the overflow uid `nobody` (65534, group
// `nogroup`, no supplementary groups): an id that owns no file and that every distribution reserves, so root-owned
// files are as closed to the helper as to any user, without a system user to create at install. Of its
// capabilities it keeps what reading BPF maps and perf events needs (effective and permitted), the rest of every
// set (inheritable, ambient, bounding) goes, and no_new_privs is set so nothing it could execute regains
// privileges. Another process running as nobody could signal it, not trace it: the uid change makes it
// non-dumpable, and it holds capabilities such a tracer lacks. Calls libc's capset, prctl and set*id through koffi.
//
// Capabilities are per thread on Linux and a thread can only change its own sets. The capability calls run on the
// main thread, which runs all of the helper's JavaScript (and its synchronous BPF syscalls); threads created later
// (libuv's pool) inherit its sets. The uid change goes through glibc's setresuid, which makes every thread of the
// process change ids (its setxid broadcast), unlike the raw syscall: V8's threads, which exist already, end up as
// nobody too, and since only the main thread set PR_SET_KEEPCAPS they lose all their capabilities with it.
//
// What must be read as root afterwards is opened before: /proc/kallsyms (its addresses are shown or zeroed by the
// credentials of whoever opened it, at open), for the profiler's symbols.
import { openSync, readFileSync, readSync } from 'node:fs';
import koffi from 'koffi';

const CAP = { SYS_ADMIN: 21, SYS_RESOURCE: 24, PERFMON: 38, BPF: 39 } as const;
const CAP_NAMES: Record<number, string> = {
  21: 'CAP_SYS_ADMIN',
  24: 'CAP_SYS_RESOURCE',
  38: 'CAP_PERFMON',
  39: 'CAP_BPF',
};
const PR_SET_KEEPCAPS = 8;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** nobody / nogroup: the kernel's overflow ids, reserved on every distribution. */
export const HELPER_UID = 65534;
export const HELPER_GID = 65534;

const libc = koffi.load('libc.so.6');
const capsetFn = libc.func('int capset(void *hdrp, void *datap)');
const prctlFn = libc.func(
  'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
);
// glibc's wrappers on purpose: they apply the change to every thread of the process (see the top of this file).
const setgroupsFn = libc.func('int setgroups(size_t size, void *list)');
const setresgidFn = libc.func('int setresgid(uint32_t rgid, uint32_t egid, uint32_t sgid)');
const setresuidFn = libc.func('int setresuid(uint32_t ruid, uint32_t euid, uint32_t suid)');

let kallsyms: number | undefined;

/**
 * A read-only fd of /proc/kallsyms opened before the drop, with the addresses root may see, or undefined (before the
 * drop, or when it could not be opened). Read it with positioned reads from 0 (see readKallsyms): it is shared, and
 * a file position left elsewhere would be another reader's surprise. Never close it.
 */
export function kallsymsFd(): number | undefined {
  return kallsyms;
}

/** The whole symbol table through kallsymsFd(), or undefined without it (~5 MB; read it once and keep what you need). */
export function readKallsyms(): string | undefined {
  if (kallsyms === undefined) return undefined;
  const parts: Buffer[] = [];
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let pos = 0; ; ) {
    const n = readSync(kallsyms, buf, 0, buf.length, pos);
    if (n <= 0) break;
    parts.push(Buffer.from(buf.subarray(0, n)));
    pos += n;
  }
  return Buffer.concat(parts).toString('latin1');
}

export interface PrivilegeReport {
  /** The ids the process runs as after the drop (0 when they could not be changed). */
  uid: number;
  gid: number;
  /** Capability names left in the effective and permitted sets. */
  kept: string[];
  /** CapEff of this thread after the drop, as /proc shows it (hex). */
  capEff: string;
  noNewPrivs: boolean;
  /** What could not be done (the helper carries on: it only ever loses privileges here). */
  warnings: string[];
}

/** The highest capability number this kernel knows. */
function lastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'latin1').trim());
  } catch {
    return 40;
  }
}

function status(field: string): string {
  return (
    new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(readFileSync('/proc/thread-self/status', 'latin1'))?.[1] ??
    ''
  );
}

/**
 * What reading BPF maps needs after attach: CAP_BPF and CAP_PERFMON (and CAP_SYS_RESOURCE for memlock limits on
 * kernels that still charge BPF memory to RLIMIT_MEMLOCK). A kernel older than 5.8 has no CAP_BPF and wants
 * CAP_SYS_ADMIN for every bpf() call instead; only there is CAP_SYS_ADMIN kept.
 */
export function neededCapabilities(last = lastCap()): number[] {
  return last >= CAP.BPF ? [CAP.SYS_RESOURCE, CAP.PERFMON, CAP.BPF] : [CAP.SYS_ADMIN, CAP.SYS_RESOURCE];
}

/**
 * Leaves uid 0 for nobody, reduces the capabilities to `neededCapabilities()` and sets no_new_privs. Call after
 * attaching, once; /proc/kallsyms is opened first (kallsymsFd()).
 */
export function dropPrivileges(log: (m: string) => void = () => {}): PrivilegeReport {
  const warnings: string[] = [];
  try {
    kallsyms ??= openSync('/proc/kallsyms', 'r');
  } catch (e) {
    warnings.push(`/proc/kallsyms: ${(e as NodeJS.ErrnoException).code}`);
  }
  const last = lastCap();
  const permitted = BigInt(`0x${status('CapPrm') || '0'}`);
  const bounding = BigInt(`0x${status('CapBnd') || '0'}`);
  const keep = neededCapabilities(last).filter((c) => (permitted >> BigInt(c)) & 1n);

  if ((prctlFn(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as number) !== 0)
    warnings.push(`no_new_privs: errno ${koffi.errno()}`);
  // The bounding set first: dropping from it needs CAP_SETPCAP, which the capset below removes.
  for (let c = 0; c <= last; c++)
    if (
      !keep.includes(c) &&
      (bounding >> BigInt(c)) & 1n &&
      (prctlFn(PR_CAPBSET_DROP, c, 0, 0, 0) as number) !== 0
    ) {
      warnings.push(`bounding set: errno ${koffi.errno()} dropping capability ${c}`);
      break;
    }
  prctlFn(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); // EINVAL before 4.3: nothing to clear then

  // Groups and gid first (they need CAP_SETGID, which a uid change without root takes away), then the uid with
  // PR_SET_KEEPCAPS so this thread's permitted set survives it; the kernel clears the effective set on the way,
  // and the capset below raises it again. A launcher from before this change has no CAP_SETUID in its bounding set:
  // the ids stay 0 then, with the capabilities still cut (a warning says so).
  if (process.getuid?.() === 0) {
    if ((setgroupsFn(0, null) as number) !== 0) warnings.push(`setgroups: errno ${koffi.errno()}`);
    else if ((setresgidFn(HELPER_GID, HELPER_GID, HELPER_GID) as number) !== 0)
      warnings.push(`setresgid: errno ${koffi.errno()}`);
    else if ((prctlFn(PR_SET_KEEPCAPS, 1, 0, 0, 0) as number) !== 0)
      warnings.push(`keepcaps: errno ${koffi.errno()}`);
    else {
      if ((setresuidFn(HELPER_UID, HELPER_UID, HELPER_UID) as number) !== 0)
        warnings.push(`setresuid: errno ${koffi.errno()}`);
      prctlFn(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    }
  }

  // struct __user_cap_header_struct { u32 version; int pid } + two __user_cap_data_struct { u32 eff, perm, inh }.
  const header = Buffer.alloc(8);
  header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  header.writeInt32LE(0, 4);
  const data = Buffer.alloc(24);
  for (const c of keep) {
    const word = c >> 5;
    const bit = 1 << (c & 31);
    data.writeUInt32LE((data.readUInt32LE(word * 12) | bit) >>> 0, word * 12); // effective
    data.writeUInt32LE((data.readUInt32LE(word * 12 + 4) | bit) >>> 0, word * 12 + 4); // permitted
  }
  if ((capsetFn(header, data) as number) !== 0) warnings.push(`capset: errno ${koffi.errno()}`);

  const report: PrivilegeReport = {
    uid: process.getuid?.() ?? -1,
    gid: process.getgid?.() ?? -1,
    kept: keep.map((c) => CAP_NAMES[c] ?? String(c)),
    capEff: status('CapEff'),
    noNewPrivs: status('NoNewPrivs') === '1',
    warnings,
  };
  log(
    `privileges after attach: uid ${report.uid} gid ${report.gid}, ${report.kept.join(', ') || 'none'} (CapEff ${report.capEff}), no_new_privs ${report.noNewPrivs ? 'on' : 'off'}` +
      (warnings.length ? `; could not: ${warnings.join('; ')}` : ''),
  );
  return report;
}
