// `npm run bench`: what Hotspot costs, as ratios measured side by side in one run (absolute times on shared VMs
// are noise). Configurations are interleaved round-robin so drift hits them equally; medians are compared.
//   1. pipe ping-pong (context switches) and a page-fault storm: no tracer vs Hotspot's helper vs bpftrace
//   2. ns/event per BPF program from bpf_stats
//   3. helper CPU% and RSS with 1,000 and 10,000 mostly idle processes at a 1 s window, and the map drain time
//   4. classifier: 10,000 processes per window
// Prints a table and writes bench-results.json. Needs root (BPF) and the built dist/ + compiled bench binaries.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Classifier } from '../../src/shared/classifier';
import { DEFAULT_CONFIG } from '../../src/shared/config';
import { PROTOCOL_VERSION, type ProcSample, type Window } from '../../src/shared/protocol';
import { HELPER, runHelper, stopHelper } from '../../test/support/helper';
import { bpfProgIdsOf } from '../../test/support/procs';

const ROOT = path.resolve(__dirname, '../..'); // dist/bench/main.js or scripts/bench/main.ts
const BIN = path.join(ROOT, 'dist', 'bench');
const REPS = Number(process.env.BENCH_REPS ?? 7);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const run = (bin: string, args: string[]) =>
  Number(execFileSync(path.join(BIN, bin), args, { encoding: 'utf8' }).trim());

// ---------------------------------------------------------------- tracers
interface Tracer {
  name: string;
  start(): Promise<() => Promise<void>>;
}

/** The helper, attached and past its hello; `stop()` ends it the way the supervisor does. */
async function startHelper(helperJs = HELPER) {
  const r = runHelper(['--interval-ms', '1000'], undefined, helperJs);
  await r.next((m) => m.type === 'hello', 10_000);
  return {
    pid: r.child.pid ?? 0,
    windows: () => r.messages.filter((m): m is Window => m.type === 'window'),
    stop: () => stopHelper(r),
  };
}

const hotspot: Tracer = {
  name: 'hotspot',
  async start() {
    const h = await startHelper();
    return h.stop;
  },
};

/** Hotspot with an on_switch that returns at once: what attaching to sched_switch costs before any work. */
const floor: Tracer = {
  name: 'empty',
  async start() {
    const h = await startHelper(path.join(BIN, 'floor', 'helper.js'));
    return h.stop;
  },
};

// What Hotspot collects, written the obvious way in bpftrace: on-CPU time, preemptions and faults per process.
const BPFTRACE_SCRIPT = `
tracepoint:sched:sched_switch {
  if (@start[cpu]) { @oncpu[@tgid[cpu]] = sum(nsecs - @start[cpu]); }
  if (args->prev_state == 0) { @preempted[args->prev_pid] = count(); }
  @start[cpu] = nsecs; @tgid[cpu] = pid;
}
tracepoint:exceptions:page_fault_user { @faults[pid] = count(); }
interval:s:1 { clear(@oncpu); clear(@preempted); clear(@faults); }
`;

const bpftrace: Tracer = {
  name: 'bpftrace',
  async start() {
    const child = spawn('bpftrace', ['-e', BPFTRACE_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    for (let i = 0; i < 400 && !/Attaching/.test(out); i++) await sleep(50);
    if (!/Attaching/.test(out)) throw new Error(`bpftrace did not attach: ${out}`);
    await sleep(300);
    return async () => {
      child.kill('SIGINT');
      await exited;
    };
  },
};

const none: Tracer = { name: 'none', start: async () => async () => {} };

/** Runs `work` under each tracer, REPS times, interleaved; returns the per-tracer samples. */
async function sideBySide(work: () => number, tracers: Tracer[]): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(tracers.map((t) => [t.name, []]));
  work(); // warm-up
  for (let r = 0; r < REPS; r++)
    for (const t of r % 2 ? [...tracers].reverse() : tracers) {
      const stop = await t.start();
      try {
        out[t.name].push(work());
      } finally {
        await stop();
      }
    }
  return out;
}

// ---------------------------------------------------------------- bpf_stats
interface Prog {
  id: number;
  name?: string;
  run_time_ns?: number;
  run_cnt?: number;
}

async function nsPerEvent(): Promise<{ program: string; events: number; nsPerEvent: number }[]> {
  const before = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
  const h = await startHelper();
  try {
    run('pingpong', ['200000']);
    run('faultstorm', ['10']);
    const ids = new Set(bpfProgIdsOf(h.pid));
    const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Prog[];
    return progs
      .filter((p) => ids.has(p.id) && (p.run_cnt ?? 0) > 0)
      .map((p) => ({
        program: p.name ?? String(p.id),
        events: p.run_cnt ?? 0,
        nsPerEvent: (p.run_time_ns ?? 0) / (p.run_cnt ?? 1),
      }));
  } finally {
    await h.stop();
    writeFileSync('/proc/sys/kernel/bpf_stats_enabled', before);
  }
}

// ---------------------------------------------------------------- helper footprint at scale
async function helperAtScale(n: number) {
  const sleepers = spawn(path.join(BIN, 'sleepers'), [String(n), '1000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    sleepers.stdout?.on('data', (c: Buffer) => /ready/.test(String(c)) && resolve());
    sleepers.on('exit', (code) => reject(new Error(`sleepers exited (${code})`)));
  });
  await sleep(1500);
  const h = await startHelper();
  try {
    while (h.windows().length < 7) await sleep(200);
  } finally {
    await h.stop();
    sleepers.kill('SIGTERM');
  }
  const ws = h.windows().slice(2); // after load and warm-up
  return {
    processes: n,
    entriesPerWindow: median(ws.map((w) => w.procs.length)),
    helperCpuPercentOfCore: median(ws.map((w) => (100 * w.self.cpuNs) / w.durationNs)),
    helperRssMb: Math.max(...ws.map((w) => w.self.rssBytes)) / 2 ** 20,
    drainMs: median(ws.map((w) => w.self.drainNs / 1e6)),
  };
}

// ---------------------------------------------------------------- classifier
function classifyBench(n: number) {
  const procs: ProcSample[] = Array.from({ length: n }, (_, i) => ({
    tgid: 1000 + i,
    ppid: 1,
    comm: `proc-${i}`,
    cgroup: '/user.slice',
    cpuNs: (i * 7919) % 1e9,
    faults: (i * 31) % 20_000,
    rssBytes: ((i % 500) + 1) * 2 ** 20,
    rssSamples: [((i % 500) + 1) * 2 ** 20],
    preempted: i % 200,
    preemptsOthers: (i * 3) % 200,
    runqWaitNs: 0,
    lastCpu: i % 2,
    memMaxBytes: null,
  }));
  const c = new Classifier(DEFAULT_CONFIG, { ncpu: 2, memTotalBytes: 16 * 2 ** 30 });
  // Windows are built up front so only the classifier's own work (and garbage) is timed.
  const windows: Window[] = Array.from({ length: 60 }, (_, seq) => ({
    type: 'window',
    v: PROTOCOL_VERSION,
    seq,
    ts: seq * 1000,
    durationNs: 1e9,
    cpuBusyNs: [5e8, 5e8],
    procs: procs.map((p) => ({ ...p, rssBytes: p.rssBytes + seq * 2 ** 20 })),
    pairs: [],
    self: { cpuNs: 0, rssBytes: 0, drainNs: 0 },
  }));
  const times: number[] = [];
  for (const w of windows) {
    const t0 = process.hrtime.bigint();
    c.classify(w);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { processes: n, medianMs: median(times.slice(10)), goalMs: 10 };
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const fmt = (x: number, d = 3) => x.toFixed(d);
  const tracers = [none, hotspot, bpftrace, floor];
  console.log(`Hotspot benchmarks — ${REPS} interleaved runs per configuration, medians\n`);

  const pp = await sideBySide(() => run('pingpong', ['200000']), tracers);
  const fs = await sideBySide(() => run('faultstorm', ['10']), tracers);
  const row = (name: string, unit: string, s: Record<string, number[]>) => {
    const base = median(s.none);
    const r = (t: string) => median(s[t]) / base;
    console.log(
      `${name.padEnd(28)} ${fmt(base, 2).padStart(8)} ${unit.padEnd(6)}  hotspot ×${fmt(r('hotspot'))}  bpftrace ×${fmt(r('bpftrace'))}  on_switch empty ×${fmt(r('empty'))}`,
    );
    return {
      unit,
      medians: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)])),
      samples: s,
      hotspotRatio: r('hotspot'),
      bpftraceRatio: r('bpftrace'),
      emptyProgramsRatio: r('empty'),
    };
  };
  console.log('workload                     no tracer         cost ratios (1.000 = free)');
  const pingpong = row('pipe ping-pong (2 switches)', 'µs/rt', pp);
  const faults = row('page-fault storm', 'ns/flt', fs);

  const stats = await nsPerEvent();
  console.log('\nBPF program                  events    ns/event (bpf_stats)');
  for (const s of stats)
    console.log(`${s.program.padEnd(28)} ${String(s.events).padStart(8)}  ${fmt(s.nsPerEvent, 1)}`);

  console.log('\nhelper at 1 s windows        entries/window  CPU % of a core  RSS MiB  drain ms');
  const scale = [];
  for (const n of [1000, 10_000]) {
    const s = await helperAtScale(n);
    scale.push(s);
    console.log(
      `${`${n} mostly idle processes`.padEnd(28)} ${String(s.entriesPerWindow).padStart(14)}  ${fmt(s.helperCpuPercentOfCore, 2).padStart(15)}  ${fmt(s.helperRssMb, 0).padStart(7)}  ${fmt(s.drainMs, 2).padStart(8)}`,
    );
  }

  const cls = classifyBench(10_000);
  console.log(`\nclassify 10,000 processes per window: ${fmt(cls.medianMs, 2)} ms (goal ≤ ${cls.goalMs} ms)`);

  const results = {
    date: new Date().toISOString(),
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    reps: REPS,
    pingpong,
    faultStorm: faults,
    bpfStats: stats,
    helperAtScale: scale,
    classify: cls,
  };
  writeFileSync(path.join(ROOT, 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwritten to bench-results.json');
}

main().catch((e) => {
  console.error(`bench failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
