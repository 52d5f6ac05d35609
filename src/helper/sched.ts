// The preemption collector's user-space half: drains bpf/sched.bpf.o's victim→aggressor pair counts per window.
import type { Attach, PreemptPair } from '../shared/protocol';
import { lib } from './libbpf';
import { LoadError, type LoadedObject, loadObject } from './loader';
import { HashReader, PerCpuArrayReader } from './maps';

const MAX_PAIRS = 16384; // bpf/hotspot.h
const DROP_PAIRS = 0;

export class SchedCollector {
  readonly obj: LoadedObject;
  readonly attach: Attach['switch'];
  private readonly pairs: HashReader;
  private readonly drops: PerCpuArrayReader;

  constructor(file: string) {
    let last: LoadError | undefined;
    for (const [attach, prog] of [
      ['tp_btf', 'on_switch'],
      ['raw_tp', 'on_switch_raw'],
    ] as const) {
      try {
        this.obj = loadObject(file, [prog]);
        this.attach = attach;
        this.pairs = new HashReader(this.obj.map('pairs'), 8, 8, MAX_PAIRS);
        this.drops = new PerCpuArrayReader(this.obj.map('drops'), 8, lib.numPossibleCpus() as number);
        return;
      } catch (e) {
        if (!(e instanceof LoadError)) throw e;
        last = e;
      }
    }
    throw last;
  }

  /** Pairs counted since the last call (read and reset). */
  read(): PreemptPair[] {
    const pairs: PreemptPair[] = [];
    const pr = this.pairs.read(true);
    for (let i = 0; i < pr.count; i++) {
      const key = pr.keys.readBigUInt64LE(i * 8);
      pairs.push({
        victim: Number(key >> 32n),
        aggressor: Number(key & 0xffffffffn),
        count: Number(pr.values.readBigUInt64LE(i * 8)),
      });
    }
    return pairs;
  }

  dropped(): number {
    const buf = this.drops.read(DROP_PAIRS);
    let n = 0;
    for (let c = 0; c < this.drops.ncpu; c++) n += Number(buf.readBigUInt64LE(c * 8));
    return n;
  }
}
