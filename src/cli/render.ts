// Terminal rendering of a Report: grouped by diagnosis (most severe first), top-K rows each, with the *why*.
// Process names come from outside (any program picks its own comm): they pass through plainText before they reach
// the terminal, so a name cannot carry escape sequences (retitle, clear, hyperlinks) into the user's TTY.
import { pressureText, summarize } from '../shared/classifier';
import type { Diagnosis, Label, Report } from '../shared/diagnosis';
import { SEVERITY } from '../shared/diagnosis';
import { plainText } from '../shared/format';

const COLOUR: Record<Label, string> = {
  'OOM risk': '\x1b[1;31m',
  'Mem-thrashing': '\x1b[35m',
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
  faultAttach: string;
  showOk?: boolean;
}

function pad(s: string, n: number, right = false): string {
  const t = s.length > n ? `${s.slice(0, n - 1)}…` : s;
  return right ? t.padStart(n) : t.padEnd(n);
}

function fmt(n: number): string {
  return n >= 10 ? n.toFixed(0) : n.toFixed(1);
}

function row(d: Diagnosis): string {
  const m = d.metrics;
  return [
    pad(String(d.tgid), 7, true),
    pad(plainText(d.comm), 16),
    pad(fmt(m.cpuPercent), 6, true),
    pad(fmt(m.coreCpuPercent), 6, true),
    pad(fmt(m.faultsPerSec), 8, true),
    pad(fmt(m.rssMb), 8, true),
    pad(String(m.preempted), 6, true),
    pad(String(m.preemptsOthers), 6, true),
    `  ${plainText(summarize(d))}`,
  ].join(' ');
}

const HEADER = [
  pad('PID', 7, true),
  pad('COMM', 16),
  pad('CPU%', 6, true),
  pad('CORE%', 6, true),
  pad('FAULT/s', 8, true),
  pad('RSS MB', 8, true),
  pad('PREEMPTED', 6, true),
  pad('PREEMPTS', 6, true),
  '  WHY',
].join(' ');

export function renderReport(report: Report, diagnoses: Diagnosis[], o: RenderOptions): string {
  const c = (code: string, s: string) => (o.colour ? `${code}${s}${RESET}` : s);
  const out: string[] = [];
  const secs = report.durationNs / 1e9;
  out.push(
    c(
      '\x1b[1m',
      `hotspot — window ${report.seq} (${secs.toFixed(1)}s) · machine ${report.machineBusyPercent.toFixed(0)}% busy · faults via ${o.faultAttach} · helper ${report.self.cpuPercentOfCore.toFixed(2)}% of a core, ${report.self.rssMb.toFixed(0)} MB${report.pressure ? ` · ${pressureText(report.pressure)}` : ''}`,
    ),
  );
  out.push(
    `cores: ${report.cores.map((k) => `${k.cpu}:${k.busyPercent.toFixed(0)}%${k.saturated ? '!' : ''}`).join(' ')}`,
  );
  for (const k of report.perCoreSaturation)
    out.push(
      c(
        COLOUR['CPU-bound'],
        `per-core saturation: CPU ${k.cpu} at ${k.busyPercent.toFixed(0)}% while the machine is not`,
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
      if (who.length) out.push(c(DIM, `${' '.repeat(25)}preempted by ${who.join(', ')}`));
      const whom = d.preempts.slice(0, 3).map((p) => `${plainText(p.comm)} (${p.tgid}) ×${p.count}`);
      if (whom.length && (label === 'Noisy neighbor' || label === 'Starved'))
        out.push(c(DIM, `${' '.repeat(25)}preempts ${whom.join(', ')}`));
    }
  }
  if (!labels.some((l) => l !== 'OK'))
    out.push('', c(COLOUR.OK, `All ${diagnoses.length} active processes OK.`));
  return out.join('\n');
}
