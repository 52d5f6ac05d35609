// Window lines: idle processes left out, preemption counts summed from pairs, a cgroup table of the processes
// sent, and a size bound that leaves out the least active processes (10,000 processes in long cgroup paths).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CgroupResolver, CgroupTable } from '../../src/host/cgroups';
import { buildWindowLine, WINDOW_BYTES, type WindowParts } from '../../src/host/windowBuilder';
import type { TaskDelta } from '../../src/shared/accounting/taskTotals';
import { MAX_LINE_BYTES, parseLine, type Window } from '../../src/shared/wire/protocol';
import { delta as idleDelta } from '../support/windows';

const parts = (over: Partial<WindowParts> = {}): WindowParts => ({
  type: 'window',
  v: 2,
  seq: 0,
  ts: 1,
  durationNs: 1e9,
  cpuBusyNs: [1, null],
  pairs: [],
  memAvailableBytes: 1,
  self: { cpuNs: 0, rssBytes: 0, collectNs: 0 },
  ...over,
});

/** `$&` in the name: it would be expanded by a String.replace-based splice. */
const delta = (tgid: number, over: Partial<TaskDelta> = {}): TaskDelta =>
  idleDelta(tgid, { comm: `p$&${tgid}`, ...over });

const noFs = { mode: 'none' as const };

test('the processes given are sent, most active first; preempted/preemptsOthers are summed from the pairs; the line parses', () => {
  const resolver = new CgroupResolver((pid) => `0::/g${pid % 2}\n`);
  const table = new CgroupTable({ mounts: noFs });
  const { bytes, sent, omitted } = buildWindowLine(
    parts({
      pairs: [
        { victim: 1, aggressor: 2, count: 5 },
        { victim: 1, aggressor: 3, count: 2 },
      ],
    }),
    [delta(1, { ivcsw: 7 }), delta(2, { cpuNs: 9 }), delta(3, { exited: true, threads: 0 })],
    { resolver, table },
  );
  const line = bytes.toString();
  assert.deepEqual([sent, omitted], [3, 0]);
  assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'));
  const w = parseLine(line) as Window;
  assert.deepEqual(
    w.procs.map((p) => [p.tgid, p.preempted, p.preemptsOthers]),
    [
      [3, 0, 2], // most active first: an exit, then switches, then 9 ns of CPU
      [1, 7, 0],
      [2, 0, 5],
    ],
  );
  assert.equal(w.procs[0].comm, 'p$&3');
  assert.deepEqual(
    w.procs.map((p) => w.cgroups[p.cg].path),
    ['/g1', '/g1', '/g0'],
  );
  assert.equal(w.cgroups.length, 2, 'one table entry per cgroup');
  assert.equal(w.omitted, undefined);
});

test('10,000 processes in long cgroup paths: the line stays under the bound, least active left out', () => {
  const longPath = (pid: number) => `/${'k'.repeat(200)}/${'x'.repeat(3000)}/${pid}`;
  const resolver = new CgroupResolver((pid) => `0::${longPath(pid)}\n`);
  const table = new CgroupTable({ mounts: noFs });
  const deltas = Array.from({ length: 10_000 }, (_, i) => delta(i + 1, { cpuNs: (i + 1) * 1000 }));
  const t0 = performance.now();
  const { bytes, sent, omitted } = buildWindowLine(parts(), deltas, { resolver, table });
  const line = bytes.toString();
  const ms = performance.now() - t0;
  assert.ok(line.length <= WINDOW_BYTES && WINDOW_BYTES < MAX_LINE_BYTES, `line of ${line.length} bytes`);
  assert.equal(sent + omitted, 10_000);
  assert.ok(omitted > 0);
  const w = parseLine(line) as Window;
  assert.equal(w.omitted, omitted);
  assert.equal(w.procs.length, sent);
  const kept = new Set(w.procs.map((p) => p.tgid));
  assert.ok(kept.has(10_000) && !kept.has(1), 'the busiest process stays, the idlest goes');
  assert.ok(
    w.procs.every((p) => p.tgid > 10_000 - sent),
    'exactly the most active were kept',
  );
  assert.ok(ms < 2000, `built in ${ms.toFixed(0)} ms`);
});

test('numbers are written exactly; names are escaped', () => {
  const resolver = new CgroupResolver(() => '0::/\n');
  const table = new CgroupTable({ mounts: noFs });
  const big = 2 ** 53 - 1;
  const { bytes } = buildWindowLine(
    parts(),
    [delta(7, { cpuNs: big, comm: 'a"b\\c\u0001é', runqWaitNs: 1.5, rssFileBytes: Number.NaN, lastCpu: -1 })],
    { resolver, table },
  );
  const w = parseLine(bytes.toString()) as Window;
  assert.equal(w.procs[0].cpuNs, big);
  assert.equal(w.procs[0].runqWaitNs, 1.5);
  assert.equal(w.procs[0].rssFileBytes, 0, 'NaN becomes 0, the line stays valid');
  assert.equal(w.procs[0].lastCpu, -1);
  assert.equal(
    w.procs[0].comm,
    'a"bé'.replace('bé', 'b\\cé'),
    'control characters are stripped by the parser',
  );
});

test('10,000 processes in short paths all fit', () => {
  const resolver = new CgroupResolver(() => '0::/user.slice/session-1.scope\n');
  const table = new CgroupTable({ mounts: noFs });
  const deltas = Array.from({ length: 10_000 }, (_, i) => delta(i + 1, { vcsw: 1 }));
  const { bytes, omitted } = buildWindowLine(parts(), deltas, { resolver, table });
  const line = bytes.toString();
  assert.equal(omitted, 0);
  const w = parseLine(line) as Window;
  assert.equal(w.procs.length, 10_000);
  assert.equal(w.cgroups.length, 1);
});
