// One rule, one record: each profile's rules are a list of records (condition with evidence, sentence, rank), and
// everything else — the verdict, the sentence the views show, the order within a label — comes from them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../../src/shared/diagnosis/config';
import { type FullMetrics, LABELS, type Label, PROFILES } from '../../src/shared/diagnosis/model';
import { isDefaultRule, PROFILE_RULES, rankOf, ruleOf } from '../../src/shared/diagnosis/rules';
import { DEFAULT_RULES } from '../../src/shared/diagnosis/rules/default';
import { firstMatch } from '../../src/shared/diagnosis/rules/rule';
import { cause } from '../../src/shared/presentation/explain';

/** Figures that every rule's sentence can read (a busy, growing, waiting, faulting process). */
const busy: FullMetrics = {
  coreCpuPercent: 150,
  faults: 9000,
  faultsPerSec: 9000,
  rssMb: 800,
  preempted: 400,
  preemptsOthers: 500,
  waitCorePercent: 60,
  throttledCorePercent: 0,
  demandCorePercent: 210,
  waitPercent: 30,
  causedWaitCorePercent: 40,
  cpuQuotaPercent: 0,
  minFaultsPerSec: 8000,
  majFaultsPerSec: 1000,
  anonMb: 700,
  anonGrowing: true,
  anonSlopeMbPerSec: 20,
  anonGrowingSec: 30,
  anonGrownMb: 600,
  blockedPercent: 60,
  diskWaitPercent: 55,
  diskWaitCorePercent: 70,
  readBytesPerSec: 2 ** 20,
  writeBytesPerSec: 8 * 2 ** 20,
  memLimitMb: 1024,
  memRemainingMb: 300,
  memLimitKind: 'cgroup',
  secondsToLimit: 15,
  memPressure: 30,
  memRefaultsPerSec: -1,
  cpuPercent: 75,
  costPerFault: 0.1,
  rssRatio: 0.8,
  rssLimit: 'host',
  rssGrowing: true,
  rssSlopeMbPerSec: 20,
  runqWaitPercent: 30,
};

test('each profile has a rule for every label but OK, and only known labels (the reference keeps its six)', () => {
  const own: Record<string, Label[]> = { default: [], reference: ['I/O-bound'] };
  for (const profile of PROFILES) {
    const labels = new Set<Label>(PROFILE_RULES[profile].map((r) => r.label));
    const want = LABELS.filter((l) => l !== 'OK' && !own[profile].includes(l));
    assert.deepEqual([...labels].sort(), want.sort(), profile);
  }
});

test('every rule names itself in a sentence and ranks by a finite number', () => {
  for (const profile of PROFILES)
    for (const r of PROFILE_RULES[profile]) {
      const d = { label: r.label, rule: r.id, metrics: busy, timeToOomSec: 15, behind: [], holds: [] };
      assert.equal(ruleOf(d), r, `${r.id} is found by its id`);
      assert.ok(cause(d).length > 10, `${r.id} says why`);
      assert.ok(Number.isFinite(rankOf(d)), `${r.id} ranks`);
      assert.equal(isDefaultRule(r.id), profile === 'default', r.id);
    }
});

test('the first rule that holds wins: the list order is the precedence', () => {
  // busy matches OOM, Mem-thrashing, Starved, Noisy neighbor and CPU-bound at once: OOM risk is first.
  assert.equal(firstMatch(DEFAULT_RULES, busy, DEFAULT_CONFIG).rule, 'oom.cgroup');
  const notGrowing = { ...busy, anonGrowing: false, secondsToLimit: -1 };
  assert.equal(firstMatch(DEFAULT_RULES, notGrowing, DEFAULT_CONFIG).rule, 'mem_thrashing.pressure');
  const calm = { ...notGrowing, majFaultsPerSec: 0, waitPercent: 0, causedWaitCorePercent: 0 };
  assert.equal(firstMatch(DEFAULT_RULES, calm, DEFAULT_CONFIG).rule, 'cpu_bound.demand');
  assert.equal(firstMatch(DEFAULT_RULES, { ...calm, demandCorePercent: 1 }, DEFAULT_CONFIG).rule, 'ok');
});

test('a diagnosis whose rule is unknown is said and ranked by its label (hand-made or replayed ones)', () => {
  const d = { label: 'Starved' as const, metrics: busy, timeToOomSec: null };
  assert.equal(ruleOf({ ...d, rule: 'no.such.rule' }).id, 'starved.min_preempted');
  assert.equal(ruleOf(d).id, 'starved.min_preempted');
  assert.equal(cause(d), 'preempted 400 times, gets 150% of a core');
  assert.equal(ruleOf({ label: 'OK', rule: 'cpu_bound.demand' }).id, 'ok', 'OK is OK whatever rule it names');
});
