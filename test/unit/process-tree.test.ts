import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPpid } from '../../src/host/procfs';
import { ProcessTreeFilter, parentsFrom } from '../../src/shared/presentation/processTree';

test('a root and its descendants are included, siblings and ancestors are not', () => {
  // 1 ─ 10 ─ 20 ─ 30 ; 10 ─ 21 ; 1 ─ 11
  const parents = parentsFrom([
    { tgid: 10, ppid: 1 },
    { tgid: 20, ppid: 10 },
    { tgid: 30, ppid: 20 },
    { tgid: 21, ppid: 10 },
    { tgid: 11, ppid: 1 },
  ]);
  const f = new ProcessTreeFilter(new Set([20]), parents);
  assert.deepEqual(
    [10, 20, 30, 21, 11, 1].map((p) => f.includes(p)),
    [false, true, true, false, false, false],
  );
});

test('a parent cycle (recycled pids) terminates', () => {
  const f = new ProcessTreeFilter(new Set([99]), (p) => (p === 5 ? 6 : 5));
  assert.equal(f.includes(5), false);
});

test('ancestors missing from the window are found through /proc', async () => {
  const child = spawn('sh', ['-c', 'sleep 5 & wait'], { stdio: 'ignore' });
  let grandchild = 0;
  try {
    await new Promise((r) => setTimeout(r, 200));
    grandchild = Number(
      readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0],
    );
    assert.equal(readPpid(grandchild), child.pid);
    const f = new ProcessTreeFilter(new Set([process.pid]), parentsFrom([], readPpid));
    assert.equal(f.includes(grandchild), true, 'sleep is a grandchild of this test process');
    assert.equal(
      new ProcessTreeFilter(new Set([1234567]), parentsFrom([], readPpid)).includes(grandchild),
      false,
    );
  } finally {
    if (grandchild > 0) process.kill(grandchild, 'SIGKILL');
    child.kill('SIGKILL');
  }
});
