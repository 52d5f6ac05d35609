// One real helper for a whole kernel test file, and a classifier per test: each test watches the windows that
// arrive after it starts, diagnoses them with a fresh Classifier (no state from earlier tests) and reads ground
// truth from /proc at every window, so assertions compare Hotspot with the kernel over the same span of time.
import { Classifier } from '../../src/shared/diagnosis/classifier';
import { type Config, DEFAULT_CONFIG } from '../../src/shared/diagnosis/config';
import type { Diagnosis, Report } from '../../src/shared/diagnosis/model';
import type { Hello, Message, Window } from '../../src/shared/wire/protocol';
import { type Run, runHelper, stopHelper } from './helper';
import { type ProcTruth, readTruth } from './truth';

export interface Observation {
  reports: Report[];
  windows: Window[];
  /** Per watched pid, its diagnosis in each window (undefined where the window did not list it). */
  diagnoses: Map<number, (Diagnosis | undefined)[]>;
  /** The same windows under the reference rules (`profile: reference`): the label before this engine. */
  before: Map<number, (Diagnosis | undefined)[]>;
  /** Per watched pid, /proc read when each window arrived (index 0: before the first window). */
  truth: Map<number, (ProcTruth | undefined)[]>;
}

export interface WatchOptions {
  /** Stop after this many windows at most. */
  windows: number;
  /** Stop early once this holds (checked after each window). */
  until?: (o: Observation) => boolean;
  config?: Config;
  /** Called after each window (e.g. to read cgroup files at the same moment). */
  onWindow?: (w: Window, o: Observation) => void;
}

export class Observer {
  private constructor(
    readonly run: Run,
    readonly hello: Hello,
  ) {}

  static async start(intervalMs = 1000): Promise<Observer> {
    const run = runHelper(['--interval-ms', String(intervalMs)]);
    const hello = (await run.next((m) => m.type === 'hello', 30_000)) as Hello;
    return new Observer(run, hello);
  }

  private lastSeq(): number {
    for (let i = this.run.messages.length - 1; i >= 0; i--) {
      const m = this.run.messages[i];
      if (m.type === 'window') return m.seq;
    }
    return -1;
  }

  /** Diagnoses `pids` over the windows that start after this call. */
  async watch(pids: readonly number[], o: WatchOptions): Promise<Observation> {
    const c = new Classifier(o.config ?? DEFAULT_CONFIG, this.hello);
    const ref = new Classifier({ ...DEFAULT_CONFIG, profile: 'reference' }, this.hello);
    const obs: Observation = {
      reports: [],
      windows: [],
      diagnoses: new Map(),
      before: new Map(),
      truth: new Map(),
    };
    for (const pid of pids) {
      obs.diagnoses.set(pid, []);
      obs.before.set(pid, []);
      obs.truth.set(pid, []);
    }
    // The first window we use is the one after the next boundary: it starts after this call.
    let seq = this.lastSeq() + 1;
    await this.run.next((m: Message) => m.type === 'window' && m.seq >= seq, 30_000);
    for (const pid of pids) obs.truth.get(pid)!.push(readTruth(pid));
    seq++;
    while (obs.windows.length < o.windows) {
      const w = (await this.run.next((m) => m.type === 'window' && m.seq === seq, 30_000)) as Window;
      seq++;
      for (const pid of pids) obs.truth.get(pid)!.push(readTruth(pid));
      const r = c.classify(w);
      obs.windows.push(w);
      obs.reports.push(r);
      const rr = ref.classify(w);
      for (const pid of pids) {
        obs.diagnoses.get(pid)!.push(r.diagnoses.find((d) => d.tgid === pid));
        obs.before.get(pid)!.push(rr.diagnoses.find((d) => d.tgid === pid));
      }
      o.onWindow?.(w, obs);
      if (o.until?.(obs)) break;
    }
    return obs;
  }

  async stop(): Promise<void> {
    await stopHelper(this.run);
  }
}

/** "OK, OK, Starved (waiting for a CPU 48% …)" — what a test prints when it fails. */
export function story(ds: readonly (Diagnosis | undefined)[], explain: (d: Diagnosis) => string): string {
  return ds.map((d) => (d ? `${d.label} (${explain(d)})` : '-')).join(' | ');
}
