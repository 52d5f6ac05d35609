// The kernel-matrix check suite: runs INSIDE a qemu VM booted by scripts/kernels/run.sh (npm run test:kernels),
// once per kernel. Every figure the helper reports is judged against /proc read at the same moment, never
// against a fixed speed: under TCG the guest is 10-50x slower than the host and the host is shared.
// Each check also appends a row (figures next to /proc's) to $HOTSPOT_VM_RESULTS for the matrix table.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProcessImage } from '../../src/host/profile/image';
import { symbolize } from '../../src/host/profile/symbolize';
import { hotFunctions, stackSamples } from '../../src/shared/profile/model';
import type { ProfileResult } from '../../src/shared/wire/profile';
import type { Message } from '../../src/shared/wire/protocol';
import { cliJson } from '../support/cli';
import { type Run, runHelper } from '../support/helper';
import { bpfProgIds, bpfProgIdsOf, linksTo, onlineCpuCount, onSampleIds, perfFds } from '../support/procs';
import { collectStdout, requestProfile, startAs, twohotBinaries, twohotSplit } from '../support/profile';
import { blockedShareBetween, schedstatsOn, schedTimes } from '../support/schedstats';
import { python, ready, startWorkload, type Workload } from '../workloads';
import {
  COLLECTORS,
  cliWindowView,
  type FatalView,
  fatalView,
  type HelloView,
  helloView,
  helperArgs,
  isFatal,
  isHello,
  isWindow,
  NOT_IN_KERNEL,
  type WindowView,
  windowView,
} from './adapter';
import { type CheckRow, ROWS_FILE } from './row';
import { isStopped, type Observed, observe, readTruth, type Truth, truthDelta } from './truth';

const RESULTS = process.env.HOTSPOT_VM_RESULTS;
/** A file of the read-only host root (the matrix passes the kernel's bzImage): re-read for major faults. */
const COLD_FILE = process.env.HOTSPOT_VM_COLD_FILE;
const skip = RESULTS ? false : 'runs inside the kernel-matrix VM: npm run test:kernels';
const INTERVAL_MS = 1000;
/** The helper starts in 2.5-8.5 s under TCG; leave room for a host busy with other work. */
const START_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 240_000;
const _CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const sec = (ns: number) => `${(ns / 1e9).toFixed(2)} s`;

function addRow(r: Omit<CheckRow, 'kernel'>): void {
  if (RESULTS)
    appendFileSync(path.join(RESULTS, ROWS_FILE), `${JSON.stringify({ kernel: release(), ...r })}\n`);
}

/** Runs `body`, then records a row with the figures it noted, pass or fail (a failing check keeps its figures). */
async function recorded(
  meta: { collector: string; attach: string; check: string },
  body: (note: (figures: string) => void) => Promise<void>,
): Promise<void> {
  let figures = '';
  try {
    await body((f) => {
      figures = f;
    });
    addRow({ ...meta, status: 'pass', figures });
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    addRow({ ...meta, status: 'fail', figures: figures ? `${figures} (${why})` : why });
    throw e;
  }
}

/** Waits for a message, but fails at once (with the helper's stderr) if the helper exits first. */
async function nextOrExit(r: Run, pred: (m: Message) => boolean, timeoutMs: number): Promise<Message> {
  const exited = r.exited.then(async (code) => {
    await sleep(300); // stdout may still hold the last lines when 'exit' fires
    const seen = r.messages.find(pred);
    if (seen) return seen;
    throw new Error(`helper exited (${code}) early: ${r.stderr().trim().split('\n').slice(-3).join(' | ')}`);
  });
  return Promise.race([r.next(pred, timeoutMs), exited]);
}

interface Started {
  r: Run;
  seen: Observed;
  /** The pids /proc is read for as messages arrive; push to watch processes started later. */
  watch: number[];
  hello?: HelloView;
  fatal?: FatalView;
  /** The BPF programs the helper held once it said hello (from its fdinfo). */
  held: number[];
}

async function startHelper(args: string[], pids: number[]): Promise<Started> {
  const r = runHelper(args);
  const watch = [...pids];
  const seen = observe(r, watch);
  const m = await nextOrExit(r, (x) => isHello(x) || isFatal(x), START_TIMEOUT_MS);
  return isHello(m)
    ? { r, seen, watch, hello: helloView(m), held: bpfProgIdsOf(r.child.pid!) }
    : { r, seen, watch, fatal: fatalView(m), held: [] };
}

async function waitWindow(r: Run, seq: number): Promise<WindowView> {
  const m = await nextOrExit(r, (x) => isWindow(x) && windowView(x).seq >= seq, 30_000 + seq * 10_000);
  return windowView(m);
}

const windowsOf = (r: Run): WindowView[] => r.messages.filter(isWindow).map(windowView);

/**
 * Ends the helper (stdin EOF, SIGKILL if it lingers) and returns which of the programs it held (`held`, read from
 * its fdinfo once it said hello) are still loaded, and the links (iterator links included) still pointing at them.
 */
async function stopHelper(r: Run, held: readonly number[]): Promise<{ progs: number[]; links: number[] }> {
  if (r.child.exitCode === null && r.child.signalCode === null) {
    r.child.stdin?.end();
    const ended = await Promise.race([r.exited.then(() => true), sleep(20_000).then(() => false)]);
    if (!ended) {
      r.child.kill('SIGKILL');
      await r.exited;
    }
  }
  let progs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const loaded = bpfProgIds();
    progs = held.filter((id) => loaded.has(id));
    if (!progs.length) break;
    await sleep(100); // fd-bound links and programs go once RCU has run
  }
  const links = linksTo(held).map((l) => l.prog_id);
  return { progs, links };
}

/** Sum of one process's figures over windows `from..to` (a window it was idle in counts as zero). */
function summed(ws: WindowView[], tgid: number, from: number, to: number) {
  const span = ws.filter((w) => w.seq >= from && w.seq <= to);
  assert.equal(span.length, to - from + 1, `windows ${from}..${to} all arrived`);
  const sum = { cpuNs: 0, runqWaitNs: 0, faults: 0, majFaults: 0, ivcsw: 0, durationNs: 0 };
  for (const w of span) {
    const p = w.proc(tgid);
    sum.durationNs += w.durationNs;
    sum.cpuNs += p?.cpuNs ?? 0;
    sum.runqWaitNs += p?.runqWaitNs ?? 0;
    sum.faults += p?.faults ?? 0;
    sum.majFaults += p?.majFaults ?? 0;
    sum.ivcsw += p?.ivcsw ?? 0;
  }
  return sum;
}

/** Polls `cond` every 50 ms until it holds or `ms` pass. */
async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (cond()) return true;
  return cond();
}

interface Frozen {
  /** /proc's lifetime totals of each process, read once it was stopped. */
  totals: Map<number, Truth>;
  /** The helper's windows that together hold everything the processes did: from..to. */
  from: number;
  to: number;
}

/**
 * The exact comparison, however late windows arrive on a loaded host: processes started after window `from - 1`
 * was cut are stopped (SIGSTOP) once window `until` arrives, /proc's lifetime totals are read while they are
 * frozen, and windows are awaited until one in which none of them ran. The helper's sum over from..that window and
 * /proc's totals then cover the same work, with no window edge in the middle of it.
 */
async function freezeAfter(r: Run, pids: number[], from: number, until: number): Promise<Frozen> {
  await waitWindow(r, until);
  for (const p of pids) process.kill(p, 'SIGSTOP');
  assert.ok(await waitFor(() => pids.every(isStopped), 30_000), 'the workloads stopped');
  const totals = new Map<number, Truth>();
  for (const p of pids) {
    const t = readTruth(p);
    assert.ok(t, `/proc of ${p} was read`);
    totals.set(p, t);
  }
  let seq = Math.max(...windowsOf(r).map((w) => w.seq)) + 1;
  for (; ; seq++) {
    assert.ok(seq < until + 30, 'a window in which the stopped processes did not run');
    const w = await waitWindow(r, seq);
    if (pids.every((p) => !w.proc(p)?.cpuNs)) break;
  }
  return { totals, from, to: seq };
}

const py = (script: string, args: string[]): ChildProcess =>
  spawn('python3', [script, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
const VM_DIR = __dirname;
const WORKLOADS = path.resolve(__dirname, '..', 'workloads');

/** Within 5 % of /proc, plus an absolute slack for figures too small for a percentage to mean anything. */
const within = (h: number, p: number, slack: number) => Math.abs(h - p) <= 0.05 * Math.abs(p) + slack;

describe('kernel matrix: the helper against /proc on this kernel', { skip }, () => {
  // One helper session with the default collectors. A burner runs from before the helper starts, for window 0.
  // Once window 0 is cut: a CPU burner, two loops pinned to one core (run-queue wait, involuntary switches), a
  // leak (faults, anon RSS), faults inside read() into fresh buffers, and major faults re-reading a cold file of
  // the host root; all frozen a few windows after they all run, and compared as lifetime totals (see freezeAfter).
  let early: Workload | undefined;
  let work: Workload[] = [];
  let extra: ChildProcess[] = [];
  let run: Started | undefined;
  let frozen: Frozen | undefined;
  const pid: Record<string, number> = {};

  before(
    async () => {
      process.env.HOTSPOT_LEAK_CAP_MB = '600'; // a 4 GiB guest; the leak keeps faulting until 600 MiB
      early = startWorkload('cpu');
      pid.early = early.pids.cpu;
      await sleep(500); // the burner is running (not still exec-ing) when the helper attaches
      run = await startHelper(helperArgs({ intervalMs: INTERVAL_MS }), [pid.early]);
      if (run.fatal) {
        const figures = `${run.fatal.code}: ${run.fatal.message.slice(0, 160)}`;
        addRow({ collector: 'all', attach: 'default', check: 'load+attach', status: 'fail', figures });
        return;
      }
      await waitWindow(run.r, 0);
      early.stop(); // window 0 was its only job
      work = [startWorkload('cpu'), startWorkload('contention'), startWorkload('leak')];
      Object.assign(pid, ...work.map((w) => w.pids));
      assert.ok(COLD_FILE, 'HOTSPOT_VM_COLD_FILE names a file of the host root (set by the matrix)');
      extra = [
        py(path.join(WORKLOADS, 'readfault.py'), []),
        py(path.join(VM_DIR, 'coldread.py'), [COLD_FILE]),
      ];
      [pid.readfault, pid.coldread] = extra.map((c) => c.pid!);
      const roles = ['cpu', 'aggressor', 'victim', 'leak', 'readfault', 'coldread'];
      run.watch.push(...roles.map((r) => pid[r]));
      // Python can take many seconds to start under TCG on a busy host: freeze only once each one is at work.
      const going = () =>
        (readTruth(pid.leak)?.rssBytes ?? 0) >= 60 * 2 ** 20 &&
        (readTruth(pid.readfault)?.faults ?? 0) >= 3 * 8192 &&
        (readTruth(pid.coldread)?.majFaults ?? 0) >= 2000;
      if (!(await waitFor(going, 150_000))) {
        const at = (role: string) => JSON.stringify(readTruth(pid[role]) ?? 'gone');
        assert.fail(
          `not all at work: leak ${at('leak')}, readfault ${at('readfault')}, coldread ${at('coldread')}`,
        );
      }
      const settled = Math.max(...windowsOf(run.r).map((w) => w.seq)) + 1;
      await waitWindow(run.r, settled);
      frozen = await freezeAfter(
        run.r,
        roles.map((r) => pid[r]),
        1,
        settled + 2,
      );
    },
    { timeout: TEST_TIMEOUT_MS },
  );

  after(async () => {
    early?.stop();
    for (const w of work) w.stop();
    for (const c of extra) c.kill('SIGKILL');
    if (run) await stopHelper(run.r, run.held);
  });

  const live = () => {
    assert.ok(run?.hello, `the helper started: ${run?.fatal?.code} ${run?.fatal?.message}`);
    assert.ok(frozen, 'the workloads ran and were frozen');
    return { r: run.r, seen: run.seen, hello: run.hello, held: run.held, frozen };
  };
  /**
   * For a check that missed: the role's figure window by window next to /proc's change between the arrivals of
   * consecutive windows (approximate: arrival is not the cut), plus any error the helper sent and its last log
   * lines, so a failure on a CI machine carries what is needed to tell where the figures parted.
   */
  const evidence = (f: Frozen, r: Run, role: string, k: 'cpuNs' | 'runqWaitNs' | 'ivcsw'): string => {
    const { seen } = live();
    const scale = k === 'ivcsw' ? 1 : 1e6;
    const steps: string[] = [];
    for (let seq = f.from; seq <= f.to; seq++) {
      const w = windowsOf(r).find((x) => x.seq === seq);
      const a = seen.atWindow.get(seq - 1);
      const b = seen.atWindow.get(seq);
      // Not yet born at the previous arrival: its whole life so far.
      const t =
        a && b
          ? (truthDelta(a, b, pid[role]) ?? (a.procs.has(pid[role]) ? undefined : b.procs.get(pid[role])))
          : undefined;
      const h = w?.proc(pid[role]);
      steps.push(`${seq}:${h ? Math.round(h[k] / scale) : '-'}/${t ? Math.round(t[k] / scale) : '?'}`);
    }
    const errors = r.messages
      .filter((m) => m.type === 'error')
      .map((m) => (m.type === 'error' ? `${m.code} ${m.message.slice(0, 120)}` : ''));
    const log = r.stderr().trim().split('\n').slice(-4).join(' | ');
    return `[${role} ${k}${scale === 1 ? '' : ' ms'} per window helper/proc ${steps.join(' ')}; errors: ${errors.join('; ') || 'none'}; log: ${log}]`;
  };
  /** The helper's sum over the frozen span next to /proc's lifetime total, for one counter of one role. */
  const pair = (
    f: Frozen,
    r: Run,
    role: string,
    k: 'cpuNs' | 'runqWaitNs' | 'faults' | 'majFaults' | 'ivcsw',
  ) => ({
    h: summed(windowsOf(r), pid[role], f.from, f.to)[k],
    p: f.totals.get(pid[role])![k],
  });

  test('every collector loads and attaches into the kernel (the hello says how)', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    assert.ok(run?.hello, `the helper started: ${run?.fatal?.code} ${run?.fatal?.message}`);
    const { hello } = run;
    // 'procfs' / 'none' would mean a collector fell back: not loaded into this kernel. Every kernel of the matrix
    // (≥ 5.8) has task iterators and BTF tracepoints or raw tracepoints, so every collector must be in the kernel.
    for (const c of hello.collectors)
      addRow({
        ...c,
        check: 'default load+attach',
        status: NOT_IN_KERNEL.has(c.attach) ? 'fail' : 'pass',
        figures:
          c.collector === 'tasks'
            ? `capabilities: ${hello.capabilities.join(' ')}`
            : c.attach === 'raw_tp'
              ? 'tp_btf refused, raw_tp fallback'
              : '',
      });
    assert.deepEqual(
      hello.collectors.filter((c) => NOT_IN_KERNEL.has(c.attach)),
      [],
      'every collector runs in the kernel',
    );
    assert.deepEqual(hello.collectors.map((c) => c.collector).sort(), [...COLLECTORS].sort());
  });

  test('CPU of a burner and two pinned loops within 5 % of /proc; cgroup from the table', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { r, hello, frozen } = live();
    await recorded({ ...hello.tasks, check: 'cpu vs /proc' }, async (note) => {
      const parts: string[] = [];
      const misses: string[] = [];
      for (const role of ['cpu', 'aggressor', 'victim']) {
        const { h, p } = pair(frozen, r, role, 'cpuNs');
        parts.push(`${role} ${sec(h)}/${sec(p)}`);
        if (!within(h, p, 4e6)) misses.push(role); // + one 4 ms tick for the victim's few milliseconds
      }
      const last = windowsOf(r)
        .filter((w) => w.proc(pid.cpu) && w.seq <= frozen.to)
        .at(-1);
      const cg = last?.proc(pid.cpu)?.cgroup ?? '?';
      const why = misses.map((role) => evidence(frozen, r, role, 'cpuNs')).join(' ');
      note(`${parts.join(', ')} on CPU (helper/proc), cgroup ${cg}${why ? ` ${why}` : ''}`);
      assert.deepEqual(misses, [], 'every process within 5 % of /proc');
      const lines = readFileSync(`/proc/${pid.cpu}/cgroup`, 'utf8').trim().split('\n');
      assert.ok(
        lines.some((l) => l.endsWith(`:${cg}`)),
        `cgroup ${cg} is one of /proc's (${lines.join(' | ')})`,
      );
    });
  });

  test('window 0 CPU of the burner within 10 % of /proc (nearly the same span)', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { r, seen, hello } = live();
    await recorded({ ...hello.tasks, check: 'window 0 cpu' }, async (note) => {
      const w0 = windowsOf(r).find((w) => w.seq === 0);
      assert.ok(w0 && seen.atHello && seen.atWindow.get(0));
      // Window 0 runs from the helper's baseline reading (just before its hello) to its end; /proc is read from the
      // hello's arrival to window 0's arrival — nearly the same span, and under TCG the burner's share of a vCPU
      // can differ between the two edges by several percent. The bug this guards against (a window clock that
      // started late) read 0.78-3.2x.
      const t = truthDelta(seen.atHello, seen.atWindow.get(0)!, pid.early);
      assert.ok(t, '/proc of the burner was read');
      const bpf = (w0.proc(pid.early)?.cpuNs ?? 0) / w0.durationNs;
      const proc = t.cpuNs / t.spanNs;
      note(`window 0: ${pct(bpf)} of a core vs /proc ${pct(proc)} (${(bpf / proc).toFixed(3)}x)`);
      // `yes` is one thread: more CPU than the window is long means the window's clock and counters disagree.
      assert.ok(bpf <= 1.02, `a single thread cannot run ${pct(bpf)} of the window`);
      assert.ok(Math.abs(bpf / proc - 1) <= 0.1, `window 0 CPU ${pct(bpf)} vs /proc ${pct(proc)}`);
    });
  });

  test('run-queue wait and involuntary switches of the burner and both pinned loops within 5 % of /proc', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { r, hello, frozen } = live();
    await recorded({ ...hello.tasks, check: 'runq wait+ivcsw vs /proc' }, async (note) => {
      const parts: string[] = [];
      const misses: string[] = [];
      for (const role of ['cpu', 'aggressor', 'victim']) {
        const w = pair(frozen, r, role, 'runqWaitNs');
        const n = pair(frozen, r, role, 'ivcsw');
        parts.push(`${role} ${sec(w.h)}/${sec(w.p)} ${n.h}/${n.p}`);
        // The iterator reads sched_info.run_delay and nivcsw, the very fields /proc shows: 1 ms / 2 switches
        // of slack for the edges of a short-lived figure.
        if (!within(w.h, w.p, 1e6)) misses.push(`${role} wait`);
        if (!within(n.h, n.p, 2)) misses.push(`${role} ivcsw`);
      }
      const why = misses.map((m) => {
        const [role, what] = m.split(' ');
        return evidence(frozen, r, role, what === 'wait' ? 'runqWaitNs' : 'ivcsw');
      });
      note(
        `${parts.join(', ')} (waiting, involuntary switches: helper/proc)${why.length ? ` ${why.join(' ')}` : ''}`,
      );
      const victim = pair(frozen, r, 'victim', 'runqWaitNs');
      assert.ok(victim.p > 0.5e9, `the nice-19 loop waited for a CPU (${sec(victim.p)})`);
      assert.deepEqual(misses, [], 'every process within 5 % of /proc');
    });
  });

  test('faults of a leak, faults inside read() and major faults within 5 % of /proc', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { r, hello, frozen } = live();
    await recorded({ ...hello.tasks, check: 'faults vs /proc' }, async (note) => {
      const leak = pair(frozen, r, 'leak', 'faults');
      const read = pair(frozen, r, 'readfault', 'faults');
      const major = pair(frozen, r, 'coldread', 'majFaults');
      note(
        `leak ${leak.h}/${leak.p}, in read() ${read.h}/${read.p}, major ${major.h}/${major.p} (helper/proc)`,
      );
      assert.ok(leak.p > 1000 && read.p > 3 * 8192 && major.p > 2000, 'every workload faulted');
      assert.ok(within(leak.h, leak.p, 0), 'leak faults within 5 % of /proc');
      assert.ok(within(read.h, read.p, 0), 'faults inside read() within 5 % of /proc');
      assert.ok(within(major.h, major.p, 0), 'major faults within 5 % of /proc');
    });
  });

  test('RSS anon (leak) and file (cold reader) within 5 % of /proc/PID/status', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { r, hello, frozen } = live();
    await recorded({ ...hello.tasks, check: 'rss anon/file vs /proc' }, async (note) => {
      // RSS is read at the end of the last window each process was active in; it has not run since (frozen).
      const lastOf = (tgid: number) =>
        windowsOf(r)
          .filter((w) => w.seq <= frozen.to && w.proc(tgid))
          .at(-1)
          ?.proc(tgid);
      const leak = lastOf(pid.leak);
      const cold = lastOf(pid.coldread);
      assert.ok(leak && cold, 'both were reported');
      const t = { leak: frozen.totals.get(pid.leak)!, cold: frozen.totals.get(pid.coldread)! };
      note(
        `leak anon ${mib(leak.rssAnonBytes)}/${mib(t.leak.rssAnonBytes)}, ` +
          `cold reader file ${mib(cold.rssFileBytes)}/${mib(t.cold.rssFileBytes)}, ` +
          `leak total ${mib(leak.rssBytes)}/${mib(t.leak.rssBytes)} (helper/proc)`,
      );
      assert.ok(t.leak.rssAnonBytes > 60 * 2 ** 20, 'the leak leaked');
      assert.ok(within(leak.rssAnonBytes, t.leak.rssAnonBytes, 0), 'anon RSS within 5 %');
      assert.ok(within(cold.rssFileBytes, t.cold.rssFileBytes, 0), 'file RSS within 5 %');
      assert.ok(within(leak.rssBytes, t.leak.rssBytes, 0), 'anon + file + shmem within 5 % of statm');
    });
  });

  test('a process living 50 ms inside a window is reported with its CPU and its ppid', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { r, hello } = live();
    await recorded({ ...hello.exit, check: 'exit within a window' }, async (note) => {
      // Right after a window is cut, so that its 50 ms fall inside the next one (on a slow guest the spawn alone
      // can take a few hundred ms; its figures are summed over every window it shows up in all the same).
      const from = (await waitWindow(r, Math.max(...windowsOf(r).map((w) => w.seq)) + 1)).seq;
      const spawnedAt = process.hrtime.bigint();
      const child = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
      const gone = new Promise((res) => child.on('exit', res));
      const tgid = child.pid!;
      await sleep(50);
      const before = readTruth(tgid)?.cpuNs ?? 0;
      child.kill('SIGKILL');
      await gone;
      const lifetimeNs = Number(process.hrtime.bigint() - spawnedAt);
      const seen: NonNullable<ReturnType<WindowView['proc']>>[] = [];
      for (let seq = from + 1; seq <= from + 4 && !seen.at(-1)?.exited; seq++) {
        const p = (await waitWindow(r, seq)).proc(tgid);
        if (p) seen.push(p);
      }
      const last = seen.at(-1);
      assert.ok(last, 'the short-lived process is in a window');
      const cpuNs = seen.reduce((sum, p) => sum + p.cpuNs, 0);
      note(
        `CPU ${(cpuNs / 1e6).toFixed(1)} ms (/proc ${(before / 1e6).toFixed(1)} ms before the kill, ` +
          `lived ${(lifetimeNs / 1e6).toFixed(0)} ms), ` +
          `ppid ${last.ppid === process.pid ? 'ok' : last.ppid}, exited ${last.exited}, in ${seen.length} window(s)`,
      );
      assert.equal(last.exited, true, 'marked exited');
      assert.equal(last.ppid, process.pid, 'its parent, captured at exit');
      assert.ok(before > 0, 'it ran');
      // Up to its death: at least what /proc showed just before the kill, and no more than its lifetime (one
      // thread). Not "/proc + the time to the kill": schedstat of a running task lags its current slice by a tick
      // or more under TCG (seen: 14 ms more than /proc + 10 ms of wall time).
      assert.ok(cpuNs >= before * 0.95, 'at least its CPU before the kill');
      assert.ok(cpuNs <= lifetimeNs, `no more than its ${(lifetimeNs / 1e6).toFixed(0)} ms lifetime`);
    });
  });

  test('nothing is left attached after the helper exits (programs and links, iterator links included)', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { r, held: ids } = live();
    await recorded({ collector: 'all', attach: '-', check: 'nothing left after exit' }, async (note) => {
      const held = new Set(ids).size;
      const left = await stopHelper(r, ids);
      note(`held ${held} programs; left ${left.progs.length} programs, ${left.links.length} links`);
      assert.ok(held >= 3, 'the helper held its programs (switch, two iterators, exit) while it ran');
      assert.deepEqual(left, { progs: [], links: [] });
    });
  });
});

describe('kernel matrix: the /proc fallback, forced', { skip }, () => {
  test('--tasks procfs: says so in hello, measures CPU like /proc, leaves nothing', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const w = startWorkload('cpu');
    let s: Started | undefined;
    try {
      await sleep(300);
      s = await startHelper(helperArgs({ intervalMs: INTERVAL_MS, tasks: 'procfs' }), [w.pids.cpu]);
      assert.ok(s.hello, `the helper started: ${s.fatal?.code} ${s.fatal?.message}`);
      const { r, seen, hello } = s as Required<Started>;
      await recorded({ ...hello.tasks, check: 'forced: cpu vs /proc' }, async (note) => {
        assert.equal(hello.tasks.attach, 'procfs', 'the hello names the forced fallback');
        const first = await waitWindow(r, 1);
        const last = await waitWindow(r, first.seq + 3);
        const a = seen.atWindow.get(first.seq);
        const b = seen.atWindow.get(last.seq);
        assert.ok(a && b, '/proc was read as the windows arrived');
        const h = summed(windowsOf(r), w.pids.cpu, first.seq + 1, last.seq).cpuNs;
        const t = truthDelta(a, b, w.pids.cpu);
        assert.ok(t, '/proc of the burner was read');
        note(`cpu ${sec(h)}/${sec(t.cpuNs)} over 3 windows (helper/proc, ${pct(h / t.cpuNs)})`);
        // The helper reads /proc itself at its window edge, the test as the line arrives: a few ms apart on real
        // hardware, up to ~150 ms under TCG on a busy host (2.88 s against 2.73 s in two matrix runs, where the
        // same check in CI read 100.3-100.5 %): 5 % and 0.2 s of slack for the two edges.
        assert.ok(within(h, t.cpuNs, 0.2e9), 'within 5 % (+0.2 s for the edges) of /proc');
      });
      await recorded({ ...hello.switcher, check: 'forced procfs: nothing left' }, async (note) => {
        const held = [...new Set(s?.held ?? [])];
        assert.ok(held.length >= 1, 'the switch collector was loaded');
        const left = await stopHelper(r, held);
        note(`held ${held.length}; programs left ${left.progs.length}, links left ${left.links.length}`);
        assert.deepEqual(left, { progs: [], links: [] });
      });
    } finally {
      w.stop();
      if (s) await stopHelper(s.r, s.held);
    }
  });
});

/** `hotspot --json` for `windows` windows of 1 s on `pid`; killed if it outlives `timeoutMs`. */
async function cliDiagnoses(pid: number, windows: number, config: object, timeoutMs: number) {
  const lines = (await cliJson([pid], windows, config, timeoutMs)).map(cliWindowView);
  return {
    attach: lines[0]?.attach ?? '?',
    tasks: lines[0]?.tasks ?? '?',
    found: lines.map((l) => l.diagnosisOf(pid)),
  };
}

describe('kernel matrix: the CLI diagnoses real workloads with the default rules', { skip }, () => {
  test('hotspot --json calls a CPU burner CPU-bound, or Starved with the wait /proc saw', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const w = startWorkload('cpu');
    try {
      await recorded({ collector: 'cli', attach: 'default', check: 'diagnosis: cpu' }, async (note) => {
        const before = readTruth(w.pids.cpu);
        const { attach, tasks, found } = await cliDiagnoses(w.pids.cpu, 5, {}, 200_000);
        const after = readTruth(w.pids.cpu);
        assert.ok(before && after, '/proc of the burner was read');
        const waited =
          (after.runqWaitNs - before.runqWaitNs) /
          (after.runqWaitNs - before.runqWaitNs + after.cpuNs - before.cpuNs);
        const labels = found.map((d) => d?.label ?? '-');
        // A burner can also preempt others (Noisy neighbor) in some windows: the last busy verdict is judged.
        const last = found.filter((d) => d && ['CPU-bound', 'Starved'].includes(d.label)).at(-1);
        note(
          `${labels.join(', ')}; last cause "${last?.cause ?? '-'}"; /proc: waited ${pct(waited)} of runnable time (${attach})`,
        );
        assert.ok(['walk', 'iter'].includes(tasks), `the CLI read the tasks in BPF (${tasks})`);
        assert.ok(last, 'the burner was called CPU-bound or Starved');
        if (last.label === 'Starved') {
          assert.match(last.cause, /waiting for a CPU/, 'Starved says it waited for a CPU');
          assert.ok(waited >= 0.2, `Starved only if /proc shows it waited (${pct(waited)})`);
        } else {
          assert.equal(last.label, 'CPU-bound');
          assert.match(last.cause, /core/, 'the cause gives its share of a core');
        }
      });
    } finally {
      w.stop();
    }
  });

  test('hotspot --json calls a leak OOM risk', { timeout: TEST_TIMEOUT_MS }, async () => {
    process.env.HOTSPOT_LEAK_CAP_MB = '1500'; // ~40 MiB/s for ~37 s: the default rules want 6 s of rising minima
    const w = startWorkload('leak');
    try {
      await recorded({ collector: 'cli', attach: 'default', check: 'diagnosis: leak' }, async (note) => {
        const { attach, found } = await cliDiagnoses(w.pids.leak, 14, {}, 200_000);
        const labels = found.map((d) => d?.label ?? '-');
        const oom = found.find((d) => d?.label === 'OOM risk');
        note(`${labels.join(', ')}${oom ? `; cause "${oom.cause}"` : ''} (${attach})`);
        assert.ok(oom, `OOM risk within ${labels.length} windows`);
      });
    } finally {
      w.stop();
      process.env.HOTSPOT_LEAK_CAP_MB = '600';
    }
  });
});

/** Where the matrix mounted the guest's virtio-blk ext4 disk (scripts/kernels/init.sh). */
const SCRATCH = process.env.HOTSPOT_VM_SCRATCH;

describe('blocked time on a real block device', {
  skip: skip || (SCRATCH ? false : 'no scratch disk'),
}, () => {
  test("an fsync writer: blocked share within 5 points of the scheduler's statistics (or 15 of 200 Hz state sampling)", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const restore = schedstatsOn(); // before the writer starts: its sleeps are counted from the first
    const writer = python('fsyncwriter.py', [path.join(SCRATCH as string, 'fsync.dat')]);
    let started: Started | undefined;
    try {
      await ready(writer, 60_000);
      const pid = writer.pid as number;
      started = await startHelper(helperArgs({ intervalMs: INTERVAL_MS }), [pid]);
      const { r, hello } = started;
      assert.ok(hello, `the helper started: ${started.fatal?.message}`);
      await recorded({ ...hello.tasks, check: 'blocked vs schedstats' }, async (note) => {
        const first = (await waitWindow(r, 1)).seq + 1;
        const secs = 8;
        const sampler = spawn(
          'python3',
          [path.join(__dirname, '..', 'support', 'states.py'), String(secs), String(pid)],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let out = '';
        sampler.stdout.setEncoding('utf8').on('data', (c: string) => {
          out += c;
        });
        const sampled = new Promise((res) => sampler.on('exit', res));
        const sched0 = restore && schedTimes(pid);
        await waitWindow(r, first + secs - 1);
        const sched1 = restore && schedTimes(pid);
        await sampled;
        const kernel = sched0 && sched1 ? blockedShareBetween(sched0, sched1) : undefined;
        const states = (JSON.parse(out) as Record<string, Record<string, number>>)[pid] ?? {};
        const d = states.D ?? 0;
        const truth = d / Math.max(1, d + (states.R ?? 0));
        const sum = { blockedNs: 0, ioWaitNs: 0, cpuNs: 0, runqWaitNs: 0, writeBytes: 0 };
        for (const w of windowsOf(r))
          if (w.seq >= first && w.seq < first + secs) {
            const p = w.proc(pid);
            if (p) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += p[k];
          }
        const share = sum.blockedNs / Math.max(1, sum.blockedNs + sum.cpuNs + sum.runqWaitNs);
        note(
          `blocked ${pct(share)} (I/O wait ${pct(sum.ioWaitNs / Math.max(1, sum.blockedNs))} of it), schedstats ${kernel === undefined ? 'n/a' : pct(kernel)}, /proc D ${pct(truth)} of ${d + (states.R ?? 0)} samples; wrote ${mib(sum.writeBytes)} (${hello.switcher.attach})`,
        );
        assert.ok(
          hello.capabilities.includes('blocked_time'),
          `blocked_time in ${hello.capabilities.join(' ')}`,
        );
        assert.ok(truth > 0.2, `the writer waits for the disk (/proc D ${pct(truth)})`);
        // The kernel's own sum_block_runtime (Debian's kernels have schedstats) is the exact truth; 200 Hz state
        // sampling misreads an fsync writer by many points (CHANGELOG), so it is the truth only for a kernel
        // without schedstats, and then at 15 points.
        if (kernel !== undefined)
          assert.ok(Math.abs(share - kernel) <= 0.05, `blocked ${pct(share)} vs schedstats ${pct(kernel)}`);
        else assert.ok(Math.abs(share - truth) <= 0.15, `blocked ${pct(share)} vs /proc ${pct(truth)}`);
      });
    } finally {
      if (started) await stopHelper(started.r, started.held);
      writer.kill('SIGKILL');
      restore?.();
    }
  });
});

describe('CPU profile on this kernel', { skip }, () => {
  const PARANOID = '/proc/sys/kernel/perf_event_paranoid';

  test("two hot functions of a C program are sampled and named in about the ratio it measured, at the kernel's own perf_event_paranoid; no program stays on the kept perf events", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { twohot } = twohotBinaries(); // cc from the host root, into the guest's writable overlay
    const w = startAs(twohot, ['1']);
    const out = collectStdout(w);
    // Debian's kernels run at perf_event_paranoid 3 (a Debian patch: perf events only for CAP_SYS_ADMIN). Issue 19:
    // the helper opened its events on request, after dropping to nobody with CAP_PERFMON, and was refused
    // (EACCES) on 6.1 and 6.12. It now opens them at start, while root, and keeps them; the setting is left alone.
    const paranoid = readFileSync(PARANOID, 'latin1').trim();
    const check = {
      collector: 'profile',
      attach: 'perf_event',
      check: `profile: two hot functions (perf_event_paranoid ${paranoid})`,
    };
    let started: Started | undefined;
    let gone: { progs: number[]; links: number[] } | undefined;
    try {
      started = await startHelper(helperArgs({ intervalMs: 5000 }), [w.pid!]);
      const { r, hello } = started;
      assert.ok(hello, `the helper started: ${started.fatal?.message}`);
      assert.ok(await waitFor(() => out().includes('\n'), 60_000), 'twohot reports its split');
      const before = twohotSplit(out());
      const raw = await requestProfile(r, w.pid!, 4000);
      const pid = r.child.pid!;
      await recorded(check, async (note) => {
        assert.equal(raw.type, 'profile', JSON.stringify(raw).slice(0, 300));
        const after = twohotSplit(out());
        const p = await symbolize(raw as ProfileResult, new ProcessImage(w.pid!));
        const n = stackSamples(p);
        const self = (name: RegExp) => {
          let k = 0;
          for (const h of hotFunctions(p)) if (name.test(p.frames[h.frame].name)) k += h.self;
          return (100 * k) / Math.max(1, n);
        };
        const a = self(/^hot_a\b/);
        const b = self(/^hot_b\b/);
        const truthA = (100 * (after.a - before.a)) / Math.max(1, after.a - before.a + after.b - before.b);
        const kept = perfFds(pid);
        const sampling = onSampleIds();
        const heldProgs = sampling.filter((id) => bpfProgIdsOf(pid).includes(id));
        const linked = linksTo(sampling).length;
        started = undefined;
        gone = await stopHelper(r, heldProgs);
        note(
          `${n} samples at ${raw.type === 'profile' ? raw.frequency : 0} Hz: hot_a ${a.toFixed(1)} %, hot_b ${b.toFixed(1)} % (program: hot_a ${truthA.toFixed(1)} % of the two); idle after it: ${kept} kept perf events for ${onlineCpuCount()} CPUs, ${heldProgs.length} sampling programs, ${linked} links; after exit ${perfFds(pid)} perf events, ${gone.progs.length} programs`,
        );
        assert.ok(n >= 30, `too few samples: ${n}`);
        assert.ok(a + b > 60, `hot_a + hot_b ${(a + b).toFixed(1)} % of the samples`);
        // TCG perturbs timing more than a real CPU does: 10 points, where the host's own test holds 5.
        assert.ok(
          Math.abs((100 * a) / (a + b) - truthA) <= 10,
          `hot_a ${((100 * a) / (a + b)).toFixed(1)} % vs ${truthA.toFixed(1)} %`,
        );
        assert.equal(
          kept,
          onlineCpuCount(),
          'between profiles the helper holds its kept events, one per CPU',
        );
        assert.deepEqual(heldProgs, [], 'and no sampling program');
        assert.equal(linked, 0, 'and no program is linked to a perf event');
        assert.equal(perfFds(pid), 0, 'no perf event once the helper exited');
        assert.deepEqual(gone.progs, []);
      });
    } finally {
      if (started) await stopHelper(started.r, started.held ?? []);
      w.kill('SIGKILL');
    }
  });

  test('the fallback (--profile-events on-request) opens events after the drop: refused with the sysctl hint where paranoid is 3, a profile where it is lower', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { twohot } = twohotBinaries();
    const w = startAs(twohot, ['1']);
    const out = collectStdout(w);
    const paranoid = Number(readFileSync(PARANOID, 'latin1').trim());
    let started: Started | undefined;
    try {
      started = await startHelper(
        [...helperArgs({ intervalMs: 5000 }), '--profile-events', 'on-request'],
        [w.pid!],
      );
      const { r, hello } = started;
      assert.ok(hello, `the helper started: ${started.fatal?.message}`);
      assert.ok(await waitFor(() => out().includes('\n'), 60_000), 'twohot runs');
      const raw = await requestProfile(r, w.pid!, 2000);
      await recorded(
        {
          collector: 'profile',
          attach: 'perf_event',
          check: `profile fallback: events opened on request (perf_event_paranoid ${paranoid})`,
        },
        async (note) => {
          note(
            raw.type === 'error'
              ? `refused: ${raw.message}; hint: ${raw.hint}`
              : `${raw.type === 'profile' ? raw.samples : 0} samples`,
          );
          if (paranoid >= 3) {
            assert.equal(raw.type, 'error', 'refused after the drop');
            assert.match(raw.type === 'error' ? raw.message : '', /Permission denied/);
            assert.match(
              raw.type === 'error' ? (raw.hint ?? '') : '',
              /sysctl kernel\.perf_event_paranoid=2/,
            );
          } else assert.ok(raw.type === 'profile' && raw.samples > 0, JSON.stringify(raw).slice(0, 300));
          assert.equal(perfFds(r.child.pid!), 0, 'nothing held');
        },
      );
    } finally {
      if (started) await stopHelper(started.r, started.held ?? []);
      w.kill('SIGKILL');
    }
  });
});
