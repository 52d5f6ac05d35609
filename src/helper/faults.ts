// The fault collector's user-space half: picks the attach point this kernel accepts, drains per-TGID fault
// counts each window and peeks at RSS several times per window so a leak's trend shows within one window.
import { existsSync, mkdirSync } from 'node:fs';
import type { FaultAttach } from '../shared/protocol';
import { lib } from './libbpf';
import { LoadError, type LoadedObject, loadObject } from './loader';
import { HashReader, PerCpuArrayReader } from './maps';

const MAX_PROCS = 65536; // bpf/hotspot.h
const PROC_FAULTS_SIZE = 32;

export type KernelFaultAttach = Exclude<FaultAttach, 'procfs'>;
export const DEFAULT_FAULT_ORDER: readonly KernelFaultAttach[] = [
  'tp_btf',
  'raw_tp',
  'tracepoint',
  'fentry',
  'kprobe',
];

const PROGRAM: Record<KernelFaultAttach, string> = {
  tp_btf: 'fault_tp_btf',
  raw_tp: 'fault_raw_tp',
  tracepoint: 'fault_tracepoint',
  fentry: 'fault_fentry',
  kprobe: 'fault_kprobe',
};

export interface FaultProc {
  faults: number;
  rssPages: number;
  comm: string;
}

export interface Attempt {
  attach: KernelFaultAttach;
  error: LoadError;
}

const mount = (() => {
  try {
    const koffi = require('koffi') as typeof import('koffi');
    return koffi
      .load('libc.so.6')
      .func(
        'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)',
      );
  } catch {
    return undefined;
  }
})();

/** `tracepoint/` programs attach through tracefs; mount it only when that candidate is tried and it is missing. */
function ensureTracefs(): void {
  if (existsSync('/sys/kernel/tracing/events') || existsSync('/sys/kernel/debug/tracing/events')) return;
  mkdirSync('/sys/kernel/tracing', { recursive: true });
  mount?.('nodev', '/sys/kernel/tracing', 'tracefs', 0, null);
}

export class FaultCollector {
  readonly obj: LoadedObject;
  readonly attach: KernelFaultAttach;
  /** Candidates that failed before the live one, with libbpf's reason. */
  readonly failed: Attempt[] = [];
  private readonly reader: HashReader;
  private readonly drops: PerCpuArrayReader;

  constructor(file: string, order: readonly KernelFaultAttach[] = DEFAULT_FAULT_ORDER, maxProcs = MAX_PROCS) {
    for (const attach of order) {
      try {
        if (attach === 'tracepoint') ensureTracefs();
        this.obj = loadObject(file, [PROGRAM[attach]], maxProcs === MAX_PROCS ? {} : { faults: maxProcs });
        this.attach = attach;
        this.reader = new HashReader(this.obj.map('faults'), 4, PROC_FAULTS_SIZE, maxProcs);
        this.drops = new PerCpuArrayReader(this.obj.map('drops'), 8, lib.numPossibleCpus() as number);
        return;
      } catch (e) {
        if (!(e instanceof LoadError)) throw e;
        this.failed.push({ attach, error: e });
      }
    }
    const why = this.failed.map((f) => `${f.attach}: ${f.error.message}`).join('; ');
    throw Object.assign(
      new LoadError(
        `no fault attach point works (${why})`,
        this.failed.at(-1)?.error.errno ?? 0,
        this.failed.flatMap((f) => f.error.log),
        'attach',
      ),
      {
        attempts: this.failed,
      },
    );
  }

  /** Reads the per-TGID map; `drain` resets it (once per window), otherwise it is a peek for RSS samples. */
  read(drain: boolean): Map<number, FaultProc> {
    const { keys, values, count } = this.reader.read(drain);
    const out = new Map<number, FaultProc>();
    for (let i = 0; i < count; i++) {
      const o = i * PROC_FAULTS_SIZE;
      const end = values.indexOf(0, o + 16);
      out.set(keys.readUInt32LE(i * 4), {
        faults: Number(values.readBigUInt64LE(o)),
        rssPages: Number(values.readBigUInt64LE(o + 8)),
        comm: values.toString('utf8', o + 16, end < 0 || end > o + 32 ? o + 32 : end),
      });
    }
    return out;
  }

  dropped(): number {
    const buf = this.drops.read(2); // DROP_FAULTS
    let n = 0;
    for (let c = 0; c < this.drops.ncpu; c++) n += Number(buf.readBigUInt64LE(c * 8));
    return n;
  }
}
