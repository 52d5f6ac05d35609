// The words of one tree row, figure first: at the default sidebar width (~300 px) a row shows the process's name
// and about 25 more characters, so the description leads with the figure that made the label and leaves the
// command line to the tooltip. The full sentence (explain.ts cause()) is in the tooltip and the details.
// vscode-free.
import type { Diagnosis, Peer } from '../shared/diagnosis/model';
import {
  formatBytes,
  formatBytesRate,
  formatCount,
  formatCpu,
  formatDuration,
  formatPercent,
} from '../shared/format';
import { cause } from '../shared/presentation/explain';
import { processName } from './report';

const MiB = 2 ** 20;

/** A peer the kernel could not name (comm "?"): never printed as a name. */
export const knownPeer = (p: Peer): boolean => p.comm !== '?';

/** The first named peer, for "behind yes (123)". */
const firstPeer = (peers: readonly Peer[] | undefined) => peers?.find(knownPeer);

/** A row's description: the cause in a few words, its first figure within the first ~10 characters. */
export function headline(d: Diagnosis): string {
  if (d.heldFrom) return `held: ${headline(d.heldFrom)}`; // the figures that made the label, said as held
  const m = d.metrics;
  switch (d.rule) {
    case 'oom.cgroup':
    case 'oom.host': {
      const tto = d.timeToOomSec ?? m.secondsToLimit;
      const when = tto !== null && tto >= 0 ? `, limit in ~${formatDuration(tto)}` : '';
      return `${formatBytesRate(m.anonSlopeMbPerSec * MiB)} anon${when}`;
    }
    case 'mem_thrashing.pressure':
      return `${formatCount(m.majFaultsPerSec)} major faults/s, memory stalls ${formatPercent(m.memPressure)}`;
    case 'mem_thrashing.refaults':
      return `${formatCount(m.majFaultsPerSec)} major faults/s, ${formatCount(m.memRefaultsPerSec)}/s evicted by its limit`;
    case 'mem_thrashing.major_faults':
      return `${formatCount(m.majFaultsPerSec)} major faults/s`;
    case 'io_bound.disk':
      return `${formatPercent(m.diskWaitPercent)} of its busy time waiting on the disk`;
    case 'starved.throttled':
      return `${formatPercent(m.waitPercent)} of its runnable time held back by its CPU quota`;
    case 'starved.runq': {
      const p = firstPeer(d.behind?.length ? d.behind : d.preemptedBy);
      return `waits ${formatPercent(m.waitPercent)} of its runnable time${p ? `, behind ${processName(p)}` : ''}`;
    }
    case 'noisy_neighbor.caused_wait':
      return `${formatCpu(m.causedWaitCorePercent)} of a core queued behind it`;
    case 'cpu_bound.demand':
      return m.demandCorePercent - m.coreCpuPercent >= 0.05 * m.demandCorePercent
        ? `wants ${formatCpu(m.demandCorePercent)} of a core, gets ${formatCpu(m.coreCpuPercent)}`
        : `${formatCpu(m.coreCpuPercent)} of a core, all it wants`;
    case 'ok':
      return `${formatCpu(m.coreCpuPercent)} of a core, ${formatBytes((m.anonMb ?? m.rssMb) * MiB)} ${m.anonMb !== undefined ? 'anon' : 'RSS'}`;
  }
  return cause(d); // the reference profile's sentences already lead with their figures
}
