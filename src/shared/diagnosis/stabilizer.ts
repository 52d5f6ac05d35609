// Calm labels: a process's diagnosis changes only after the new label held for two windows in a row, except an
// escalation to OOM risk, which shows at once (waiting a window could be too late). While a change is pending the
// previous label, rule and evidence stay, with this window's metrics. A pid reused by another process (another
// name or start time) starts afresh. Pure: used through DiagnosisPipeline (pipeline.ts).
import type { Diagnosis, Label } from './model';

export const HOLD_WINDOWS = 2;

interface State {
  shown: Pick<Diagnosis, 'label' | 'rule' | 'evidence' | 'timeToOomSec' | 'heldFrom'>;
  pending?: Label;
  count: number;
  comm: string;
  startNs: number;
  seenAt: number;
  /** The last diagnosis published for it (shown once more if it skips a window). */
  last: Diagnosis;
}

export class Stabilizer {
  private readonly state = new Map<number, State>();
  private window = 0;

  clear(): void {
    this.state.clear();
    this.window = 0;
  }

  /** Returns the diagnoses with labels held as described above (new objects only where a label is held). */
  apply(diagnoses: readonly Diagnosis[]): Diagnosis[] {
    this.window++;
    const out = diagnoses.map((d) => this.one(d));
    // A process idle for one window keeps its row for that window (rows would blink otherwise); gone after that.
    for (const s of this.state.values()) if (s.seenAt === this.window - 1) out.push(s.last);
    // A process absent for a few windows starts afresh when it comes back (its old label is no evidence).
    for (const [tgid, s] of this.state) if (this.window - s.seenAt > 3) this.state.delete(tgid);
    return out;
  }

  private one(d: Diagnosis): Diagnosis {
    const s = this.state.get(d.tgid);
    if (!s || s.comm !== d.comm || s.startNs !== d.startNs) {
      this.state.set(d.tgid, {
        shown: d,
        count: 0,
        comm: d.comm,
        startNs: d.startNs,
        seenAt: this.window,
        last: d,
      });
      return d;
    }
    s.seenAt = this.window;
    s.count = s.pending === d.label ? s.count + 1 : 1;
    s.pending = d.label;
    if (d.label === s.shown.label || d.label === 'OOM risk' || s.count >= HOLD_WINDOWS) {
      // Shown as it is. The state is updated in place: 10,000 processes a window, most of them unchanged.
      s.shown = d;
      s.pending = undefined;
      s.count = 0;
      s.last = d;
      return d;
    }
    const held = s.shown;
    s.last = {
      ...d,
      label: held.label,
      rule: held.rule,
      evidence: held.evidence,
      timeToOomSec: held.label === 'OOM risk' ? held.timeToOomSec : null,
      heldFrom: held.heldFrom ?? (held as Diagnosis),
    };
    return s.last;
  }
}
