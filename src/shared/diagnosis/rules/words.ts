// The pieces sentences are made of (a process and its pid, a list of them, MiB as bytes), shared by the rules'
// sentences and explain.ts's details. Pure.
import {
  formatBytes,
  formatBytesRate,
  formatCount,
  formatCpu,
  formatDuration,
  formatPercent,
  plainText,
} from '../../format';
import type { Peer } from '../model';
import type { Explainable } from './rule';

export const MiB = 2 ** 20;
export const bytes = (mb: number) => formatBytes(mb * MiB);

export function peer(p: Peer): string {
  return p.comm === '?' ? `pid ${p.tgid}` : `${plainText(p.comm)} (${p.tgid})`;
}

/** Peers the kernel could name: an unnamed one ("?") is never printed as "pid 1" or "? (1)". */
export const named = (peers: readonly Peer[]) => peers.filter((p) => p.comm !== '?');

/** "a (1)", "a (1) and b (2)", "a (1), b (2) and c (3)". */
export function names(peers: readonly Peer[], max: number): string {
  const ns = named(peers).slice(0, max).map(peer);
  return ns.length <= 1 ? (ns[0] ?? '') : `${ns.slice(0, -1).join(', ')} and ${ns[ns.length - 1]}`;
}

/** "yes (123): 40% of a core": a holder or a victim with the wait between them (Peer.count in ns per s). */
export function waitShare(p: Peer): string {
  return `${peer(p)}: ${formatCpu(p.count / 1e7)} of a core`;
}

/** The signal (hello.capabilities name) was wanted but this session does not deliver it. */
export const missing = (d: Explainable, signal: string) => d.missing?.includes(signal) ?? false;

/** What an OK process is doing, and the nearest thing worth knowing about it. */
export function okSentence(d: Explainable): string {
  const m = d.metrics;
  const parts = [`${formatCpu(m.coreCpuPercent)} of a core`];
  if (m.anonMb !== undefined) parts.push(`${bytes(m.anonMb)} anonymous`);
  else parts.push(`RSS ${bytes(m.rssMb)}`);
  if (m.majFaultsPerSec >= 1)
    parts.push(`reads ${formatCount(m.majFaultsPerSec)} pages/s from disk (no memory pressure)`);
  else if (m.anonSlopeMbPerSec > 0)
    parts.push(
      `growing ${formatBytesRate(m.anonSlopeMbPerSec * MiB)}, limit in ~${formatDuration(m.secondsToLimit)}`,
    );
  else if (m.waitPercent >= 10 && m.waitCorePercent >= 5)
    parts.push(`waits for a CPU ${formatPercent(m.waitPercent)} of the time it wants to run`);
  return parts.join(', ');
}
