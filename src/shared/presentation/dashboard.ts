// The dashboard's model and the typed messages between the extension and its webview. Pure (no vscode, no DOM):
// the extension builds DashboardModel from reports, the webview only renders it.

import { type CoreLoad, type Diagnosis, type Label, type Report, SEVERITY } from '../diagnosis/model';
import { pressureText } from '../format';
import { cause, details } from './explain';
import type { Episode } from './timeline';

export interface ProcessSeries {
  tgid: number;
  comm: string;
  label: Label;
  /** cause(d): one sentence. */
  summary: string;
  /** details(d): the figures behind it, for the expanded card. */
  details: string[];
  /** It had a diagnosis other than OK at some point (its card outlives it for a few windows). */
  alerted?: boolean;
  /** Not seen this window (idle or exited): the card stays in its place, greyed, until it ages out. */
  absent?: boolean;
  timeToOomSec: number | null;
  /** One point per window, oldest first; NaN where the process was absent (a gap in the sparkline). */
  cpuPercent: number[];
  rssMb: number[];
  faultsPerSec: number[];
}

/** One line of the "All processes" table: every shown process, not only the ones with sparklines. */
export interface ProcessRow {
  tgid: number;
  comm: string;
  label: Label;
  coreCpuPercent: number;
  rssMb: number;
  summary: string;
}

/** One line of the alert timeline, newest first. */
export interface TimelineRow {
  key: string;
  tgid: number;
  comm: string;
  label: Label;
  start: number;
  /** Last window the label held. */
  last: number;
  state: 'ongoing' | 'ended' | 'exited';
  cause: string;
}

export const MAX_TIMELINE_ROWS = 200;

export interface PreemptEdge {
  victim: { tgid: number; comm: string };
  aggressor: { tgid: number; comm: string };
  /** With `unit: 'wait'` the victim's wait behind the aggressor, % of one core; with 'count', its preemptions. */
  count: number;
  unit?: 'wait' | 'count';
}

/** Pairs listed in the preemption section; a pair stays EDGE_LINGER windows after it was last seen. */
export const MAX_EDGES = 8;
export const EDGE_LINGER = 5;

export interface DashboardModel {
  seq: number;
  ts: number;
  source: string;
  processes: ProcessSeries[];
  /** Every shown process (most severe first), capped at MAX_ROWS. */
  rows: ProcessRow[];
  /** How many were shown before the cap. */
  totalShown: number;
  timeline: TimelineRow[];
  edges: PreemptEdge[];
  cores: CoreLoad[];
  perCoreSaturation: number[];
  self: { cpuPercentOfCore: number[]; rssMb: number; drainMs: number };
  drops: Record<string, number>;
  /** e.g. "pressure: cpu 3% · memory 12% · io 0%", '' without PSI. */
  pressure: string;
}

/** Extension → webview. */
export type ToWebview =
  | { type: 'model'; model: DashboardModel }
  | { type: 'reveal'; tgid: number }
  /** Open and scroll to a section (e.g. the alert timeline). */
  | { type: 'section'; key: string }
  /** The session ended or a new one began: clear everything and show this instead. */
  | { type: 'reset'; text: string };

/** Webview → extension. */
export type FromWebview =
  | { type: 'ready' }
  /** Show only this process and its descendants. */
  | { type: 'filter'; tgid: number }
  /** Select this process in the Diagnoses tree (an aggressor, a table row). */
  | { type: 'reveal'; tgid: number };

export function isFromWebview(m: unknown): m is FromWebview {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  if (o.type === 'ready') return true;
  return (o.type === 'filter' || o.type === 'reveal') && Number.isInteger(o.tgid) && (o.tgid as number) > 0;
}

export const MAX_SERIES = 40;
export const MAX_ROWS = 1000;
/** Windows a process may be absent before its card goes (an exited process is not news for long). */
export const ABSENT_WINDOWS = 5;

const push = (series: number[], v: number, max: number) => {
  series.push(v);
  if (series.length > max) series.splice(0, series.length - max);
};

/**
 * Keeps the last `maxWindows` windows per process for the sparklines. A process that stops appearing keeps its
 * series (padded with gaps) until all of its points have scrolled out.
 */
export class DashboardHistory {
  private readonly series = new Map<number, ProcessSeries>();
  /** The label each card was last seen with: an absent card keeps that place in the order (see add()). */
  private readonly lastLabel = new Map<number, Label>();
  private readonly selfCpu: number[] = [];
  private readonly edges = new Map<string, { e: PreemptEdge; seen: number }>();
  private window = 0;

  constructor(private maxWindows = 60) {}

  setMaxWindows(n: number): void {
    this.maxWindows = n;
  }

  clear(): void {
    this.series.clear();
    this.lastLabel.clear();
    this.selfCpu.length = 0;
    this.edges.clear();
  }

  private rank(s: ProcessSeries): number {
    return SEVERITY[(s.absent && this.lastLabel.get(s.tgid)) || s.label];
  }

  /**
   * Adds one report; `shown` are the diagnoses in view (scoped and filtered, most severe first). Only the first
   * MAX_SERIES get sparklines: with scope "all" a machine has thousands, and the webview is for the ones that matter.
   */
  add(
    report: Report,
    shown: readonly Diagnosis[],
    source: string,
    drops: Record<string, number>,
    episodes: readonly Episode[] = [],
  ): DashboardModel {
    const max = this.maxWindows;
    const seen = new Set<number>();
    for (const [rank, d] of shown.entries()) {
      seen.add(d.tgid);
      // New series only for the most severe; one already drawn keeps going while the process is shown.
      if (rank >= MAX_SERIES && !this.series.has(d.tgid)) continue;
      let s = this.series.get(d.tgid);
      if (!s || s.comm !== d.comm) {
        s = {
          tgid: d.tgid,
          comm: d.comm,
          label: d.label,
          summary: '',
          details: [],
          timeToOomSec: null,
          cpuPercent: [],
          rssMb: [],
          faultsPerSec: [],
        };
        this.series.set(d.tgid, s);
      }
      s.label = d.label;
      s.absent = false;
      this.lastLabel.set(d.tgid, d.label);
      if (d.label !== 'OK') s.alerted = true;
      s.summary = cause(d);
      s.details = details(d);
      s.timeToOomSec = d.timeToOomSec;
      push(s.cpuPercent, d.metrics.coreCpuPercent, max);
      push(s.rssMb, d.metrics.rssMb, max);
      push(s.faultsPerSec, d.metrics.faultsPerSec, max);
    }
    for (const [tgid, s] of this.series) {
      if (seen.has(tgid)) continue;
      push(s.cpuPercent, Number.NaN, max);
      push(s.rssMb, Number.NaN, max);
      push(s.faultsPerSec, Number.NaN, max);
      s.label = 'OK';
      s.absent = true;
      const was = this.lastLabel.get(tgid) ?? 'OK';
      s.summary = was === 'OK' ? 'not seen this window' : `was ${was} when last seen`;
      s.details = [];
      s.timeToOomSec = null;
      // A process that was only ever OK is not news once it is gone (short-lived tools would fill the page);
      // one that raised a diagnosis stays a few windows so its end can be seen.
      const recent = s.cpuPercent.slice(-ABSENT_WINDOWS);
      if (!s.alerted || (recent.length >= Math.min(ABSENT_WINDOWS, max) && recent.every(Number.isNaN))) {
        this.series.delete(tgid);
        this.lastLabel.delete(tgid);
      }
    }
    push(this.selfCpu, report.self.cpuPercentOfCore, max);

    // Who made whom wait, by the wait caused (a count of preemptions cannot tell who hurts whom: two loops
    // sharing a CPU preempt each other about equally); the reference profile, which has no waits, by count. One
    // unit per list: a victim whose wait was too small to attribute is not listed by its count beside the waits.
    const edges: PreemptEdge[] = [];
    const byWait = report.profile !== 'reference';
    for (const d of shown) {
      for (const a of byWait ? (d.behind ?? []) : (d.preemptedBy ?? []))
        if (a.comm !== '?')
          edges.push({
            victim: { tgid: d.tgid, comm: d.comm },
            aggressor: { tgid: a.tgid, comm: a.comm },
            count: byWait ? a.count / 1e7 : a.count,
            unit: byWait ? 'wait' : 'count',
          });
    }
    edges.sort((a, b) => b.count - a.count);
    this.window++;
    // A stable list: a pair keeps its place for a few windows after it was last seen (at 0), newcomers take free
    // places, so the section neither reorders nor changes height with every window.
    for (const e of edges) {
      const key = `${e.aggressor.tgid}>${e.victim.tgid}`;
      const had = this.edges.get(key);
      if (had) Object.assign(had, { e, seen: this.window });
      else if (this.edges.size < MAX_EDGES) this.edges.set(key, { e, seen: this.window });
    }
    for (const [key, x] of this.edges)
      if (this.window - x.seen >= EDGE_LINGER) this.edges.delete(key);
      else if (x.seen !== this.window) x.e = { ...x.e, count: 0 };

    return {
      seq: report.seq,
      ts: report.ts,
      source,
      // Most severe first, as in the tree. A card whose process went idle or exited keeps the place its last label
      // gave it (greyed) until it ages out, so it does not jump to the end of the page under the reader's eyes.
      processes: [...this.series.values()].sort((a, b) => this.rank(b) - this.rank(a)),
      rows: shown.slice(0, MAX_ROWS).map((d) => ({
        tgid: d.tgid,
        comm: d.comm,
        label: d.label,
        coreCpuPercent: d.metrics.coreCpuPercent,
        rssMb: d.metrics.rssMb,
        summary: cause(d),
      })),
      totalShown: shown.length,
      timeline: episodes
        // An episode that ended after a single window was a blip the tree never held long enough to read.
        .filter((e) => e.end === undefined || e.last > e.start)
        .slice(-MAX_TIMELINE_ROWS)
        .reverse()
        .map((e) => ({
          key: `${e.tgid}:${e.label}:${e.start}`,
          tgid: e.tgid,
          comm: e.comm,
          label: e.label,
          start: e.start,
          last: e.last,
          state: e.end === undefined ? 'ongoing' : e.exited ? 'exited' : 'ended',
          cause: e.cause,
        })),
      edges: [...this.edges.values()].map((x) => x.e),
      cores: report.cores,
      perCoreSaturation: report.perCoreSaturation.map((c) => c.cpu),
      self: { cpuPercentOfCore: [...this.selfCpu], rssMb: report.self.rssMb, drainMs: report.self.drainMs },
      drops,
      pressure: pressureText(report.pressure),
    };
  }
}
