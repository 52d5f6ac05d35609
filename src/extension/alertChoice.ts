// Which diagnosis the status bar speaks for. vscode-free, so the rule is tested on its own.
import { alertOf } from '../shared/classifier';
import type { Diagnosis, Report } from '../shared/diagnosis';

/**
 * The most severe diagnosis in view; but an OOM risk anywhere in `context` (every process past the base filters,
 * before scope and filter) wins over a lesser alert in view: narrowing the view to a debuggee must not hide that
 * the machine is about to run out of memory. `outside` says the chosen one is not in view.
 */
export function chooseAlert(
  report: Report,
  shown: readonly Diagnosis[],
  context: readonly Diagnosis[],
): { d: Diagnosis; outside: boolean } | undefined {
  const inView = alertOf({ ...report, diagnoses: [...shown] });
  if (inView?.label === 'OOM risk') return { d: inView, outside: false };
  const oom = alertOf({ ...report, diagnoses: context.filter((x) => x.label === 'OOM risk') });
  if (oom) return { d: oom, outside: !shown.includes(oom) };
  return inView ? { d: inView, outside: false } : undefined;
}
