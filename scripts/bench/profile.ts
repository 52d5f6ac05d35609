// The profiler's costs (issue 19), one run: (1) the profiled workload's CPU time per unit of work without a
// profile, with Hotspot's 99 Hz profile and with bpftrace's `profile:hz:99 { @[ustack] = count() }`, phases
// interleaved so drift on the shared machine hits all three alike; (2) symbolization of a 10 s Node profile, cold
// and warm; (3) the profile view's render of 5,000 unique stacks: the extension's aggregation plus the webview in
// headless Chromium.
// Run as root: node --import tsx scripts/bench/profile.ts (or through npm run bench).
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { ProcessImage } from '../../src/host/profile/image';
import { SymbolCache, symbolize } from '../../src/host/profile/symbolize';
import type { SymbolizedProfile } from '../../src/shared/profile/model';
import { profileView } from '../../src/shared/profile/view';
import type { ProfileResult } from '../../src/shared/wire/profile';
import { runHelper, stopHelper } from '../../test/support/helper';
import {
  collectStdout,
  FIB_JS,
  JIT_FLAGS,
  requestProfile,
  startAs,
  twohotBinaries,
} from '../../test/support/profile';
import { CHROMIUM } from '../e2e/browser';

const PHASE_MS = Number(process.env.BENCH_PROFILE_PHASE_MS ?? 5000);
const ROUNDS = Number(process.env.BENCH_PROFILE_ROUNDS ?? 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** twohot's cumulative (CPU ns, rounds). */
function reading(out: string): { ns: number; rounds: number } {
  const lines = out.trim().split('\n');
  const [a, b, r] = (lines[lines.length - 1] ?? '0 0 0').split(' ').map(Number);
  return { ns: a + b, rounds: r };
}

async function overhead(): Promise<Record<string, number>> {
  const { twohot } = twohotBinaries();
  const w = startAs(twohot, ['1']);
  const out = collectStdout(w);
  const helper = runHelper(['--interval-ms', '5000']);
  const per: Record<string, number[]> = { none: [], hotspot: [], bpftrace: [] };
  try {
    await helper.next((m) => m.type === 'hello', 60_000);
    await sleep(1000);
    for (let round = 0; round < ROUNDS; round++)
      for (const phase of ['none', 'hotspot', 'bpftrace'] as const) {
        let bt: ReturnType<typeof spawn> | undefined;
        if (phase === 'bpftrace') {
          bt = spawn('bpftrace', ['-e', `profile:hz:99 /pid == ${w.pid}/ { @[ustack] = count(); }`], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let err = '';
          bt.stderr?.on('data', (c) => {
            err += c;
          });
          const t = Date.now();
          while (!err.includes('Attaching') && Date.now() - t < 20_000) await sleep(50);
        }
        const request = phase === 'hotspot' ? requestProfile(helper, w.pid!, PHASE_MS + 400) : undefined;
        if (request) await sleep(200); // attached
        const a = reading(out());
        await sleep(PHASE_MS);
        const b = reading(out());
        per[phase].push((b.ns - a.ns) / (b.rounds - a.rounds));
        if (request) await request;
        if (bt) {
          bt.kill('SIGINT');
          await new Promise((r) => bt!.on('exit', r));
        }
      }
  } finally {
    w.kill('SIGKILL');
    await stopHelper(helper);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const base = median(per.none);
  const r = {
    nsPerRoundNone: base,
    nsPerRoundHotspot: median(per.hotspot),
    nsPerRoundBpftrace: median(per.bpftrace),
    hotspotOverheadPercent: ((median(per.hotspot) - base) / base) * 100,
    bpftraceOverheadPercent: ((median(per.bpftrace) - base) / base) * 100,
  };
  console.log(`overhead (${ROUNDS} × ${PHASE_MS} ms phases, medians): ${JSON.stringify(per)}`);
  return r;
}

async function symbolization(): Promise<Record<string, number>> {
  const node = startAs(process.execPath, [...JIT_FLAGS, FIB_JS]);
  const helper = runHelper(['--interval-ms', '5000']);
  try {
    await helper.next((m) => m.type === 'hello', 60_000);
    await sleep(1500);
    const image = new ProcessImage(node.pid!);
    const raw = (await requestProfile(helper, node.pid!, 10_000)) as ProfileResult;
    const cache = new SymbolCache();
    let t = performance.now();
    const p = await symbolize(raw, image, cache);
    const cold = performance.now() - t;
    t = performance.now();
    await symbolize(raw, image, cache);
    const warm = performance.now() - t;
    console.log(
      `symbolized ${raw.samples} samples, ${raw.stacks.length} stacks, ${p.frames.length} frames; top ${p.frames[0]?.name}`,
    );
    return {
      symbolizeColdMs: cold,
      symbolizeWarmMs: warm,
      nodeSamples: raw.samples,
      nodeStacks: raw.stacks.length,
    };
  } finally {
    node.kill('SIGKILL');
    rmSync(`/tmp/perf-${node.pid}.map`, { force: true });
    await stopHelper(helper);
  }
}

/** 5,000 distinct stacks 8-40 frames deep over 600 functions (a large real profile's shape). */
function syntheticProfile(stacks: number): SymbolizedProfile {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const frames = Array.from({ length: 600 }, (_, i) => ({
    name: `fn${i} (file${i % 50}.js:${i})`,
    func: `fn${i}`,
    kind: 'js' as const,
    module: '[jit]',
    file: `/w/file${i % 50}.js`,
    line: i + 1,
  }));
  const seen = new Set<string>();
  const out: SymbolizedProfile['stacks'] = [];
  while (out.length < stacks) {
    const depth = 8 + rand(33);
    const fs = [0, 1 + rand(5)];
    while (fs.length < depth) fs.push(rand(600));
    const k = fs.join(',');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ frames: fs, count: 1 + rand(20), tid: 1 });
  }
  return {
    pid: 1,
    comm: 'bench',
    frequency: 99,
    startedAt: Date.now(),
    durationMs: 10_000,
    samples: out.reduce((n, s) => n + s.count, 0),
    lost: 0,
    omitted: 0,
    ended: 'duration',
    threads: [{ tid: 1, comm: 'bench', samples: 1 }],
    frames,
    stacks: out,
    notes: [],
  };
}

async function render(): Promise<Record<string, number>> {
  const root = path.resolve(__dirname, '..', '..');
  const code = readFileSync(path.join(root, 'dist/profileView.js'), 'utf8').replace(
    /<\/script/gi,
    '<\\/script',
  );
  const css = readFileSync(path.join(root, 'media/profile.css'), 'utf8');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.setContent(`<!DOCTYPE html><html><head><style>${css}</style></head><body><main id="root"></main>
<script>window.__name = (f) => f; window.acquireVsCodeApi = () => ({ postMessage: () => {} });</script><script type="module">${code}</script></body></html>`);
    const profile = syntheticProfile(5000);
    const times: number[] = [];
    const prepare: number[] = [];
    const page_: number[] = [];
    const inner: number[] = [];
    for (let i = 0; i < 5; i++) {
      // What the extension does before posting (aggregation), then the webview from the message to the painted
      // frame: the sum is what a user waits for.
      const tp = performance.now();
      const view = profileView(profile, 'bench');
      const prep = performance.now() - tp;
      const r = await page.evaluate((v) => {
        const t0 = performance.now();
        window.postMessage({ type: 'profile', view: v }, '*');
        return new Promise<[number, number]>((resolve) => {
          const check = () => {
            if (document.querySelector('table.hot tbody tr') && document.body.dataset.renderMs) {
              const built = Number(document.body.dataset.renderMs);
              delete document.body.dataset.renderMs;
              // After layout and paint of the frame that shows it.
              requestAnimationFrame(() => resolve([performance.now() - t0, built]));
            } else setTimeout(check, 1);
          };
          check();
        });
      }, view);
      prepare.push(prep);
      page_.push(r[0]);
      times.push(prep + r[0]);
      inner.push(r[1]);
    }
    const boxes = await page.locator('.frame').count();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `render: ${JSON.stringify(times.map(Math.round))} ms (aggregation in the extension ${JSON.stringify(prepare.map(Math.round))} + webview to the painted frame ${JSON.stringify(page_.map(Math.round))}), ${boxes} boxes`,
    );
    return {
      renderMedianMs: median(times),
      renderAggregateMedianMs: median(prepare),
      renderWebviewMedianMs: median(page_),
      renderBuildMedianMs: median(inner),
      flameBoxes: boxes,
    };
  } finally {
    await browser.close();
  }
}

/** BENCH_PROFILE_ONLY=render,symbolization,overhead runs only those parts (all by default). */
const ONLY = new Set((process.env.BENCH_PROFILE_ONLY ?? 'render,symbolization,overhead').split(','));

(async () => {
  const results = {
    ...(ONLY.has('render') ? await render() : {}),
    ...(ONLY.has('symbolization') ? await symbolization() : {}),
    ...(ONLY.has('overhead') ? await overhead() : {}),
  };
  console.log(JSON.stringify(results, null, 2));
})();
