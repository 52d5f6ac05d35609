// The preemption collector's user-space half: each window, the victim→aggressor counts of bpf/sched.bpf.o.
// Each CPU counts in its own table, in one of two banks: the helper flips the bank, then reads and zeroes the
// one BPF has stopped writing (both mapped into its memory), and drains the pairs evicted to the shared hash.
import type { Attach, PreemptPair } from '../shared/wire/protocol';
import { SLOT } from './layout';
import { lib, mapShared } from './libbpf';
import { type LoadedObject, loadFirst, type Reuse } from './loader';
import { HashReader, PerCpuArrayReader } from './maps';

// bpf/hotspot.h, bpf/sched.h
const MAX_PAIRS = 16384;
const DROP_PAIRS = 0;
const SLOTS = 1 << 6;
const SLOT_SIZE = SLOT.size;
/** struct slot's fields in 32-bit words. */
const KEY = SLOT.key / 4;
const COUNT = SLOT.count / 4;
/** pid_max can be at most 2^22: a victim and an aggressor fit one exact double as victim × 2^22 + aggressor. */
const PID_SPAN = 2 ** 22;

export class SchedCollector {
  readonly obj: LoadedObject;
  readonly attach: Attach['switch'];
  private readonly pairs: HashReader;
  private readonly drops: PerCpuArrayReader;
  private readonly ncpu: number;
  private readonly shared: ReturnType<typeof mapShared>[];
  /** Each slot as four 32-bit words: key (aggressor, victim), count (low, high). */
  private readonly slots: Uint32Array;
  private readonly bank: Uint32Array;

  /**
   * `shared`: the task collector's `exits` and `blocked` maps, so that on_switch completes exit records and counts
   * blocked time in what it reads (without them on_switch still loads, into maps of its own nobody reads).
   */
  constructor(file: string, shared: Reuse = {}) {
    this.ncpu = lib.numPossibleCpus() as number;
    const sizes = { slots: this.ncpu * 2 * SLOTS };
    const alternatives = [
      ['tp_btf', ['on_switch'], [], sizes],
      ['raw_tp', ['on_switch_raw'], [], sizes],
    ] as const;
    [this.obj, this.attach] = loadFirst(
      file,
      alternatives,
      (obj, attach) => [obj, attach] as const,
      {},
      shared,
    );
    this.pairs = new HashReader(this.obj.map('pairs'), 8, 8, MAX_PAIRS);
    this.drops = new PerCpuArrayReader(this.obj.map('drops'), 8, this.ncpu);
    const slots = mapShared(this.obj.map('slots'), sizes.slots * SLOT_SIZE, true);
    const control = mapShared(this.obj.map('control'), 4, true);
    this.shared = [slots, control];
    this.slots = new Uint32Array(slots.memory, 0, (sizes.slots * SLOT_SIZE) / 4);
    this.bank = new Uint32Array(control.memory, 0, 1);
  }

  /** Pairs counted since the last call (read and reset). */
  read(): PreemptPair[] {
    const counts = new Map<number, number>();
    const add = (victim: number, aggressor: number, n: number) => {
      const k = victim * PID_SPAN + aggressor;
      counts.set(k, (counts.get(k) ?? 0) + n);
    };
    // BPF now writes the other bank; a program that read the bank just before the flip is done long before
    // the reads below reach its slot.
    const old = this.bank[0] & 1;
    this.bank[0] = old ^ 1;
    const w = this.slots;
    for (let cpu = 0; cpu < this.ncpu; cpu++)
      for (
        let i = (cpu * 2 + old) * SLOTS * (SLOT_SIZE / 4), end = i + SLOTS * (SLOT_SIZE / 4);
        i < end;
        i += SLOT_SIZE / 4
      ) {
        const n = w[i + COUNT] + w[i + COUNT + 1] * 4294967296;
        if (n === 0) continue;
        add(w[i + KEY + 1], w[i + KEY], n); // key: victim tgid << 32 | aggressor tgid
        w[i + COUNT] = 0;
        w[i + COUNT + 1] = 0;
      }
    const pr = this.pairs.read(true);
    for (let i = 0; i < pr.count; i++)
      add(
        pr.keys.readUInt32LE(i * 8 + 4),
        pr.keys.readUInt32LE(i * 8),
        pr.values.readUInt32LE(i * 8) + pr.values.readUInt32LE(i * 8 + 4) * 4294967296,
      );
    const pairs: PreemptPair[] = [];
    for (const [k, count] of counts)
      pairs.push({ victim: Math.floor(k / PID_SPAN), aggressor: k % PID_SPAN, count });
    return pairs;
  }

  dropped(): number {
    return this.drops.sum(DROP_PAIRS);
  }

  close(): void {
    for (const m of this.shared) m.unmap();
    this.obj.close();
  }
}
