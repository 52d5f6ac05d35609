// Calm labels and the alert timeline, on made-up windows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnosis, Label } from '../../src/shared/diagnosis/model';
import { Stabilizer } from '../../src/shared/diagnosis/stabilizer';
import { Timeline, timelineCsv } from '../../src/shared/presentation/timeline';

const d = (tgid: number, label: Label, rssMb = 10): Diagnosis =>
  ({
    tgid,
    ppid: 1,
    comm: `p${tgid}`,
    cgroup: '',
    label,
    rule: label,
    evidence: [],
    metrics: {
      cpuPercent: 1,
      coreCpuPercent: 2,
      rssMb,
      rssSlopeMbPerSec: 0,
      faultsPerSec: 0,
      preempted: 0,
      preemptsOthers: 0,
      runqWaitPercent: 0,
    },
    timeToOomSec: null,
    preemptedBy: [],
    preempts: [],
    lastCpu: 0,
  }) as unknown as Diagnosis;

const labels = (ds: Diagnosis[]) => ds.map((x) => `${x.tgid}:${x.label}`).sort();

test('a label must hold two windows to change; escalation to OOM risk is immediate', () => {
  const s = new Stabilizer();
  assert.deepEqual(labels(s.apply([d(1, 'OK'), d(2, 'OK')])), ['1:OK', '2:OK']);
  assert.deepEqual(
    labels(s.apply([d(1, 'CPU-bound'), d(2, 'OOM risk')])),
    ['1:OK', '2:OOM risk'],
    'first window: held; OOM at once',
  );
  assert.deepEqual(
    labels(s.apply([d(1, 'CPU-bound'), d(2, 'OOM risk')])),
    ['1:CPU-bound', '2:OOM risk'],
    'second window: changed',
  );
  assert.deepEqual(
    labels(s.apply([d(1, 'OK'), d(2, 'OK')])),
    ['1:CPU-bound', '2:OOM risk'],
    'back to OK also waits',
  );
  assert.deepEqual(
    labels(s.apply([d(1, 'CPU-bound'), d(2, 'OK')])),
    ['1:CPU-bound', '2:OK'],
    'a one-window blip never shows',
  );
});

test('a process idle for one window keeps its row once, then goes', () => {
  const s = new Stabilizer();
  s.apply([d(1, 'OK'), d(2, 'CPU-bound')]);
  assert.deepEqual(labels(s.apply([d(1, 'OK')])), ['1:OK', '2:CPU-bound']);
  assert.deepEqual(labels(s.apply([d(1, 'OK')])), ['1:OK']);
});

test('the timeline records entering and leaving a diagnosis, and exited processes', () => {
  const t = new Timeline();
  const alive = new Set([1]);
  t.add(1000, [d(1, 'CPU-bound'), d(2, 'OOM risk', 300)], new Set([1, 2]), (p) => alive.has(p));
  t.add(2000, [d(2, 'OOM risk', 900)], new Set([1, 2]), (p) => alive.has(p));
  assert.equal(t.episodes[0].end, 2000, 'CPU-bound ended');
  assert.equal(t.episodes[0].exited, false);
  assert.equal(t.lastEndedOom(), undefined, 'the OOM episode is still open');
  t.add(3000, [], new Set([1]), (p) => alive.has(p));
  const oom = t.lastEndedOom();
  assert.equal(oom?.tgid, 2);
  assert.equal(oom?.start, 1000);
  assert.equal(oom?.last, 2000);
  assert.equal(oom?.end, 3000);
  assert.equal(oom?.exited, true);
  assert.equal(oom?.worstRssMb, 900);
  t.add(4000, [d(3, 'OOM risk')], new Set([1, 3]), (p) => alive.has(p));
  assert.equal(t.lastEndedOom()?.tgid, 2, 'another process at OOM risk does not hide the ended episode');
  const csv = timelineCsv(t.episodes).trim().split('\n');
  assert.equal(csv.length, 4);
  assert.match(csv[2], /,2,p2,OOM risk,exited,/);
});
