// The default profile's memory trend: every process's unreclaimable memory (anon + shmem, MiB) over the trend
// window, and its current run of growth. Pure.
//
// One table for all processes, a row per process in one Float64Array, instead of an object with two typed arrays
// per process: every process is looked at every window, and the objects' scattered pieces (a map entry, the
// object, its boxed numbers, two array headers, two backing stores) cost more in cache misses than the arithmetic
// on them; the row's figures and its ring of points now sit together.

import type { ProcSample } from '../wire/protocol';

const MB = 2 ** 20;

/** A new high-water mark must exceed the last by this much (MiB): page-granular jitter is not growth. */
const RISE_MB = 1 / 16;

/** A process's current run of growth: how long and how far it has grown, and how fast its trend grows now. */
export interface GrowthRun {
  /** Seconds it has been growing without a pause longer than its own rhythm. */
  sec: number;
  /** MiB grown over that time. */
  mb: number;
  /** The trend's growth rate, MiB/s (> 0). */
  rate: number;
}

/** Points a row holds; when full, neighbouring points are merged into their minimum. */
const CAP = 64;
// A row: whose it is (tgid, -1 when free), when it was last seen (s), where its points are in the ring ([off,
// off + len): trimming moves `off`, so dropping copies nothing), its run of growth (start, the high-water mark and
// when it was set, the usual time between new highs and between samples, the last point), then its points, each
// a time and a value (MiB) side by side.
const TGID = 0;
const SEEN = 1;
const OFF = 2;
const LEN = 3;
const RUN_T = 4;
const RUN_MB = 5;
const HIGH_MB = 6;
const HIGH_T = 7;
const HIGH_GAP = 8;
const SAMPLE_GAP = 9;
const LAST_T = 10;
const LAST_MB = 11;
const P = 12;
const STRIDE = P + 2 * CAP;

/**
 * Each row is a ring of (t, MiB) points over the trend window. When full, neighbouring points are merged into their
 * minimum, which keeps what the trend is judged on (the minima) and bounds the work per process whatever the
 * window length or sample rate.
 *
 * Beside the ring it follows the growth as a run of new high-water marks, which the ring alone cannot see: when
 * growth stops (no new high for longer than the process's own rhythm between highs: one sample for a steady leak,
 * one step for a leak that grows in steps), and how long and how far it has grown, beyond the trend window.
 */
export class AnonTrends {
  private d = new Float64Array(64 * STRIDE);
  /** Per row, the process's start: a pid reused by another process starts a fresh row. */
  private readonly starts: number[] = [];
  private readonly rows = new Map<number, number>(); // tgid → row
  private readonly freed: number[] = [];
  private end = 0;
  /**
   * The row of the process at each position of the last window: windows list processes in much the same order,
   * so the row is usually found there, checked by its tgid, without a map lookup.
   */
  private hint = new Int32Array(64).fill(-1);

  /**
   * Pushes this window's samples of p, at position `at` of its window; returns its run of growth with its rate,
   * null when not growing (minima not rising, or no new high within the process's own rhythm).
   */
  observe(
    p: ProcSample,
    at: number,
    anonBytes: number,
    secs: number,
    tEnd: number,
    o: { trend_window_sec: number; min_trend_sec: number; min_growth_mb_per_sec: number },
  ): GrowthRun | null {
    const b = this.rowOf(p.tgid, p.startNs, at) * STRIDE;
    this.d[b + SEEN] = tEnd;
    const k = p.anonSamples.length;
    // Samples are spread over the window, the last one at its end (as the collector takes them).
    if (k > 0)
      for (let i = 0; i < k; i++) this.push(b, tEnd - secs + (secs * (i + 1)) / k, p.anonSamples[i] / MB);
    else this.push(b, tEnd, anonBytes / MB);
    this.trim(b, tEnd - o.trend_window_sec);
    const rate = this.growth(b, o.min_trend_sec, o.min_growth_mb_per_sec);
    return rate > 0 ? this.run(b, tEnd, rate) : null;
  }

  /** Forgets the processes last seen more than `keep` seconds before `tEnd`. */
  forget(tEnd: number, keep: number): void {
    for (const [tgid, r] of this.rows)
      if (tEnd - this.d[r * STRIDE + SEEN] > keep) {
        this.rows.delete(tgid);
        this.d[r * STRIDE + TGID] = -1;
        this.freed.push(r);
      }
  }

  /** The row of a process, fresh when it is new or its pid now belongs to another process. */
  private rowOf(tgid: number, startNs: number, at: number): number {
    let r = at < this.hint.length ? this.hint[at] : -1;
    if (r < 0 || this.d[r * STRIDE + TGID] !== tgid) {
      const known = this.rows.get(tgid);
      if (known !== undefined) r = known;
      else {
        r = this.freed.pop() ?? this.end++;
        if (r * STRIDE >= this.d.length) this.grow();
        this.rows.set(tgid, r);
        this.starts[r] = Number.NaN; // never equal: starts afresh below
      }
      if (at >= this.hint.length) {
        const hint = new Int32Array(Math.max(2 * this.hint.length, at + 1)).fill(-1);
        hint.set(this.hint);
        this.hint = hint;
      }
      this.hint[at] = r;
    }
    if (this.starts[r] === startNs) return r;
    this.starts[r] = startNs;
    const b = r * STRIDE;
    this.d.fill(0, b, b + STRIDE);
    this.d[b + TGID] = tgid;
    this.d[b + RUN_T] = Number.NaN; // no run yet
    return r;
  }

  private grow(): void {
    const d = new Float64Array(this.d.length * 2);
    d.set(this.d);
    this.d = d;
  }

  private push(b: number, t: number, mb: number): void {
    this.follow(b, t, mb);
    const d = this.d;
    let off = d[b + OFF];
    const len = d[b + LEN];
    if (off + len === CAP) {
      if (len > CAP / 2) this.compact(b);
      else {
        d.copyWithin(b + P, b + P + 2 * off, b + P + 2 * (off + len));
        d[b + OFF] = 0;
      }
      off = d[b + OFF];
    }
    const i = b + P + 2 * (off + d[b + LEN]++);
    d[i] = t;
    d[i + 1] = mb;
  }

  private follow(b: number, t: number, mb: number): void {
    const d = this.d;
    const first = Number.isNaN(d[b + RUN_T]);
    if (first) {
      this.restart(b, t, mb);
    } else if (mb > d[b + HIGH_MB] + RISE_MB) {
      const gap = t - d[b + HIGH_T];
      if (gap > this.resumeAfter(b)) {
        // Growth resumed after a pause: a new run, from the last point before it. The pause is its rhythm until
        // the next high says otherwise (a leak that grows in steps pauses between steps).
        d[b + RUN_T] = d[b + LAST_T];
        d[b + RUN_MB] = d[b + LAST_MB];
        d[b + HIGH_GAP] = gap;
      } else {
        const g = d[b + HIGH_GAP];
        d[b + HIGH_GAP] = g > 0 ? 0.75 * g + 0.25 * gap : gap;
      }
      d[b + HIGH_MB] = mb;
      d[b + HIGH_T] = t;
    } else if (mb < d[b + RUN_MB]) {
      this.restart(b, t, mb); // fell below where the run began: what it grew was freed
    }
    if (!first && t > d[b + LAST_T]) {
      const dt = t - d[b + LAST_T];
      const g = d[b + SAMPLE_GAP];
      d[b + SAMPLE_GAP] = g > 0 ? 0.75 * g + 0.25 * dt : dt;
    }
    d[b + LAST_T] = t;
    d[b + LAST_MB] = mb;
  }

  private restart(b: number, t: number, mb: number): void {
    const d = this.d;
    d[b + RUN_T] = t;
    d[b + RUN_MB] = mb;
    d[b + HIGH_MB] = mb;
    d[b + HIGH_T] = t;
    d[b + HIGH_GAP] = 0;
  }

  /** How long without a new high before growth counts as stopped: a little over the process's own rhythm. */
  private patience(b: number): number {
    return Math.max(1.5 * this.d[b + SAMPLE_GAP], 1.6 * this.d[b + HIGH_GAP]);
  }

  /**
   * A pause up to this long does not end the run when growth resumes (a leak's loop delayed by the scheduler): the
   * run's length keeps counting, though the pause itself reads as stopped while it lasts.
   */
  private resumeAfter(b: number): number {
    return Math.max(2, 4 * this.d[b + SAMPLE_GAP], 4 * this.d[b + HIGH_GAP]);
  }

  /** The current run of growth at `rate`, or null when no new high came within its patience before `now`. */
  private run(b: number, now: number, rate: number): GrowthRun | null {
    const d = this.d;
    const runT = d[b + RUN_T];
    const highT = d[b + HIGH_T];
    if (Number.isNaN(runT) || highT <= runT || now - highT > this.patience(b)) return null;
    return { sec: highT - runT, mb: d[b + HIGH_MB] - d[b + RUN_MB], rate };
  }

  /** Forgets points older than `since` (seconds). */
  private trim(b: number, since: number): void {
    const d = this.d;
    let off = d[b + OFF];
    let len = d[b + LEN];
    while (len && d[b + P + 2 * off] < since) {
      off++;
      len--;
    }
    d[b + OFF] = off;
    d[b + LEN] = len;
  }

  /** Halves the points, keeping the lower of each neighbouring pair (the minima are what the trend reads). */
  private compact(b: number): void {
    const d = this.d;
    const pts = b + P;
    const off = d[b + OFF];
    const end = off + d[b + LEN];
    let j = 0;
    for (let i = off; i + 1 < end; i += 2) {
      const lo = d[pts + 2 * i + 1] <= d[pts + 2 * i + 3] ? i : i + 1;
      d[pts + 2 * j] = d[pts + 2 * lo];
      d[pts + 2 * j++ + 1] = d[pts + 2 * lo + 1];
    }
    if ((end - off) % 2) {
      d[pts + 2 * j] = d[pts + 2 * (end - 1)];
      d[pts + 2 * j++ + 1] = d[pts + 2 * (end - 1) + 1];
    }
    d[b + OFF] = 0;
    d[b + LEN] = j;
  }

  /** Minima of three equal time slices of [from, last]; null when a slice is empty. */
  private minima(b: number, from: number): [number, number, number] | null {
    const d = this.d;
    const pts = b + P;
    const off = d[b + OFF];
    const end = off + d[b + LEN];
    const step = (d[pts + 2 * (end - 1)] - from) / 3;
    let m0 = Infinity;
    let m1 = Infinity;
    let m2 = Infinity;
    for (let i = off; i < end; i++) {
      const ti = d[pts + 2 * i];
      if (ti < from) continue;
      const s = (ti - from) / step;
      const x = d[pts + 2 * i + 1];
      if (s < 1) m0 = Math.min(x, m0);
      else if (s < 2) m1 = Math.min(x, m1);
      else m2 = Math.min(x, m2);
    }
    return m0 === Infinity || m1 === Infinity || m2 === Infinity ? null : [m0, m1, m2];
  }

  /** Least-squares slope (MiB/s) of the points since `from`. */
  private slopeSince(b: number, from: number): number {
    const d = this.d;
    const pts = b + P;
    const off = d[b + OFF];
    const end = off + d[b + LEN];
    let n = 0;
    let st = 0;
    let sv = 0;
    let stt = 0;
    let stv = 0;
    const t0 = from; // centred on `from` for precision (times are seconds since the epoch)
    for (let i = off; i < end; i++) {
      const t = d[pts + 2 * i] - t0;
      if (t < 0) continue;
      const x = d[pts + 2 * i + 1];
      n++;
      st += t;
      sv += x;
      stt += t * t;
      stv += t * x;
    }
    const den = n * stt - st * st;
    return n >= 2 && den > 0 ? (n * stv - st * sv) / den : 0;
  }

  /**
   * Growing when, over at least minTrendSec, the minima of three successive slices rise by at least minRate MiB/s
   * (a bounded sawtooth returns to the same floor, so its minima stay flat). Judged over the whole history, or,
   * while the whole history's minima never fall, over a recent part of it (a leak that began after a flat spell).
   * Returns the growth rate in MiB/s (regression over the recent half), 0 when not growing.
   */
  private growth(b: number, minTrendSec: number, minRate: number): number {
    const d = this.d;
    const pts = b + P;
    const off = d[b + OFF];
    const n = d[b + LEN];
    const end = off + n;
    if (n < 3 || d[pts + 2 * (end - 1) + 1] <= d[pts + 2 * off + 1]) return 0; // the common case: flat or shrinking, O(1)
    const first = d[pts + 2 * off];
    const last = d[pts + 2 * (end - 1)];
    const span = last - first;
    if (span < minTrendSec) return 0;
    const rising = (m: [number, number, number] | null, s: number) =>
      m !== null && m[0] < m[1] && m[1] < m[2] && (m[2] - m[0]) / ((2 * s) / 3) >= minRate;
    const whole = this.minima(b, first);
    let recent = Math.max(minTrendSec, span / 2);
    if (!rising(whole, span)) {
      if (whole === null || whole[1] < whole[0] || whole[2] < whole[1]) return 0;
      // The recent half, then the shortest span believed.
      if (recent >= span || !rising(this.minima(b, last - recent), recent)) {
        recent = minTrendSec;
        if (recent >= span || !rising(this.minima(b, last - recent), recent)) return 0;
      }
    }
    const rate = this.slopeSince(b, last - recent);
    return rate >= minRate && rate > 0 ? rate : 0;
  }
}
