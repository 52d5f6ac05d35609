// Once the BPF programs are attached the helper only reads its maps and a few world-readable /proc and /sys files,
// so it gives up what root could otherwise still do: the capability sets (effective, permitted, inheritable,
// ambient and the bounding set) are cut down to what reading BPF maps needs, and no_new_privs is set so nothing it
// could execute regains privileges. Calls libc's capset(2) and prctl(2) through koffi.
//
// Capabilities are per thread on Linux and a thread can only change its own. This runs on the main thread, which
// runs all of the helper's JavaScript (and its synchronous BPF syscalls); threads created later (libuv's pool)
// inherit the reduced sets. Threads that already exist (V8's platform workers, which run no JavaScript) keep theirs.
import { readFileSync } from 'node:fs';
import koffi from 'koffi';

const CAP = { SYS_ADMIN: 21, SYS_RESOURCE: 24, PERFMON: 38, BPF: 39 } as const;
const CAP_NAMES: Record<number, string> = {
  21: 'CAP_SYS_ADMIN',
  24: 'CAP_SYS_RESOURCE',
  38: 'CAP_PERFMON',
  39: 'CAP_BPF',
};
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

const libc = koffi.load('libc.so.6');
const capsetFn = libc.func('int capset(void *hdrp, void *datap)');
const prctlFn = libc.func(
  'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
);

export interface PrivilegeReport {
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

/** Reduces this thread's capabilities to `neededCapabilities()` and sets no_new_privs. Call after attaching. */
export function dropPrivileges(log: (m: string) => void = () => {}): PrivilegeReport {
  const warnings: string[] = [];
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
    kept: keep.map((c) => CAP_NAMES[c] ?? String(c)),
    capEff: status('CapEff'),
    noNewPrivs: status('NoNewPrivs') === '1',
    warnings,
  };
  log(
    `privileges after attach: ${report.kept.join(', ') || 'none'} (CapEff ${report.capEff}), no_new_privs ${report.noNewPrivs ? 'on' : 'off'}` +
      (warnings.length ? `; could not: ${warnings.join('; ')}` : ''),
  );
  return report;
}
