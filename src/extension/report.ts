// The plain-text report of one diagnosis (Copy Report, and the body of tooltips and exports). vscode-free: the
// words come from explain.ts, the numbers from format.ts, so the clipboard says what the views say.
import type { Diagnosis } from '../shared/diagnosis/model';
import { plainText } from '../shared/format';
import { cause, details } from '../shared/presentation/explain';
import { truncate } from './commandLine';

export interface ReportContext {
  /** When the window ended (ms since the epoch). */
  ts: number;
  /** Window number and its length. */
  seq: number;
  intervalMs: number;
  /** The process's command line, when it could be read. */
  commandLine?: string;
  /** The VS Code terminal, task or debug session that owns it. */
  owner?: string;
}

/** "node (1234)": the name the views give a process. */
export const processName = (d: Pick<Diagnosis, 'comm' | 'tgid'>): string =>
  `${plainText(d.comm)} (${d.tgid})`;

export function reportText(d: Diagnosis, ctx?: ReportContext): string {
  const lines = [`${processName(d)}: ${d.label} — ${cause(d)}`];
  if (ctx) {
    lines.push(`at ${new Date(ctx.ts).toISOString()} (window ${ctx.seq}, ${ctx.intervalMs / 1000} s long)`);
    if (ctx.commandLine) lines.push(`command line: ${plainText(ctx.commandLine)}`);
    if (ctx.owner) lines.push(`started from: ${plainText(ctx.owner)}`);
  }
  for (const l of details(d)) lines.push(`  ${l}`);
  lines.push(`cgroup: ${plainText(d.cgroup) || '?'} · last CPU ${d.lastCpu} · rule ${d.rule}`);
  for (const a of d.preemptedBy) lines.push(`preempted by ${processName(a)} ×${a.count}`);
  for (const v of d.preempts) lines.push(`preempts ${processName(v)} ×${v.count}`);
  return lines.join('\n');
}

/** At most five lines for a hover: who, why, the two most telling figures, and where to read more. */
export function shortTooltip(d: Diagnosis, commandLine?: string): string {
  const lines = [`${processName(d)} — ${d.label}`, cause(d)];
  if (commandLine) lines.push(truncate(plainText(commandLine), 120));
  lines.push(...details(d).slice(0, commandLine ? 1 : 2));
  lines.push('More in the dashboard (right-click → Reveal in Dashboard).');
  return lines.slice(0, 5).join('\n');
}
