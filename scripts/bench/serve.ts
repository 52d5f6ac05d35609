// Bench section 6: `hotspot serve` at scale. With 1,000 and 10,000 idle processes (sleepers), with and without
// --pid-labels: how long a scrape takes, how many series and bytes it returns (bounded by --max-series); then the
// service's own CPU and memory at 1 s and 5 s windows beside the CLI's (the same helper under both).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SLEEPERS = path.join(ROOT, 'dist', 'bench', 'sleepers');
const TICK = 100; // USER_HZ
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ScrapeRow {
  processes: number;
  pidLabels: boolean;
  scrapes: number;
  medianMs: number;
  maxMs: number;
  series: number;
  bytes: number;
  dropped: number;
  /** The window's work in serve (classify + group + fill; the scraped format rendered), from its own CPU per window. */
  serveCpuPercentOfCore: number;
}

export interface CostRow {
  what: 'serve' | 'cli';
  windowMs: number;
  processes: number;
  /** The consumer (serve or CLI) itself; the helper is measured separately. */
  cpuPercentOfCore: number;
  rssMiB: number;
  helperCpuPercentOfCore: number;
  helperRssMiB: number;
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s*(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function childOf(pid: number): number {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return Number(kids[0]);
}

async function withSleepers<T>(n: number, fn: () => Promise<T>): Promise<T> {
  const s = spawn('taskset', ['-c', '0', SLEEPERS, String(n), '1000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    s.stdout?.on('data', (c: Buffer) => /ready/.test(String(c)) && resolve());
    s.on('exit', (code) => reject(new Error(`sleepers exited (${code})`)));
  });
  await sleep(1500);
  try {
    return await fn();
  } finally {
    s.kill('SIGTERM');
  }
}

function start(args: string[], serving: boolean): Promise<{ child: ChildProcess; url?: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${err}`)), 60_000);
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (!serving && /kernel .*window/.test(err)) {
        clearTimeout(timer);
        resolve({ child });
      } else if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function scrapeOnce(url: string): Promise<{ ms: number; text: string }> {
  const t = performance.now();
  // As Prometheus asks: OpenMetrics preferred.
  const r = await fetch(`${url}/metrics`, {
    headers: { Accept: 'application/openmetrics-text;version=1.0.0' },
  });
  const text = await r.text();
  return { ms: performance.now() - t, text };
}

export async function scrapeBench(n: number, pidLabels: boolean): Promise<ScrapeRow> {
  return withSleepers(n, async () => {
    const s = await start(
      ['serve', '--interval', '1s', '--listen', '127.0.0.1:0', ...(pidLabels ? ['--pid-labels'] : [])],
      true,
    );
    try {
      await sleep(8000); // the first windows carry every process in full and V8 is still compiling
      const pid = s.child.pid!;
      const t0 = cpuTicks(pid);
      const w0 = performance.now();
      const times: number[] = [];
      let last = '';
      for (let i = 0; i < 20; i++) {
        const r = await scrapeOnce(s.url!);
        times.push(r.ms);
        last = r.text;
        await sleep(500);
      }
      const cpu = (100 * (cpuTicks(pid) - t0)) / TICK / ((performance.now() - w0) / 1000);
      const lines = last.split('\n').filter((l) => l && !l.startsWith('#'));
      const dropped = Number(/^hotspot_series_dropped_total (\S+)/m.exec(last)?.[1] ?? 0);
      return {
        processes: n,
        pidLabels,
        scrapes: times.length,
        medianMs: median(times),
        maxMs: Math.max(...times),
        series: lines.length,
        bytes: Buffer.byteLength(last),
        dropped,
        serveCpuPercentOfCore: cpu,
      };
    } finally {
      await stop(s.child);
    }
  });
}

/** CPU and peak RSS of serve (scraped once a window) or the CLI (table to /dev/null), and of their helper. */
export async function costBench(what: 'serve' | 'cli', windowMs: number, n: number): Promise<CostRow> {
  return withSleepers(n, async () => {
    const iv = `${windowMs}ms`;
    const s = await start(
      what === 'serve' ? ['serve', '--interval', iv, '--listen', '127.0.0.1:0'] : ['--interval', iv],
      what === 'serve',
    );
    try {
      const pid = s.child.pid!;
      await sleep(Math.max(8000, 3 * windowMs));
      const helper = childOf(pid);
      const [a, h] = [cpuTicks(pid), cpuTicks(helper)];
      const t = performance.now();
      let rss = 0;
      let helperRss = 0;
      const until = t + Math.max(15_000, 5 * windowMs);
      while (performance.now() < until) {
        if (s.url) await fetch(`${s.url}/metrics`).then((r) => r.text());
        rss = Math.max(rss, rssMiB(pid));
        helperRss = Math.max(helperRss, rssMiB(helper));
        await sleep(windowMs);
      }
      const sec = (performance.now() - t) / 1000;
      return {
        what,
        windowMs,
        processes: n,
        cpuPercentOfCore: (100 * (cpuTicks(pid) - a)) / TICK / sec,
        rssMiB: rss,
        helperCpuPercentOfCore: (100 * (cpuTicks(helper) - h)) / TICK / sec,
        helperRssMiB: helperRss,
      };
    } finally {
      await stop(s.child);
    }
  });
}

export async function serveSection(sizes: number[]): Promise<void> {
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(
    '\n6. hotspot serve: scrape latency and series (OpenMetrics, as Prometheus asks; 20 scrapes)\n',
  );
  console.log(
    'processes  labels       median ms  max ms   series   bytes      dropped   serve CPU % of a core',
  );
  for (const n of sizes)
    for (const pidLabels of [false, true]) {
      const r = await scrapeBench(n, pidLabels);
      console.log(
        `${String(n).padStart(9)}  ${(pidLabels ? 'pid' : 'comm+cgroup').padEnd(11)}  ${f(r.medianMs, 2).padStart(9)}  ${f(r.maxMs, 2).padStart(6)}  ${String(r.series).padStart(7)}  ${String(r.bytes).padStart(9)}  ${String(r.dropped).padStart(8)}   ${f(r.serveCpuPercentOfCore)}`,
      );
    }
  const n = Math.max(...sizes);
  console.log(
    `\n   serve (scraped once a window) and the CLI, ${n} processes: the consumer and its helper\n`,
  );
  console.log('what   window   CPU % of a core   RSS MiB   helper CPU %   helper RSS MiB');
  for (const windowMs of [1000, 5000])
    for (const what of ['serve', 'cli'] as const) {
      const r = await costBench(what, windowMs, n);
      console.log(
        `${what.padEnd(5)}  ${`${windowMs / 1000} s`.padEnd(6)}  ${f(r.cpuPercentOfCore).padStart(15)}  ${f(r.rssMiB, 0).padStart(8)}  ${f(r.helperCpuPercentOfCore).padStart(13)}  ${f(r.helperRssMiB, 0).padStart(15)}`,
      );
    }
}

// Run as a script of its own (node --import tsx scripts/bench/serve.ts) only: bundled into main.js, where
// require.main === module holds too, it ran beside the other sections and loaded their measurements.
if (/(^|\/)serve\.[cm]?[jt]s$/.test(process.argv[1] ?? ''))
  void serveSection((process.env.BENCH_SCALE_SIZES ?? '1000,10000').split(',').map(Number)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
