// One order for every view (finding 5 of issue 21): the window's sort and the comparison agree exactly — no key is
// rounded or clamped — a rank that is not a number loses no diagnosis, and the pipeline orders after holding labels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Classifier } from '../../src/shared/diagnosis/classifier';
import { DEFAULT_CONFIG, validateConfig } from '../../src/shared/diagnosis/config';
import type { Diagnosis, Label } from '../../src/shared/diagnosis/model';
import { bySeverity, sortBySeverity } from '../../src/shared/diagnosis/ordering';
import { DiagnosisPipeline } from '../../src/shared/diagnosis/pipeline';
import { host, proc, win } from '../support/windows';

const tgids = (ds: readonly Diagnosis[]) => ds.map((d) => d.tgid);

test('within a label, ranks closer than the packed key could tell apart are ordered by rank, not by pid', () => {
  // 10.01 % and 10.02 % of a core, both OK: the higher one first, as bySeverity says.
  const c = new Classifier(DEFAULT_CONFIG, host);
  const r = c.classify(win(0, [proc({ tgid: 1, cpuNs: 0.1001e9 }), proc({ tgid: 2, cpuNs: 0.1002e9 })]));
  assert.deepEqual(tgids(r.diagnoses), [2, 1]);
  assert.deepEqual(tgids(r.diagnoses), tgids([...r.diagnoses].sort(bySeverity)));
});

test('ranks beyond the range the packed key held are ordered by rank, not by pid', () => {
  // Reference profile, two processes thrashing at 300k and 500k faults/s: the one faulting more first.
  const c = new Classifier(validateConfig({ profile: 'reference' }), host);
  const r = c.classify(
    win(0, [
      proc({ tgid: 1, cpuNs: 1e7, minFaults: 300_000 }),
      proc({ tgid: 2, cpuNs: 1e7, minFaults: 500_000 }),
    ]),
  );
  assert.deepEqual(
    r.diagnoses.map((d) => `${d.tgid}:${d.label}`),
    ['2:Mem-thrashing', '1:Mem-thrashing'],
  );
  assert.deepEqual(tgids(r.diagnoses), tgids([...r.diagnoses].sort(bySeverity)));
});

test('a rank that is not a number keeps its diagnosis, last within its label', () => {
  // A sample no parser would pass (NaN CPU time), handed to the classifier directly: its rank is NaN.
  const c = new Classifier(DEFAULT_CONFIG, host);
  const r = c.classify(
    win(0, [
      proc({ tgid: 1, cpuNs: 0.2e9 }),
      proc({ tgid: 2, cpuNs: Number.NaN }),
      proc({ tgid: 3, cpuNs: 0.1e9 }),
    ]),
  );
  assert.equal(r.diagnoses.length, 3, 'no diagnosis dropped');
  assert.ok(
    r.diagnoses.every((d) => d !== undefined && typeof d.tgid === 'number'),
    'no hole in the list',
  );
  assert.deepEqual(tgids(r.diagnoses), [1, 3, 2]);
});

/** A diagnosis as the ordering reads it: label, rule, the metric its rank reads, pid. */
function made(tgid: number, label: Label, cpu: number): Diagnosis {
  const rule =
    label === 'OK' ? 'ok' : label === 'CPU-bound' ? 'cpu_bound.demand' : 'noisy_neighbor.caused_wait';
  return {
    tgid,
    label,
    rule,
    metrics: { coreCpuPercent: cpu, causedWaitCorePercent: cpu },
  } as unknown as Diagnosis;
}

test('the window sort and the comparison agree on ties, infinities, NaN and signed zeros', () => {
  const values = [
    0,
    -0,
    1,
    1,
    2.5,
    1e9,
    -1e9,
    Infinity,
    -Infinity,
    Number.NaN,
    0.04,
    0.05,
    0.06,
    209715.2,
    300000,
  ];
  const labels: Label[] = ['OK', 'CPU-bound', 'Noisy neighbor'];
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 50; round++) {
    const ds = Array.from({ length: 1 + rnd(60) }, () =>
      made(1 + rnd(40), labels[rnd(labels.length)], values[rnd(values.length)]),
    );
    const packed = [...ds];
    sortBySeverity(packed);
    const compared = [...ds].sort(bySeverity);
    assert.equal(packed.length, ds.length);
    assert.ok(packed.every((d) => d !== undefined));
    assert.deepEqual(
      packed.map((d) => `${d.tgid}:${d.label}:${d.metrics.coreCpuPercent}`),
      compared.map((d) => `${d.tgid}:${d.label}:${d.metrics.coreCpuPercent}`),
      `round ${round}`,
    );
  }
});

test('the pipeline orders after holding labels: a held label keeps its place among its group', () => {
  const p = new DiagnosisPipeline(DEFAULT_CONFIG, host);
  // Window 0: pid 1 runs flat out (CPU-bound), pid 2 idles.
  p.push(win(0, [proc({ tgid: 1, cpuNs: 0.99e9 }), proc({ tgid: 2, cpuNs: 0.3e9 })]));
  // Window 1: pid 1 drops to 1 % (OK, but held CPU-bound for one more window), pid 2 at 30 %.
  const r = p.push(win(1, [proc({ tgid: 1, cpuNs: 0.01e9 }), proc({ tgid: 2, cpuNs: 0.3e9 })]));
  assert.deepEqual(
    r.diagnoses.map((d) => `${d.tgid}:${d.label}`),
    ['1:CPU-bound', '2:OK'],
  );
  assert.deepEqual(tgids(r.diagnoses), tgids([...r.diagnoses].sort(bySeverity)));
  assert.equal(p.lastClassified?.diagnoses.find((d) => d.tgid === 1)?.label, 'OK', 'as classified');
  assert.equal(r.diagnoses[0].startNs, 1001, 'a diagnosis carries its process start (ProcSample.startNs)');
});

test('a pid reused by another process with the same name does not inherit the held label', () => {
  const p = new DiagnosisPipeline(DEFAULT_CONFIG, host);
  p.push(win(0, [proc({ tgid: 1, cpuNs: 0.99e9 })]));
  const r = p.push(win(1, [proc({ tgid: 1, cpuNs: 0.01e9, startNs: 5e9 })]));
  assert.equal(r.diagnoses[0].label, 'OK');
});
