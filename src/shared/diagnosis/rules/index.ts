// The rule sets by profile, and a rule found from what a diagnosis carries: the views ask it for the sentence, the
// ordering asks it for the rank. Pure.
import type { Label, Metrics, Profile } from '../model';
import { DEFAULT_RULES, type DefaultRuleId } from './default';
import { REFERENCE_RULES, type ReferenceRuleId } from './reference';
import { OK_RULE, type Rule } from './rule';

/** Every rule a diagnosis can name. */
export type RuleId = DefaultRuleId | ReferenceRuleId | typeof OK_RULE.id;

export const PROFILE_RULES: Readonly<Record<Profile, readonly Rule<RuleId>[]>> = {
  default: DEFAULT_RULES,
  reference: REFERENCE_RULES as readonly Rule<RuleId>[],
};

const BY_ID = new Map<string, Rule>();
for (const r of [...DEFAULT_RULES, ...(REFERENCE_RULES as readonly Rule[]), OK_RULE]) {
  if (BY_ID.has(r.id)) throw new Error(`rule id ${r.id} is used twice`);
  BY_ID.set(r.id, r);
}
/** For a label whose rule is not known (hand-made diagnoses, old recordings): the reference's first rule of it. */
const BY_LABEL = new Map<Label, Rule>([['OK', OK_RULE]]);
for (const r of REFERENCE_RULES as readonly Rule[]) if (!BY_LABEL.has(r.label)) BY_LABEL.set(r.label, r);

const DEFAULT_IDS: ReadonlySet<string> = new Set(DEFAULT_RULES.map((r) => r.id));

/** The rule behind a diagnosis: OK whatever rule it names, else the rule it names, else its label's. */
export function ruleOf(d: { label: Label; rule?: string }): Rule {
  if (d.label === 'OK') return OK_RULE;
  const r = d.rule === undefined ? undefined : BY_ID.get(d.rule);
  return r && r.label === d.label ? r : (BY_LABEL.get(d.label) ?? OK_RULE);
}

/** A rule of the default profile (the details list its figures rather than the reference's evidence). */
export function isDefaultRule(id: string | undefined): boolean {
  return id !== undefined && DEFAULT_IDS.has(id);
}

/** Within its label, the number that ranks a diagnosis (higher first). */
export function rankOf(d: { label: Label; rule?: string; metrics: Metrics }): number {
  return ruleOf(d).rank(d.metrics);
}

export type { Rule };
export { DEFAULT_RULES, OK_RULE, REFERENCE_RULES };
