// The kernel-matrix check suite: runs INSIDE a qemu VM booted by scripts/kernels/run.sh (npm run test:kernels),
// once per kernel. Every figure the helper reports is judged against /proc read at the same moment, never
// against a fixed speed: under TCG the guest is 10-50x slower than the host and the host is shared.
// Each check also appends a row (figures next to /proc's) to $HOTSPOT_VM_RESULTS for the matrix table.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { EXPECTATIONS } from '../../scripts/record';
import type { Message } from '../../src/shared/protocol';
import { type Run, runHelper } from '../support/helper';
import { bpfProgIds } from '../support/procs';
import { startWorkload, type Workload } from '../workloads';
import {
  COLLECTORS,
  cliWindowView,
  FAULT_ATTACH_CANDIDATES,
  type FatalView,
  FORCED_COLLECTOR,
  fatalView,
  type HelloView,
  helloView,
  helperArgs,
  isFatal,
  isHello,
  isWindow,
  type WindowView,
  windowView,
} from './adapter';
import { type CheckRow, ROWS_FILE } from './row';
import { isStopped, type Observed, observe, readTruth, type Truth, truthDelta } from './truth';

const RESULTS = process.env.HOTSPOT_VM_RESULTS;
const skip = RESULTS ? false : 'runs inside the kernel-matrix VM: npm run test:kernels';
const INTERVAL_MS = 1000;
/** The helper starts in 2.5-8.5 s under TCG; leave room for a host busy with other work. */
const START_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 240_000;
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

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
}

async function startHelper(args: string[], pids: number[]): Promise<Started> {
  const r = runHelper(args);
  const watch = [...pids];
  const seen = observe(r, watch);
  const m = await nextOrExit(r, (x) => isHello(x) || isFatal(x), START_TIMEOUT_MS);
  return isHello(m) ? { r, seen, watch, hello: helloView(m) } : { r, seen, watch, fatal: fatalView(m) };
}

async function waitWindow(r: Run, seq: number): Promise<WindowView> {
  const m = await nextOrExit(r, (x) => isWindow(x) && windowView(x).seq >= seq, 30_000 + seq * 10_000);
  return windowView(m);
}

const windowsOf = (r: Run): WindowView[] => r.messages.filter(isWindow).map(windowView);

/** Ends the helper (stdin EOF, SIGKILL if it lingers) and returns what it left loaded beyond `baseline`. */
async function stopHelper(r: Run, baseline: Set<number>): Promise<{ progs: number[]; links: number[] }> {
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
    progs = [...bpfProgIds()].filter((id) => !baseline.has(id));
    if (!progs.length) break;
    await sleep(100); // fd-bound links and programs go once RCU has run
  }
  const links = (
    JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { prog_id: number }[]
  )
    .map((l) => l.prog_id)
    .filter((id) => !baseline.has(id));
  return { progs, links };
}

/** Sum of one process's figures over windows `from..to` (a window it was idle in counts as zero). */
function summed(ws: WindowView[], tgid: number, from: number, to: number) {
  const span = ws.filter((w) => w.seq >= from && w.seq <= to);
  assert.equal(span.length, to - from + 1, `windows ${from}..${to} all arrived`);
  const sum = { cpuNs: 0, runqWaitNs: 0, faults: 0, durationNs: 0 };
  for (const w of span) {
    const p = w.proc(tgid);
    sum.durationNs += w.durationNs;
    sum.cpuNs += p?.cpuNs ?? 0;
    sum.runqWaitNs += p?.runqWaitNs ?? 0;
    sum.faults += p?.faults ?? 0;
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

describe('kernel matrix: the helper against /proc on this kernel', { skip }, () => {
  // One helper session with the default attach points. A burner runs from before the helper starts, for window 0.
  // Once window 0 is cut: a CPU burner, two loops pinned to one core (run-queue wait) and a leak (faults, RSS),
  // frozen a few windows after they all run, and compared as lifetime totals (see freezeAfter).
  let early: Workload | undefined;
  let work: Workload[] = [];
  let run: Started | undefined;
  let frozen: Frozen | undefined;
  /** A window that arrived once every workload was up and running: run-queue wait is compared from there. */
  let settled = 0;
  let baseline = new Set<number>();
  const pid: Record<string, number> = {};

  before(
    async () => {
      process.env.HOTSPOT_LEAK_CAP_MB = '600'; // a 4 GiB guest; the leak keeps faulting until 600 MiB
      baseline = bpfProgIds();
      early = startWorkload('cpu');
      pid.early = early.pids.cpu;
      await sleep(500); // the burner is running (not still exec-ing) when the helper attaches
      run = await startHelper(helperArgs({ intervalMs: INTERVAL_MS }), [pid.early]);
      if (run.fatal) {
        const figures = `${run.fatal.code}: ${run.fatal.message.slice(0, 160)}`;
        addRow({
          collector: 'all',
          attach: 'default',
          check: 'default load+attach',
          status: 'fail',
          figures,
        });
        return;
      }
      await waitWindow(run.r, 0);
      early.stop(); // window 0 was its only job
      work = [startWorkload('cpu'), startWorkload('contention'), startWorkload('leak')];
      Object.assign(pid, ...work.map((w) => w.pids));
      run.watch.push(pid.cpu, pid.aggressor, pid.leak);
      // Python can take many seconds to start under TCG on a busy host: freeze only once the leak has leaked.
      const leaked = () => (readTruth(pid.leak)?.rssBytes ?? 0) >= 60 * 2 ** 20;
      assert.ok(await waitFor(leaked, 120_000), 'the leak reached 60 MiB');
      settled = Math.max(...windowsOf(run.r).map((w) => w.seq)) + 1;
      await waitWindow(run.r, settled);
      frozen = await freezeAfter(run.r, [pid.cpu, pid.aggressor, pid.victim, pid.leak], 1, settled + 3);
    },
    { timeout: TEST_TIMEOUT_MS },
  );

  after(async () => {
    early?.stop();
    for (const w of work) w.stop();
    if (run) await stopHelper(run.r, baseline);
  });

  const live = () => {
    assert.ok(run?.hello, `the helper started: ${run?.fatal?.code} ${run?.fatal?.message}`);
    assert.ok(frozen, 'the workloads ran and were frozen');
    return { r: run.r, seen: run.seen, hello: run.hello, frozen };
  };

  test('every collector loads and attaches with the default order', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    assert.ok(run?.hello, `the helper started: ${run?.fatal?.code} ${run?.fatal?.message}`);
    const { hello } = run;
    // 'procfs' would mean a collector fell back to reading /proc: not loaded into this kernel.
    for (const c of hello.collectors)
      addRow({
        ...c,
        check: 'default load+attach',
        status: c.attach === 'procfs' ? 'fail' : 'pass',
        figures: '',
      });
    assert.deepEqual(
      hello.collectors.filter((c) => c.attach === 'procfs'),
      [],
      'every collector runs in the kernel',
    );
    assert.deepEqual(hello.collectors.map((c) => c.collector).sort(), [...COLLECTORS].sort());
  });

  test('CPU of a burner and two pinned loops within 5 % of /proc', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { r, hello, frozen } = live();
    await recorded({ ...hello.cpu, check: 'cpu vs /proc' }, async (note) => {
      const parts: string[] = [];
      const misses: string[] = [];
      for (const role of ['cpu', 'aggressor', 'victim']) {
        const h = summed(windowsOf(r), pid[role], frozen.from, frozen.to).cpuNs;
        const p = frozen.totals.get(pid[role])!.cpuNs;
        parts.push(`${role} ${sec(h)}/${sec(p)}`);
        // 5 %, and one 4 ms scheduler tick for the victim's few milliseconds.
        if (Math.abs(h - p) > 0.05 * p + 4e6) misses.push(role);
      }
      note(`${parts.join(', ')} on CPU (helper/proc)`);
      assert.deepEqual(misses, [], 'every process within 5 % of /proc');
    });
  });

  test('window 0 CPU of the burner within 5 % of /proc', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { r, seen, hello } = live();
    await recorded({ ...hello.cpu, check: 'window 0 cpu' }, async (note) => {
      const w0 = windowsOf(r).find((w) => w.seq === 0);
      assert.ok(w0 && seen.atHello && seen.atWindow.get(0));
      // The window clock starts as the hello is sent: /proc from the hello's arrival to window 0's arrival.
      const t = truthDelta(seen.atHello, seen.atWindow.get(0)!, pid.early);
      assert.ok(t, '/proc of the burner was read');
      const bpf = (w0.proc(pid.early)?.cpuNs ?? 0) / w0.durationNs;
      const proc = t.cpuNs / t.spanNs;
      note(`window 0: ${pct(bpf)} of a core vs /proc ${pct(proc)} (${(bpf / proc).toFixed(2)}x)`);
      assert.ok(Math.abs(bpf / proc - 1) <= 0.05, `window 0 CPU ${pct(bpf)} vs /proc ${pct(proc)}`);
    });
  });

  test('run-queue wait of the burner and the nice-0 loop within 5 points of the span of /proc', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { r, seen, hello, frozen } = live();
    await recorded({ ...hello.cpu, check: 'runq wait vs /proc' }, async (note) => {
      const parts: string[] = [];
      const misses: string[] = [];
      // From a window when every workload was running: /proc's run_delay also counts the waits after each wake-up
      // while a process execs its way into its loop, the helper only those after preemptions. Not the nice-19
      // victim, whose waits last up to a second and straddle any start: it has its own session below.
      const at = seen.atWindow.get(settled);
      assert.ok(at, '/proc was read as the settled window arrived');
      for (const role of ['cpu', 'aggressor']) {
        const b = summed(windowsOf(r), pid[role], settled + 1, frozen.to);
        const before = at.procs.get(pid[role]);
        assert.ok(before, `/proc of ${role} was read at the start`);
        const p = frozen.totals.get(pid[role])!.runqWaitNs - before.runqWaitNs;
        parts.push(`${role} ${sec(b.runqWaitNs)}/${sec(p)}`);
        if (Math.abs(b.runqWaitNs - p) > 0.05 * b.durationNs) misses.push(role);
      }
      note(`${parts.join(', ')} waiting (helper/proc)`);
      assert.deepEqual(misses, [], 'every process within 5 points of the span');
    });
  });

  test('faults and RSS of a leak within 5 % of /proc', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { r, hello, frozen } = live();
    await recorded({ ...hello.faults, check: 'leak faults+rss' }, async (note) => {
      const ws = windowsOf(r);
      const h = summed(ws, pid.leak, frozen.from, frozen.to).faults;
      const t = frozen.totals.get(pid.leak)!;
      // The helper's RSS is read in the kernel at the leak's last fault; it has not faulted since (frozen).
      const rss =
        ws
          .filter((w) => w.seq <= frozen.to && w.proc(pid.leak))
          .at(-1)
          ?.proc(pid.leak)?.rssBytes ?? 0;
      note(`faults ${h}/${t.faults}, RSS ${mib(rss)}/${mib(t.rssBytes)} (helper/proc)`);
      assert.ok(t.faults > 0, 'the leak faulted');
      assert.ok(Math.abs(h - t.faults) <= 0.05 * t.faults, 'faults within 5 % of /proc');
      assert.ok(Math.abs(rss - t.rssBytes) <= 0.05 * t.rssBytes, 'RSS within 5 % of statm');
    });
  });

  test('nothing is left attached after the helper exits', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { r } = live();
    await recorded({ collector: 'all', attach: '-', check: 'nothing left after exit' }, async (note) => {
      const left = await stopHelper(r, baseline);
      note(`programs left ${left.progs.length}, links left ${left.links.length}`);
      assert.deepEqual(left, { progs: [], links: [] });
    });
  });
});

describe('kernel matrix: run-queue wait of a starved loop', { skip }, () => {
  test('a nice-19 loop starved by a nice-0 loop on one core: both waits within 5 points of the span of /proc', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    // /proc's run_delay also counts the waits after wake-ups (exec reading its binary), the helper only those after
    // preemptions; so both loops first settle, each alone on its own core, where neither waits. Then the nice-0
    // loop is moved onto the victim's core (a migration, no sleep) and both are frozen a few windows later.
    const baseline = bpfProgIds();
    const loop = 'while :; do :; done';
    const victim = spawn('taskset', ['-c', '0', 'nice', '-n', '19', 'bash', '-c', loop], { stdio: 'ignore' });
    const aggressor = spawn('taskset', ['-c', '1', 'bash', '-c', loop], { stdio: 'ignore' });
    const pids = [victim.pid!, aggressor.pid!];
    let s: Started | undefined;
    try {
      s = await startHelper(helperArgs({ intervalMs: INTERVAL_MS }), pids);
      assert.ok(s.hello, `the helper started: ${s.fatal?.code} ${s.fatal?.message}`);
      const { r, seen, hello } = s as Required<Started>;
      await recorded({ ...hello.cpu, check: 'runq wait vs /proc (starved)' }, async (note) => {
        // Settled: a window in which each loop ran most of the time on its own core (execs and page-ins over).
        let start: WindowView | undefined;
        for (let seq = 1; seq < 60 && !start; seq++) {
          const w = await waitWindow(r, seq);
          if (pids.every((p) => (w.proc(p)?.cpuNs ?? 0) > 0.5 * w.durationNs)) start = w;
        }
        assert.ok(start, 'each loop ran alone on its core');
        const at = seen.atWindow.get(start.seq);
        assert.ok(at, '/proc was read as the settled window arrived');
        execFileSync('taskset', ['-p', '-c', '0', String(aggressor.pid)], { stdio: 'ignore' });
        const frozen = await freezeAfter(r, pids, start.seq + 1, start.seq + 4);
        const ws = windowsOf(r);
        const rows = (['victim', 'aggressor'] as const).map((name, i) => {
          const h = summed(ws, pids[i], frozen.from, frozen.to);
          const before = at.procs.get(pids[i]);
          assert.ok(before, `/proc of the ${name} was read at the start`);
          const p = frozen.totals.get(pids[i])!.runqWaitNs - before.runqWaitNs;
          return { name, h: h.runqWaitNs, p, span: h.durationNs };
        });
        note(`${rows.map((x) => `${x.name} ${sec(x.h)}/${sec(x.p)}`).join(', ')} waiting (helper/proc)`);
        assert.ok(rows[0].p > 0.3 * rows[0].span, 'the victim was starved for a good part of the interval');
        for (const x of rows)
          assert.ok(Math.abs(x.h - x.p) <= 0.05 * x.span, `${x.name}: ${sec(x.h)} vs /proc ${sec(x.p)}`);
      });
      const left = await stopHelper(r, baseline);
      assert.deepEqual(left, { progs: [], links: [] }, 'nothing left attached');
    } finally {
      aggressor.kill('SIGKILL');
      victim.kill('SIGKILL');
      if (s) await stopHelper(s.r, baseline);
    }
  });
});

describe('kernel matrix: every fault attach point, forced', { skip }, () => {
  for (const attach of FAULT_ATTACH_CANDIDATES) {
    test(`faults via ${attach}: loads, counts a fault storm like /proc, leaves nothing`, {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      const baseline = bpfProgIds();
      let w: Workload | undefined;
      let s: Started | undefined;
      try {
        s = await startHelper(helperArgs({ intervalMs: INTERVAL_MS, faultAttach: attach }), []);
        if (s.fatal) {
          // The kernel would not have it (no kprobes, fentry refused, …): a fact about the kernel, not a failure.
          addRow({
            collector: FORCED_COLLECTOR,
            attach,
            check: 'forced load+attach',
            status: 'refused',
            figures: `${s.fatal.code}: ${s.fatal.message.slice(0, 120)}`,
          });
          t.skip(`this kernel refuses ${attach}: ${s.fatal.message}`);
          return;
        }
        const { r, hello } = s as Required<Started>;
        await recorded({ ...hello.faults, check: 'forced: faults vs /proc' }, async (note) => {
          assert.equal(hello.faultAttach, attach, 'the hello names the forced attach point');
          await waitWindow(r, 0);
          w = startWorkload('thrash');
          const pidOf = w.pids.thrash;
          // Python can take many seconds to start under TCG on a busy host: freeze once it is storming.
          assert.ok(
            await waitFor(() => (readTruth(pidOf)?.faults ?? 0) > 20_000, 120_000),
            'the storm started',
          );
          const now = Math.max(...windowsOf(r).map((x) => x.seq));
          const frozen = await freezeAfter(r, [pidOf], 1, now + 2);
          const h = summed(windowsOf(r), pidOf, frozen.from, frozen.to).faults;
          const p = frozen.totals.get(pidOf)!.faults;
          note(`faults ${h}/${p} (helper/proc, ${pct(h / p)})`);
          assert.ok(p > 1000, 'the storm faulted');
          assert.ok(Math.abs(h - p) <= 0.05 * p, 'within 5 % of /proc');
        });
        await recorded({ ...hello.faults, check: 'forced: nothing left' }, async (note) => {
          const left = await stopHelper(r, baseline);
          note(`programs left ${left.progs.length}, links left ${left.links.length}`);
          assert.deepEqual(left, { progs: [], links: [] });
        });
      } finally {
        w?.stop();
        if (s) await stopHelper(s.r, baseline);
      }
    });
  }
});

/** `hotspot --json` for `windows` windows of 1 s on `pid`; killed if it outlives `timeoutMs`. */
async function cliLabels(pid: number, windows: number, config: object, timeoutMs: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-kmatrix-'));
  writeFileSync(path.join(dir, 'cfg.yaml'), stringify(config));
  const args = ['--json', '--interval', '1s', '--windows', String(windows), '--pid', String(pid)];
  const child = spawn(process.execPath, [CLI, ...args, '--config', path.join(dir, 'cfg.yaml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await new Promise<number | null>((res) => child.on('close', res));
    assert.equal(code, 0, `hotspot exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
  } finally {
    clearTimeout(timer);
  }
  const lines = out.trim().split('\n').filter(Boolean).map(cliWindowView);
  return { attach: lines[0]?.faultAttach ?? '?', labels: lines.map((l) => l.labelOf(pid) ?? '-') };
}

describe('kernel matrix: the CLI diagnoses real workloads', { skip }, () => {
  const cases = [
    { workload: 'cpu', role: 'cpu', label: 'CPU-bound' },
    { workload: 'leak', role: 'leak', label: 'OOM risk' },
  ] as const;
  for (const c of cases) {
    test(`hotspot --json calls the ${c.workload} workload ${c.label}`, {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      process.env.HOTSPOT_LEAK_CAP_MB = '600';
      const w = startWorkload(c.workload);
      try {
        await recorded({ collector: 'cli', attach: '-', check: `diagnosis: ${c.workload}` }, async (note) => {
          const { attach, labels } = await cliLabels(
            w.pids[c.role],
            5,
            EXPECTATIONS[c.workload].config,
            200_000,
          );
          note(`${labels.join(', ')} (faults via ${attach})`);
          assert.ok(labels.includes(c.label), `${c.label} within ${labels.length} windows`);
        });
      } finally {
        w.stop();
      }
    });
  }
});
