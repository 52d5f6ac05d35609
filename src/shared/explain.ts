// Diagnoses in words a developer reads at a glance. Every view (CLI, tree, tooltips, status bar, dashboard,
// copied reports) goes through these two functions, so the wording lives in one place. Pure.
import { summarize } from './classifier';
import type { Diagnosis, Evidence } from './diagnosis';
import {
  formatBytes,
  formatBytesRate,
  formatCount,
  formatCpu,
  formatDuration,
  formatPercent,
} from './format';

/** One sentence: the cause of the diagnosis (for OK: what the process is doing). */
export function cause(d: Diagnosis): string {
  return summarize(d);
}

function evidenceLine(e: Evidence): string {
  const v = e.value;
  if (typeof v === 'boolean') return `${e.metric}: ${v ? 'yes' : 'no'}`;
  switch (e.metric) {
    case 'coreCpuPercent':
      return `CPU ${formatCpu(v)} of a core`;
    case 'cpuPercent':
      return `CPU ${formatPercent(v)} of the machine`;
    case 'faultsPerSec':
      return `${formatCount(v)} page faults/s`;
    case 'rssMb':
      return `RSS ${formatBytes(v * 2 ** 20)}`;
    case 'rssSlopeMbPerSec':
      return `RSS ${formatBytesRate(v * 2 ** 20)}`;
    case 'runqWaitPercent':
      return `waiting for a CPU ${formatPercent(v)} of the time`;
    case 'preempted':
      return `preempted ${formatCount(v)} times`;
    case 'preemptsOthers':
      return `preempted others ${formatCount(v)} times`;
    default:
      return `${e.metric}: ${formatCount(v)}`;
  }
}

/** A few short lines with the figures behind the diagnosis, most telling first. */
export function details(d: Diagnosis): string[] {
  const lines = d.evidence.map(evidenceLine);
  if (d.timeToOomSec !== null) lines.push(`reaches its memory limit in ~${formatDuration(d.timeToOomSec)}`);
  return lines;
}
