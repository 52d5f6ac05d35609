// The status bar's choice: the worst in view, but never hiding an OOM risk that a filter or the scope left out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseAlert } from '../../src/extension/alertChoice';
import type { Diagnosis, Label, Report } from '../../src/shared/diagnosis/model';

const d = (tgid: number, label: Label, rssMb = 10): Diagnosis =>
  ({ tgid, comm: `p${tgid}`, label, metrics: { rssMb, coreCpuPercent: 50 } }) as unknown as Diagnosis;
const report = {} as Report;

test('an OOM risk outside the filtered view still wins over a lesser alert in view', () => {
  const debuggee = d(1, 'CPU-bound');
  const leak = d(2, 'OOM risk', 900);
  const c = chooseAlert(report, [debuggee], [debuggee, leak]);
  assert.equal(c?.d, leak);
  assert.equal(c?.outside, true);
});

test('in view: the most severe; nothing alerting: nothing', () => {
  const a = d(1, 'Starved');
  const b = d(2, 'CPU-bound');
  assert.equal(chooseAlert(report, [b, a], [a, b])?.d, a);
  assert.equal(chooseAlert(report, [b, a], [a, b])?.outside, false);
  assert.equal(chooseAlert(report, [d(3, 'OK')], [d(3, 'OK')]), undefined);
  const big = d(4, 'OOM risk', 2000);
  const small = d(5, 'OOM risk', 300);
  assert.equal(chooseAlert(report, [small], [small, big])?.d, small, 'an OOM risk in view is not displaced');
});

test('a slow leak (not urgent) never displaces an urgent one, nor reaches in from outside the view', () => {
  const slow = d(1, 'OOM risk', 500);
  const fast = d(2, 'OOM risk', 900);
  const cpu = d(3, 'CPU-bound');
  const urgent = (x: Diagnosis) => x !== slow; // isUrgent: time to OOM within the horizon
  assert.equal(chooseAlert(report, [slow, cpu], [slow, cpu], undefined, urgent)?.d, slow, 'a leak is news');
  const c = chooseAlert(report, [slow], [slow, fast], undefined, urgent);
  assert.equal(c?.d, fast, 'the urgent one outside the view wins over the slow one in it');
  assert.equal(c?.outside, true);
  assert.equal(
    chooseAlert(report, [cpu], [cpu, slow], undefined, urgent)?.d,
    cpu,
    'a slow one stays outside',
  );
  assert.equal(chooseAlert(report, [cpu], [cpu, fast], undefined, urgent)?.d, fast, 'an urgent one does not');
});
