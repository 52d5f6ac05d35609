// What a recent profile adds to a CPU-bound process's cause: "runs whenever it can: 99 % of a core; hottest:
// fib (bench.js:12) 64 %". Pure: the views keep the record (tgid → hottest function, share, when) and pass it in.

export interface RecentProfile {
  hottest: string;
  /** Self share of the hottest function, % of the profile's samples. */
  share: number;
  /** When the profile ended, ms since the epoch. */
  at: number;
}

/** Profiles older than this no longer say where a process spends its CPU now. */
export const HINT_MAX_AGE_MS = 60_000;

export function withHottest(
  cause: string,
  label: string,
  recent: RecentProfile | undefined,
  now: number,
): string {
  if (label !== 'CPU-bound' || !recent || now - recent.at > HINT_MAX_AGE_MS) return cause;
  return `${cause}; hottest: ${recent.hottest} ${Math.round(recent.share)} %`;
}
