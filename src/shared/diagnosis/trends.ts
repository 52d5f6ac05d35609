// How a process's memory moves over the trend window, kept across windows: the default profile's unreclaimable
// memory (anon + shmem) trend (anonTrend.ts), and the reference profile's RSS tracker. One MemoryTrends per
// classifier. Pure.

import type { ProcSample } from '../wire/protocol';
import { AnonTrends, type GrowthRun } from './anonTrend';
import type { Config } from './config';

export type { GrowthRun };

const MB = 2 ** 20;

/**
 * One process's RSS points over the trend window, in a fixed ring of typed arrays: classifying 10k processes a
 * window then allocates nothing per point (arrays that shift and grow churned the GC).
 */
export class RssHistory {
  private t: Float64Array;
  private mb: Float64Array;
  private win: Float64Array;
  private start = 0;
  private len = 0;
  lastSeen: number;

  constructor(capacity: number, window: number) {
    this.t = new Float64Array(capacity);
    this.mb = new Float64Array(capacity);
    this.win = new Float64Array(capacity);
    this.lastSeen = window;
  }

  push(t: number, mb: number, window: number): void {
    const cap = this.t.length;
    if (this.len === cap) this.grow(cap * 2);
    const i = (this.start + this.len++) % this.t.length;
    this.t[i] = t;
    this.mb[i] = mb;
    this.win[i] = window;
  }

  /** Forgets points older than `window`. */
  trim(window: number): void {
    while (this.len && this.win[this.start] < window) {
      this.start = (this.start + 1) % this.t.length;
      this.len--;
    }
  }

  private grow(cap: number): void {
    const [t, mb, win] = [new Float64Array(cap), new Float64Array(cap), new Float64Array(cap)];
    for (let k = 0; k < this.len; k++) {
      const i = (this.start + k) % this.t.length;
      t[k] = this.t[i];
      mb[k] = this.mb[i];
      win[k] = this.win[i];
    }
    [this.t, this.mb, this.win, this.start] = [t, mb, win, 0];
  }

  private at(k: number): number {
    return (this.start + k) % this.t.length;
  }

  /** isGrowing() over the ring: ≥ 2 points, never decreasing, grown by at least minDeltaMb. */
  growing(minDeltaMb: number): boolean {
    if (this.len < 2) return false;
    for (let k = 1; k < this.len; k++) if (this.mb[this.at(k)] < this.mb[this.at(k - 1)]) return false;
    return this.mb[this.at(this.len - 1)] - this.mb[this.start] >= minDeltaMb;
  }

  /** Least-squares slope of the points, MB/s. */
  slope(): number {
    const n = this.len;
    if (n < 2) return 0;
    let st = 0;
    let sm = 0;
    for (let k = 0; k < n; k++) {
      st += this.t[this.at(k)];
      sm += this.mb[this.at(k)];
    }
    const mt = st / n;
    const mm = sm / n;
    let num = 0;
    let den = 0;
    for (let k = 0; k < n; k++) {
      const dt = this.t[this.at(k)] - mt;
      num += dt * (this.mb[this.at(k)] - mm);
      den += dt * dt;
    }
    return den > 0 ? num / den : 0;
  }
}

/** The trends of every process the classifier has seen, by tgid. */
export class MemoryTrends {
  private readonly history = new Map<number, RssHistory>();
  private readonly trends = new AnonTrends();

  /**
   * Pushes this window's anon + shmem samples of p (at position `at` of the window); returns the run of growth with its rate, null when not growing
   * (minima not rising, or no new high within the process's own rhythm). One object or none: a pair per process
   * and window was 10,000 allocations a window for the common answer "not growing".
   */
  anon(
    cfg: Config,
    p: ProcSample,
    at: number,
    anonBytes: number,
    secs: number,
    tEnd: number,
  ): GrowthRun | null {
    return this.trends.observe(p, at, anonBytes, secs, tEnd, cfg.oom);
  }

  /**
   * The reference's RSS tracker (one point per window; with sub_window_samples, the in-window samples too):
   * [growing, slope in MiB/s].
   */
  reference(
    cfg: Config,
    p: ProcSample,
    rss: number,
    secs: number,
    window: number,
    tEnd: number,
  ): [boolean, number] {
    const ticks = cfg.rss_trend.window_ticks;
    let h = this.history.get(p.tgid);
    if (!h) {
      h = new RssHistory(ticks * (cfg.rss_trend.sub_window_samples ? p.anonSamples.length || 1 : 1), window);
      this.history.set(p.tgid, h);
    }
    h.lastSeen = window;
    h.trim(window - ticks + 1);
    if (cfg.rss_trend.sub_window_samples && p.anonSamples.length > 1) {
      // v2 samples unreclaimable memory only; file-backed RSS is taken as it was at the window's end.
      const file = p.rssFileBytes;
      const k = p.anonSamples.length;
      for (let i = 0; i < k; i++)
        h.push(tEnd - secs + (secs * (i + 1)) / k, (p.anonSamples[i] + file) / MB, window);
    } else h.push(tEnd, rss / MB, window);
    const growing = h.growing(cfg.rss_trend.min_delta_mb);
    return [growing, growing ? h.slope() : 0];
  }

  /**
   * Parity: forget a process the first window it is absent (with a grace, that many windows). The default
   * profile's memory history is kept while it is within the trend window, so an idle window does not reset it.
   */
  prune(cfg: Config, window: number, tEnd: number): void {
    const grace = cfg.rss_trend.absent_grace_windows;
    for (const [tgid, h] of this.history) if (window - h.lastSeen > grace) this.history.delete(tgid); // present ones were just stamped
    const keep = cfg.oom.trend_window_sec;
    if (window % 8 === 0) this.trends.forget(tEnd, keep);
  }
}
