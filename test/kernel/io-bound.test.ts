// The I/O-bound diagnosis on the real kernel: a synchronous writer and a direct-I/O reader on the root file system
// (a real block device), each beside a CPU burner, and sleepers on a pipe, a socket, a futex and a timer, through the
// real helper and the diagnosis pipeline's label holding, judged against their thread states sampled from /proc at
// 200 Hz over the same windows. And where the disk stops being the answer: a mmap reader whose working set does not
// fit its memory cgroup is Mem-thrashing, judged against its major faults in /proc and its cgroup's refaults and
// memory stall (memory.stat, memory.pressure).
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Diagnosis } from '../../src/shared/diagnosis/model';
import { Stabilizer } from '../../src/shared/diagnosis/stabilizer';
import { cause } from '../../src/shared/presentation/explain';
import { type Observation, Observer, story } from '../support/observe';
import { dShare, sampleStates } from '../support/states';
import { between, CGROUP_ROOT, memoryLimitCgroup, type TestCgroup } from '../support/truth';
import { command, killAndWait, python, ready } from '../workloads';

let obs: Observer;
const dir = mkdtempSync('/var/tmp/hotspot-iobound-');
before(async () => {
  obs = await Observer.start(1000);
});
after(async () => {
  await obs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Per pid, the share of its thread-samples in D among D + R over `secs` seconds (test/support/states.ts). */
async function dShares(pids: number[], secs: number): Promise<number[]> {
  const all = await sampleStates(pids, secs);
  return pids.map((pid) => dShare(all[pid]));
}

/**
 * The disk-wait share the causes state, averaged over the windows, against the D share /proc sampled over them:
 * held to blocked.test.ts's KNOWN_GAP (20 points) while that gap is open.
 */
function assertShare(ds: (Diagnosis | undefined)[], dShare: number): void {
  const own = ds.filter((d) => d && !d.heldFrom).map((d) => d!.metrics.diskWaitPercent);
  const mean = own.reduce((a, b) => a + b, 0) / Math.max(1, own.length);
  assert.ok(
    own.length > 0 && Math.abs(mean - 100 * dShare) <= 20,
    `states ${mean.toFixed(0)} % on average, /proc D ${(100 * dShare).toFixed(0)} %`,
  );
}

/** The labels as the pipeline holds them (the Stabilizer), window by window. */
function held(o: Observation, pid: number): (Diagnosis | undefined)[] {
  const s = new Stabilizer();
  return (o.diagnoses.get(pid) ?? []).map((d) => (d ? s.apply([d]).find((x) => x.tgid === pid) : undefined));
}

/**
 * A sleeper: never blocked on the disk. /proc finds it in D in under 5 % of its samples, and in every window it is
 * OK, or Starved when /proc's run-queue wait says it waited most of its runnable time (this machine's CPUs are
 * shared with other work: a sleeper waking 200 times a second behind a busy loop waits for its CPU).
 */
function assertOk(o: Observation, pid: number, dShare: number): void {
  const s = o.diagnoses.get(pid) ?? []; // judged window by window against that window's /proc
  const why = `sleeper ${pid}: ${story(s, cause)}`;
  assert.ok(dShare < 0.05, `sleeper ${pid} sleeps in S, not D: /proc D ${(100 * dShare).toFixed(0)} %`);
  assert.ok(s.filter((d) => d).length >= o.windows.length - 1, `seen in most windows: ${why}`);
  const t = o.truth.get(pid) ?? [];
  s.forEach((d, i) => {
    const a = t[i];
    const b = t[i + 1];
    if (!d || !a || !b) return;
    const w = between(a, b);
    if (d.label === 'Starved' && w.waitPercent >= 35) return;
    assert.equal(
      d.label,
      'OK',
      `window ${i} (/proc: waited ${w.waitPercent.toFixed(0)} % of its runnable time): ${why}`,
    );
  });
}

test('an fsync writer is I/O-bound (synchronous writes) beside a CPU burner; sleepers stay OK', {
  timeout: 120_000,
}, async () => {
  const kids: ChildProcess[] = [];
  try {
    // The burner on the other CPU: competing load that does not share the writer's CPU.
    const writer = python('fsyncwriter.py', [path.join(dir, 'fsync.dat')]);
    const pipe = python('sleeper.py', ['pipe']);
    const futex = python('sleeper.py', ['futex']);
    kids.push(writer, pipe, futex, command('yes', [], { cpus: '1' }));
    await Promise.all([ready(writer), ready(pipe), ready(futex)]);
    execFileSync('taskset', ['-cp', '0', String(writer.pid)], { stdio: 'ignore' });
    const pids = [writer.pid!, pipe.pid!, futex.pid!];
    const windows = 12;
    const [o, [dShare, dPipe, dFutex]] = await Promise.all([
      obs.watch(pids, { windows }),
      dShares(pids, windows),
    ]);
    const w = held(o, writer.pid!);
    const text = story(w, cause);
    process.stdout.write(
      `# fsync writer: /proc D ${(100 * dShare).toFixed(0)} % of its running-or-blocked samples\n# ${text}\n`,
    );
    assert.ok(dShare >= 0.3, `the writer waits for the disk: /proc D ${(100 * dShare).toFixed(0)} %`);
    const io = w.slice(2).filter((d) => d?.label === 'I/O-bound');
    assert.ok(
      io.length >= (windows - 2) * 0.8,
      `I/O-bound in ${io.length} of ${windows - 2} windows: ${text}`,
    );
    for (const d of io) {
      assert.match(
        cause(d!),
        /^(held from an earlier window, when it was: )?waiting for the disk \d+% of the time: synchronous writes \(/,
      );
    }
    assertShare(io, dShare);
    assertOk(o, pipe.pid!, dPipe);
    assertOk(o, futex.pid!, dFutex);
  } finally {
    for (const k of kids) await killAndWait(k);
  }
});

test('a direct-I/O reader is I/O-bound (reads) beside a CPU burner; socket and timer sleepers stay OK', {
  timeout: 90_000,
}, async () => {
  const kids: ChildProcess[] = [];
  try {
    const data = path.join(dir, 'direct.dat');
    // Real data on the device (O_DIRECT skips the page cache, so every read goes to the disk).
    execFileSync('dd', ['if=/dev/urandom', `of=${data}`, 'bs=1M', 'count=128', 'conv=fsync', 'status=none']);
    const reader = python('directread.py', [data]);
    const socket = python('sleeper.py', ['socket']);
    const sleep = python('sleeper.py', ['sleep']);
    kids.push(reader, socket, sleep, command('yes', [], { cpus: '1' }));
    await Promise.all([ready(reader), ready(socket), ready(sleep)]);
    execFileSync('taskset', ['-cp', '0', String(reader.pid)], { stdio: 'ignore' });
    const windows = 12;
    const pids = [reader.pid!, socket.pid!, sleep.pid!];
    const [o, [dShare, dSocket, dSleep]] = await Promise.all([
      obs.watch(pids, { windows }),
      dShares(pids, windows),
    ]);
    const r = held(o, reader.pid!);
    const text = story(r, cause);
    process.stdout.write(
      `# direct reader: /proc D ${(100 * dShare).toFixed(0)} % of its running-or-blocked samples; socket ${(100 * dSocket).toFixed(0)} %, sleep ${(100 * dSleep).toFixed(0)} %\n# ${text}\n`,
    );
    assert.ok(dShare >= 0.3, `the reader waits for the disk: /proc D ${(100 * dShare).toFixed(0)} %`);
    const io = r.slice(2).filter((d) => d?.label === 'I/O-bound');
    assert.ok(
      io.length >= (windows - 2) * 0.8,
      `I/O-bound in ${io.length} of ${windows - 2} windows: ${text}`,
    );
    for (const d of io) {
      const m =
        /^(held from an earlier window, when it was: )?waiting for the disk (\d+)% of the time: reads \([\d.]+ [KMG]?i?B\/s\)$/.exec(
          cause(d!),
        );
      assert.ok(m, `reads, not writes or page-ins: ${cause(d!)}`);
    }
    assertShare(io, dShare);
    assertOk(o, socket.pid!, dSocket);
    assertOk(o, sleep.pid!, dSleep);
  } finally {
    for (const k of kids) await killAndWait(k);
  }
});

/** `some total` (µs) of a memory.pressure file. */
const stallUs = (file: string) => Number(/^some .*total=(\d+)/m.exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
/** Refaults (pages read back after the cgroup's own reclaim evicted them) so far, from its memory.stat. */
function refaults(cg: TestCgroup): number {
  const stat = cg.read('memory.stat');
  const v = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1] ?? 0);
  return v('workingset_refault_file') + v('workingset_refault_anon');
}

test('a cold-file mmap reader whose working set does not fit its memory cgroup is Mem-thrashing', {
  timeout: 90_000,
}, async () => {
  let cg: TestCgroup | undefined;
  let psiDir: string | undefined;
  let child: ChildProcess | undefined;
  try {
    const file = path.join(dir, 'thrash.dat');
    execFileSync('dd', ['if=/dev/urandom', `of=${file}`, 'bs=1M', 'count=256', 'conv=fsync', 'status=none']);
    // 64 MiB for a 256 MiB working set: most reads find their page evicted by the cgroup's own reclaim.
    cg = memoryLimitCgroup(`hotspot-test-thrash-${process.pid}`, 64 * 2 ** 20);
    // On a hybrid host the v1 memory cgroup has no PSI: a controller-less v2 cgroup of its own gives the
    // process's memory stall (the helper reads it too). On a v2 host the limited cgroup has it.
    const enter = [`echo $$ > ${cg.dir}/cgroup.procs`];
    let psiFile = `${cg.dir}/memory.pressure`;
    if (cg.version === 1) {
      psiDir = `${CGROUP_ROOT}/unified/hotspot-test-thrash-${process.pid}`;
      mkdirSync(psiDir, { recursive: true });
      enter.push(`echo $$ > ${psiDir}/cgroup.procs`);
      psiFile = `${psiDir}/memory.pressure`;
    }
    child = spawn(
      'sh',
      [
        '-c',
        `${enter.join(' && ')} && exec setpriv --pdeathsig KILL -- taskset -c 0 python3 ${path.join(__dirname, '..', 'workloads', 'mapthrash.py')} ${file}`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await ready(child);
    const pid = child.pid!;
    // Until the cgroup is full its reads are first reads (cold, not refaults): wait for reclaim to begin.
    const r0 = refaults(cg);
    const deadline = Date.now() + 20_000;
    while (refaults(cg) - r0 < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const windows = 12;
    const psi0 = stallUs(psiFile);
    const ref0 = refaults(cg);
    const t0 = Date.now();
    const [o, [dShare]] = await Promise.all([obs.watch([pid], { windows }), dShares([pid], windows)]);
    const secs = (Date.now() - t0) / 1000;
    const stall = (stallUs(psiFile) - psi0) / 1e4 / secs;
    const refaultsPerSec = (refaults(cg) - ref0) / secs;
    const t = (o.truth.get(pid) ?? []).filter((x) => x);
    const truth = between(t[0]!, t.at(-1)!);
    const d = held(o, pid);
    const text = story(d, cause);
    process.stdout.write(
      `# mmap reader in a 64 MiB cgroup: /proc ${truth.majfltPerSec.toFixed(0)} major faults/s, cgroup ${refaultsPerSec.toFixed(0)} refaults/s, memory stall ${stall.toFixed(1)} % (PSI some), D ${(100 * dShare).toFixed(0)} %\n# ${text}\n`,
    );
    assert.ok(truth.majfltPerSec > 500, `/proc: ${truth.majfltPerSec.toFixed(0)} major faults/s`);
    assert.ok(
      refaultsPerSec >= 0.5 * truth.majfltPerSec,
      `most of its major faults are refaults: ${refaultsPerSec.toFixed(0)}/s of ${truth.majfltPerSec.toFixed(0)}/s`,
    );
    const thrash = d.slice(2).filter((x) => x?.label === 'Mem-thrashing');
    assert.ok(
      thrash.length >= (windows - 2) * 0.8,
      `Mem-thrashing in ${thrash.length} of ${windows - 2}: ${text}`,
    );
    // Its cause names the refaults (or the stall, where PSI does count it), as the kernel counted them.
    const said: number[] = [];
    for (const x of thrash) {
      const c = cause(x!);
      assert.match(
        c,
        /^(held from an earlier window, when it was: )?reads [\d.k]+ pages\/s back from disk or swap \(major faults\)(; its memory cgroup reads back [\d.k]+ pages\/s its limit had evicted| while memory stalls \d+% of the time)$/,
      );
      if (!x!.heldFrom && x!.rule === 'mem_thrashing.refaults') said.push(x!.metrics.memRefaultsPerSec);
    }
    const mean = said.reduce((a, b) => a + b, 0) / Math.max(1, said.length);
    assert.ok(
      said.length === 0 || Math.abs(mean - refaultsPerSec) <= 0.25 * refaultsPerSec,
      `refaults said ${mean.toFixed(0)}/s on average, memory.stat ${refaultsPerSec.toFixed(0)}/s`,
    );
  } finally {
    await killAndWait(child);
    cg?.remove();
    // An exited member leaves its cgroup a moment later: retried briefly, as TestCgroup.remove does.
    for (let i = 0; psiDir && i < 50; i++)
      try {
        rmdirSync(psiDir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
  }
});
