// hotspot serve's pure parts: the flags (and every refusal), cgroup short names, and the grouping of processes
// into series (counters keep exited members, a group without members goes to 0 then away, the cap counts drops).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopback, parseListen, parseServeArgs, ServeUsageError } from '../../src/serve/args';
import { FAMILIES } from '../../src/serve/families';
import { Groups, shortCgroup } from '../../src/serve/groups';
import { PrometheusExporter } from '../../src/serve/prometheus';
import { DEFAULT_CONFIG } from '../../src/shared/diagnosis/config';
import { type Diagnosis, LABELS, type Report } from '../../src/shared/diagnosis/model';
import type { ProcSample, Window } from '../../src/shared/wire/protocol';

test('serve flags: defaults, and the CLI flags that apply', () => {
  const o = parseServeArgs([]);
  assert.deepEqual(o.listen, { host: '127.0.0.1', port: 9464 });
  assert.equal(o.intervalMs, 5000);
  assert.equal(o.pidLabels, false);
  const p = parseServeArgs([
    '--interval',
    '1s',
    '--config=/etc/hotspot.yaml',
    '--profile',
    'reference',
    '--pid-labels',
  ]);
  assert.equal(p.intervalMs, 1000);
  assert.equal(p.configPath, '/etc/hotspot.yaml');
  assert.equal(p.profile, 'reference');
  assert.equal(p.pidLabels, true);
});

test('serve --listen: loopback by default; anything else needs --listen-public and says why', () => {
  assert.deepEqual(parseListen('[::1]:9000'), { host: '::1', port: 9000 });
  assert.ok(
    isLoopback('127.0.0.2') && isLoopback('::1') && isLoopback('localhost') && !isLoopback('0.0.0.0'),
  );
  assert.throws(
    () => parseServeArgs(['--listen', '0.0.0.0:9464']),
    /not a loopback address.*--listen-public/,
  );
  assert.throws(() => parseServeArgs(['--listen', '[::]:9464']), /not a loopback address/);
  assert.deepEqual(parseServeArgs(['--listen', '0.0.0.0:9464', '--listen-public']).listen, {
    host: '0.0.0.0',
    port: 9464,
  });
  for (const bad of ['9464', 'example.com:9464', '127.0.0.1:99999', '127.0.0.1:', '[127.0.0.1]:1', 'a:b:c'])
    assert.throws(() => parseServeArgs(['--listen', bad]), ServeUsageError, bad);
  assert.throws(() => parseServeArgs(['--user', 'root']), /never runs as root/);
  assert.throws(() => parseServeArgs(['--otlp-endpoint', 'file:///etc/passwd']), /only http: and https:/);
  assert.throws(() => parseServeArgs(['--profile', 'fast']), /not one of default, reference/);
  assert.throws(() => parseServeArgs(['--bogus']), /unknown flag/);
});

test('cgroup short names: the container or the systemd unit when the path tells it, else the path', () => {
  const id = 'ab'.repeat(32);
  assert.equal(shortCgroup('/system.slice/nginx.service'), 'nginx.service');
  assert.equal(shortCgroup(`/system.slice/docker-${id}.scope`), `docker:${id.slice(0, 12)}`);
  assert.equal(
    shortCgroup(`/kubepods.slice/kubepods-pod1.slice/cri-containerd-${id}.scope`),
    `containerd:${id.slice(0, 12)}`,
  );
  assert.equal(shortCgroup(`/docker/${id}`), `container:${id.slice(0, 12)}`);
  assert.equal(shortCgroup('/user.slice/user-1000.slice/session-2.scope'), 'session-2.scope');
  assert.equal(shortCgroup(''), '/');
  assert.equal(shortCgroup('/process_api/abc'), '/process_api/abc');
});

function sample(tgid: number, comm: string, o: Partial<ProcSample> = {}): ProcSample {
  return {
    tgid,
    ppid: 1,
    comm,
    cg: 0,
    kthread: false,
    threads: 1,
    startNs: tgid,
    exited: false,
    cpuNs: 1e9,
    runqWaitNs: 2e8,
    minFaults: 0,
    majFaults: 3,
    vcsw: 0,
    ivcsw: 0,
    blockedNs: 0,
    ioWaitNs: 0,
    readBytes: 0,
    writeBytes: 0,
    rssAnonBytes: 2 ** 20,
    rssFileBytes: 0,
    rssShmemBytes: 0,
    anonSamples: [],
    preempted: 0,
    preemptsOthers: 0,
    lastCpu: 0,
    ...o,
  };
}

function win(seq: number, procs: ProcSample[]): Window {
  return {
    type: 'window',
    v: 3,
    seq,
    ts: seq * 1000,
    durationNs: 1e9,
    cpuBusyNs: [5e8, null],
    procs,
    quiet: [],
    cgroups: [{ path: '/system.slice/app.service' } as Window['cgroups'][number]],
    pairs: [],
    memAvailableBytes: 2 ** 30,
    self: { cpuNs: 1e7, rssBytes: 5e7, collectNs: 0 },
    pressure: { cpu: 10, memory: 0, io: 5 },
  };
}

function report(procs: ProcSample[], label: Diagnosis['label'] = 'CPU-bound'): Report {
  return {
    seq: 0,
    ts: 0,
    durationNs: 1e9,
    diagnoses: procs.map(
      (p) =>
        ({
          tgid: p.tgid,
          comm: p.comm,
          kthread: false,
          cgroup: '/system.slice/app.service',
          label,
          timeToOomSec: label === 'OOM risk' ? 60 : null,
          metrics: { anonMb: 1, throttledCorePercent: 50 },
        }) as unknown as Diagnosis,
    ),
    cores: [],
    machineBusyPercent: 0,
    perCoreSaturation: [],
    self: { cpuPercentOfCore: 0, rssMb: 0, drainMs: 0 },
  };
}

test('groups: counters keep exited members; a group without members reports 0 for one window, then goes', () => {
  const g = new Groups({ pidLabels: false, maxSeries: 1000, hideKernel: true, exclude: [] });
  const a = sample(10, 'app');
  const b = sample(11, 'app');
  let s = g.update(win(1, [a, b]), report([a, b]));
  assert.equal(s.groups.length, 1);
  assert.deepEqual(s.groups[0].labels, { comm: 'app', cgroup: 'app.service' });
  assert.equal(s.groups[0].diagnoses['CPU-bound'], 2);
  assert.equal(s.groups[0].diagnoses.OK, 0, 'every label is present');
  assert.equal(s.groups[0].cpuSec, 2);
  assert.equal(s.groups[0].throttledSec, 1);
  // b exits: its last counters still count, its diagnosis no longer does.
  const bExit = { ...b, exited: true, threads: 0 };
  s = g.update(win(2, [a, bExit]), report([a, bExit]));
  assert.equal(s.groups[0].cpuSec, 4, "the exited member's last window is counted");
  assert.equal(s.groups[0].diagnoses['CPU-bound'], 1);
  const aExit = { ...a, exited: true, threads: 0 };
  s = g.update(win(3, [aExit]), report([aExit]));
  assert.equal(s.groups[0].diagnoses['CPU-bound'], 0, 'no live member: zero');
  assert.equal(s.groups[0].cpuSec, 5, 'and the counter stays');
  s = g.update(win(4, []), report([]));
  assert.equal(s.groups.length, 0, 'then the series end');
  assert.equal(
    s.groups.find((x) => x.blockedIoSec !== undefined),
    undefined,
  );
});

test('groups: --pid-labels gives one group per process; the cap keeps the busiest and counts the rest', () => {
  const procs = Array.from({ length: 50 }, (_, i) => sample(100 + i, 'w', { cpuNs: (i + 1) * 1e7 }));
  const perGroup = LABELS.length + 6; // a gauge per diagnosis, five figures and the blocked-on-I/O counter
  const g = new Groups({ pidLabels: true, maxSeries: 10 * perGroup, hideKernel: true, exclude: ['149'] });
  const s = g.update(win(1, procs), report(procs));
  assert.equal(s.groups.length, 10);
  assert.deepEqual(
    s.groups.map((x) => x.labels.pid),
    ['148', '147', '146', '145', '144', '143', '142', '141', '140', '139'],
    'the busiest first; 149 is excluded',
  );
  assert.equal(s.seriesDroppedTotal, 39 * perGroup);
});

test('groups: the disk wait (ioWaitNs) is the blocked-on-I/O counter', () => {
  const g = new Groups({ pidLabels: false, maxSeries: 1000, hideKernel: true, exclude: [] });
  const p = sample(10, 'db', { ioWaitNs: 5e8, blockedNs: 6e8 });
  const s = g.update(win(1, [p]), report([p]));
  assert.equal(s.groups[0].blockedIoSec, 0.5);
});

test('Prometheus exposition: HELP and TYPE on every family, _total counters, OpenMetrics on request', async () => {
  const e = new PrometheusExporter('9.9.9', false);
  const g = new Groups({ pidLabels: false, maxSeries: 1000, hideKernel: true, exclude: [] });
  const a = sample(10, 'app "x"\n');
  e.update(g.update(win(1, [a]), report([a], 'OOM risk')));
  // An OpenMetrics render first: prom-client renames counters in place when one registry serves both formats.
  const om = await e.expose('application/openmetrics-text; version=1.0.0');
  assert.match(om.contentType, /openmetrics/);
  assert.match(om.body, /# EOF\n$/);
  const text = (await e.expose(undefined)).body;
  for (const f of FAMILIES) assert.ok(text.includes(`# HELP ${f.prom} `), f.prom);
  for (const f of FAMILIES.filter((x) => x.kind === 'counter'))
    assert.ok(text.includes(`# TYPE ${f.prom} counter`), f.prom);
  assert.match(
    text,
    /hotspot_diagnosis\{comm="app \\"x\\"\\n",cgroup="app.service",diagnosis="OOM risk"\} 1/,
  );
  assert.match(text, /hotspot_time_to_oom_seconds\{[^}]*\} 60/);
  assert.match(text, /hotspot_build_info\{version="9.9.9"\} 1/);
  assert.match(text, /hotspot_pressure_ratio\{resource="cpu"\} 0.1/);
  assert.ok(!text.includes('pid='), 'no pid label by default');
  assert.ok(DEFAULT_CONFIG);
});
