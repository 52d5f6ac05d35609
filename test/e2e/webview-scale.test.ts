// The dashboard's webview at 1,000 processes, in Chromium without the workbench: the built dist/webview.js gets
// windows whose rows change order and values. Each update must patch in place (the same DOM node for the same pid,
// the focused row keeps focus) and stay fast enough to follow one window per second on this small machine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../../scripts/e2e/browser';
import type { DashboardModel } from '../../src/shared/presentation/dashboard';
import { loadDashboard, postModel, webviewMissing } from '../support/webview';

const skip = webviewMissing();

const LABELS = ['OOM risk', 'Mem-thrashing', 'Starved', 'Noisy neighbor', 'CPU-bound', 'OK'] as const;

/** Window `seq` of a made-up machine with n processes whose order and figures change every window. */
function model(seq: number, n: number): DashboardModel {
  const series = (base: number) => Array.from({ length: 60 }, (_, i) => base + ((i * 7 + seq) % 13));
  const rows = Array.from({ length: n }, (_, i) => {
    const tgid = 1000 + ((i * 37 + seq * 11) % n); // a different order every window
    return {
      tgid,
      comm: `proc${tgid}`,
      label: LABELS[tgid % 6],
      coreCpuPercent: (tgid * seq) % 190,
      rssMb: tgid % 900,
      summary: `window ${seq}: something about ${tgid}`,
    };
  });
  return {
    seq,
    ts: Date.now(),
    source: 'test',
    processes: rows.slice(0, 40).map((r) => ({
      tgid: r.tgid,
      comm: r.comm,
      label: r.label,
      summary: r.summary,
      details: ['RSS 1 GiB', 'CPU 50% of a core'],
      timeToOomSec: null,
      cpuPercent: series(r.tgid % 50),
      rssMb: series(r.tgid % 700),
      faultsPerSec: series(3),
    })),
    rows,
    totalShown: n,
    timeline: Array.from({ length: 200 }, (_, i) => ({
      key: `${i}:OOM risk:${i}`,
      tgid: 1000 + i,
      comm: `proc${1000 + i}`,
      label: 'OOM risk',
      start: 1_700_000_000_000 + i * 1000,
      last: 1_700_000_000_000 + i * 1000 + 5000,
      state: i % 2 ? 'exited' : 'ended',
      cause: 'RSS 1 GiB',
    })),
    edges: Array.from({ length: 15 }, (_, i) => ({
      victim: { tgid: 1000 + i, comm: `proc${1000 + i}` },
      aggressor: { tgid: 2000 + ((i + seq) % 15), comm: `a${i}` },
      count: 100 - i,
    })),
    cores: [
      { cpu: 0, busyPercent: (seq * 13) % 100, saturated: false },
      { cpu: 1, busyPercent: 95, saturated: true },
    ],
    perCoreSaturation: [1],
    self: { cpuPercentOfCore: series(1), rssMb: 50, drainMs: 0.3 },
    drops: {},
    pressure: '',
  } as DashboardModel;
}

test('1,000 processes: updates patch in place, keep focus, and take well under a window', {
  skip,
  timeout: 120_000,
}, async () => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await loadDashboard(page);
    const post = (m: DashboardModel) => postModel(page, m);

    await post(model(1, 1000));
    assert.equal(await page.locator('table.all tbody tr').count(), 1000, 'every process has a table row');
    // Focus a row in the middle, tag its node: later windows must keep this very node focused.
    const focused = await page.evaluate(async () => {
      const all = document.querySelector<HTMLElement & { open: boolean; updateComplete?: Promise<unknown> }>(
        'vscode-collapsible[data-key="all"]',
      );
      if (all) all.open = true; // the table's section starts closed
      await all?.updateComplete;
      await new Promise((r) => requestAnimationFrame(r));
      const row = document.querySelector<HTMLElement>('table.all tbody tr[data-tgid="1500"]');
      (row as HTMLElement & { marker?: number }).marker = 42;
      row?.focus({ preventScroll: true });
      return (document.activeElement as HTMLElement)?.dataset?.tgid;
    });
    assert.equal(focused, '1500', 'precondition: the row took the focus');
    const times: number[] = [];
    for (let seq = 2; seq <= 11; seq++) times.push(await post(model(seq, 1000)));
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(
      `  update of 1,000 rows + 40 cards: median ${median.toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms`,
    );
    const focus = await page.evaluate(() => {
      const a = document.activeElement as HTMLElement & { marker?: number };
      return { tgid: a?.dataset?.tgid, marker: a?.marker };
    });
    assert.deepEqual(focus, { tgid: '1500', marker: 42 }, 'the same row node keeps the focus');
    const order = await page
      .locator('table.all tbody tr')
      .evaluateAll((rs) => rs.slice(0, 3).map((r) => r.getAttribute('data-tgid')));
    const expected = model(11, 1000)
      .rows.slice(0, 3)
      .map((r) => String(r.tgid));
    assert.deepEqual(order, expected, 'rows follow the latest order');
    // One window per second at most; leave most of it to the rest of VS Code on a loaded 2-core machine.
    assert.ok(median < 250, `median update ${median.toFixed(1)} ms`);
  } finally {
    await browser.close();
  }
});
