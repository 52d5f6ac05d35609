// When the helper reads every process's unreclaimable memory within a window. Pure.
//
// The memory trend judges a sawtooth by its floor (the minima of successive slices must rise for a leak), so the
// readings must be close enough together to land in a sawtooth's trough, and must not keep a fixed phase to a
// periodic workload: read every 2.5 s, a heap built up and freed every 1.5 s is seen at a phase that drifts by a
// quarter period per window, and its readings rise for 20 s like a leak. Two readings a second, whatever the
// window, each moved at random within its slot, leave no such drift (test/unit/rules-default.test.ts sweeps it).

/** Readings per window by default: two a second (at most 20), and at least the window's end and its middle. */
export function rssReadingsPerWindow(intervalMs: number): number {
  return Math.min(20, Math.max(2, Math.ceil(intervalMs / 500)));
}

/**
 * When the k-th reading of a window (0-based; the last is the window's end) is due, in ms after the window's start.
 * Readings before the end move by up to a quarter of their spacing either way, at random (`random()` in [0, 1)).
 */
export function readingDueMs(k: number, readings: number, intervalMs: number, random: () => number): number {
  const tick = intervalMs / readings;
  const jitter = k + 1 < readings ? (random() - 0.5) * 0.5 * tick : 0;
  return (k + 1) * tick + jitter;
}
