// Terminal rendering of a Report: grouped by diagnosis (most severe first), top-K rows each, with the *why*.
// Process names come from outside (any program picks its own comm): they pass through plainText before they reach
// the terminal, so a name cannot carry escape sequences (retitle, clear, hyperlinks) into the user's TTY.

import type { Diagnosis, Label, Report } from '../shared/diagnosis/model';
import { SEVERITY } from '../shared/diagnosis/model';
import {
  formatBytes,
  formatCount,
  formatCpu,
  formatPercent,
  plainText,
  pressureText,
} from '../shared/format';
import { cause } from '../shared/presentation/explain';

const COLOUR: Record<Label, string> = {
  'OOM risk': '\x1b[1;31m',
  'Mem-thrashing': '\x1b[35m',
  'I/O-bound': '\x1b[33m',
  Starved: '\x1b[33m',
  'Noisy neighbor': '\x1b[36m',
  'CPU-bound': '\x1b[34m',
  OK: '\x1b[32m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

export interface RenderOptions {
  colour: boolean;
  topK: number;
  /** How the helper is attached, e.g. "switch tp_btf · tasks iter · exit tp_btf". */
  attach: string;
  showOk?: boolean;
}

function pad(s: string, n: number, right = false): string {
  const t = s.length > n ? `${s.slice(0, n - 1)}…` : s;
  return right ? t.padStart(n) : t.padEnd(n);
}

/**
 * One process: CPU in % of one core, WAIT = share of its runnable time spent waiting for a CPU (or throttled),
 * RSS = anonymous + shmem (what cannot be reclaimed), MAJ/s = major faults per second, then the cause in words.
 */
function row(d: Diagnosis): string {
  const m = d.metrics;
  return [
    pad(String(d.tgid), 7, true),
    pad(plainText(d.comm), 16),
    pad(formatCpu(m.coreCpuPercent), 6, true),
    pad(formatPercent(m.waitPercent), 6, true),
    pad(formatBytes(m.anonMb * 2 ** 20), 10, true),
    pad(formatCount(m.majFaultsPerSec), 6, true),
    `  ${plainText(cause(d))}`,
  ].join(' ');
}

const HEADER = [
  pad('PID', 7, true),
  pad('COMM', 16),
  pad('CPU', 6, true),
  pad('WAIT', 6, true),
  pad('RSS anon', 10, true),
  pad('MAJ/s', 6, true),
  '  CAUSE',
].join(' ');

export function renderReport(report: Report, diagnoses: Diagnosis[], o: RenderOptions): string {
  const c = (code: string, s: string) => (o.colour ? `${code}${s}${RESET}` : s);
  const out: string[] = [];
  const secs = report.durationNs / 1e9;
  out.push(
    c(
      '\x1b[1m',
      `hotspot — window ${report.seq} (${secs.toFixed(1)}s) · ${report.profile ?? 'default'} rules · machine ${formatPercent(report.machineBusyPercent)} busy · ${o.attach} · helper ${formatCpu(report.self.cpuPercentOfCore)} of a core, ${formatBytes(report.self.rssMb * 2 ** 20)}${report.pressure ? ` · ${pressureText(report.pressure)}` : ''}`,
    ),
  );
  out.push(
    `cores: ${report.cores.map((k) => `${k.cpu}:${k.busyPercent.toFixed(0)}%${k.saturated ? '!' : ''}`).join(' ')}`,
  );
  for (const k of report.perCoreSaturation)
    out.push(
      c(
        COLOUR['CPU-bound'],
        `per-core saturation: CPU ${k.cpu} at ${formatPercent(k.busyPercent)} while the machine is not`,
      ),
    );

  const groups = new Map<Label, Diagnosis[]>();
  for (const d of diagnoses) groups.set(d.label, [...(groups.get(d.label) ?? []), d]);
  const labels = [...groups.keys()].sort((a, b) => SEVERITY[b] - SEVERITY[a]);
  for (const label of labels) {
    if (label === 'OK' && !o.showOk) continue;
    const rows = groups.get(label)!;
    out.push('', c(COLOUR[label], `${label} (${rows.length})`), c(DIM, HEADER));
    for (const d of rows.slice(0, o.topK)) {
      out.push(row(d));
      const who = d.preemptedBy.slice(0, 3).map((p) => `${plainText(p.comm)} (${p.tgid}) ×${p.count}`);
      if (who.length && label !== 'OK') out.push(c(DIM, `${' '.repeat(25)}preempted by ${who.join(', ')}`));
      const whom = d.preempts.slice(0, 3).map((p) => `${plainText(p.comm)} (${p.tgid}) ×${p.count}`);
      if (whom.length && (label === 'Noisy neighbor' || label === 'Starved'))
        out.push(c(DIM, `${' '.repeat(25)}preempts ${whom.join(', ')}`));
    }
  }
  if (!labels.some((l) => l !== 'OK'))
    out.push('', c(COLOUR.OK, `All ${diagnoses.length} active processes OK.`));
  return out.join('\n');
}
