// Windows in, reports out: the one path every consumer takes from a protocol window to what it shows — the
// extension's views, the CLI and `hotspot serve` — so they all show the same labels in the same order.
//   classify (classifier.ts) → hold labels calm (stabilizer.ts) → order once (ordering.ts)
// The order is computed after the stabilizer, since a held label moves a process to another group. Pure.
import type { Window } from '../wire/protocol';
import { Classifier, type HostInfo } from './classifier';
import type { Config } from './config';
import type { Report } from './model';
import { sortBySeverity } from './ordering';
import { Stabilizer } from './stabilizer';

export class DiagnosisPipeline {
  private classifier: Classifier;
  private readonly stabilizer = new Stabilizer();
  private raw: Report | undefined;

  constructor(
    private config: Config,
    host: HostInfo,
  ) {
    this.classifier = new Classifier(config, host);
  }

  /** New thresholds or profile, from the next window on. */
  setConfig(config: Config): void {
    this.config = config;
    this.classifier.setConfig(config);
  }

  /**
   * A new session on the same machine (a restarted helper sends a new hello): the classifier starts afresh, the
   * labels shown stay held as they were.
   */
  restart(host: HostInfo): void {
    this.classifier = new Classifier(this.config, host);
  }

  /** One window → its report: every process, labels held, most severe first. */
  push(w: Window): Report {
    const raw = this.classifier.diagnose(w);
    this.raw = raw;
    const diagnoses = this.stabilizer.apply(raw.diagnoses);
    sortBySeverity(diagnoses);
    return { ...raw, diagnoses };
  }

  /** The last window as classified, before labels were held (which processes were in it). */
  get lastClassified(): Report | undefined {
    return this.raw;
  }
}
