// Diagnoses in words a developer reads at a glance. Every view (CLI, tree, tooltips, status bar, dashboard,
// copied reports) goes through these two functions, so the wording lives in one place. Pure.
//
// cause(d) is one sentence saying why the process has its label, from the rule that fired, its metrics and the
// processes it competes with. details(d) gives the figures behind it in a few short lines.
import type { Diagnosis, Evidence, Peer } from './diagnosis';
import {
  formatBytes,
  formatBytesRate,
  formatCount,
  formatCpu,
  formatDuration,
  formatPercent,
  plainText,
} from './format';

const MiB = 2 ** 20;
const bytes = (mb: number) => formatBytes(mb * MiB);

/** What a missing signal means for the reader (hello.capabilities names). */
const SIGNAL_WORDS: Record<string, string> = {
  preempt_pairs: 'who preempted whom',
  runq_wait: 'run-queue wait',
  rss_split: 'anonymous vs file-backed memory',
  major_faults: 'major faults',
  cgroup_memory: 'cgroup memory limits',
  cgroup_cpu: 'cgroup CPU quotas',
  cgroup_pressure: 'cgroup memory pressure',
};

/** The input views hand in: a whole Diagnosis, or (older callers, tests) the part that carries label and numbers. */
export type Explainable = Pick<Diagnosis, 'label' | 'metrics' | 'timeToOomSec'> & Partial<Diagnosis>;

/** "yes (123): 40% of a core": a holder or a victim with the wait between them (Peer.count in ns per s). */
function waitShare(p: Peer): string {
  return `${peer(p)}: ${formatCpu(p.count / 1e7)} of a core`;
}

function peer(p: Peer): string {
  return p.comm === '?' ? `pid ${p.tgid}` : `${plainText(p.comm)} (${p.tgid})`;
}

/** "a (1)", "a (1) and b (2)", "a (1), b (2) and c (3)". */
function names(peers: readonly Peer[], max: number): string {
  const ns = peers.slice(0, max).map(peer);
  return ns.length <= 1 ? (ns[0] ?? '') : `${ns.slice(0, -1).join(', ')} and ${ns[ns.length - 1]}`;
}

const missing = (d: Explainable, signal: string) => d.missing?.includes(signal) ?? false;

function cpuCause(d: Explainable): string {
  const m = d.metrics;
  switch (d.rule) {
    case 'starved.throttled':
      return `throttled by its cgroup's CPU quota (cpu.max ${formatCpu(m.cpuQuotaPercent)}), held back ${formatPercent(m.waitPercent)} of the time it wants to run`;
    case 'starved.runq': {
      const base = `waiting for a CPU ${formatPercent(m.waitPercent)} of the time`;
      const behind = d.behind?.length ? d.behind : (d.preemptedBy ?? []);
      if (behind.length) return `${base}, behind ${names(behind, 2)}`;
      if (missing(d, 'preempt_pairs')) return `${base} (who holds the CPU is not measured in degraded mode)`;
      return `${base}, gets ${formatCpu(m.coreCpuPercent)} of a core`;
    }
    case 'noisy_neighbor.caused_wait': {
      const victims = d.holds?.length ? d.holds : (d.preempts ?? []);
      return `its running makes others wait ${formatCpu(m.causedWaitCorePercent)} of a core${victims.length ? `, mostly ${names(victims, 2)}` : ''}`;
    }
    case 'cpu_bound.demand':
      return m.demandCorePercent - m.coreCpuPercent >= 0.05 * m.demandCorePercent
        ? `wants ${formatCpu(m.demandCorePercent)} of a core, gets ${formatCpu(m.coreCpuPercent)}`
        : `runs whenever it can: ${formatCpu(m.coreCpuPercent)} of a core`;
  }
  return '';
}

function memoryCause(d: Explainable): string {
  const m = d.metrics;
  const tto = d.timeToOomSec ?? m.secondsToLimit;
  const when = tto !== null && tto >= 0 ? ` in ~${formatDuration(tto)}` : '';
  switch (d.rule) {
    case 'oom.cgroup':
      return `anonymous memory ${formatBytesRate(m.anonSlopeMbPerSec * MiB)}, reaches its cgroup's ${bytes(m.memLimitMb)} limit${when}`;
    case 'oom.host':
      return `anonymous memory ${formatBytesRate(m.anonSlopeMbPerSec * MiB)}, uses up the machine's available ${bytes(m.memRemainingMb)}${when}`;
    case 'mem_thrashing.pressure':
      return `reads ${formatCount(m.majFaultsPerSec)} pages/s back from disk or swap (major faults) while memory stalls ${formatPercent(m.memPressure)} of the time`;
    case 'mem_thrashing.major_faults':
      return `reads ${formatCount(m.majFaultsPerSec)} pages/s back from disk or swap (major faults); memory pressure not measured`;
  }
  return '';
}

/** The reference profile's rules, in the spirit of its Focus summaries but in the shared units. */
function referenceCause(d: Explainable): string {
  const m = d.metrics;
  switch (d.label) {
    case 'OOM risk': {
      const tto = d.timeToOomSec;
      return `RSS ${bytes(m.rssMb)} growing ${formatBytesRate((m.rssSlopeMbPerSec ?? 0) * MiB)}, ${formatCount(m.faultsPerSec)} faults/s${tto !== null ? `, fills memory in ~${formatDuration(tto)}` : ''}`;
    }
    case 'Mem-thrashing':
      return `${formatCount(m.faultsPerSec)} page faults/s, ${formatCpu(m.coreCpuPercent)} of a core`;
    case 'Starved':
      return d.rule === 'starved.runq_wait_percent'
        ? `waiting for a CPU ${formatPercent(m.runqWaitPercent ?? 0)} of the window, gets ${formatCpu(m.coreCpuPercent)} of a core`
        : `preempted ${formatCount(m.preempted)} times, gets ${formatCpu(m.coreCpuPercent)} of a core`;
    case 'Noisy neighbor':
      return `preempted others ${formatCount(m.preemptsOthers)} times, ${formatCpu(m.coreCpuPercent)} of a core`;
    case 'CPU-bound':
      return `${formatCpu(m.coreCpuPercent)} of a core, ${formatCount(m.faultsPerSec)} faults/s`;
  }
  return '';
}

/** What an OK process is doing, and the nearest thing worth knowing about it. */
function okCause(d: Explainable): string {
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
    parts.push(`waits for a CPU ${formatPercent(m.waitPercent)} of the time`);
  return parts.join(', ');
}

/** One sentence: the cause of the diagnosis (for OK: what the process is doing). */
export function cause(d: Explainable): string {
  if (d.label === 'OK') return okCause(d);
  return cpuCause(d) || memoryCause(d) || referenceCause(d);
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
  if (d.preemptedBy?.length)
    lines.push(
      `preempted by ${d.preemptedBy
        .slice(0, 3)
        .map((p) => `${peer(p)} ×${p.count}`)
        .join(', ')}`,
    );
  if (d.behind?.length) lines.push(`waited behind ${d.behind.slice(0, 3).map(waitShare).join(', ')}`);
  if (d.holds?.length && m.causedWaitCorePercent > 0)
    lines.push(`made others wait: ${d.holds.slice(0, 3).map(waitShare).join('; ')}`);
  const gaps = (d.missing ?? []).map((s) => SIGNAL_WORDS[s] ?? s);
  if (gaps.length) lines.push(`not measured in this session: ${gaps.join(', ')}`);
  return lines;
}

const DEFAULT_RULE =
  /^(oom\.(cgroup|host)|mem_thrashing\.(pressure|major_faults)|starved\.(runq|throttled)|noisy_neighbor\.caused_wait|cpu_bound\.demand)$/;

/** A few short lines with the figures behind the diagnosis, most telling first. */
export function details(d: Explainable): string[] {
  if (d.metrics.waitCorePercent !== undefined && (d.rule === 'ok' || DEFAULT_RULE.test(d.rule ?? '')))
    return defaultDetails(d);
  const lines = (d.evidence ?? []).map(evidenceLine);
  if (d.timeToOomSec !== null) lines.push(`reaches its memory limit in ~${formatDuration(d.timeToOomSec)}`);
  return lines;
}
