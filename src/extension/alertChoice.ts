// Which diagnosis the status bar speaks for. vscode-free, so the rule is tested on its own.

import type { Diagnosis, Report } from '../shared/diagnosis/model';
import { alertOf } from '../shared/diagnosis/ordering';

/**
 * The most severe diagnosis in view; but an urgent OOM risk anywhere in `context` (every process past the base filters,
 * before scope and filter) wins over a lesser alert in view: narrowing the view to a debuggee must not hide that
 * the machine is about to run out of memory. `outside` says the chosen one is not in view. An OOM risk that is not
 * `urgent` (a slow leak, hours from its limit: isUrgent in rules/default.ts) is news but not an emergency: it leads
 * the view as the most severe label, but never reaches in from outside it and never displaces an urgent one.
 */
export function chooseAlert(
  report: Report,
  shown: readonly Diagnosis[],
  context: readonly Diagnosis[],
  editor: ReadonlySet<number> = new Set(),
  urgent: (d: Diagnosis) => boolean = () => true,
): { d: Diagnosis; outside: boolean } | undefined {
  // VS Code's own processes (a language server) are the editor's business, not an alert about the user's work.
  shown = shown.filter((d) => !editor.has(d.tgid));
  context = context.filter((d) => !editor.has(d.tgid));
  const isUrgentOom = (x: Diagnosis) => x.label === 'OOM risk' && urgent(x);
  const urgentInView = alertOf({ ...report, diagnoses: shown.filter(isUrgentOom) });
  if (urgentInView) return { d: urgentInView, outside: false };
  const oom = alertOf({ ...report, diagnoses: context.filter(isUrgentOom) });
  if (oom) return { d: oom, outside: !shown.includes(oom) };
  const inView = alertOf({ ...report, diagnoses: [...shown] });
  return inView ? { d: inView, outside: false } : undefined;
}
