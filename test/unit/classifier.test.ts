// The rule table against the reference tool's golden vectors, its boundaries, the alert ranking, the improvements
// (each behind its key) and properties that must hold for any input.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Classifier, classifyMetrics, isGrowing } from '../../src/shared/diagnosis/classifier';
import { type Config, DEFAULT_CONFIG, validateConfig } from '../../src/shared/diagnosis/config';
import type { Label, FullMetrics as Metrics } from '../../src/shared/diagnosis/model';
import { alertOf } from '../../src/shared/diagnosis/ordering';
import { fixed } from '../../src/shared/format';
import { cgroup, host, MB, proc as v2proc, win } from '../support/windows';

function metrics(m: Partial<Metrics>): Metrics {
  return {
    cpuPercent: 0,
    coreCpuPercent: 0,
    faults: 0,
    faultsPerSec: 0,
    costPerFault: 0,
    rssMb: 0,
    rssRatio: 0,
    rssLimit: 'host',
    rssGrowing: false,
    rssSlopeMbPerSec: 0,
    preempted: 0,
    preemptsOthers: 0,
    runqWaitPercent: 0,
    waitCorePercent: 0,
    throttledCorePercent: 0,
    demandCorePercent: 0,
    waitPercent: 0,
    causedWaitCorePercent: 0,
    cpuQuotaPercent: 0,
    minFaultsPerSec: 0,
    majFaultsPerSec: 0,
    anonMb: 0,
    anonGrowing: false,
    anonSlopeMbPerSec: 0,
    anonGrowingSec: 0,
    anonGrownMb: 0,
    blockedPercent: 0,
    diskWaitPercent: 0,
    diskWaitCorePercent: 0,
    readBytesPerSec: 0,
    writeBytesPerSec: 0,
    memLimitMb: 16384,
    memRemainingMb: 8192,
    memLimitKind: 'host',
    secondsToLimit: -1,
    memPressure: -1,
    memRefaultsPerSec: -1,
    ...m,
  };
}
const label = (m: Partial<Metrics>, cfg: Config = DEFAULT_CONFIG): Label =>
  classifyMetrics(metrics(m), cfg).label;

describe('reference golden vectors (default thresholds)', () => {
  const cases: [Partial<Metrics>, Label][] = [
    [{ cpuPercent: 60, faultsPerSec: 0.5 }, 'CPU-bound'],
    [{ cpuPercent: 5, coreCpuPercent: 100 }, 'CPU-bound'],
    [{ cpuPercent: 5, coreCpuPercent: 30 }, 'OK'],
    [{ cpuPercent: 10, faultsPerSec: 800, costPerFault: 0.2, faults: 200 }, 'Mem-thrashing'],
    [{ cpuPercent: 5, faultsPerSec: 15000, costPerFault: 0.003, faults: 15000 }, 'Mem-thrashing'],
    [{ cpuPercent: 25, faultsPerSec: 15000, faults: 15000 }, 'OK'],
    [{ cpuPercent: 5, preempted: 200 }, 'Starved'],
    [{ cpuPercent: 35, preemptsOthers: 120 }, 'Noisy neighbor'],
    [{ rssMb: 500, faultsPerSec: 200, rssGrowing: true }, 'OOM risk'],
    [{ rssMb: 400, rssRatio: 0.1, faultsPerSec: 300, rssGrowing: true }, 'OOM risk'],
    [{ rssMb: 2048, faultsPerSec: 500, rssGrowing: false }, 'OK'],
  ];
  for (const [m, want] of cases) test(`${JSON.stringify(m)} → ${want}`, () => assert.equal(label(m), want));

  test('RSS tracker: [100,120] grows, [120,150,140] and [500,500,500] do not', () => {
    assert.equal(isGrowing([100, 120], 10), true);
    assert.equal(isGrowing([120, 150, 140], 10), false);
    assert.equal(isGrowing([500, 500, 500], 10), false);
    assert.equal(isGrowing([100], 0), false, 'one point is no trend');
  });
});

describe('boundaries follow the reference code, not its docs', () => {
  test('core_cpu_percent is >=, cpu_percent is >', () => {
    assert.equal(label({ coreCpuPercent: 90 }), 'CPU-bound');
    assert.equal(label({ cpuPercent: 50, coreCpuPercent: 89.9 }), 'OK');
  });
  test('starved.min_preempted and noisy_neighbor.min_preempts_others are strict', () => {
    assert.equal(label({ cpuPercent: 5, preempted: 100 }), 'OK');
    assert.equal(label({ cpuPercent: 5, preempted: 101 }), 'Starved');
    assert.equal(label({ cpuPercent: 35, preemptsOthers: 100 }), 'OK');
  });
  test('cpu_bound.max_preempted is <=, max_faults_per_sec is <', () => {
    assert.equal(label({ coreCpuPercent: 100, preempted: 50 }), 'CPU-bound');
    assert.equal(label({ coreCpuPercent: 100, preempted: 51, cpuPercent: 50 }), 'OK');
    assert.equal(label({ coreCpuPercent: 100, faultsPerSec: 10 }), 'OK');
  });
  test('first match wins: a growing big process that also burns a core is OOM risk', () => {
    assert.equal(label({ rssMb: 600, rssGrowing: true, faultsPerSec: 300, coreCpuPercent: 100 }), 'OOM risk');
  });
  test('every non-OK verdict carries evidence that holds', () => {
    const v = classifyMetrics(
      metrics({ cpuPercent: 10, faultsPerSec: 800, costPerFault: 0.2, faults: 200 }),
      DEFAULT_CONFIG,
    );
    assert.equal(v.rule, 'mem_thrashing.moderate');
    for (const e of v.evidence) {
      const [a, b] = [Number(e.value), Number(e.threshold)];
      const holds = { '>': a > b, '>=': a >= b, '<': a < b, '<=': a <= b, '==': a === b }[e.op];
      assert.ok(holds, `${e.metric} ${e.value} ${e.op} ${e.threshold}`);
    }
  });
});

// ---- windows for the stateful Classifier, with the reference profile selected. The reference reads v2 samples
// as: faults = minor + major, RSS = anon + file + shmem, preempted from the pairs, memMax = the cgroup's limit.
/** A v1-shaped process (faults, rssBytes, memMaxBytes) mapped onto a v2 sample and its cgroup. */
function proc(
  p: {
    tgid: number;
    faults?: number;
    rssBytes?: number;
    rssSamples?: number[];
    memMaxBytes?: number;
  } & Record<string, unknown>,
) {
  const { faults = 0, rssBytes = 10 * MB, rssSamples, memMaxBytes, ...rest } = p;
  const file = 4 * MB;
  return {
    sample: v2proc({
      ...rest,
      tgid: p.tgid,
      minFaults: faults - Math.floor(faults / 10),
      majFaults: Math.floor(faults / 10),
      rssAnonBytes: rssBytes - file,
      rssFileBytes: file,
      anonSamples: (rssSamples ?? [rssBytes]).map((x) => x - file),
      cg: memMaxBytes ? 1 : 0,
    }),
    memMaxBytes,
  };
}
type P = ReturnType<typeof proc>;
function refWin(seq: number, ps: P[], extra: Parameters<typeof win>[2] = {}) {
  const limit = ps.find((x) => x.memMaxBytes)?.memMaxBytes ?? null;
  return win(
    seq,
    ps.map((x) => x.sample),
    { cgroups: [cgroup(), cgroup({ path: '/box', memLimitBytes: limit, memLimitPath: '/box' })], ...extra },
  );
}
const cfg = (o: object) => validateConfig({ profile: 'reference', ...o });

describe('Classifier across windows', () => {
  test('a leak is OOM risk once its history grows; time-to-OOM follows the slope', () => {
    const c = new Classifier(cfg({ oom: { rss_mb: 100 } }), host);
    let last: Label = 'OK';
    let tto: number | null = null;
    for (let i = 0; i < 3; i++) {
      const r = c.classify(refWin(i, [proc({ tgid: 10, rssBytes: (100 + 40 * i) * MB, faults: 10_000 })]));
      last = r.diagnoses[0].label;
      tto = r.diagnoses[0].timeToOomSec;
    }
    assert.equal(last, 'OOM risk');
    assert.ok(tto !== null && Math.abs(tto - (16 * 1024 - 180) / 40) < 1, `time to OOM ${tto}`);
  });

  test('sub_window_samples: OOM risk one window sooner', () => {
    const samples = (base: number) => [0, 1, 2, 3].map((k) => (base + 10 * k) * MB);
    const run = (sub: boolean) => {
      const c = new Classifier(cfg({ oom: { rss_mb: 100 }, rss_trend: { sub_window_samples: sub } }), host);
      const labels: Label[] = [];
      for (let i = 0; i < 3; i++) {
        const s = samples(120 + 40 * i);
        labels.push(
          c.classify(refWin(i, [proc({ tgid: 10, rssBytes: s[3], rssSamples: s, faults: 10_000 })]))
            .diagnoses[0].label,
        );
      }
      return labels.indexOf('OOM risk');
    };
    assert.equal(run(false), 1);
    assert.equal(run(true), 0);
  });

  test('use_cgroup_limit: rss_ratio against memory.max in a container', () => {
    const p = (i: number) =>
      proc({ tgid: 10, rssBytes: (60 + 20 * i) * MB, faults: 1000, memMaxBytes: 256 * MB });
    const run = (useCgroup: boolean) => {
      const c = new Classifier(cfg({ oom: { use_cgroup_limit: useCgroup } }), host);
      return [0, 1, 2].map((i) => c.classify(refWin(i, [p(i)])).diagnoses[0]).pop()!;
    };
    assert.equal(run(false).label, 'OK', 'against 16 GB of host RAM it is small');
    const d = run(true);
    assert.equal(d.label, 'OOM risk');
    assert.equal(d.metrics.rssLimit, 'cgroup');
    assert.ok(d.timeToOomSec !== null && d.timeToOomSec < 20);
  });

  test('runq_wait_percent: Starved from run-queue wait when enabled', () => {
    const p = proc({ tgid: 10, cpuNs: 5e7, preempted: 3, runqWaitNs: 6e8 });
    assert.equal(new Classifier(cfg({}), host).classify(refWin(0, [p])).diagnoses[0].label, 'OK');
    const d = new Classifier(cfg({ starved: { runq_wait_percent: 50 } }), host).classify(refWin(0, [p]))
      .diagnoses[0];
    assert.equal(d.label, 'Starved');
    assert.equal(d.rule, 'starved.runq_wait_percent');
  });

  test('absent_grace_windows keeps history through an idle window', () => {
    const seq = (grace: number) => {
      const c = new Classifier(
        cfg({ oom: { rss_mb: 100 }, rss_trend: { absent_grace_windows: grace } }),
        host,
      );
      c.classify(refWin(0, [proc({ tgid: 10, rssBytes: 120 * MB, faults: 1000 })]));
      c.classify(refWin(1, [])); // idle: not reported by the collector
      return c.classify(refWin(2, [proc({ tgid: 10, rssBytes: 200 * MB, faults: 1000 })])).diagnoses[0].label;
    };
    assert.equal(seq(0), 'OK', 'parity: history forgotten');
    assert.equal(seq(1), 'OOM risk');
  });

  test('victim ↔ aggressor lists and per-core saturation', () => {
    const c = new Classifier(cfg({}), host);
    const r = c.classify(
      refWin(0, [proc({ tgid: 1, comm: 'victim', cpuNs: 1e7 }), proc({ tgid: 2, comm: 'hog', cpuNs: 1e9 })], {
        pairs: [{ victim: 1, aggressor: 2, count: 7 }],
        cpuBusyNs: [1e9, 1e8],
      }),
    );
    const v = r.diagnoses.find((d) => d.tgid === 1)!;
    const a = r.diagnoses.find((d) => d.tgid === 2)!;
    assert.deepEqual(v.preemptedBy, [{ tgid: 2, comm: 'hog', count: 7 }]);
    assert.deepEqual(a.preempts, [{ tgid: 1, comm: 'victim', count: 7 }]);
    assert.deepEqual(
      r.perCoreSaturation.map((x) => x.cpu),
      [0],
    );
    assert.equal(
      c.classify(refWin(1, [], { cpuBusyNs: [1e9, 1e9] })).perCoreSaturation.length,
      0,
      'machine saturated',
    );
    assert.equal(
      c.classify(refWin(2, [], { cpuBusyNs: [1e9, null] })).cores.length,
      1,
      'offline CPU skipped',
    );
  });

  test('alert ranking: OOM > Mem-thrashing > Starved > Noisy neighbor > CPU-bound', () => {
    const c = new Classifier(cfg({ oom: { rss_mb: 100 } }), host);
    const procs = (i: number) => [
      proc({ tgid: 1, cpuNs: 1e9 }), // CPU-bound
      proc({ tgid: 2, cpuNs: 1e7, faults: 20_000 }), // Mem-thrashing (volume)
      proc({ tgid: 3, cpuNs: 1e7, preempted: 500 }), // Starved
      proc({ tgid: 4, rssBytes: (150 + 50 * i) * MB, faults: 1000, cpuNs: 1e7 }), // OOM after 2 windows
    ];
    assert.equal(alertOf(c.classify(refWin(0, procs(0))))?.tgid, 2);
    const r = c.classify(refWin(1, procs(1)));
    assert.equal(alertOf(r)?.tgid, 4);
    assert.deepEqual(
      r.diagnoses.map((d) => d.label),
      ['OOM risk', 'Mem-thrashing', 'Starved', 'CPU-bound'],
    );
    assert.equal(alertOf(c.classify(refWin(2, [proc({ tgid: 9 })]))), undefined, 'all OK: no alert');
  });
});

describe('properties (seeded random inputs)', () => {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const randomMetrics = (): Metrics =>
    metrics({
      cpuPercent: rnd() * 100,
      coreCpuPercent: rnd() * 200,
      faults: Math.floor(rnd() * 50_000),
      faultsPerSec: rnd() * 20_000,
      costPerFault: rnd(),
      rssMb: rnd() * 4000,
      rssRatio: rnd() * 0.5,
      rssGrowing: rnd() > 0.5,
      preempted: Math.floor(rnd() * 300),
      preemptsOthers: Math.floor(rnd() * 300),
    });

  test("raising a label's thresholds never turns OK into that label (monotone)", () => {
    const raised = validateConfig({
      oom: { rss_mb: 1000, rss_ratio: 0.3, faults_per_sec: 400 },
      cpu_bound: { cpu_percent: 80, core_cpu_percent: 150 },
      starved: { min_preempted: 200 },
      noisy_neighbor: { min_preempts_others: 200, min_cpu_percent: 60 },
    });
    for (let i = 0; i < 5000; i++) {
      const m = randomMetrics();
      const before = classifyMetrics(m, DEFAULT_CONFIG).label;
      const after = classifyMetrics(m, raised).label;
      if (before === 'OK') assert.equal(after, 'OK', JSON.stringify(m));
      if (after === 'OOM risk')
        assert.equal(before, 'OOM risk', 'a stricter OOM rule fires only where the default did');
    }
  });

  test('every verdict is one of the six labels, with evidence unless OK', () => {
    for (let i = 0; i < 5000; i++) {
      const v = classifyMetrics(randomMetrics(), DEFAULT_CONFIG);
      assert.ok(
        ['OOM risk', 'CPU-bound', 'Mem-thrashing', 'Starved', 'Noisy neighbor', 'OK'].includes(v.label),
      );
      assert.equal(v.evidence.length === 0, v.label === 'OK');
    }
  });
});

describe('fixed() — the fast toFixed used in summaries', () => {
  test('agrees with toFixed, up to one unit in the last digit on binary halfway cases', () => {
    let seed = 11;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let i = 0; i < 20_000; i++) {
      const v = rnd() * 10 ** (rnd() * 8);
      for (const d of [0, 1, 2] as const) {
        const [a, b] = [Number(fixed(v, d)), Number(v.toFixed(d))];
        assert.ok(Math.abs(a - b) <= 10 ** -d + 1e-9, `${v}: ${fixed(v, d)} vs ${v.toFixed(d)}`);
        assert.equal(fixed(v, d).split('.')[1]?.length ?? 0, d, 'same number of decimals');
      }
    }
    assert.equal(fixed(0, 2), '0.00');
    assert.equal(fixed(3.04, 2), '3.04');
    assert.equal(fixed(-1.25, 1), (-1.25).toFixed(1), 'negative values fall back');
    assert.equal(fixed(Number.NaN, 1), 'NaN');
  });
});

test("a window's CPU split and attributed wait are its own: each window's figures are those a fresh classifier gives", () => {
  // The Classifier reuses its per-window arrays; a window after a busier, a larger or a smaller one must not read
  // what they left behind.
  const busy = (seq: number, n: number) =>
    win(
      seq,
      [
        v2proc({ tgid: 10, cpuNs: 0.38e9, runqWaitNs: 0.62e9, ivcsw: 90 }),
        v2proc({ tgid: 11, cpuNs: 0.9e9, vcsw: 10, ivcsw: 40 }),
        v2proc({ tgid: 12, cg: 1, cpuNs: 0.2e9, runqWaitNs: 0.8e9 }),
        ...Array.from({ length: n }, (_, i) => v2proc({ tgid: 100 + i, cpuNs: 1e6 * i })),
      ],
      {
        pairs: [{ victim: 10, aggressor: 11, count: 40 }],
        cgroups: [
          cgroup(),
          cgroup({ path: '/box', cpuQuotaPath: '/box', cpuQuotaPercent: 20, throttledNs: 8e8 }),
        ],
      },
    );
  const calm = (seq: number, n: number) =>
    win(
      seq,
      Array.from({ length: n }, (_, i) => v2proc({ tgid: 10 + i, cpuNs: 1e7 })),
    );
  const cpu = (w: ReturnType<typeof win>, c = new Classifier(DEFAULT_CONFIG, host)) =>
    c.classify(w).diagnoses.map((d) => ({
      tgid: d.tgid,
      wait: d.metrics.waitCorePercent,
      throttled: d.metrics.throttledCorePercent,
      demand: d.metrics.demandCorePercent,
      share: d.metrics.waitPercent,
      caused: d.metrics.causedWaitCorePercent,
    }));
  const c = new Classifier(DEFAULT_CONFIG, host);
  // Sizes: the same as the last (43), smaller, larger, much larger.
  const windows = [busy(0, 40), calm(1, 43), busy(2, 5), calm(3, 60), busy(4, 200), calm(5, 2)];
  for (const w of windows) assert.deepEqual(cpu(w, c), cpu(w), `window ${w.seq}`);
  assert.ok(cpu(windows[0]).find((d) => d.tgid === 11)!.caused > 0, 'the busy window attributes wait');
});
