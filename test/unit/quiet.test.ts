// Window.quiet on the consumer's side: the classifier carries a quiet process's last full sample forward, so an
// idle server stays in every view while the helper sends only its pid.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Classifier } from '../../src/shared/diagnosis/classifier';
import { DEFAULT_CONFIG } from '../../src/shared/diagnosis/config';
import type { ProcSample } from '../../src/shared/wire/protocol';
import { QuietRoster } from '../../src/shared/wire/quiet';
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

test('found by position or by pid, the roster carries what a lookup by pid carries (random orders, exits, reuse)', () => {
  // The reference: a map from pid to the last full sample's name, swept of what a window neither sent nor listed.
  const ref = new Map<number, string>();
  const refExpand = (sent: ProcSample[], quiet: number[]): string[] => {
    const stamped = new Set<number>();
    for (const p of sent) {
      if (p.exited) {
        ref.delete(p.tgid);
        stamped.delete(p.tgid);
      } else {
        ref.set(p.tgid, p.comm);
        stamped.add(p.tgid);
      }
    }
    const carried: string[] = [];
    for (const tgid of quiet) {
      const comm = ref.get(tgid);
      if (comm === undefined || stamped.has(tgid)) continue;
      stamped.add(tgid);
      carried.push(`${tgid}:${comm}`);
    }
    for (const tgid of [...ref.keys()]) if (!stamped.has(tgid)) ref.delete(tgid);
    return [...sent.map((p) => `${p.tgid}:${p.comm}`), ...carried];
  };
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const roster = new QuietRoster();
  // A pid that exits and is reused within one window, at the position its old entry held in the last one.
  const fixed: [ProcSample[], number[]][] = [
    [[proc({ tgid: 1, comm: 'a' }), proc({ tgid: 5, comm: 'old' })], []],
    [[proc({ tgid: 5, comm: 'old', exited: true }), proc({ tgid: 5, comm: 'again' })], []],
    [[], [5]],
  ];
  for (const [i, [sent, quiet]] of fixed.entries())
    assert.deepEqual(
      roster.expand(win(i, sent, { quiet })).procs.map((p) => `${p.tgid}:${p.comm}`),
      refExpand(sent, quiet),
      `fixed window ${i}`,
    );
  let order = Array.from({ length: 30 }, (_, i) => i + 1);
  let hinted = 0;
  for (let seq = fixed.length; seq < 400; seq++) {
    // Mostly the last window's order (what the position hint is for), now and then swapped, shortened or grown.
    const r = rand(10);
    if (r === 0 && order.length > 1) {
      const a = rand(order.length);
      const b = rand(order.length);
      [order[a], order[b]] = [order[b], order[a]];
    } else if (r === 1 && order.length > 1) order.splice(rand(order.length), 1);
    else if (r === 2) order.splice(rand(order.length + 1), 0, 1 + rand(40));
    else if (r === 3) order = order.slice().reverse();
    else hinted++;
    const sent = order
      .filter(() => rand(4) !== 0)
      .map((tgid) => proc({ tgid, comm: `c${seq % 7}`, exited: rand(12) === 0 }));
    const quiet = Array.from({ length: rand(8) }, () => 1 + rand(45));
    const w = roster.expand(win(seq, sent, { quiet }));
    assert.deepEqual(
      w.procs.map((p) => `${p.tgid}:${p.comm}`),
      refExpand(sent, quiet),
      `window ${seq}`,
    );
  }
  assert.ok(hinted > 200, 'most windows keep the order');
});
