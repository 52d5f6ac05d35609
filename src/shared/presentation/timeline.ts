// The session's alert timeline: when each process entered and left each diagnosis. Kept after the process exits,
// so an OOM risk that ended (the leak stopped, or was killed) is still on record. Pure: the caller says which
// processes are still alive.
import type { Diagnosis, Label } from '../diagnosis/model';
import { cause } from './explain';

export interface Episode {
  tgid: number;
  comm: string;
  label: Exclude<Label, 'OK'>;
  /** ms since the epoch: the first and the last window the label held. */
  start: number;
  last: number;
  /** Set once the label no longer holds; `exited` when the process was gone by then. */
  end?: number;
  exited?: boolean;
  /** The cause at the worst point (for OOM risk: the highest RSS). */
  cause: string;
  worstRssMb: number;
  /** How strong the label was in the window its cause comes from (strength()). */
  strength?: number;
}

/** The figure that makes each label worse, to pick the window an episode is told by. */
function strength(d: Diagnosis): number {
  const m = d.metrics;
  switch (d.label) {
    case 'OOM risk':
      return m.rssMb;
    case 'Mem-thrashing':
      return m.majFaultsPerSec ?? m.faultsPerSec;
    case 'I/O-bound':
      return m.diskWaitPercent;
    case 'Starved':
      return m.waitPercent ?? m.preempted;
    case 'Noisy neighbor':
      return m.causedWaitCorePercent ?? m.preemptsOthers;
    default:
      return m.demandCorePercent ?? m.coreCpuPercent;
  }
}

export const MAX_EPISODES = 500;

export class Timeline {
  private readonly open = new Map<string, Episode>();
  readonly episodes: Episode[] = [];

  clear(): void {
    this.open.clear();
    this.episodes.length = 0;
  }

  /**
   * One window: `alerting` are the non-OK diagnoses to record (the views' processes plus any OOM risk on the
   * machine); `present` the pids seen in the window at all; `alive(pid)` is asked about the ones that vanished.
   */
  add(
    ts: number,
    alerting: readonly Diagnosis[],
    present: ReadonlySet<number>,
    alive: (pid: number) => boolean,
  ): void {
    const now = new Set<string>();
    for (const d of alerting) {
      if (d.label === 'OK') continue;
      const key = `${d.tgid}:${d.label}`;
      now.add(key);
      let e = this.open.get(key);
      if (!e) {
        e = {
          tgid: d.tgid,
          comm: d.comm,
          label: d.label,
          start: ts,
          last: ts,
          cause: cause(d),
          worstRssMb: d.metrics.rssMb,
          strength: d.heldFrom ? undefined : strength(d),
        };
        this.open.set(key, e);
        this.episodes.push(e);
        if (this.episodes.length > MAX_EPISODES) this.episodes.splice(0, this.episodes.length - MAX_EPISODES);
      }
      e.last = ts;
      e.worstRssMb = Math.max(e.worstRssMb, d.metrics.rssMb);
      // The episode keeps the words of its strongest window, with the figures that made the label (a window in
      // which the label was only held has none of its own).
      const k = strength(d);
      if (!d.heldFrom && (e.strength === undefined || k >= e.strength)) {
        e.strength = k;
        e.cause = cause(d);
      }
    }
    for (const [key, e] of this.open) {
      if (now.has(key)) continue;
      e.end = ts;
      e.exited = !present.has(e.tgid) && !alive(e.tgid);
      this.open.delete(key);
    }
  }

  /** The latest ended OOM-risk episode of a process that is not at OOM risk again: "was at OOM risk until …". */
  lastEndedOom(): Episode | undefined {
    for (let i = this.episodes.length - 1; i >= 0; i--) {
      const e = this.episodes[i];
      if (e.label === 'OOM risk' && e.end !== undefined && !this.open.has(`${e.tgid}:OOM risk`)) return e;
    }
    return undefined;
  }
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The timeline as CSV (one episode per line), for export. */
export function timelineCsv(episodes: readonly Episode[]): string {
  const rows = ['start,end,pid,process,diagnosis,state,cause'];
  for (const e of episodes)
    rows.push(
      [
        new Date(e.start).toISOString(),
        e.end !== undefined ? new Date(e.end).toISOString() : '',
        String(e.tgid),
        csvField(e.comm),
        e.label,
        e.end === undefined ? 'ongoing' : e.exited ? 'exited' : 'ended',
        csvField(e.cause),
      ].join(','),
    );
  return `${rows.join('\n')}\n`;
}
