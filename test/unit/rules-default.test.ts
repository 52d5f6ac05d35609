// The default rule set over hand-built v2 windows shaped like the recorded ones (test/fixtures/*.jsonl): each
// label with its cause in words, the borderline cases the issue lists, 1 s and 5 s windows agreeing, degraded
// mode. (Classifying 10,000 processes is timed by `npm run bench`, not here: a timed test on a shared machine
// measures the neighbours.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Classifier, isKernelThread } from '../../src/shared/classifier';
import { DEFAULT_CONFIG, validateConfig } from '../../src/shared/config';
import type { Diagnosis } from '../../src/shared/diagnosis';
import { cause, details } from '../../src/shared/explain';
import type { ProcSample, Window } from '../../src/shared/protocol';
import { cgroup, GB, host, MB, proc, win } from '../support/windows';

const one = (w: Window, tgid: number, c = new Classifier(DEFAULT_CONFIG, host)): Diagnosis =>
  c.classify(w).diagnoses.find((d) => d.tgid === tgid)!;

describe('CPU from demand', () => {
  test('a process on a core all the time is CPU-bound, whatever its faults and preemptions', () => {
    const d = one(
      win(0, [proc({ tgid: 10, cpuNs: 0.99e9, runqWaitNs: 1e7, minFaults: 20_000, ivcsw: 400 })]),
      10,
    );
    assert.equal(d.label, 'CPU-bound');
    assert.equal(cause(d), 'runs whenever it can: 99% of a core');
  });

  test('a compiler at 157 % of a core with 20k faults/s is CPU-bound, not Mem-thrashing', () => {
    const d = one(
      win(0, [proc({ tgid: 10, comm: 'tsc', threads: 4, cpuNs: 1.57e9, minFaults: 20_000 })]),
      10,
    );
    assert.equal(d.label, 'CPU-bound');
    assert.match(cause(d), /157% of a core/);
  });

  test('waiting 62 % of its runnable time is Starved, behind the processes that held the CPU longest', () => {
    const w = win(
      0,
      [
        proc({ tgid: 10, comm: 'node', cpuNs: 0.38e9, runqWaitNs: 0.62e9, ivcsw: 90 }),
        // qemu keeps the CPU for long slices, chromium for shorter ones, rcu_preempt for microseconds
        proc({ tgid: 23882, comm: 'qemu-system-x86', cpuNs: 0.9e9, vcsw: 10, ivcsw: 40 }),
        proc({ tgid: 14775, comm: 'chromium', cpuNs: 0.5e9, vcsw: 50, ivcsw: 50 }),
        proc({ tgid: 99, comm: 'rcu_preempt', kthread: true, cpuNs: 1e6, vcsw: 1000 }),
      ],
      {
        pairs: [
          { victim: 10, aggressor: 23882, count: 40 },
          { victim: 10, aggressor: 14775, count: 40 },
          { victim: 10, aggressor: 99, count: 10 },
        ],
      },
    );
    const d = one(w, 10);
    assert.equal(d.label, 'Starved');
    assert.equal(
      cause(d),
      'waiting for a CPU 62% of the time, behind qemu-system-x86 (23882) and chromium (14775)',
    );
    assert.equal(d.behind[0].tgid, 23882, 'the long-slice holder first');
    assert.ok(d.behind[0].count > 2 * d.behind[1].count);
    assert.ok(
      !d.behind.some((b) => b.tgid === 99),
      'a kernel thread preempting for microseconds is not a holder',
    );
  });

  test('a spinner held to 20 % by its cgroup quota is Starved, throttled (run_delay includes the throttling)', () => {
    const w = win(0, [proc({ tgid: 10, cg: 1, cpuNs: 0.2e9, runqWaitNs: 0.8e9 })], {
      cgroups: [
        cgroup(),
        cgroup({
          path: '/box',
          cpuQuotaPercent: 20,
          cpuQuotaPath: '/box',
          throttledNs: 0.8e9,
          nrThrottled: 10,
          nrPeriods: 10,
        }),
      ],
    });
    const d = one(w, 10);
    assert.equal(d.label, 'Starved');
    assert.equal(d.rule, 'starved.throttled');
    assert.equal(
      cause(d),
      "throttled by its cgroup's CPU quota (cpu.max 20%), held back 80% of the time it wants to run",
    );
    assert.ok(Math.abs(d.metrics.demandCorePercent - 100) < 1, 'throttled time is not counted twice');
  });

  test('four threads on two CPUs wait behind each other: CPU-bound, not Starved', () => {
    const d = one(win(0, [proc({ tgid: 10, threads: 4, cpuNs: 1.95e9, runqWaitNs: 2.05e9 })]), 10);
    assert.equal(d.label, 'CPU-bound');
    assert.equal(cause(d), 'wants 400% of a core, gets 195%');
  });

  test('the process whose running makes another wait is its Noisy neighbor', () => {
    const w = win(
      0,
      [
        proc({ tgid: 1, comm: 'hog', cpuNs: 0.97e9, runqWaitNs: 2e7, ivcsw: 5, vcsw: 0 }),
        proc({ tgid: 2, comm: 'victim', cpuNs: 0.02e9, runqWaitNs: 0.97e9, ivcsw: 3 }),
      ],
      { pairs: [{ victim: 2, aggressor: 1, count: 3 }] },
    );
    const r = new Classifier(DEFAULT_CONFIG, host).classify(w);
    const hog = r.diagnoses.find((d) => d.tgid === 1)!;
    const victim = r.diagnoses.find((d) => d.tgid === 2)!;
    assert.equal(hog.label, 'Noisy neighbor');
    assert.equal(cause(hog), 'its running makes others wait 97% of a core, mostly victim (2)');
    assert.equal(victim.label, 'Starved');
    assert.match(cause(victim), /behind hog \(1\)$/);
  });

  test('a seldom-preempted victim is attributed to the processes that last ran on its CPU', () => {
    const w = win(
      0,
      [
        proc({ tgid: 1, comm: 'hog', cpuNs: 0.97e9, lastCpu: 1, ivcsw: 5 }),
        proc({ tgid: 3, comm: 'other', cpuNs: 0.5e9, lastCpu: 0, ivcsw: 5 }),
        proc({ tgid: 2, comm: 'victim', cpuNs: 0.01e9, runqWaitNs: 0.95e9, lastCpu: 1, ivcsw: 1 }),
      ],
      { pairs: [{ victim: 2, aggressor: 99, count: 1 }] },
    );
    const d = one(w, 2);
    assert.equal(d.behind[0].tgid, 1, JSON.stringify(d.behind));
    assert.ok(!d.behind.some((b) => b.tgid === 3), 'not a process on another CPU');
  });
});

describe('memory: unreclaimable growth toward the limit that kills', () => {
  /** `n` windows of `secs` s each, anon (MiB) given per sample time by `mb(t)`, 4 samples a window. */
  function run(
    n: number,
    mb: (t: number) => number,
    o: { secs?: number; cg?: object; p?: Partial<ProcSample>; cfg?: object; memAvailable?: number } = {},
  ): Diagnosis[] {
    const secs = o.secs ?? 1;
    const c = new Classifier(validateConfig(o.cfg ?? {}), host);
    const out: Diagnosis[] = [];
    for (let i = 0; i < n; i++) {
      const samples = [1, 2, 3, 4].map((k) => mb((i + k / 4) * secs) * MB);
      const p = proc({ tgid: 10, cg: o.cg ? 1 : 0, anonSamples: samples, rssAnonBytes: samples[3], ...o.p });
      const w = win(
        i,
        [p],
        {
          cgroups: [cgroup(), cgroup(o.cg ?? {})],
          memAvailableBytes: o.memAvailable ?? 8 * GB,
        },
        secs,
      );
      out.push(c.classify(w).diagnoses[0]);
    }
    return out;
  }

  test('a leak toward its cgroup limit: OOM risk with the time to reach it', () => {
    const limit = 600 * MB;
    const ds = run(10, (t) => 100 + 33 * t, {
      cg: { path: '/box', memLimitBytes: limit, memLimitPath: '/box', memAnonBytes: (100 + 33 * 10) * MB },
    });
    const d = ds.at(-1)!;
    assert.equal(d.label, 'OOM risk');
    assert.equal(d.rule, 'oom.cgroup');
    // 600 − 430 MiB left at 33 MiB/s
    assert.ok(Math.abs(d.timeToOomSec! - 170 / 33) < 0.5, String(d.timeToOomSec));
    assert.equal(cause(d), "anonymous memory +33 MiB/s, reaches its cgroup's 600 MiB limit in ~5 s");
    assert.ok(ds.findIndex((x) => x.label === 'OOM risk') <= 6, 'seen after min_trend_sec (6 s)');
  });

  test('on the host, against MemAvailable; beyond the horizon it is not a risk yet', () => {
    const fast = run(10, (t) => 100 + 40 * t).at(-1)!;
    assert.equal(fast.label, 'OOM risk');
    assert.match(
      cause(fast),
      /^anonymous memory \+40 MiB\/s, uses up the machine's available 8 GiB in ~3 min$/,
    );
    const slow = run(10, (t) => 100 + 1 * t).at(-1)!; // 8 GiB at 1 MiB/s: over two hours
    assert.equal(slow.label, 'OK');
    assert.match(cause(slow), /growing \+1 MiB\/s, limit in ~2\.3 h/);
  });

  test('a leak that grows in huge pages (a few faults a second) is OOM risk: faults do not gate it', () => {
    const d = run(10, (t) => 100 + 32 * t, { p: { minFaults: 16 } }).at(-1)!;
    assert.equal(d.label, 'OOM risk');
  });

  test('a bounded sawtooth (back to the same floor every 1.5 s) is never OOM risk', () => {
    const saw = (t: number) => 64 + 160 * Math.min(1, (t % 1.5) / 1);
    const ds = run(30, saw);
    assert.deepEqual(
      ds.filter((d) => d.label === 'OOM risk').map((d) => d.metrics.anonMb),
      [],
    );
  });

  test('growth of file-backed pages (a mapped file being read) is not OOM risk', () => {
    const c = new Classifier(DEFAULT_CONFIG, host);
    let d: Diagnosis | undefined;
    for (let i = 0; i < 10; i++)
      d = c.classify(win(i, [proc({ tgid: 10, rssAnonBytes: 8 * MB, rssFileBytes: (50 + 48 * i) * MB })]))
        .diagnoses[0];
    assert.equal(d!.label, 'OK');
  });

  test('a leak that starts after a flat spell is seen once the recent half rises', () => {
    const ds = run(40, (t) => (t < 25 ? 200 : 200 + 30 * (t - 25)));
    const first = ds.findIndex((d) => d.label === 'OOM risk');
    assert.ok(first > 25 && first <= 33, `first OOM risk in window ${first}`);
  });

  test('1 s and 5 s windows agree on the rate and the verdict', () => {
    const a = run(12, (t) => 100 + 20 * t).at(-1)!;
    const b = run(3, (t) => 100 + 20 * t, { secs: 5 }).at(-1)!;
    assert.equal(a.label, 'OOM risk');
    assert.equal(b.label, 'OOM risk');
    assert.ok(Math.abs(a.metrics.anonSlopeMbPerSec - b.metrics.anonSlopeMbPerSec) < 1);
  });
});

describe('Mem-thrashing from faults that cost time', () => {
  const w = (memPressure: number | null, machine?: number, majFaults = 500, secs = 1) =>
    win(
      0,
      [proc({ tgid: 10, cg: 1, cpuNs: 0.1e9 * secs, majFaults: majFaults * secs, minFaults: 100 * secs })],
      {
        cgroups: [cgroup(), cgroup({ path: '/box', memPressure })],
        ...(machine === undefined ? {} : { pressure: { cpu: 0, memory: machine, io: 0 } }),
      },
      secs,
    );
  test('major faults while its cgroup stalls on memory', () => {
    const d = one(w(25), 10);
    assert.equal(d.label, 'Mem-thrashing');
    assert.equal(
      cause(d),
      'reads 500 pages/s back from disk or swap (major faults) while memory stalls 25% of the time',
    );
  });
  test('the same major faults without memory pressure are file reads: OK', () => {
    const d = one(w(0), 10);
    assert.equal(d.label, 'OK');
    assert.match(cause(d), /reads 500 pages\/s from disk \(no memory pressure\)/);
  });
  test("without the cgroup's PSI, the machine's counts; without any PSI, the faults alone", () => {
    assert.equal(one(w(null, 30), 10).label, 'Mem-thrashing');
    assert.equal(one(w(null, 0), 10).label, 'OK');
    const d = one(w(null), 10);
    assert.equal(d.label, 'Mem-thrashing');
    assert.match(cause(d), /memory pressure not measured$/);
  });
  test('minor-fault volume alone never is (fresh allocation, copy-on-write)', () => {
    const d = one(win(0, [proc({ tgid: 10, cpuNs: 0.3e9, minFaults: 200_000 })]), 10);
    assert.equal(d.label, 'OK');
  });
  test('rates are per second: a 5 s window with 5× the faults gives the same verdict', () => {
    assert.equal(one(w(25, undefined, 60, 5), 10).label, one(w(25, undefined, 60, 1), 10).label);
    assert.equal(one(w(25, undefined, 40, 5), 10).label, 'OK');
  });
});

describe('degraded mode (/proc collector: no preemption pairs)', () => {
  const degraded = { ...host, capabilities: ['degraded', 'runq_wait', 'rss_split', 'major_faults'] };
  test('the same rules run, and the explanation says which signals are missing', () => {
    const c = new Classifier(DEFAULT_CONFIG, degraded);
    const d = c.classify(win(0, [proc({ tgid: 10, cpuNs: 0.3e9, runqWaitNs: 0.7e9 })])).diagnoses[0];
    assert.equal(d.label, 'Starved');
    assert.equal(
      cause(d),
      'waiting for a CPU 70% of the time (who holds the CPU is not measured in degraded mode)',
    );
    assert.deepEqual(d.missing, ['preempt_pairs', 'cgroup_memory', 'cgroup_cpu', 'cgroup_pressure']);
    assert.match(
      details(d).at(-1)!,
      /^not measured in this session: who preempted whom, cgroup memory limits/,
    );
  });
  test('a full session misses nothing', () => {
    const d = one(win(0, [proc({ tgid: 10 })]), 10);
    assert.deepEqual(d.missing, []);
    assert.ok(!details(d).some((l) => l.startsWith('not measured')));
  });
});

describe('order of the report', () => {
  test('most severe first; within a label by its figure, then by pid', () => {
    const w = win(0, [
      proc({ tgid: 30, cpuNs: 0.95e9 }), // CPU-bound
      proc({ tgid: 20, cpuNs: 0.3e9, runqWaitNs: 0.7e9 }), // Starved 70 %
      proc({ tgid: 21, cpuNs: 0.5e9, runqWaitNs: 0.5e9 }), // Starved 50 %
      proc({ tgid: 5, cpuNs: 0.02e9 }), // OK
      proc({ tgid: 4, cpuNs: 0.02e9 }), // OK, same figure: lower pid first
      proc({ tgid: 3, cpuNs: 0.05e9 }), // OK, busier
    ]);
    const r = new Classifier(DEFAULT_CONFIG, host).classify(w);
    assert.deepEqual(
      r.diagnoses.map((d) => d.tgid),
      [20, 21, 30, 3, 4, 5],
    );
  });
});

describe('kernel threads', () => {
  test('are recognised by the kernel flag, not by name', () => {
    const w = win(0, [
      proc({ tgid: 76, comm: 'kdamond.0', kthread: true }),
      proc({ tgid: 500, comm: 'kworker/fake', kthread: false }),
    ]);
    const ds = new Classifier(DEFAULT_CONFIG, host).classify(w).diagnoses;
    const byTgid = new Map(ds.map((d) => [d.tgid, d]));
    assert.equal(
      isKernelThread(byTgid.get(76)!),
      true,
      'kdamond matches no name prefix but is a kernel thread',
    );
    assert.equal(isKernelThread(byTgid.get(500)!), false, 'a user process named kworker/… is not');
  });
});
