// Rows that hold their places across windows: the peers listed under a process, and the processes of a group.
// vscode-free.
import type { Diagnosis, Peer } from '../shared/diagnosis/model';
import { knownPeer } from './rowText';

/** Peers listed under a process, each way (whom it waits behind, whom it makes wait). */
export const PEER_ROWS = 3;
/** Windows a peer row keeps its peer after the peer was last seen, before a newcomer may take its place. */
export const LINGER_WINDOWS = 5;

/** Peers in fixed places: a row, once there, stays (with 0 once its peer no longer holds the CPU), and a newcomer
 *  takes the place of one not seen for LINGER_WINDOWS; so the rows neither come and go nor move. */
export class StickyPeers {
  private readonly slots: { p: Peer; seen: number }[] = [];
  update(peers: readonly Peer[], window: number): Peer[] {
    for (const p of peers.filter(knownPeer).slice(0, PEER_ROWS)) {
      const s = this.slots.find((x) => x.p.tgid === p.tgid);
      if (s) Object.assign(s, { p, seen: window });
      else if (this.slots.length < PEER_ROWS) this.slots.push({ p, seen: window });
      else {
        const stale = this.slots.find((x) => window - x.seen >= LINGER_WINDOWS);
        if (stale) Object.assign(stale, { p, seen: window });
      }
    }
    return this.slots.map((s) => (s.seen === window ? s.p : { ...s.p, count: 0 }));
  }
}

/**
 * Up to `cap` of `ranked` (most telling first) for a group whose rows were `prev`: rows already there keep their
 * places while they stay within twice the cap, newcomers fill the free places in rank order.
 */
export function stickyPick(
  prev: readonly Diagnosis[],
  ranked: readonly Diagnosis[],
  cap: number,
): Diagnosis[] {
  const rank = new Map(ranked.map((d, i) => [d.tgid, i]));
  const now = new Map(ranked.map((d) => [d.tgid, d]));
  const kept = prev
    .filter((d) => (rank.get(d.tgid) ?? Infinity) < 2 * cap)
    .map((d) => now.get(d.tgid) as Diagnosis);
  const keptSet = new Set(kept.map((d) => d.tgid));
  for (const d of ranked) {
    if (kept.length >= cap) break;
    if (!keptSet.has(d.tgid)) kept.push(d);
  }
  return kept.slice(0, cap);
}
