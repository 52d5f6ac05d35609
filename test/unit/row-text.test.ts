// The words a tree row and the Problems panel use: figure first, held labels said as held, command lines cut at
// words, unknown peers never named, keys the profile ignores found at their place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { truncate } from '../../src/extension/commandLine';
import { headline } from '../../src/extension/rowText';
import { ignoredKeyWarnings, valueEnd } from '../../src/host/configWarnings';
import type { Diagnosis, Metrics } from '../../src/shared/diagnosis/model';
import { Stabilizer } from '../../src/shared/diagnosis/stabilizer';
import { cause } from '../../src/shared/presentation/explain';

const diag = (label: Diagnosis['label'], rule: string, m: Partial<Metrics>, extra: Partial<Diagnosis> = {}) =>
  ({
    tgid: 10,
    ppid: 1,
    comm: 'sh',
    kthread: false,
    cgroup: '/',
    label,
    rule,
    evidence: [],
    timeToOomSec: null,
    preemptedBy: [],
    preempts: [],
    behind: [],
    holds: [],
    lastCpu: 0,
    limits: { memPath: null, cpuPath: null },
    missing: [],
    metrics: { coreCpuPercent: 1, waitPercent: 0, anonMb: 10, rssMb: 12, ...m } as Metrics,
    ...extra,
  }) as Diagnosis;

test('a row leads with the figure that made its label', () => {
  const starved = diag(
    'Starved',
    'starved.runq',
    { waitPercent: 62 },
    {
      behind: [
        { tgid: 1, comm: '?', count: 5e8 },
        { tgid: 42, comm: 'yes', count: 4e8 },
      ],
    },
  );
  assert.equal(headline(starved), 'waits 62% of its runnable time, behind yes (42)');
  assert.doesNotMatch(cause(starved), /pid 1|\? \(1\)/, 'an unnamed peer is never printed');
  const leak = diag(
    'OOM risk',
    'oom.host',
    { anonSlopeMbPerSec: 33, secondsToLimit: 14 },
    { timeToOomSec: 14 },
  );
  assert.equal(headline(leak), '+33 MiB/s anon, limit in ~14 s');
});

test('every default rule ends its first figure within 10 characters, 16 when held (a 300 px row shows ~20 beside its name)', () => {
  const m: Partial<Metrics> = {
    anonSlopeMbPerSec: 5,
    secondsToLimit: 600,
    majFaultsPerSec: 900,
    memPressure: 40,
    memRefaultsPerSec: 300,
    diskWaitPercent: 55,
    waitPercent: 62,
    causedWaitCorePercent: 130,
    demandCorePercent: 180,
    coreCpuPercent: 99,
  };
  const rules = [
    'oom.cgroup',
    'oom.host',
    'mem_thrashing.pressure',
    'mem_thrashing.refaults',
    'mem_thrashing.major_faults',
    'io_bound.disk',
    'starved.throttled',
    'starved.runq',
    'noisy_neighbor.caused_wait',
    'cpu_bound.demand',
    'ok',
  ];
  for (const rule of rules) {
    const d = diag('OK', rule, m);
    // Where the first figure (with its unit or %) ends, as the glance e2e test measures it on screen.
    const end = (text: string) => {
      const m = /[+-]?\d[\d.,]*\s*(%|[KMG]iB\/s|[KMG]?i?B|\/s)?/.exec(text);
      return m ? m.index + m[0].length : -1;
    };
    const at = end(headline(d));
    assert.ok(at > 0 && at <= 10, `${rule}: "${headline(d)}"`);
    assert.ok(end(headline({ ...d, heldFrom: d })) <= 16, `${rule} held`);
  }
});

test('a held label is said with the figures that made it, and says it is held', () => {
  const s = new Stabilizer();
  s.apply([diag('Starved', 'starved.runq', { waitPercent: 62 })]);
  const [held] = s.apply([diag('OK', 'ok', { waitPercent: 26 })]);
  assert.equal(held.label, 'Starved');
  assert.match(headline(held), /^held: waits 62%/);
  assert.match(cause(held), /^held from an earlier window, when it was: waiting for a CPU 62%/);
  assert.doesNotMatch(cause(held), /26%/);
});

test('command lines are cut at a word, with an ellipsis', () => {
  assert.equal(
    truncate('-c import time; x=[]; [x.append(1) for _ in range(9)]', 30),
    '-c import time; x=[]…',
  );
  assert.equal(truncate('short', 30), 'short');
  assert.equal(truncate('/a/very/long/path/without/any/space/in/it', 20), '/a/very/long/path/w…');
});

test('keys the default profile ignores are found at their place; a value ends before its comment', () => {
  const w = ignoredKeyWarnings('oom:\n  horizon_sec: 600\n  rss_mb: 200 # reference\n', 'default');
  assert.deepEqual(
    w.map((x) => [x.key, x.line, x.column, x.endColumn]),
    [['oom.rss_mb', 2, 2, 13]],
  );
  assert.deepEqual(ignoredKeyWarnings('oom:\n  rss_mb: 200\n', 'reference'), []);
  assert.equal(valueEnd('  min_demand_percent: lots # not a number', 22), 26);
  assert.equal(valueEnd('  x: ', 5), 6);
});
