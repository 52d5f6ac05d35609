// Cumulative per-process counters → per-window deltas: pid reuse, births, exits, zombies, sub-samples.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  QUIET,
  type TaskTotals,
  WindowAccounting,
  type WindowFacts,
} from '../../src/shared/accounting/taskTotals';
import { totals } from '../support/windows';

test('window 0 counts from the baseline, not from each process birth', () => {
  const acc = new WindowAccounting();
  acc.baseline([totals(10, 5, { cpuNs: 1e9, minFaults: 100 })]);
  const [d] = acc.next([totals(10, 5, { cpuNs: 1.3e9, minFaults: 150 })], []);
  assert.equal(d.cpuNs, 0.3e9);
  assert.equal(d.minFaults, 50);
  assert.equal(d.exited, false);
});

test('a process born within the window counts from zero; a recycled pid is a new process', () => {
  const acc = new WindowAccounting();
  acc.baseline([totals(10, 5, { cpuNs: 1e9 })]);
  const ds = acc.next([totals(10, 99, { cpuNs: 2e6 }), totals(11, 100, { cpuNs: 3e6 })], []);
  assert.deepEqual(
    ds.map((d) => [d.tgid, d.cpuNs]),
    [
      [10, 2e6],
      [11, 3e6],
    ],
  );
});

test('processes born in a window count from zero however many arrive (the rows grow under them)', () => {
  // The kernel matrix caught this once on 6.12: the process whose arrival grew the table had its first window
  // read through the columns from before the growth, and was reported with no CPU for it.
  for (const [before, born] of [
    [60, 10],
    [0, 300],
    [64, 1],
  ]) {
    const acc = new WindowAccounting();
    acc.baseline(Array.from({ length: before }, (_, i) => totals(i + 1, 1, { cpuNs: 1e9 })));
    const newborns = Array.from({ length: born }, (_, i) =>
      totals(10_000 + i, 2, { cpuNs: 1e6 * (i + 1), runqWaitNs: 7, minFaults: 3, ivcsw: 2 }),
    );
    const ds = acc.next(newborns, []);
    assert.equal(ds.length, born, `${before} + ${born}: every newborn reported`);
    for (const [i, d] of ds.entries())
      assert.deepEqual(
        [d.tgid, d.cpuNs, d.runqWaitNs, d.minFaults, d.ivcsw],
        [10_000 + i, 1e6 * (i + 1), 7, 3, 2],
        `${before} + ${born}: newborn ${i} counted whole`,
      );
  }
});

test('an exit record gives the last counters once; a later zombie reading of it is not news', () => {
  const acc = new WindowAccounting();
  acc.baseline([totals(10, 5, { cpuNs: 1e9 })]);
  const w1 = acc.next([], [totals(10, 5, { cpuNs: 1.05e9, ppid: 7, threads: 1 })]);
  assert.equal(w1.length, 1);
  assert.equal(w1[0].exited, true);
  assert.equal(w1[0].threads, 0);
  assert.equal(w1[0].cpuNs, 0.05e9);
  assert.equal(w1[0].ppid, 7);
  const w2 = acc.next([totals(10, 5, { cpuNs: 1.05e9 })], []); // still a zombie, not reaped yet
  assert.deepEqual(w2, []);
});

test('a short-lived process seen only at exit is counted whole', () => {
  const acc = new WindowAccounting();
  acc.baseline([]);
  const [d] = acc.next([], [totals(42, 1000, { cpuNs: 50e6, ppid: 9 })]);
  assert.equal(d.cpuNs, 50e6);
  assert.equal(d.exited, true);
});

test('exit record and zombie reading in the same window: reported once, as exited', () => {
  const acc = new WindowAccounting();
  acc.baseline([totals(10, 5)]);
  const ds = acc.next([totals(10, 5, { cpuNs: 12 })], [totals(10, 5, { cpuNs: 10, minFaults: 3 })]);
  assert.equal(ds.length, 1);
  assert.deepEqual([ds[0].cpuNs, ds[0].minFaults, ds[0].exited], [10, 3, true]);
});

test('idle processes are not returned (but remembered)', () => {
  const acc = new WindowAccounting();
  acc.baseline([totals(10, 5, { cpuNs: 7 })]);
  assert.deepEqual(acc.next([totals(10, 5, { cpuNs: 7 })], []), []);
  assert.equal(acc.size, 1);
  assert.equal(acc.next([totals(10, 5, { cpuNs: 9 })], [])[0].cpuNs, 2);
});

test('a process asleep in D all window (no CPU, no switch) is news; its I/O wait never exceeds its blocked time', () => {
  const acc = new WindowAccounting();
  acc.baseline([totals(10, 5, { cpuNs: 7 })]);
  const [d] = acc.next([totals(10, 5, { cpuNs: 7, blockedNs: 1e9, ioWaitNs: 1e9 + 5, readBytes: 4096 })], []);
  assert.deepEqual([d.blockedNs, d.ioWaitNs, d.readBytes, d.cpuNs], [1e9, 1e9, 4096, 0]);
});

test('the exit of a recycled pid does not replace the live process now holding it', () => {
  const acc = new WindowAccounting();
  acc.baseline([totals(10, 5, { cpuNs: 100 })]);
  const w1 = acc.next([totals(10, 9, { cpuNs: 10 })], [totals(10, 5, { cpuNs: 150 })]);
  assert.deepEqual(
    w1.map((d) => [d.startNs, d.cpuNs, d.exited]),
    [
      [5, 50, true],
      [9, 10, false],
    ],
  );
  const [d] = acc.next([totals(10, 9, { cpuNs: 25 })], []);
  assert.equal(d.cpuNs, 15, 'the new process continues from its own last reading');
});

test('counters that go backwards (threads with their run delay gone) clamp to zero', () => {
  const acc = new WindowAccounting();
  acc.baseline([totals(10, 5, { runqWaitNs: 1000 })]);
  const [d] = acc.next([totals(10, 5, { runqWaitNs: 400, cpuNs: 1 })], []);
  assert.equal(d.runqWaitNs, 0);
});

test('RSS sub-samples end with the end-of-window value; a recycled pid does not inherit them', () => {
  const acc = new WindowAccounting();
  acc.baseline([totals(10, 5)]);
  acc.sample(10, 5, 100);
  acc.sample(10, 5, 200);
  acc.sample(11, 3, 999); // a process not seen before: no slot, ignored
  const [d] = acc.next([totals(10, 5, { rssAnonBytes: 250, rssShmemBytes: 50, cpuNs: 1 })], []);
  assert.deepEqual(d.anonSamples, [100, 200, 300]);
  acc.sample(10, 6, 7);
  const [e] = acc.next([totals(10, 5, { rssAnonBytes: 1, cpuNs: 2 })], []);
  assert.deepEqual(e.anonSamples, [1]);
});

test('memory is bounded by the processes of the last reading', () => {
  const acc = new WindowAccounting();
  acc.baseline([]);
  for (let w = 0; w < 50; w++)
    acc.next(
      Array.from({ length: 1000 }, (_, i) => totals(w * 1000 + i, w, { cpuNs: 1 })),
      [],
    );
  assert.equal(acc.size, 1000);
});

// ---- quiet processes (Window.quiet): listed by pid once the consumer holds a full sample of them

const SECOND = { durationNs: 1e9 };

test('quiet: a process is reported in full first, then listed as quiet while it does next to nothing', () => {
  const acc = new WindowAccounting(QUIET);
  acc.baseline([totals(10, 5, { cpuNs: 1e9 }), totals(11, 6)]);
  const w1 = acc.next([totals(10, 5, { cpuNs: 1e9 + 50_000, vcsw: 1 }), totals(11, 6)], [], SECOND);
  assert.deepEqual(
    w1.map((d) => d.tgid),
    [10, 11],
    'the consumer knows neither yet: both in full, even the idle one',
  );
  assert.deepEqual(acc.quiet, []);
  const w2 = acc.next([totals(10, 5, { cpuNs: 1e9 + 100_000, vcsw: 2 }), totals(11, 6)], [], SECOND);
  assert.deepEqual(w2, []);
  assert.deepEqual(acc.quiet, [10, 11]);
});

test('quiet: any limit crossed, or a change the consumer must see, reports the process in full', () => {
  const base = totals(10, 5, { cpuNs: 1e9, rssAnonBytes: 4096, comm: 'a', ppid: 2 });
  const cases: [string, Partial<TaskTotals>, WindowFacts['preemptions']?][] = [
    ['nothing (control)', {}],
    ['CPU ≥ 0.1 ms', { cpuNs: 1e9 + QUIET.cpuNs }],
    ['run-queue wait ≥ 1 % of the window', { runqWaitNs: QUIET.runqWaitShare * 1e9 }],
    ['one minor fault', { minFaults: 1 }],
    ['one major fault', { majFaults: 1 }],
    ['10 involuntary switches', { ivcsw: QUIET.preemptions }],
    ['blocked in D 1 % of the window', { blockedNs: QUIET.blockedShare * 1e9 }],
    ['blocked in D just under 1 % (control)', { blockedNs: QUIET.blockedShare * 1e9 - 1 }],
    ['64 KiB read from storage', { readBytes: QUIET.ioBytes }],
    ['64 KiB written', { writeBytes: QUIET.ioBytes }],
    ['10 preemptions as aggressor', {}, new Map([[10, { preempted: 0, others: QUIET.preemptions }]])],
    ['run-queue wait just under 1 % (control)', { runqWaitNs: QUIET.runqWaitShare * 1e9 - 1 }],
    ['RSS changed by one page', { rssAnonBytes: 8192 }],
    ['file RSS changed', { rssFileBytes: 4096 }],
    ['exec (a new name)', { comm: 'b' }],
    ['reparented', { ppid: 1 }],
    ['a thread more', { threads: 2 }],
    ['moved to another cgroup', { cgroupKey: 123 }],
  ];
  for (const [why, change, preempt] of cases) {
    const acc = new WindowAccounting(QUIET);
    acc.baseline([base]);
    acc.next([base], [], SECOND); // reported in full once
    acc.next([base], [], SECOND);
    assert.deepEqual(acc.quiet, [10], `${why}: quiet before the change`);
    const ds = acc.next([{ ...base, ...change }], [], { ...SECOND, preemptions: preempt });
    const control = why.endsWith('(control)');
    assert.deepEqual(
      ds.map((d) => d.tgid),
      control ? [] : [10],
      `${why}: ${control ? 'still quiet' : 'reported'}`,
    );
    assert.deepEqual(acc.quiet, control ? [10] : []);
  }
});

test('quiet: an exit is always news; what a quiet window counted is not carried over', () => {
  const acc = new WindowAccounting(QUIET);
  acc.baseline([totals(10, 5)]);
  acc.next([totals(10, 5)], [], SECOND);
  acc.next([totals(10, 5, { cpuNs: 50_000 })], [], SECOND);
  assert.deepEqual(acc.quiet, [10]);
  const [d] = acc.next([], [totals(10, 5, { cpuNs: 80_000 })], SECOND);
  assert.deepEqual([d.exited, d.cpuNs], [true, 30_000]);
});

test('quiet: processes the consumer never got (a window left unsent, or omitted from one) are sent in full again', () => {
  const acc = new WindowAccounting(QUIET);
  acc.baseline([totals(10, 5), totals(11, 6)]);
  acc.next([totals(10, 5), totals(11, 6)], [], SECOND);
  acc.unreported([11]);
  assert.deepEqual(
    acc.next([totals(10, 5), totals(11, 6)], [], SECOND).map((d) => d.tgid),
    [11],
  );
  assert.deepEqual(acc.quiet, [10]);
  acc.unreported();
  assert.deepEqual(
    acc.next([totals(10, 5), totals(11, 6)], [], SECOND).map((d) => d.tgid),
    [10, 11],
  );
});
