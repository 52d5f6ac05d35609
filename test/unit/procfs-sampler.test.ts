// The degraded /proc collector against real processes: it must still see a CPU hog and a growing RSS.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { ProcfsSampler, parseStat } from '../../src/shared/procfsSampler';
import { encode, parseLine } from '../../src/shared/protocol';
import { startWorkload } from '../workloads';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('parseStat copes with spaces and parentheses in comm', () => {
  const fields =
    '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37'.split(
      ' ',
    );
  // field 3 (state) onwards: ppid=field 4 … minflt=10 majflt=12 utime=14 stime=15 rss=24 processor=39
  const rest = fields.map((_, i) => String(i + 3));
  const st = parseStat(`42 (a) (b c) ${rest.join(' ')}`)!;
  assert.equal(st.comm, 'a) (b c');
  assert.deepEqual([st.ppid, st.faults, st.ticks, st.rssPages, st.lastCpu], [4, 10 + 12, 14 + 15, 24, 39]);
});

test('a busy loop shows ~one core and its windows are valid protocol messages', async () => {
  const sampler = new ProcfsSampler();
  const w = startWorkload('cpu');
  try {
    sampler.sample(); // baseline (the hog is seen for the first time)
    await sleep(1000);
    const win = sampler.sample();
    assert.deepEqual(parseLine(encode(win)), win, 'the window survives the protocol parser unchanged');
    assert.equal(parseLine(encode(sampler.hello(1000))).type, 'hello');
    const hog = win.procs.find((p) => p.tgid === w.pids.cpu);
    assert.ok(hog, 'the hog is in the window');
    const share = hog.cpuNs / win.durationNs;
    assert.ok(share > 0.8 && share < 1.2, `cpu share ${share}`);
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
    const b = sampler.sample().procs.find((p) => p.tgid === w.pids.leak);
    assert.ok(a && b, 'the leak is active in both windows');
    assert.ok(b.faults > 1000, `faults ${b.faults}`);
    assert.ok(b.rssBytes > a.rssBytes + 10 * 2 ** 20, `rss ${a.rssBytes} → ${b.rssBytes}`);
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
