// The dashboard's history model and the validation of messages coming back from the webview.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnosis, Report } from '../../src/shared/diagnosis/model';
import { DashboardHistory, isFromWebview } from '../../src/shared/presentation/dashboard';

const diag = (tgid: number, cpu: number): Diagnosis =>
  ({
    tgid,
    comm: `p${tgid}`,
    label: 'CPU-bound',
    evidence: [],
    timeToOomSec: null,
    metrics: { coreCpuPercent: cpu, cpuPercent: cpu / 2, rssMb: 1, faultsPerSec: 0 },
    preemptedBy: tgid === 2 ? [{ tgid: 1, comm: 'p1', count: 4 }] : [],
  }) as unknown as Diagnosis;
const report = (seq: number, ds: Diagnosis[]): Report => ({
  seq,
  ts: seq,
  durationNs: 1e9,
  diagnoses: ds,
  cores: [],
  machineBusyPercent: 0,
  perCoreSaturation: [],
  self: { cpuPercentOfCore: 0.3, rssMb: 40, drainMs: 0.5 },
});

test('history keeps the last N windows, gaps for absent processes, and drops fully scrolled-out ones', () => {
  const h = new DashboardHistory(3);
  h.add(report(0, [diag(1, 10), diag(2, 5)]), [diag(1, 10), diag(2, 5)], 'live', {});
  let m = h.add(report(1, [diag(1, 20)]), [diag(1, 20)], 'live', {});
  assert.deepEqual(m.processes.find((p) => p.tgid === 2)?.cpuPercent, [5, Number.NaN]);
  for (let i = 2; i < 5; i++) m = h.add(report(i, [diag(1, i)]), [diag(1, i)], 'live', {});
  assert.deepEqual(m.processes.find((p) => p.tgid === 1)?.cpuPercent, [2, 3, 4]);
  assert.equal(
    m.processes.find((p) => p.tgid === 2),
    undefined,
  );
  assert.equal(m.self.cpuPercentOfCore.length, 3);
});

test('preemption edges come from the shown diagnoses: by count under the reference profile only', () => {
  const m = new DashboardHistory().add({ ...report(0, []), profile: 'reference' }, [diag(2, 1)], 'live', {});
  assert.deepEqual(m.edges, [
    { victim: { tgid: 2, comm: 'p2' }, aggressor: { tgid: 1, comm: 'p1' }, count: 4, unit: 'count' },
  ]);
  // The default profile lists waits: a victim preempted without an attributed wait is not listed by its count.
  const d = new DashboardHistory().add(report(0, []), [diag(2, 1)], 'live', {});
  assert.deepEqual(d.edges, []);
});

test('pairs are ranked by the wait caused, and a pair keeps its place for a few windows after it ended', () => {
  const h = new DashboardHistory();
  const victim = (behind: { tgid: number; comm: string; count: number }[]) => ({
    ...diag(9, 1),
    behind,
  });
  const a = { tgid: 1, comm: 'loop', count: 0.2e9 }; // 20% of a core, preempting rarely
  const b = { tgid: 2, comm: 'chatty', count: 0.01e9 }; // 1%, preempting often
  let m = h.add(report(0, []), [victim([a, b])], 'live', {});
  assert.deepEqual(
    m.edges.map((e) => [e.aggressor.comm, e.count, e.unit]),
    [
      ['loop', 20, 'wait'],
      ['chatty', 1, 'wait'],
    ],
  );
  m = h.add(report(1, []), [victim([b])], 'live', {});
  assert.deepEqual(
    m.edges.map((e) => [e.aggressor.comm, e.count]),
    [
      ['loop', 0],
      ['chatty', 1],
    ],
    'same rows, same order; the pair that stopped shows 0',
  );
});

test('messages from the webview are validated', () => {
  assert.ok(isFromWebview({ type: 'ready' }));
  assert.ok(isFromWebview({ type: 'filter', tgid: 42 }));
  for (const bad of [
    null,
    'x',
    { type: 'filter' },
    { type: 'filter', tgid: -1 },
    { type: 'filter', tgid: 1.5 },
    { type: 'exec' },
  ])
    assert.ok(!isFromWebview(bad), JSON.stringify(bad));
});

test('a card that was only ever OK goes when its process does; one that alerted stays a few windows', () => {
  const h = new DashboardHistory(60);
  const ok = { ...diag(7, 1), label: 'OK' } as Diagnosis;
  h.add(report(0, [diag(1, 90), ok]), [diag(1, 90), ok], 'live', {});
  let m = h.add(report(1, []), [], 'live', {});
  assert.equal(
    m.processes.find((p) => p.tgid === 7),
    undefined,
    'OK-only process dropped at once',
  );
  const gone = m.processes.find((p) => p.tgid === 1);
  assert.deepEqual([gone?.absent, gone?.summary], [true, 'was CPU-bound when last seen']);
  for (let i = 2; i <= 6; i++) m = h.add(report(i, []), [], 'live', {});
  assert.equal(
    m.processes.find((p) => p.tgid === 1),
    undefined,
    'the alerted one ages out after a few windows',
  );
  assert.equal(m.rows.length, 0);
});

test('a card whose process went idle or exited keeps its place in the order until it ages out', () => {
  const h = new DashboardHistory(60);
  const as = (tgid: number, label: Diagnosis['label']) => ({ ...diag(tgid, 50), label }) as Diagnosis;
  const order = (m: { processes: { tgid: number }[] }) => m.processes.map((p) => p.tgid);
  const all = [as(1, 'OOM risk'), as(2, 'CPU-bound'), as(3, 'OK')];
  assert.deepEqual(order(h.add(report(0, all), all, 'live', {})), [1, 2, 3]);
  // The OOM risk exits: its card stays first (greyed by the webview), not sorted under the OK one.
  const rest = [as(2, 'CPU-bound'), as(3, 'OK')];
  const m = h.add(report(1, rest), rest, 'live', {});
  assert.deepEqual(order(m), [1, 2, 3]);
  assert.deepEqual(
    m.processes.map((p) => [p.label, p.absent]),
    [
      ['OK', true],
      ['CPU-bound', false],
      ['OK', false],
    ],
  );
  // It comes back as OK: now it sorts as what it is.
  const back = [as(1, 'OK'), as(2, 'CPU-bound'), as(3, 'OK')];
  assert.deepEqual(order(h.add(report(2, back), back, 'live', {})), [2, 1, 3]);
});
