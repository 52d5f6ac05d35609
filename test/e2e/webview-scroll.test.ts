// What the user reads in the dashboard must stay still while windows arrive, in the cases the live e2e test cannot
// count on the machine to produce: short-lived processes' cards added and dropped above the view, alert episodes
// added at the top of the timeline, preemption pairs replaced and their count falling from 15 to 2, a table that
// loses rows while the user is scrolled to the very bottom (the page shrinks from under the view). Each window is
// the built dist/webview.js in Chromium (without the workbench), judged after the frame is painted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM } from '../../scripts/e2e/browser';
import type { DashboardModel, ProcessSeries } from '../../src/shared/presentation/dashboard';
import { loadDashboard, nextFrame, postModel, webviewMissing } from '../support/webview';

const skip = webviewMissing();

const card = (tgid: number, label: ProcessSeries['label'], seq: number): ProcessSeries => ({
  tgid,
  comm: `proc${tgid}`,
  label,
  summary: `window ${seq}`,
  details: [],
  timeToOomSec: null,
  cpuPercent: [1, 2, seq],
  rssMb: [3, 4, seq],
  faultsPerSec: [0, 0, 0],
});

/** Window `seq`: six steady processes, a varying number of short-lived ones that live one window each, one more
 *  alert episode per window (newest first), `pairs` preemption pairs that differ every window, `rows` table rows. */
function win(seq: number, o: { shortLived: number; pairs: number; rows: number }): DashboardModel {
  // Most severe first, as the model sorts them: the short-lived ones (Starved) come before the steady OK ones.
  const processes = [
    card(100, 'OOM risk', seq),
    card(101, 'CPU-bound', seq),
    ...Array.from({ length: o.shortLived }, (_, i) => card(10_000 + seq * 10 + i, 'Starved', seq)),
    ...[102, 103, 104, 105].map((t) => card(t, 'OK', seq)),
  ];
  return {
    seq,
    ts: 1_700_000_000_000 + seq * 1000,
    source: 'test',
    processes,
    // Re-sorted every window (by CPU, say): odd windows list them the other way round.
    rows: Array.from({ length: o.rows }, (_, i) => (seq % 2 ? o.rows - 1 - i : i)).map((i) => ({
      tgid: 100 + i,
      comm: `proc${100 + i}`,
      label: 'OK',
      coreCpuPercent: i,
      rssMb: 10,
      summary: 'idle',
    })),
    totalShown: o.rows,
    timeline: Array.from({ length: seq }, (_, i) => ({
      key: `${200 + i}:Starved:${i}`,
      tgid: 200 + i,
      comm: `waiter${i}`,
      label: 'Starved' as const,
      start: 1_700_000_000_000 + i * 1000,
      last: 1_700_000_000_000 + i * 1000,
      state: 'ended' as const,
      cause: 'waited for a CPU',
    })).reverse(),
    edges: Array.from({ length: o.pairs }, (_, i) => ({
      victim: { tgid: 100 + (i % 6), comm: `proc${100 + (i % 6)}` },
      aggressor: { tgid: 300 + ((i + seq) % 40), comm: `aggr${(i + seq) % 40}` },
      count: 100 - i,
    })),
    cores: [
      { cpu: 0, busyPercent: (seq * 17) % 100, saturated: false },
      { cpu: 1, busyPercent: 95, saturated: true },
    ],
    perCoreSaturation: [1],
    self: { cpuPercentOfCore: [0.2, 0.3], rssMb: 60, drainMs: 0.4 },
    drops: {},
    pressure: '',
  };
}

/** Tags the elements under the top of the view (innermost first) and returns their places on screen. The rows of a
 *  list re-sorted every window (the table, the preemption pairs: data-hold="list") are left out: there the reader
 *  keeps the places, as in top, and the rows change under the view, so the list itself must hold. */
const markTop = (page: Page) =>
  page.evaluate(() => {
    const root = document.getElementById('root') as HTMLElement;
    const x = root.getBoundingClientRect().left + 30;
    return document
      .elementsFromPoint(x, 3)
      .filter((e) => e !== root && root.contains(e) && !e.parentElement?.closest('[data-hold="list"]'))
      .map((e, i) => {
        e.setAttribute('data-mark', String(i));
        return { i, what: `${e.tagName.toLowerCase()}.${e.className}`, top: e.getBoundingClientRect().top };
      });
  });

/** Where the marked elements still in the page are now, the scroll position and the focused element. */
const readMarks = (page: Page) =>
  page.evaluate(() => ({
    marks: [...document.querySelectorAll('[data-mark]')]
      .filter((e) => e.getClientRects().length > 0) // hidden by a window: nothing to hold
      .map((e) => ({
        i: Number(e.getAttribute('data-mark')),
        top: e.getBoundingClientRect().top,
      })),
    scrollY: window.scrollY,
    focused: document.activeElement?.id ?? '',
  }));

/** Posts the windows and checks after each painted frame that the innermost marked element still in the page is
 *  where it was on screen. */
async function judge(page: Page, windows: DashboardModel[], tolerancePx: number) {
  const before = await markTop(page);
  assert.ok(before.length > 0, 'something of the dashboard is at the top of the view');
  const y0 = await page.evaluate(() => window.scrollY);
  const scrolls: number[] = [];
  for (const w of windows) {
    await postModel(page, w);
    await nextFrame(page);
    const now = await readMarks(page);
    assert.ok(now.marks.length > 0, `window ${w.seq}: every element at the top of the view was replaced`);
    // The innermost one still in the page is what the user reads (its containers move when rows above it within
    // them come and go).
    const m = now.marks.reduce((a, b) => (b.i < a.i ? b : a));
    const was = before[m.i];
    assert.ok(
      Math.abs(m.top - was.top) <= tolerancePx,
      `window ${w.seq}: ${was.what} at the top of the view moved from y ${was.top.toFixed(1)} to ${m.top.toFixed(1)}`,
    );
    scrolls.push(now.scrollY - y0);
  }
  return { before, scrolls };
}

/** Opens the "All processes" table (closed by default). */
const openTable = (page: Page) =>
  page.evaluate(() => {
    const all = document.querySelector<HTMLElement & { open: boolean }>('vscode-collapsible[data-key="all"]');
    if (all) all.open = true;
  });

/** The built dashboard in a fresh headless Chromium, 1000 × 420 (short, so that it scrolls); closed afterwards. */
async function onDashboard(body: (page: Page) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 420 } });
    await loadDashboard(page);
    await body(page);
  } finally {
    await browser.close();
  }
}

test('dashboard scrolled to the bottom: rows added and dropped above, and a shrinking page, leave the view still', {
  skip,
  timeout: 120_000,
}, async () => {
  await onDashboard(async (page) => {
    for (let seq = 1; seq <= 3; seq++) await postModel(page, win(seq, { shortLived: 2, pairs: 15, rows: 8 }));
    // Open the table (closed by default) so the page has a list that shrinks below the top of the view.
    await openTable(page);
    await nextFrame(page);
    // The user focuses a card, then scrolls to the very bottom.
    await page.evaluate(() => {
      document.getElementById('proc-101')?.focus({ preventScroll: true });
      window.scrollTo(0, document.documentElement.scrollHeight);
    });
    await nextFrame(page);
    const atBottom = await page.evaluate(() => ({
      y: window.scrollY,
      max: document.documentElement.scrollHeight - window.innerHeight,
    }));
    assert.ok(
      atBottom.y > 300 && atBottom.y === atBottom.max,
      `precondition: scrolled to the bottom (${atBottom.y})`,
    );

    const windows = [
      win(4, { shortLived: 0, pairs: 15, rows: 8 }), // two cards above dropped
      win(5, { shortLived: 4, pairs: 2, rows: 8 }), // four cards added above; 13 pairs fewer
      win(6, { shortLived: 1, pairs: 9, rows: 8 }),
      win(7, { shortLived: 3, pairs: 15, rows: 8 }),
    ];
    const { before, scrolls } = await judge(page, windows, 1);
    console.log(
      `  at the top of the view: ${before.map((b) => b.what).join(' < ')}; scrollY moved ${scrolls.join(', ')} px to keep it`,
    );
    // The windows really changed the height of what is above the view (else nothing was tested).
    assert.ok(new Set(scrolls).size >= 3, `content above the view changed height (${scrolls.join(', ')})`);
    assert.equal((await readMarks(page)).focused, 'proc-101', 'the focused card keeps the focus');

    // Now the table below the top of the view loses rows while the user is at the very bottom: the page shrinks
    // under the view. What the user reads stays; the space that went is left empty at the end of the page.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await nextFrame(page);
    const shrink = await page.evaluate(() => {
      const table = document.querySelector('table.all') as HTMLElement;
      return { tableTop: table.getBoundingClientRect().top, height: window.innerHeight };
    });
    assert.ok(shrink.tableTop < shrink.height, 'precondition: the table is in view');
    await judge(page, [win(8, { shortLived: 3, pairs: 15, rows: 1 })], 1);

    // Scrolling back up gives the empty space back: the page ends where its content ends.
    await page.evaluate(() => window.scrollTo(0, 0));
    await nextFrame(page);
    const tail = await page.evaluate(
      () => (document.querySelector('.scroll-tail') as HTMLElement | null)?.offsetHeight ?? 0,
    );
    assert.equal(tail, 0, 'no empty space is kept once the user scrolled away');
  });
});

test('reading the cards: cards added and dropped above the one at the top of the view leave it in place', {
  skip,
  timeout: 60_000,
}, async () => {
  await onDashboard(async (page) => {
    await postModel(page, win(1, { shortLived: 3, pairs: 5, rows: 5 }));
    await nextFrame(page);
    await page.evaluate(() => {
      const card = document.getElementById('proc-104') as HTMLElement;
      window.scrollTo(0, window.scrollY + card.getBoundingClientRect().top + 10);
    });
    await nextFrame(page);
    const { before, scrolls } = await judge(
      page,
      [
        win(2, { shortLived: 0, pairs: 5, rows: 5 }),
        win(3, { shortLived: 5, pairs: 5, rows: 5 }),
        win(4, { shortLived: 1, pairs: 5, rows: 5 }),
      ],
      1,
    );
    assert.match(
      before[0].what,
      /^(section\.proc|div\.proc-head|strong|span|svg|figure)/,
      'a card is at the top',
    );
    assert.ok(new Set(scrolls).size >= 3, `cards above it came and went (${scrolls.join(', ')})`);
  });
});

test('reading the table: rows re-sorted under the view, the table holds its place', {
  skip,
  timeout: 60_000,
}, async () => {
  await onDashboard(async (page) => {
    await postModel(page, win(2, { shortLived: 2, pairs: 5, rows: 60 }));
    await openTable(page);
    await nextFrame(page);
    await page.evaluate(() => {
      const row = document.querySelectorAll('table.all tbody tr')[20] as HTMLElement;
      window.scrollTo(0, window.scrollY + row.getBoundingClientRect().top + 5);
    });
    await nextFrame(page);
    const rowAtTop = () =>
      page.evaluate(() => {
        const root = document.getElementById('root') as HTMLElement;
        const hit = document.elementFromPoint(root.getBoundingClientRect().left + 30, 3);
        return hit?.closest('tr')?.getAttribute('data-tgid') ?? '';
      });
    const first = await rowAtTop();
    // Window 3 reverses the order, window 4 restores it; both change the cards above the table.
    const { before } = await judge(
      page,
      [win(3, { shortLived: 0, pairs: 5, rows: 60 }), win(4, { shortLived: 3, pairs: 5, rows: 60 })],
      1,
    );
    const held = before.map((b) => b.what).join(' < ');
    assert.match(held, /^(tbody|table\.all) /, `the table is what is held, not a row (${held})`);
    assert.equal(await rowAtTop(), first, 'after two re-sorts the same place shows the same row again');
  });
});

test('dashboard at the top: it stays at the top while cards are added above the rest', {
  skip,
  timeout: 60_000,
}, async () => {
  await onDashboard(async (page) => {
    await postModel(page, win(1, { shortLived: 0, pairs: 3, rows: 3 }));
    await nextFrame(page);
    await postModel(page, win(2, { shortLived: 4, pairs: 3, rows: 3 }));
    await nextFrame(page);
    assert.equal(await page.evaluate(() => window.scrollY), 0);
  });
});
