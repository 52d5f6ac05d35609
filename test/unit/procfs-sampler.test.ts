// The degraded /proc collector against real processes: it must still see a CPU hog and a growing RSS.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ProcfsSampler } from '../../src/host/procfsSampler';
import { parseStat, parseStatus } from '../../src/host/procfsTasks';
import { encode, parseLine } from '../../src/shared/wire/protocol';
import { startWorkload } from '../workloads';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('parseStat copes with spaces and parentheses in comm', () => {
  const fields =
    '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37'.split(
      ' ',
    );
  // field 3 (state) onwards: ppid=4 flags=9 minflt=10 majflt=12 utime=14 stime=15 threads=20 start=22 rss=24 cpu=39
  const rest = fields.map((_, i) => String(i + 3));
  const st = parseStat(`42 (a) (b c) ${rest.join(' ')}`)!;
  assert.equal(st.comm, 'a) (b c');
  assert.deepEqual(
    [
      st.ppid,
      st.flags,
      st.minFaults,
      st.majFaults,
      st.ticks,
      st.threads,
      st.startTicks,
      st.rssPages,
      st.lastCpu,
    ],
    [4, 9, 10, 12, 14 + 15, 20, 22, 24, 39],
  );
});

test('parseStatus reads RSS by kind (kB → bytes) and both context-switch counts', () => {
  const s = parseStatus(
    'Name:\tx\nRssAnon:\t   100 kB\nRssFile:\t  20 kB\nRssShmem:\t 3 kB\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t9\n',
  );
  assert.deepEqual(s, { rssAnonBytes: 102400, rssFileBytes: 20480, rssShmemBytes: 3072, vcsw: 7, ivcsw: 9 });
});

const schedstatNs = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]);

test('a busy loop: its CPU matches /proc schedstat over the window; windows are valid protocol messages', async () => {
  const sampler = new ProcfsSampler();
  const w = startWorkload('cpu');
  try {
    await sleep(100);
    sampler.sample();
    const before = schedstatNs(w.pids.cpu);
    await sleep(1000);
    const win = sampler.sample();
    const after = schedstatNs(w.pids.cpu);
    assert.deepEqual(parseLine(encode(win)), win, 'the window survives the protocol parser unchanged');
    assert.equal(parseLine(encode(sampler.hello(1000))).type, 'hello');
    const hello = parseLine(encode(sampler.hello(1000)));
    assert.ok(hello.type === 'hello' && hello.capabilities.includes('degraded'));
    assert.ok(!hello.capabilities.includes('preempt_pairs'), 'no preemption pairs from /proc');
    assert.equal(hello.attach.tasks, 'procfs');
    const hog = win.procs.find((p) => p.tgid === w.pids.cpu);
    assert.ok(hog, 'the hog is in the window');
    // On a shared machine a busy loop gets what it gets: judge against the kernel's own count.
    const err = Math.abs(hog.cpuNs - (after - before)) / (after - before);
    assert.ok(err < 0.05, `sampler ${hog.cpuNs} ns vs /proc ${after - before} ns`);
  } finally {
    w.stop();
  }
});

test('a leak shows faults and a growing RSS', async () => {
  const sampler = new ProcfsSampler();
  const w = startWorkload('leak');
  try {
    await sleep(300);
    sampler.sample();
    await sleep(700);
    const a = sampler.sample().procs.find((p) => p.tgid === w.pids.leak);
    await sleep(700);
    const win = sampler.sample();
    const b = win.procs.find((p) => p.tgid === w.pids.leak);
    const win2cg = (p: NonNullable<typeof a>) => win.cgroups[p.cg];
    assert.ok(a && b, 'the leak is active in both windows');
    assert.ok(b.minFaults > 1000, `faults ${b.minFaults}`);
    const rss = (p: typeof a) => p.rssAnonBytes + p.rssShmemBytes;
    assert.ok(rss(b) > rss(a) + 10 * 2 ** 20, `anon+shmem ${rss(a)} → ${rss(b)}`);
    assert.ok(win2cg(b), 'the leak has a cgroup entry');
  } finally {
    w.stop();
  }
});

test('contention: the nice-19 victim shows run-queue wait from schedstat; PSI is reported', async () => {
  const sampler = new ProcfsSampler();
  const w = startWorkload('contention');
  try {
    await sleep(300);
    sampler.sample();
    await sleep(1500);
    const win = sampler.sample();
    const victim = win.procs.find((p) => p.tgid === w.pids.victim);
    assert.ok(victim, 'the victim ran a little, so it is in the window');
    const waited = victim.runqWaitNs / win.durationNs;
    assert.ok(waited > 0.5, `the victim waited for a CPU ${(waited * 100).toFixed(0)}% of the window`);
    if (existsSync('/proc/pressure/cpu')) {
      assert.ok(win.pressure, 'PSI is in the window');
      assert.deepEqual(parseLine(encode(win)), win);
    }
  } finally {
    w.stop();
  }
});
