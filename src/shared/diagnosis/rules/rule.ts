// What a rule is: one record per diagnosis a rule set can make, holding everything about it side by side — the
// label, the condition with the comparisons that made it hold (the evidence), the sentence that says why, and the
// number that ranks processes within the label. A profile is an ordered list of rules: the first that holds wins,
// so the list's order is the profile's precedence. Adding a diagnosis adds one record (plus its Label and its
// config keys). Pure.
import type { Config } from '../config';
import type { Diagnosis, Evidence, Label, Metrics, Verdict } from '../model';
import { okSentence } from './words';

/** The input a sentence reads: a whole Diagnosis, or (older callers, tests) the part that carries label and numbers. */
export type Explainable = Pick<Diagnosis, 'label' | 'metrics' | 'timeToOomSec'> & Partial<Diagnosis>;

export interface Rule<Id extends string = string, M extends Metrics = Metrics> {
  readonly id: Id;
  readonly label: Label;
  /** The comparisons that held when the rule fires (its evidence), or null when it does not. */
  readonly when: (m: M, cfg: Config) => Evidence[] | null;
  /** One sentence: why the process has the label, from its metrics and the processes it competes with. */
  readonly says: (d: Explainable) => string;
  /** Within the label, the number that ranks processes: higher first. */
  readonly rank: (m: Metrics) => number;
}

/** One comparison that held, for the evidence list (module-level: no closure per process and window). */
export function ev(
  m: Metrics,
  metric: Evidence['metric'],
  op: Evidence['op'],
  threshold: number | boolean,
): Evidence {
  return { metric, value: m[metric] ?? 0, op, threshold };
}

/** Nothing held: the verdict both profiles give when no rule fires, and what it says. */
export const OK_RULE = {
  id: 'ok',
  label: 'OK',
  when: () => null,
  says: okSentence,
  rank: (m: Metrics) => m.coreCpuPercent,
} as const satisfies Rule<'ok'>;

export const OK_VERDICT: Verdict = Object.freeze({
  label: 'OK',
  rule: 'ok',
  evidence: Object.freeze([]) as unknown as Evidence[],
});

const verdict = (r: Pick<Rule<Verdict['rule']>, 'id' | 'label'>, evidence: Evidence[]): Verdict => ({
  label: r.label,
  rule: r.id,
  evidence,
});

/**
 * The first rule of the list that holds, or OK. The first twelve tests are written out, each its own call site:
 * a loop's one call site sees every rule of both profiles and V8 inlines none of them, which made classifying
 * 10,000 processes a third slower (an OK process runs every test).
 */
export function firstMatch<M extends Metrics>(
  rules: readonly Rule<Verdict['rule'], M>[],
  m: M,
  cfg: Config,
): Verdict {
  const n = rules.length;
  let e: Evidence[] | null = null;
  e = n > 0 ? rules[0].when(m, cfg) : null;
  if (e) return verdict(rules[0], e);
  e = n > 1 ? rules[1].when(m, cfg) : null;
  if (e) return verdict(rules[1], e);
  e = n > 2 ? rules[2].when(m, cfg) : null;
  if (e) return verdict(rules[2], e);
  e = n > 3 ? rules[3].when(m, cfg) : null;
  if (e) return verdict(rules[3], e);
  e = n > 4 ? rules[4].when(m, cfg) : null;
  if (e) return verdict(rules[4], e);
  e = n > 5 ? rules[5].when(m, cfg) : null;
  if (e) return verdict(rules[5], e);
  e = n > 6 ? rules[6].when(m, cfg) : null;
  if (e) return verdict(rules[6], e);
  e = n > 7 ? rules[7].when(m, cfg) : null;
  if (e) return verdict(rules[7], e);
  e = n > 8 ? rules[8].when(m, cfg) : null;
  if (e) return verdict(rules[8], e);
  e = n > 9 ? rules[9].when(m, cfg) : null;
  if (e) return verdict(rules[9], e);
  e = n > 10 ? rules[10].when(m, cfg) : null;
  if (e) return verdict(rules[10], e);
  e = n > 11 ? rules[11].when(m, cfg) : null;
  if (e) return verdict(rules[11], e);
  for (let i = 12; i < n; i++) {
    e = rules[i].when(m, cfg);
    if (e) return verdict(rules[i], e);
  }
  return OK_VERDICT;
}
