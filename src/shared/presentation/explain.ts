// Diagnoses in words a developer reads at a glance. Every view (CLI, tree, tooltips, status bar, dashboard,
// copied reports) goes through these two functions. Pure.
//
// cause(d) is one sentence saying why the process has its label: each rule's own sentence, kept with the rule in
// diagnosis/rules/. details(d) gives the figures behind it in a few short lines.

import type { Evidence } from '../diagnosis/model';
import { isDefaultRule, ruleOf } from '../diagnosis/rules';
import type { Explainable } from '../diagnosis/rules/rule';
import { bytes, MiB, named, peer, waitShare } from '../diagnosis/rules/words';
import { formatBytesRate, formatCount, formatCpu, formatDuration, formatPercent, plainText } from '../format';

export type { Explainable };

/** What a missing signal means for the reader (hello.capabilities names). */
const SIGNAL_WORDS: Record<string, string> = {
  preempt_pairs: 'who preempted whom',
  runq_wait: 'run-queue wait',
  rss_split: 'anonymous vs file-backed memory',
  major_faults: 'major faults',
  cgroup_memory: 'cgroup memory limits',
  cgroup_cpu: 'cgroup CPU quotas',
  cgroup_pressure: 'cgroup memory pressure',
  iowait_time: 'time waiting for the disk',
  io_bytes: 'bytes read and written',
};

/** One sentence: the cause of the diagnosis (for OK: what the process is doing), said by the rule that fired. */
export function cause(d: Explainable): string {
  // A held label is said with the figures that made it, and says it is held (this window's may not show it).
  if (d.heldFrom) return `held from an earlier window, when it was: ${cause(d.heldFrom)}`;
  return ruleOf(d).says(d);
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
      return `RSS ${bytes(v)}`;
    case 'rssRatio':
      return `RSS ${formatPercent(100 * v)} of memory`;
    case 'runqWaitPercent':
      return `waiting for a CPU ${formatPercent(v)} of the window`;
    case 'preempted':
      return `preempted ${formatCount(v)} times`;
    case 'preemptsOthers':
      return `preempted others ${formatCount(v)} times`;
    case 'costPerFault':
      return `${v.toFixed(2)} ms of CPU per fault (CPU ÷ faults)`;
    default:
      return `${e.metric}: ${formatCount(v)}`;
  }
}

/** The default profile's figures: CPU, memory, limits, who competes, and what was not measured. */
function defaultDetails(d: Explainable): string[] {
  const m = d.metrics;
  const lines: string[] = [];
  const held =
    m.throttledCorePercent > 0
      ? `, waiting ${formatCpu(m.waitCorePercent)}, throttled ${formatCpu(m.throttledCorePercent)}`
      : `, waiting for a CPU ${formatCpu(m.waitCorePercent)}`;
  lines.push(
    `CPU: runs ${formatCpu(m.coreCpuPercent)} of a core${held} (${formatPercent(m.waitPercent)} of its runnable time)`,
  );
  if (m.cpuQuotaPercent > 0)
    lines.push(
      `CPU quota: ${formatCpu(m.cpuQuotaPercent)} of a core on ${plainText(d.limits?.cpuPath ?? '?')}`,
    );
  const file = Math.max(0, m.rssMb - m.anonMb);
  lines.push(
    `memory: ${bytes(m.anonMb)} anonymous + shmem${m.anonSlopeMbPerSec > 0 ? ` (${formatBytesRate(m.anonSlopeMbPerSec * MiB)})` : ''}, ${bytes(file)} file-backed`,
  );
  lines.push(
    m.memLimitKind === 'cgroup'
      ? `limit: ${bytes(m.memLimitMb)} on cgroup ${plainText(d.limits?.memPath ?? '?')}, ${bytes(m.memRemainingMb)} left`
      : `limit: the machine, ${bytes(m.memRemainingMb)} available`,
  );
  lines.push(
    `page faults: ${formatCount(m.minFaultsPerSec)} minor/s, ${formatCount(m.majFaultsPerSec)} major/s${m.memPressure >= 0 ? `; memory pressure ${formatPercent(m.memPressure)}` : ''}`,
  );
  // Whom it waited behind, by the wait (the preemption count alone cannot tell who hurts whom).
  const behind = named(d.behind ?? []);
  if (behind.length) lines.push(`waited behind ${behind.slice(0, 3).map(waitShare).join(', ')}`);
  else if (named(d.preemptedBy ?? []).length)
    lines.push(
      `preempted by ${named(d.preemptedBy ?? [])
        .slice(0, 3)
        .map((p) => `${peer(p)} (${formatCount(p.count)} times)`)
        .join(', ')}`,
    );
  const holds = named(d.holds ?? []);
  if (holds.length && m.causedWaitCorePercent > 0)
    lines.push(`made others wait: ${holds.slice(0, 3).map(waitShare).join('; ')}`);
  const gaps = (d.missing ?? []).map((s) => SIGNAL_WORDS[s] ?? s);
  if (gaps.length) lines.push(`not measured in this session: ${gaps.join(', ')}`);
  return lines;
}

/** A few short lines with the figures behind the diagnosis, most telling first. */
export function details(d: Explainable): string[] {
  if (d.metrics.waitCorePercent !== undefined && (d.rule === 'ok' || isDefaultRule(d.rule)))
    return defaultDetails(d);
  const lines = (d.evidence ?? []).map(evidenceLine);
  if (d.timeToOomSec !== null) lines.push(`reaches its memory limit in ~${formatDuration(d.timeToOomSec)}`);
  return lines;
}
