// The profiler's perf events against the real kernel: the helper keeps one disabled CPU-clock event per online CPU
// from start (opened while root, so Debian's perf_event_paranoid 3 cannot refuse them after the privilege drop),
// runs the sampling program on them only while a profile runs, and samples at the requested rate. The rate is
// judged against the CPU time the kernel accounted to the workload's threads in the same run. Needs root.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { ProfileResult } from '../../src/shared/wire/profile';
import type { HelperError } from '../../src/shared/wire/protocol';
import { type Run, runHelper, stopHelper } from '../support/helper';
import { bpfProgIdsOf, linksTo, onlineCpuCount, onSampleIds, perfFds } from '../support/procs';
import { collectStdout, requestProfile, startAs, twohotBinaries } from '../support/profile';

const skip = process.getuid?.() !== 0 ? 'needs root' : false;
const started: ChildProcess[] = [];
after(() => {
  for (const c of started) c.kill('SIGKILL');
});

/** CPU time of every thread of `pid` so far (schedstat's first field: nanoseconds on a CPU). */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`))
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'latin1').split(' ')[0]);
    } catch {}
  return ns;
}

async function until(what: string, pred: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function isProfile(m: ProfileResult | HelperError): ProfileResult {
  assert.equal(m.type, 'profile', `expected a profile, got ${JSON.stringify(m)}`);
  return m as ProfileResult;
}

/** No sampling program is held by the helper or linked to any perf event: its kept events are idle. */
function assertIdle(r: Run, when: string): void {
  const pid = r.child.pid!;
  const programs = onSampleIds();
  assert.deepEqual(
    programs.filter((id) => bpfProgIdsOf(pid).includes(id)),
    [],
    `${when}: the helper holds no sampling program`,
  );
  assert.deepEqual(linksTo(programs), [], `${when}: no sampling program is linked to a perf event`);
}

test('the helper keeps one CPU-clock perf event per online CPU with no program on it between profiles; a profile samples at the rate it asked for; every end detaches', {
  skip,
  timeout: 120_000,
}, async () => {
  const { twohot } = twohotBinaries();
  const w = startAs(twohot, ['1']);
  started.push(w);
  const out = collectStdout(w);
  const r = runHelper(['--interval-ms', '5000']);
  const ncpu = onlineCpuCount();
  try {
    await r.next((m) => m.type === 'hello', 60_000);
    const pid = r.child.pid!;
    assert.match(r.stderr(), new RegExp(`profiler: ${ncpu} CPU-clock perf events kept, disabled\\n`));
    assert.equal(perfFds(pid), ncpu, 'one kept event per online CPU');
    assertIdle(r, 'after start');
    await until('twohot to run', () => out().includes('\n'));

    // Samples per second of the workload's CPU time follow the requested frequency: the period is set on the kept
    // events per profile (a rate left at the 99 Hz they were opened with, or a frequency taken for a period in
    // nanoseconds, would miss by 2x to 1000x).
    const rates: string[] = [];
    for (const hz of [49, 199]) {
      const c0 = cpuNs(w.pid!);
      const t0 = Date.now();
      const raw = isProfile(await requestProfile(r, w.pid!, 3000, hz));
      const share = (cpuNs(w.pid!) - c0) / 1e6 / (Date.now() - t0); // CPUs the workload used over the request
      const expected = share * (raw.durationMs / 1000) * hz;
      const got = raw.samples + raw.lost;
      rates.push(`${hz} Hz: ${got} samples, ${expected.toFixed(0)} expected (${share.toFixed(2)} CPUs)`);
      assert.match(r.stderr(), new RegExp(`at ${hz} Hz on ${ncpu} kept perf events`));
      assert.ok(expected > 40, `the workload ran too little to judge (${rates.at(-1)})`);
      assert.ok(Math.abs(got / expected - 1) <= 0.25, rates.at(-1));
      assert.equal(perfFds(pid), ncpu, 'the kept events stay, no more');
      assertIdle(r, `after the ${hz} Hz profile`);
    }
    console.log(`  ${rates.join('; ')}`);

    // A cancel, and a process that exits mid-profile, end it too.
    r.child.stdin!.write(
      `${JSON.stringify({ v: 1, type: 'profile', id: 'c1', pid: w.pid, durationMs: 30000, frequency: 99 })}\n`,
    );
    await until('the profile to start', () => /request c1\)/.test(r.stderr()));
    assert.ok(linksTo(onSampleIds()).length >= 1, 'sampling: the program is linked to the kept events');
    r.child.stdin!.write(`${JSON.stringify({ v: 1, type: 'cancel', id: 'c1' })}\n`);
    const cancelled = (await r.next((m) => m.type === 'profile' && m.id === 'c1')) as ProfileResult;
    assert.equal(cancelled.ended, 'cancelled');
    assertIdle(r, 'after a cancel');
    const short = startAs(twohot, ['1', '2']);
    started.push(short);
    const sout = collectStdout(short);
    await until('the short-lived twohot to run', () => sout().includes('\n'));
    const exited = isProfile(await requestProfile(r, short.pid!, 8000));
    assert.equal(exited.ended, 'exited');
    assertIdle(r, 'after the process exited');
    assert.equal(perfFds(pid), ncpu);

    // The helper exits while profiling: the program is freed with it.
    r.child.stdin!.write(
      `${JSON.stringify({ v: 1, type: 'profile', id: 'x1', pid: w.pid, durationMs: 30000, frequency: 99 })}\n`,
    );
    await until('the last profile to start', () => /request x1\)/.test(r.stderr()));
    const held = onSampleIds().filter((id) => bpfProgIdsOf(pid).includes(id));
    assert.equal(held.length, 1);
    await stopHelper(r);
    await until('the sampling program to be freed', () => !onSampleIds().includes(held[0]));
    assert.deepEqual(linksTo(held), []);
    assert.equal(perfFds(pid), 0);
  } finally {
    r.child.kill('SIGKILL');
  }
});

test('--profile-events on-request: no perf event is held between profiles, and a profile opens its own (the fallback)', {
  skip,
  timeout: 60_000,
}, async () => {
  const { twohot } = twohotBinaries();
  const w = startAs(twohot, ['1']);
  started.push(w);
  const out = collectStdout(w);
  const r = runHelper(['--interval-ms', '5000', '--profile-events', 'on-request']);
  try {
    await r.next((m) => m.type === 'hello', 60_000);
    const pid = r.child.pid!;
    assert.doesNotMatch(r.stderr(), /perf events kept/);
    assert.equal(perfFds(pid), 0);
    await until('twohot to run', () => out().includes('\n'));
    const raw = isProfile(await requestProfile(r, w.pid!, 2000));
    assert.ok(raw.samples > 0);
    assert.match(r.stderr(), /on \d+ perf events opened for it/);
    assert.equal(perfFds(pid), 0, 'the events it opened went with it');
    assertIdle(r, 'after the profile');
  } finally {
    await stopHelper(r);
  }
});
