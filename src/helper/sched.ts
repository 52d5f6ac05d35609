// The preemption collector's user-space half: drains bpf/sched.bpf.o's victim→aggressor pair counts per window.
import type { Attach, PreemptPair } from '../shared/protocol';
import { lib } from './libbpf';
import { type LoadedObject, loadFirst } from './loader';
import { HashReader, PerCpuArrayReader } from './maps';

const MAX_PAIRS = 16384; // bpf/hotspot.h
const DROP_PAIRS = 0;

export class SchedCollector {
  readonly obj: LoadedObject;
  readonly attach: Attach['switch'];
  private readonly pairs: HashReader;
  private readonly drops: PerCpuArrayReader;

  constructor(file: string) {
    const alternatives = [
      ['tp_btf', ['on_switch']],
      ['raw_tp', ['on_switch_raw']],
    ] as const;
    [this.obj, this.attach] = loadFirst(file, alternatives, (obj, attach) => [obj, attach] as const);
    this.pairs = new HashReader(this.obj.map('pairs'), 8, 8, MAX_PAIRS);
    this.drops = new PerCpuArrayReader(this.obj.map('drops'), 8, lib.numPossibleCpus() as number);
  }

  /** Pairs counted since the last call (read and reset). */
  read(): PreemptPair[] {
    const pairs: PreemptPair[] = [];
    const pr = this.pairs.read(true);
    for (let i = 0; i < pr.count; i++)
      pairs.push({
        victim: pr.keys.readUInt32LE(i * 8 + 4), // key: victim tgid << 32 | aggressor tgid
        aggressor: pr.keys.readUInt32LE(i * 8),
        count: pr.values.readUInt32LE(i * 8) + pr.values.readUInt32LE(i * 8 + 4) * 4294967296,
      });
    return pairs;
  }

  dropped(): number {
    return this.drops.sum(DROP_PAIRS);
  }
}
