// The order every view shows diagnoses in: most severe label first, then within a label by its rule's rank
// (rules/, higher first), then by pid. One definition, two ways to apply it that agree exactly: sortBySeverity
// for a whole window (packed keys, sorted natively) and bySeverity for a comparison (alertOf, small lists).
// A rank that is not a number (a ratio of zeros) sorts last within its label rather than corrupting the order.
import { type Diagnosis, type Report, SEVERITY } from './model';
import { rankOf } from './rules';

/** The rank as the order reads it: NaN last (below -Infinity's peers). */
function keyOf(d: Diagnosis): number {
  const k = rankOf(d);
  return Number.isNaN(k) ? -Infinity : k;
}

/** Negative when a comes first. */
export function bySeverity(a: Diagnosis, b: Diagnosis): number {
  const s = SEVERITY[b.label] - SEVERITY[a.label];
  if (s) return s;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return kb > ka ? 1 : kb < ka ? -1 : a.tgid - b.tgid;
}

const LOW = 2 ** 16;
/** The packed key: 0.001 steps over ±2,147,483 — monotonic in the rank, so it groups but cannot misorder. */
const coarse = (k: number) => Math.min(2 ** 32 - 1, Math.max(0, Math.round(k * 1000 + 2 ** 31)));
/** x mod LOW for a non-negative integer below 2^53, exactly, without the floating-point remainder's libm call. */
const low = (x: number) => x - Math.floor(x / LOW) * LOW;
/** Runs this short that need re-sorting are sorted in place by insertion (a typed-array sort's set-up costs more). */
const SHORT_RUN = 16;

/**
 * Sorts in place in bySeverity's order, each key computed once and the sort native: a comparator sort of 10,000
 * diagnoses costs as much as classifying them. Each diagnosis becomes one number — severity, its rank rounded and
 * clamped, its pid's rank — sorted natively; then each run whose rounded ranks are equal is checked against the
 * exact ranks and, only where they differ, sorted by the comparator. Windows of 65,536 or more take the comparator.
 */
export function sortBySeverity(ds: Diagnosis[]): void {
  const n = ds.length;
  if (n >= LOW) {
    ds.sort(bySeverity);
    return;
  }
  // The pid's rank (ties by position, so duplicates stay distinct) and the way back from rank to position. A
  // window listed in pid order (as collectors walk the task list) needs no sort for it.
  const { at, tgidRank, byTgid, keys, packed, order } = scratch(n);
  let ascending = true;
  for (let i = 1; i < n; i++)
    if (ds[i].tgid < ds[i - 1].tgid) {
      ascending = false;
      break;
    }
  if (ascending)
    for (let i = 0; i < n; i++) {
      at[i] = i;
      tgidRank[i] = i;
    }
  else {
    for (let i = 0; i < n; i++) byTgid[i] = ds[i].tgid * LOW + i;
    byTgid.sort();
    for (let r = 0; r < n; r++) {
      const i = low(byTgid[r]);
      at[r] = i;
      tgidRank[i] = r;
    }
  }
  for (let i = 0; i < n; i++) {
    keys[i] = keyOf(ds[i]);
    const high = SEVERITY[ds[i].label] * 2 ** 32 + coarse(keys[i]); // larger = earlier
    packed[i] = (2 ** 37 - 1 - high) * LOW + tgidRank[i]; // exact: < 2^53 while severity < 32
  }
  packed.sort();
  // Positions in order; a run of equal severity and rounded rank is in order already unless two exact ranks
  // differ the wrong way, and only then sorted, in place (no array or closure per run: runs are common when
  // many processes use a similar sliver of CPU).
  for (let r = 0; r < n; r++) order[r] = at[low(packed[r])];
  /** Positive when position a goes after position b: bySeverity within a run (same severity). */
  const byExactRank = (a: number, b: number) => keys[b] - keys[a] || tgidRank[a] - tgidRank[b];
  let runStart = 0;
  for (let r = 1; r <= n; r++) {
    if (r < n && Math.floor(packed[r] / LOW) === Math.floor(packed[runStart] / LOW)) continue;
    for (let q = runStart + 1; q < r; q++)
      if (keys[order[q - 1]] < keys[order[q]]) {
        if (r - runStart <= SHORT_RUN) insertionSort(order, runStart, r, byExactRank);
        else order.subarray(runStart, r).sort(byExactRank);
        break;
      }
    runStart = r;
  }
  const copy = ds.slice();
  for (let r = 0; r < n; r++) ds[r] = copy[order[r]];
}

/**
 * The sort's working arrays, kept from window to window: every element is written before it is read, so they need
 * no clearing, and six zeroed buffers of the window's size were allocated per window before (~50 bytes a process).
 * Nothing sortBySeverity calls sorts a window again, so one set serves every caller.
 */
let f64 = new Float64Array(0);
let u32 = new Uint32Array(0);
function scratch(n: number) {
  if (f64.length < 3 * n) {
    const size = Math.min(LOW, Math.max(n, 2 * (f64.length / 3)));
    f64 = new Float64Array(3 * size);
    u32 = new Uint32Array(3 * size);
  }
  return {
    byTgid: f64.subarray(0, n),
    keys: f64.subarray(n, 2 * n),
    packed: f64.subarray(2 * n, 3 * n),
    at: u32.subarray(0, n),
    tgidRank: u32.subarray(n, 2 * n),
    order: u32.subarray(2 * n, 3 * n),
  };
}

/** Sorts xs[from, to) by `after` (positive: the first goes after the second), in place. */
function insertionSort(
  xs: Uint32Array,
  from: number,
  to: number,
  after: (a: number, b: number) => number,
): void {
  for (let i = from + 1; i < to; i++) {
    const x = xs[i];
    let j = i - 1;
    for (; j >= from && after(xs[j], x) > 0; j--) xs[j + 1] = xs[j];
    xs[j + 1] = x;
  }
}

/** The single most severe non-OK diagnosis, for the status bar (OOM > Mem-thrashing > Starved > Noisy > CPU-bound). */
export function alertOf(report: Report): Diagnosis | undefined {
  let best: Diagnosis | undefined;
  for (const d of report.diagnoses) if (d.label !== 'OK' && (!best || bySeverity(d, best) < 0)) best = d;
  return best;
}
