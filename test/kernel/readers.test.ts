// The two readings of the task list in the kernel agree: walk_tasks (one record per process, kernel 6.7+) and
// the dump_tasks iterator (one per thread, summed in the helper), read back to back while the workloads are
// stopped, so nothing may differ; and a walk with more processes than its array holds falls back to the iterator
// for that reading, losing nothing.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { TaskCollector } from '../../src/helper/tasks';
import type { TaskTotals } from '../../src/shared/accounting/taskTotals';

const TASKS_OBJ = path.join(__dirname, '..', '..', 'bpf', 'tasks.bpf.o');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A copy of each process of a reading (readers hand over one reused object per process). */
function snapshot(reading: Iterable<TaskTotals>): Map<number, TaskTotals> {
  const out = new Map<number, TaskTotals>();
  for (const t of reading) out.set(t.tgid, { ...t });
  return out;
}

/** Threads that spin, sleep and fault, in one process; several such processes. */
function workers(n: number): ChildProcess[] {
  const script = `
import threading, time, mmap
def spin():
    x = 0
    while True:
        x += 1
def churn():
    while True:
        m = mmap.mmap(-1, 1 << 20); m[::4096] = b'x' * 256; m.close(); time.sleep(0.001)
for f in (spin, churn, churn):
    threading.Thread(target=f, daemon=True).start()
time.sleep(3600)
`;
  return Array.from({ length: n }, () =>
    spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'python3', '-c', script], { stdio: 'ignore' }),
  );
}

test('walk and iterator readings of the same stopped processes agree field by field', {
  timeout: 60_000,
}, async () => {
  const procs = workers(3);
  let walk: TaskCollector | undefined;
  let iter: TaskCollector | undefined;
  try {
    walk = new TaskCollector(TASKS_OBJ);
    iter = new TaskCollector(TASKS_OBJ, { walk: false });
    assert.equal(walk.reads, 'walk', 'this kernel has the open-coded task iterator (6.7+)');
    assert.equal(iter.reads, 'iter');
    await sleep(1500); // threads started, CPU and faults counted
    for (const p of procs) p.kill('SIGSTOP');
    await sleep(200);
    const a = snapshot(walk.read());
    const b = snapshot(iter.read());
    for (const p of procs) {
      const w = a.get(p.pid!);
      const i = b.get(p.pid!);
      assert.ok(w && i, `both readings have ${p.pid}`);
      assert.equal(w.threads, 4, 'the main thread and three workers');
      assert.ok(w.cpuNs > 1e8 && w.minFaults > 100, `it ran and faulted (${w.cpuNs} ns, ${w.minFaults})`);
      assert.deepEqual(w, i, `process ${p.pid}: walk and iterator agree`);
    }
    // Processes common to both readings (others may have come or gone in between): same parents and names.
    let common = 0;
    for (const [tgid, w] of a) {
      const i = b.get(tgid);
      if (!i || i.startNs !== w.startNs) continue;
      common++;
      assert.deepEqual([w.ppid, w.comm, w.kthread], [i.ppid, i.comm, i.kthread], `process ${tgid}`);
    }
    assert.ok(common > 20, `${common} processes in both readings`);
    // Nothing the iterator leaves out: it visits only tasks with a pid (CPU 0's idle task, pid 0, has none).
    assert.ok(!a.has(0), 'the walk does not report the idle task (tgid 0)');
    const onlyWalk = [...a.keys()].filter((tgid) => !b.has(tgid) && existsSync(`/proc/${tgid}`));
    assert.deepEqual(onlyWalk, [], 'every live process the walk reports, the iterator reports too');
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    walk?.close();
    iter?.close();
  }
});

test('a walk with more processes than its array holds: that reading takes the iterator, nothing is lost', {
  timeout: 30_000,
}, async () => {
  // More user processes than the array holds, whatever else runs on the machine (a fresh one may have only 6).
  const extra = Array.from({ length: 12 }, () =>
    spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'sleep', '60'], { stdio: 'ignore' }),
  );
  const small = new TaskCollector(TASKS_OBJ, { walkCapacity: 8 });
  try {
    assert.equal(small.reads, 'walk');
    const got = snapshot(small.read());
    assert.equal(small.walkOverflows, 1, 'the walk said it did not fit');
    assert.ok(got.size > 8, `all ${got.size} processes were read (by the iterator)`);
    assert.ok(got.get(process.pid), 'this process among them');
    const rss: number[] = [];
    small.readRss((tgid) => rss.push(tgid));
    assert.equal(small.walkOverflows, 2, 'the RSS walk overflowed too');
    assert.ok(rss.includes(process.pid), 'the RSS sample, by the iterator, has this process');
  } finally {
    small.close();
    for (const p of extra) p.kill('SIGKILL');
  }
});
