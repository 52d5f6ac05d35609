// The cgroup table against fake cgroup trees (v2, hybrid, v1) in a temporary directory: nearest limits up the
// path, usage/anon of the limiting cgroup, pressure, quota and throttling deltas, and bounded caches under churn.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CgroupResolver, CgroupTable, detectMounts, Lru, parseProcCgroup } from '../../src/host/cgroups';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'hotspot-cg-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), text);
  }
  return root;
}

test('detectMounts tells v2, hybrid, v1 and none apart', () => {
  const v2 = 'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n';
  const hybrid =
    'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\ncgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n';
  assert.deepEqual(detectMounts(v2), { mode: 'v2', v2: '/sys/fs/cgroup' });
  assert.deepEqual(detectMounts(hybrid), {
    mode: 'hybrid',
    memory: '/sys/fs/cgroup/memory',
    cpu: '/sys/fs/cgroup/cpu,cpuacct',
    v2: '/sys/fs/cgroup/unified',
  });
  assert.equal(detectMounts(hybrid.split('\n').slice(0, 2).join('\n')).mode, 'v1');
  assert.equal(detectMounts('proc /proc proc rw 0 0\n').mode, 'none');
});

test('parseProcCgroup picks the v2 line and the memory and cpu controllers', () => {
  const ref = parseProcCgroup('12:cpu,cpuacct:/c\n4:memory:/m/x\n1:name=systemd:/s\n0::/u/v\n');
  assert.deepEqual(ref, { v2: '/u/v', memory: '/m/x', cpu: '/c' });
});

test('v2: nearest memory.max and cpu.max up the path, usage and anon+shmem of the limiting cgroup', () => {
  const root = tree({
    'a/memory.max': '1073741824\n',
    'a/memory.current': '5000\n',
    'a/memory.stat':
      'anon 3000\nfile 100\nshmem 500\nworkingset_refault_anon 0\nworkingset_refault_file 900\n',
    'a/cpu.max': '50000 100000\n',
    'a/cpu.stat': 'usage_usec 1\nnr_periods 10\nnr_throttled 2\nthrottled_usec 700\n',
    'a/b/memory.max': 'max\n',
    'a/b/cpu.max': 'max 100000\n',
    'a/b/memory.pressure':
      'some avg10=12.50 avg60=1.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  });
  try {
    const t = new CgroupTable({ mounts: { mode: 'v2', v2: root } });
    const i = t.indexOf({ v2: '/a/b', memory: '', cpu: '' });
    assert.equal(t.indexOf({ v2: '/a/b', memory: '', cpu: '' }), i, 'same cgroup, same index');
    const [s] = t.take();
    assert.deepEqual(s, {
      path: '/a/b',
      memLimitBytes: 1073741824,
      memLimitPath: '/a',
      memUsageBytes: 5000,
      memAnonBytes: 3500,
      memPressure: 12.5,
      memRefaults: null, // a count needs the previous window's
      cpuQuotaPercent: 50,
      cpuQuotaPath: '/a',
      throttledNs: 0,
      nrThrottled: 0,
      nrPeriods: 0,
    });
    // The next window reports throttling as a delta.
    writeFileSync(path.join(root, 'a/cpu.stat'), 'nr_periods 30\nnr_throttled 7\nthrottled_usec 1700\n');
    writeFileSync(
      path.join(root, 'a/memory.stat'),
      'anon 3000\nfile 100\nshmem 500\nworkingset_refault_anon 4\nworkingset_refault_file 1200\n',
    );
    t.indexOf({ v2: '/a/b', memory: '', cpu: '' });
    t.indexOf({ v2: '/a/c', memory: '', cpu: '' }); // another cgroup under the same limit: the same delta
    const [s2, s3] = t.take();
    assert.deepEqual([s2.throttledNs, s2.nrThrottled, s2.nrPeriods], [1_000_000, 5, 20]);
    assert.deepEqual(
      [s2.memRefaults, s3.memRefaults],
      [304, 304],
      'refaults of the limiting cgroup, per window',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('hybrid: v1 memory limit (LONG_MAX page-rounded means none), v1 quota in % of a core, v2 pressure', () => {
  const root = tree({
    'memory/x/memory.limit_in_bytes': '9223372036854771712\n',
    'memory/x/y/memory.limit_in_bytes': '268435456\n',
    'memory/x/y/memory.usage_in_bytes': '1000\n',
    'memory/x/y/memory.stat':
      'rss 1\ntotal_rss 600\ntotal_shmem 40\nworkingset_refault_file 1\ntotal_workingset_refault_file 70\n',
    'memory/x/y/z/memory.limit_in_bytes': '9223372036854771712\n',
    'memory/free/memory.limit_in_bytes': '9223372036854771712\n',
    'cpu/q/cpu.cfs_quota_us': '150000\n',
    'cpu/q/cpu.cfs_period_us': '100000\n',
    'cpu/q/cpu.stat': 'nr_periods 4\nnr_throttled 1\nthrottled_time 123\n',
    'cpu/none/cpu.cfs_quota_us': '-1\n',
    'cpu/none/cpu.cfs_period_us': '100000\n',
    'unified/u/memory.pressure': 'some avg10=0.50 avg60=0 avg300=0 total=0\n',
  });
  try {
    const mounts = detectMounts(
      `cgroup ${root}/memory cgroup rw,memory 0 0\ncgroup ${root}/cpu cgroup rw,cpu 0 0\ncgroup2 ${root}/unified cgroup2 rw 0 0\n`,
    );
    const t = new CgroupTable({ mounts });
    t.indexOf({ v2: '/u', memory: '/x/y/z', cpu: '/q' });
    t.indexOf({ v2: '/', memory: '/free', cpu: '/none' });
    const [limited, free] = t.take();
    assert.equal(limited.path, '/u', 'a used v2 tree names the cgroup');
    assert.deepEqual(
      [limited.memLimitBytes, limited.memLimitPath, limited.memUsageBytes, limited.memAnonBytes],
      [268435456, '/x/y', 1000, 640],
    );
    assert.equal(limited.memPressure, 0.5);
    assert.deepEqual([limited.cpuQuotaPercent, limited.cpuQuotaPath], [150, '/q']);
    assert.equal(free.path, '/free', 'an unused v2 tree ("/"): the memory controller path names it');
    assert.deepEqual([free.memLimitBytes, free.cpuQuotaPercent, free.memPressure], [null, null, null]);
    // v1 refaults: the hierarchical total_ field, as a per-window delta; none without a limit.
    writeFileSync(
      path.join(root, 'memory/x/y/memory.stat'),
      'rss 1\ntotal_rss 600\ntotal_shmem 40\nworkingset_refault_file 2\ntotal_workingset_refault_file 95\n',
    );
    t.indexOf({ v2: '/u', memory: '/x/y/z', cpu: '/q' });
    t.indexOf({ v2: '/', memory: '/free', cpu: '/none' });
    const [limited2, free2] = t.take();
    assert.deepEqual([limited.memRefaults, limited2.memRefaults, free2.memRefaults], [null, 25, null]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('paths with dot segments are never read', () => {
  const t = new CgroupTable({ mounts: { mode: 'v2', v2: '/sys/fs/cgroup' } });
  t.indexOf({ v2: '/../../etc', memory: '', cpu: '' });
  const [s] = t.take();
  assert.equal(s.memLimitBytes, null);
});

test('10,000 cgroups of churn: caches stay bounded and memory flat', () => {
  const root = tree({});
  try {
    for (let i = 0; i < 10_000; i++) {
      mkdirSync(path.join(root, `c${i}`));
      writeFileSync(path.join(root, `c${i}`, 'memory.max'), `${1_000_000 + i}\n`);
    }
    const t = new CgroupTable({ mounts: { mode: 'v2', v2: root }, maxEntries: 512 });
    const r = new CgroupResolver((pid) => `0::/c${pid % 10_000}\n`);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    let before = 0;
    for (let w = 0; w < 40; w++) {
      if (w === 10) before = heap();
      // Each window: 1,000 processes, each in a cgroup not seen for many windows.
      for (let i = 0; i < 1000; i++) {
        const pid = w * 1000 + i;
        t.indexOf(r.refOf(pid, pid, 0));
      }
      r.endWindow();
      const table = t.take();
      assert.equal(table.length, 1000);
      assert.equal(table[0].memLimitBytes, 1_000_000 + ((w * 1000) % 10_000));
    }
    assert.ok(t.cached <= 3 * 512, `cached entries ${t.cached}`);
    assert.equal(r.size, 1000, 'the resolver holds the last window only');
    const grew = heap() - before;
    assert.ok(grew < 8 * 2 ** 20, `heap grew ${grew} bytes over 30 windows of churn`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the resolver re-reads /proc/<pid>/cgroup only when the cgroup key changes', () => {
  let reads = 0;
  let where = '/a';
  const r = new CgroupResolver(() => {
    reads++;
    return `0::${where}\n`;
  });
  assert.equal(r.refOf(5, 1, 1).v2, '/a');
  r.endWindow();
  where = '/b';
  assert.equal(r.refOf(5, 1, 1).v2, '/a', 'same key: cached');
  r.endWindow();
  assert.equal(r.refOf(5, 1, 2).v2, '/b', 'moved: seen the next window');
  assert.equal(reads, 2);
});

test('Lru evicts the least recently used', () => {
  const l = new Lru<string, number>(2);
  l.set('a', 1);
  l.set('b', 2);
  l.get('a');
  l.set('c', 3);
  assert.deepEqual([l.get('a'), l.get('b'), l.get('c'), l.size], [1, undefined, 3, 2]);
});
