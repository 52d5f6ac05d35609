// Window.quiet on the consumer's side: the classifier carries a quiet process's last full sample forward, so an
// idle server stays in every view while the helper sends only its pid.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Classifier } from '../../src/shared/classifier';
import { DEFAULT_CONFIG } from '../../src/shared/config';
import { QuietRoster } from '../../src/shared/quiet';
import { cgroup, GB, host, MB, proc, win } from '../support/windows';

test('a quiet process is diagnosed every window from its last sample, counters at zero, cgroup kept', () => {
  const c = new Classifier(DEFAULT_CONFIG, host);
  const server = proc({ tgid: 10, comm: 'server', cg: 1, cpuNs: 3e8, rssAnonBytes: 300 * MB });
  const limited = cgroup({
    path: '/svc',
    memLimitBytes: 1 * GB,
    throttledNs: 4e8,
    nrThrottled: 9,
    nrPeriods: 10,
  });
  c.classify(win(0, [server, proc({ tgid: 11, cpuNs: 1e6 })], { cgroups: [cgroup(), limited] }));
  // Window 1: 11 did something, 10 was quiet; this window's table no longer holds /svc.
  const r = c.classify(win(1, [proc({ tgid: 11, cpuNs: 2e6 })], { quiet: [10] }));
  const d = r.diagnoses.find((x) => x.tgid === 10);
  assert.ok(d, 'the quiet server is still diagnosed');
  assert.equal(d.comm, 'server');
  assert.equal(d.label, 'OK');
  assert.equal(d.cgroup, '/svc');
  assert.equal(d.metrics.coreCpuPercent, 0);
  assert.equal(d.metrics.rssMb, 305);
  // And the window after, still quiet: carried again (not only one window).
  const r2 = c.classify(win(2, [], { quiet: [10, 11] }));
  assert.deepEqual(r2.diagnoses.map((x) => x.tgid).sort(), [10, 11]);
});

test('a quiet pid the consumer never saw is skipped; exited and vanished processes are not carried', () => {
  const c = new Classifier(DEFAULT_CONFIG, host);
  c.classify(win(0, [proc({ tgid: 10 }), proc({ tgid: 12, exited: true, threads: 0 }), proc({ tgid: 13 })]));
  const r = c.classify(win(1, [], { quiet: [10, 12, 99] })); // 13 is in neither list: gone
  assert.deepEqual(
    r.diagnoses.map((x) => x.tgid),
    [10],
  );
  const r2 = c.classify(win(2, [], { quiet: [13] }));
  assert.deepEqual(r2.diagnoses, [], 'a process absent for a window is forgotten, as before');
});

test('a full sample replaces the carried one (a new name after exec, new memory)', () => {
  const c = new Classifier(DEFAULT_CONFIG, host);
  c.classify(win(0, [proc({ tgid: 10, comm: 'sh' })]));
  c.classify(win(1, [proc({ tgid: 10, comm: 'node', rssAnonBytes: 64 * MB })]));
  const r = c.classify(win(2, [], { quiet: [10] }));
  assert.equal(r.diagnoses[0].comm, 'node');
  assert.equal(r.diagnoses[0].metrics.rssMb, 69);
});

test("a carried cgroup keeps its limits but not an old window's throttling (that counted one window only)", () => {
  const roster = new QuietRoster();
  const throttled = cgroup({
    path: '/svc',
    memLimitBytes: GB,
    throttledNs: 4e8,
    nrThrottled: 9,
    nrPeriods: 10,
  });
  roster.expand(win(0, [proc({ tgid: 10, cg: 1 })], { cgroups: [cgroup(), throttled] }));
  const w = roster.expand(win(1, [], { quiet: [10] }));
  const cg = w.cgroups[w.procs[0].cg];
  assert.deepEqual(
    [cg.path, cg.memLimitBytes, cg.throttledNs, cg.nrThrottled, cg.nrPeriods],
    ['/svc', GB, 0, 0, 0],
  );
});
