// Process groups for the exporters: what each (command name, cgroup) — or each process, with --pid-labels — did in
// the last completed window. Pure: a window and its diagnoses in, a snapshot out. Counters are summed from the
// helper's per-window deltas, so a group keeps what its exited members used; a group with no live member reports
// zeros for GONE_WINDOWS windows and then leaves the snapshot (its series end instead of going stale).

import { LABELS, type Label, type Report } from '../shared/diagnosis/model';
import { isExcluded } from '../shared/presentation/viewFilters';
import type { ProcSample, Window } from '../shared/wire/protocol';

/** Windows a group with no live member still reports (at zero) before its series are dropped. */
export const GONE_WINDOWS = 1;

export interface GroupLabels {
  comm: string;
  cgroup: string;
  pid?: string;
}

export interface GroupFigures {
  labels: GroupLabels;
  /** Live members per diagnosis now (every label present, 0 when none). */
  diagnoses: Record<Label, number>;
  /** The soonest time to OOM among its members; null when none is heading there. */
  timeToOomSec: number | null;
  cpuSec: number;
  waitSec: number;
  throttledSec: number;
  /** Undefined until the helper reports blocked-on-I/O time (a ProcSample field it does not send yet). */
  blockedIoSec?: number;
  majorFaults: number;
  anonBytes: number;
  members: number;
}

export interface Snapshot {
  seq: number;
  /** End of the window, ms since the epoch. */
  ts: number;
  durationSec: number;
  groups: GroupFigures[];
  /** Series left out by the cap, summed over the session. */
  seriesDroppedTotal: number;
  pressure?: { cpu: number; memory: number; io: number };
  memAvailableBytes?: number;
  machineBusyRatio: number;
  helperCpuSec: number;
  helperRssBytes: number;
  processes: number;
}

export interface GroupOptions {
  pidLabels: boolean;
  maxSeries: number;
  hideKernel: boolean;
  /** comm names and pids left out (the config's and --exclude's, plus the helper itself). */
  exclude: readonly string[];
}

interface Group extends GroupFigures {
  key: string;
  gone: number;
}

/**
 * Time a sample waited for the disk (ProcSample.ioWaitNs: io_schedule() waits, the I/O-bound diagnosis's measure);
 * 0 where the session does not measure it (hello.capabilities lacks 'iowait_time').
 */
export function blockedIoNs(p: ProcSample): number {
  return p.ioWaitNs;
}

const CONTAINER =
  /(?:^|[-/])(docker|cri-containerd|containerd|crio|libpod)[-:]([0-9a-f]{12,64})(?:\.scope)?$/;
const UNIT = /\.(service|scope|slice|socket|mount|swap)$/;

/**
 * A short, bounded name for a cgroup path: the container runtime and id when the path tells it, else the systemd
 * unit it ends in, else the path itself.
 */
export function shortCgroup(path: string): string {
  if (path === '' || path === '/') return '/';
  const parts = path.split('/').filter(Boolean);
  const last = parts[parts.length - 1];
  const c = CONTAINER.exec(last);
  if (c) return `${c[1] === 'cri-containerd' ? 'containerd' : c[1]}:${c[2].slice(0, 12)}`;
  if (/^[0-9a-f]{64}$/.test(last)) return `container:${last.slice(0, 12)}`;
  if (UNIT.test(last)) return last;
  return path.startsWith('/') ? path : `/${path}`;
}

function zeroDiagnoses(): Record<Label, number> {
  const out = {} as Record<Label, number>;
  for (const l of LABELS) out[l] = 0;
  return out;
}

/** Series one group exports: a diagnosis gauge per label, the figures, and the optional ones it has. */
function seriesOf(g: GroupFigures): number {
  return LABELS.length + 5 + (g.timeToOomSec !== null ? 1 : 0) + (g.blockedIoSec !== undefined ? 1 : 0);
}

export class Groups {
  private readonly groups = new Map<string, Group>();
  private dropped = 0;
  private helperCpuNs = 0;
  /** Replaced when the helper (re)starts or the config is reloaded. */
  exclude: readonly string[];

  constructor(private readonly opts: GroupOptions) {
    this.exclude = opts.exclude;
  }

  private group(comm: string, cgroupPath: string, pid: number): Group {
    const cgroup = shortCgroup(cgroupPath);
    const key = this.opts.pidLabels ? `${pid}\0${comm}\0${cgroup}` : `${comm}\0${cgroup}`;
    let g = this.groups.get(key);
    if (!g) {
      const labels: GroupLabels = this.opts.pidLabels ? { comm, cgroup, pid: String(pid) } : { comm, cgroup };
      g = {
        key,
        labels,
        diagnoses: zeroDiagnoses(),
        timeToOomSec: null,
        cpuSec: 0,
        waitSec: 0,
        throttledSec: 0,
        majorFaults: 0,
        anonBytes: 0,
        members: 0,
        gone: 0,
      };
      this.groups.set(key, g);
    }
    return g;
  }

  private skip(p: { tgid: number; comm: string; kthread: boolean }): boolean {
    return (this.opts.hideKernel && (p.kthread || p.tgid === 2)) || isExcluded(p, this.exclude);
  }

  /** Folds one window and its (stabilized) diagnoses in; returns what the exporters publish until the next. */
  update(w: Window, report: Report): Snapshot {
    for (const g of this.groups.values()) {
      for (const l of LABELS) g.diagnoses[l] = 0;
      g.timeToOomSec = null;
      g.anonBytes = 0;
      g.members = 0;
    }
    // Counters from the helper's deltas, exited processes included (their counters run up to the exit).
    const exited = new Set<number>();
    const live = new Set<number>(w.quiet ?? []);
    for (const p of w.procs) {
      if (p.exited) exited.add(p.tgid);
      else live.add(p.tgid);
      if (this.skip(p)) continue;
      const g = this.group(p.comm, w.cgroups[p.cg]?.path ?? '', p.tgid);
      g.cpuSec += p.cpuNs / 1e9;
      g.waitSec += p.runqWaitNs / 1e9;
      g.majorFaults += p.majFaults;
      g.blockedIoSec = (g.blockedIoSec ?? 0) + blockedIoNs(p) / 1e9;
    }
    // Gauges from the diagnoses of live processes only: the stabilizer repeats a vanished process's last row once,
    // which would keep an exited burner CPU-bound for a window after it is gone.
    const durationSec = w.durationNs / 1e9;
    let processes = 0;
    for (const d of report.diagnoses) {
      if (!live.has(d.tgid) || exited.has(d.tgid) || this.skip(d)) continue;
      processes++;
      const g = this.group(d.comm, d.cgroup, d.tgid);
      g.members++;
      g.diagnoses[d.label]++;
      g.anonBytes += Math.round(d.metrics.anonMb * 2 ** 20);
      g.throttledSec += (d.metrics.throttledCorePercent / 100) * durationSec;
      if (d.timeToOomSec !== null && (g.timeToOomSec === null || d.timeToOomSec < g.timeToOomSec))
        g.timeToOomSec = d.timeToOomSec;
    }
    for (const [key, g] of this.groups) {
      g.gone = g.members > 0 ? 0 : g.gone + 1;
      if (g.gone > GONE_WINDOWS) this.groups.delete(key);
    }
    this.helperCpuNs += w.self.cpuNs;
    const busy = w.cpuBusyNs.reduce<number>((s, b) => s + (b ?? 0), 0);
    const online = w.cpuBusyNs.filter((b) => b !== null).length || 1;
    return {
      seq: w.seq,
      ts: w.ts,
      durationSec,
      groups: this.capped(),
      seriesDroppedTotal: this.dropped,
      pressure: w.pressure,
      memAvailableBytes: w.memAvailableBytes,
      machineBusyRatio: Math.min(1, busy / (w.durationNs * online)),
      helperCpuSec: this.helperCpuNs / 1e9,
      helperRssBytes: w.self.rssBytes,
      processes,
    };
  }

  /**
   * The groups within --max-series: live ones first, then by CPU used (a stable order, so the same groups stay in
   * from window to window and their counters do not flicker). What does not fit is counted as dropped.
   */
  private capped(): GroupFigures[] {
    const all = [...this.groups.values()];
    let total = 0;
    for (const g of all) total += seriesOf(g);
    if (total <= this.opts.maxSeries) return all;
    all.sort((a, b) => (b.members > 0 ? 1 : 0) - (a.members > 0 ? 1 : 0) || b.cpuSec - a.cpuSec);
    const out: GroupFigures[] = [];
    let used = 0;
    for (const g of all) {
      const n = seriesOf(g);
      if (used + n <= this.opts.maxSeries) {
        out.push(g);
        used += n;
      } else this.dropped += n;
    }
    return out;
  }
}
