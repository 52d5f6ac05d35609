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
  hello?: HelloView;
  fatal?: FatalView;
}

async function startHelper(args: string[], pids: number[]): Promise<Started> {
  const r = runHelper(args);
  const seen = observe(r, pids);
  const m = await nextOrExit(r, (x) => isHello(x) || isFatal(x), START_TIMEOUT_MS);
  return isHello(m) ? { r, seen, hello: helloView(m) } : { r, seen, fatal: fatalView(m) };
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
  // frozen after window LAST and compared as lifetime totals (see freezeAfter).
  let early: Workload | undefined;
  let work: Workload[] = [];
  let run: Started | undefined;
  let frozen: Frozen | undefined;
  let baseline = new Set<number>();
  const pid: Record<string, number> = {};
  const LAST = 5;

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
      frozen = await freezeAfter(run.r, [pid.cpu, pid.aggressor, pid.victim, pid.leak], 1, LAST);
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
    const { r, hello, frozen } = live();
    await recorded({ ...hello.cpu, check: 'runq wait vs /proc' }, async (note) => {
      const parts: string[] = [];
      const misses: string[] = [];
      // Not the nice-19 victim: /proc also counts the waits after each wake-up while it execs its way into the
      // loop, which the helper (run-queue wait after preemptions) does not; it has its own session below.
      for (const role of ['cpu', 'aggressor']) {
        const b = summed(windowsOf(r), pid[role], frozen.from, frozen.to);
        const p = frozen.totals.get(pid[role])!.runqWaitNs;
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
  test('a nice-19 loop pinned under a nice-0 loop: both waits within 5 points of the span of /proc', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    // The victim first runs alone on CPU 0 (so it is not waiting when the interval opens), then a nice-0 loop
    // joins it there and starves it, then the nice-0 loop is killed and the victim's last wait ends. Both ends of
    // the interval fall where the victim runs, so no wait is split by a window cut; neither loop ever sleeps.
    const baseline = bpfProgIds();
    const loop = 'while :; do :; done';
    const victim = spawn('taskset', ['-c', '0', 'nice', '-n', '19', 'bash', '-c', loop], { stdio: 'ignore' });
    const watched = [victim.pid!];
    let aggressor: ReturnType<typeof spawn> | undefined;
    let s: Started | undefined;
    try {
      s = await startHelper(helperArgs({ intervalMs: INTERVAL_MS }), watched);
      assert.ok(s.hello, `the helper started: ${s.fatal?.code} ${s.fatal?.message}`);
      const { r, seen, hello } = s as Required<Started>;
      await recorded({ ...hello.cpu, check: 'runq wait vs /proc (starved)' }, async (note) => {
        // Settled: a window in which the victim ran most of the time (its exec and page-ins are over).
        let from: WindowView | undefined;
        for (let seq = 1; seq < 30 && !from; seq++) {
          const w = await waitWindow(r, seq);
          if ((w.proc(victim.pid!)?.cpuNs ?? 0) > 0.5 * w.durationNs) from = w;
        }
        assert.ok(from, 'the victim ran alone on CPU 0');
        const a = from.seq;
        aggressor = spawn('taskset', ['-c', '0', 'bash', '-c', loop], { stdio: 'ignore' });
        watched.push(aggressor.pid!);
        await waitWindow(r, a + 4);
        const aggressorAtEnd = seen.atWindow.get(a + 4)?.procs.get(aggressor.pid!);
        aggressor.kill('SIGKILL');
        await waitWindow(r, a + 6);
        const ws = windowsOf(r);
        const v = summed(ws, victim.pid!, a + 1, a + 6);
        const vt = truthDelta(seen.atWindow.get(a)!, seen.atWindow.get(a + 6)!, victim.pid!);
        assert.ok(vt && aggressorAtEnd, '/proc of both loops was read');
        // The aggressor was born inside the interval: /proc's totals are its whole life.
        const g = summed(ws, aggressor.pid!, a + 1, a + 4);
        const gSpan = Number(seen.atWindow.get(a + 4)!.atNs - seen.atWindow.get(a)!.atNs);
        const rows = [
          ['victim', v.runqWaitNs / v.durationNs, vt.runqWaitNs / vt.spanNs],
          ['aggressor', g.runqWaitNs / g.durationNs, aggressorAtEnd.runqWaitNs / gSpan],
        ] as const;
        note(
          `${rows.map(([n, h, p]) => `${n} ${pct(h)}/${pct(p)}`).join(', ')} of the span waiting (helper/proc); ` +
            `victim ran ${pct(vt.cpuNs / vt.spanNs)}`,
        );
        assert.ok(vt.runqWaitNs / vt.spanNs > 0.3, 'the victim was starved for a good part of the interval');
        for (const [n, h, p] of rows)
          assert.ok(Math.abs(h - p) <= 0.05, `${n}: ${pct(h)} vs /proc ${pct(p)}`);
      });
      const left = await stopHelper(r, baseline);
      assert.deepEqual(left, { progs: [], links: [] }, 'nothing left attached');
    } finally {
      aggressor?.kill('SIGKILL');
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
          const frozen = await freezeAfter(r, [w.pids.thrash], 1, 3);
          const h = summed(windowsOf(r), w.pids.thrash, frozen.from, frozen.to).faults;
          const p = frozen.totals.get(w.pids.thrash)!.faults;
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
