// The views as a developer reads them at a glance, in a real VS Code (code-server, 1500×950, default sidebar), with
// the four workloads of issue 22 started in the sample workspace: a CPU burner (yes), a leak (leak.py), two loops
// pinned to one CPU (one at nice 19) and an fsync writer. Each test measures one promise in the workbench's DOM:
// a tooltip that survives refreshes, the cause's first figure not under the ellipsis, texts that agree with their
// rule's threshold over 60 windows, a filter that does not rewrite the timeline, rows that hold still, VS Code's
// own processes kept out, one clock format.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { runCommand, screenshot, webview } from '../../scripts/e2e/browser';
import { machineRunDelay, othersWaitedNs } from '../support/truth';
import {
  e2eSession,
  expandGroups,
  missing,
  rowAction,
  startLeak,
  startWorkload,
  startYes,
  type TreeRow,
  treeRows,
  WORKSPACE,
  WORKSPACE_SETTINGS,
  waitForTree,
} from './lib';

const skip = missing();
const session = e2eSession();
const THEME = 'Default Dark Modern';
const FSYNC_FILE = path.join(tmpdir(), `hotspot-fsync-${process.pid}.tmp`);
const pids: Record<string, number> = {};

const pane = (page: Page) =>
  page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Diagnoses/i }) }).first();
/** The row whose name (not description: "behind yes (42)") contains `text`. */
const row = (page: Page, text: string): Locator =>
  pane(page)
    .locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: text }) })
    .first();

/**
 * Screenshots in both themes, each named by the theme it shows: the workbench can start in either (a toggle of an
 * earlier test is kept in the user settings), and the names must not swap.
 */
async function shots(page: Page, name: string): Promise<void> {
  await page.mouse.move(1400, 900); // no hover in the picture
  for (let i = 0; i < 2; i++) {
    const dark = await page
      .locator('.monaco-workbench')
      .first()
      .evaluate((e) => e.classList.contains('vs-dark') || e.classList.contains('hc-black'));
    // A webview repaints in the new theme after the workbench does: wait until its body says the same theme.
    if (await page.locator('iframe.webview.ready').count())
      await webview(page)
        .locator(dark ? 'body.vscode-dark, body.vscode-high-contrast' : 'body.vscode-light')
        .waitFor({ timeout: 5000 })
        .catch(() =>
          console.log(`  ${name}: the webview did not show the ${dark ? 'dark' : 'light'} theme within 5 s`),
        );
    await screenshot(page, `${name}-${dark ? 'dark' : 'light'}`);
    await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
    await page.waitForTimeout(800);
  }
}

/** The "(9:12:38 PM)" of the view's message: it changes once per window. */
const lastWindow = async (page: Page) =>
  /last window .*? ago \(([^)]+)\)/.exec((await pane(page).textContent()) ?? '')?.[1] ?? '';

before(async () => {
  if (skip) return;
  const page = await session.open({
    settings: { ...WORKSPACE_SETTINGS, 'workbench.colorTheme': THEME },
  });
  await runCommand(page, 'Hotspot: Start');
  const loop = 'while :; do :; done';
  const yes = startYes();
  const leak = startLeak();
  const hog = startWorkload('taskset', ['-c', '0', 'sh', '-c', loop]);
  const meek = startWorkload('nice', ['-n', '19', 'taskset', '-c', '0', 'sh', '-c', loop]);
  const fsync = startWorkload('python3', [
    '-c',
    `import os\nf = open(${JSON.stringify(FSYNC_FILE)}, 'wb')\nwhile True:\n    f.seek(0)\n    f.write(b'x' * 4096)\n    f.flush()\n    os.fsync(f.fileno())\n`,
  ]);
  session.workloads.push(yes, leak, hog, meek, fsync);
  Object.assign(pids, { yes: yes.pid, leak: leak.pid, hog: hog.pid, meek: meek.pid, fsync: fsync.pid });
});

test("1. a process row's tooltip stays open over three windows; detail tooltips name no rule id", {
  skip,
  timeout: 120_000,
}, async () => {
  const page = session.page;
  const name = `yes (${pids.yes})`;
  await waitForTree(page, (rs) => rs.some((r) => r.level > 1 && r.text.includes(name)), `a row "${name}"`);
  await page.waitForTimeout(1500);
  const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: name });
  // As a user would: rest the mouse on the row, and try again if no tooltip came. Until VS Code asks for the tooltip
  // (after its hover delay) the row is not held, and a window that changes its figures re-renders it, which cancels
  // the pending hover: at 1 s windows that race is lost often (5 tries of 4 s once in CI). So each try starts just
  // after a window has arrived, leaving the delay a whole window.
  for (let i = 1; ; i++) {
    await page.mouse.move(1400, 900);
    const w = await lastWindow(page);
    for (const end = Date.now() + 3000; (await lastWindow(page)) === w && Date.now() < end; )
      await page.waitForTimeout(30);
    await row(page, name).locator('.label-name').hover();
    try {
      await hover.first().waitFor({ state: 'visible', timeout: 4000 });
      console.log(`  tooltip shown at try ${i}`);
      break;
    } catch (e) {
      if (i >= 10) throw e;
    }
  }
  const opened = Date.now();
  const windows = new Set<string>();
  let open = 0;
  while (Date.now() - opened < 4500) {
    windows.add(await lastWindow(page));
    if (!(await hover.first().isVisible())) break;
    open = Date.now() - opened;
    await page.waitForTimeout(100);
  }
  console.log(`  tooltip open ${open} ms while ${windows.size} windows arrived`);
  await screenshot(page, 'tooltip-open');
  assert.ok(windows.size >= 4, `at least three new windows arrived while hovering (${[...windows]})`);
  assert.ok(open >= 4000, `the tooltip stayed open through them (closed after ${open} ms)`);

  // A detail row's tooltip is for the reader, not the rule table.
  await page.mouse.move(1400, 900);
  const r = row(page, name);
  if ((await r.getAttribute('aria-expanded')) !== 'true') await r.locator('.monaco-tl-twistie').click();
  const detail = pane(page).locator('.monaco-list-row[aria-level="3"]').first();
  await detail.waitFor({ timeout: 10_000 });
  await detail.locator('.label-name').hover();
  const tip = page.locator('.monaco-hover, .workbench-hover').first();
  await tip.waitFor({ state: 'visible', timeout: 10_000 });
  const text = (await tip.textContent()) ?? '';
  console.log(`  detail tooltip: ${text}`);
  assert.doesNotMatch(text, /\brule [a-z_]+\.[a-z_]+/, 'no internal rule id in a tooltip');
  await page.mouse.move(1400, 900);
  await r.locator('.monaco-tl-twistie').click(); // collapse again
});

/** For a row: is its name whole, and is the first figure of its description left of the clipping edge? */
async function measure(r: Locator) {
  return r.evaluate((el) => {
    const box = el.querySelector('.monaco-icon-label-container') as HTMLElement;
    const label = el.querySelector('.label-name') as HTMLElement;
    const desc = el.querySelector('.label-description') as HTMLElement | null;
    const edge = box.getBoundingClientRect().right;
    const out = {
      width: el.getBoundingClientRect().width,
      name: label.textContent ?? '',
      nameVisible: label.getBoundingClientRect().right <= edge + 0.5,
      description: desc?.textContent ?? '',
      figure: '',
      figureVisible: false,
    };
    const node = desc?.firstChild;
    const text = node?.textContent ?? '';
    const m = /[+-]?\d[\d.,]*\s*(%|[KMG]iB\/s|[KMG]?i?B|\/s)?/.exec(text);
    if (node && m) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      out.figure = m[0];
      out.figureVisible = range.getBoundingClientRect().right <= edge + 0.5;
    }
    return out;
  });
}

test("2. at the default sidebar width each row shows its name and its cause's first figure; nice tells loops apart", {
  skip,
  timeout: 120_000,
}, async () => {
  const page = session.page;
  const names = ['yes', 'leak', 'hog', 'meek', 'fsync'].map((k) => `(${pids[k]})`);
  await waitForTree(
    page,
    (rs) => names.every((n) => rs.some((r) => r.level > 1 && r.text.includes(n))),
    'rows for the five workloads',
    60_000,
  );
  await page.waitForTimeout(3000); // labels settle (two windows)
  await page.mouse.move(1400, 900);
  const bad: string[] = [];
  for (const n of names) {
    const m = await measure(row(page, n));
    console.log(
      `  ${Math.round(m.width)} px: ${m.name} · ${m.description} → figure "${m.figure}" ${m.figureVisible ? 'visible' : 'CUT'}`,
    );
    if (!m.nameVisible || !m.figureVisible) bad.push(`${m.name} — ${m.description}`);
  }
  const rows = await treeRows(page);
  const meek = rows.find((r) => r.text.includes(`(${pids.meek})`));
  await shots(page, 'glance-tree');
  assert.deepEqual(bad, [], 'rows whose name or first figure is under the ellipsis');
  assert.match(meek?.text ?? '', /nice 19/, 'the nice-19 loop says so');
});

/**
 * One process row's figures against its rule's threshold; returns what contradicts. `othersWaited(pid)`: the most
 * wait (% of a core) all threads but pid's added in any of the last few intervals, by /proc.
 */
function contradictions(r: TreeRow, othersWaited?: (pid: number) => number | undefined): string[] {
  const t = r.text;
  const out: string[] = [];
  if (/\bpid 1\b|\? \(\d+\)/.test(t)) out.push('names an unknown process');
  if (/×\d/.test(t)) out.push('a count without a unit');
  if (/\bheld\b/.test(t)) return out; // a held label says so, with the figures that made it
  const pct = (re: RegExp) => {
    const m = re.exec(t);
    return m ? Number(m[1]) : undefined;
  };
  if (/Starved/.test(r.group)) {
    const w = pct(/(?:waits|waiting for a CPU) (\d+(?:\.\d+)?)%/);
    if (w !== undefined && w < 40) out.push(`Starved at ${w}% wait (< 40%)`);
  }
  if (/CPU-bound/.test(r.group)) {
    const w = pct(/wants (\d+(?:\.\d+)?)%/) ?? pct(/(\d+(?:\.\d+)?)% of a core/);
    if (w !== undefined && w < 90) out.push(`CPU-bound at ${w}% of a core (< 90%)`);
  }
  if (/Noisy neighbor/.test(r.group)) {
    const w = pct(/(\d+(?:\.\d+)?)% of a core queued behind it/);
    if (w !== undefined && w < 50) out.push(`Noisy neighbor at ${w}% (< 50%)`);
    // One process can keep several threads waiting at once, so its figure may pass 100 % × CPUs; it can never pass
    // what all other threads waited by /proc in the windows around it (+ slack for the window edges).
    const pid = Number(/\((\d+)\)/.exec(t)?.[1]);
    const bound = othersWaited?.(pid);
    if (w !== undefined && bound !== undefined && w > 1.25 * bound + 20)
      out.push(`makes others wait ${w}% where all other threads waited ${bound.toFixed(0)}% by /proc`);
  }
  if (/OOM risk/.test(r.group) && /[+]0 B\/s/.test(t)) out.push('OOM risk at +0 B/s');
  return out;
}

/** One window of the tree as the stability test compares it. */
interface Shape {
  /** The kinds of the detail rows under each expanded process row (see rowKind), by pid, and the group it is in. */
  kids: Map<string, { group: string; rows: string[] }>;
  /** Process pids per group, in order. */
  order: Map<string, string[]>;
  /** The machine-wide notes above the groups. */
  notes: string;
}

const LABEL = /^(OOM risk|Mem-thrashing|Starved|Noisy neighbor|CPU-bound|I\/O-bound|OK)\b/;

/** A peer row (whom it waits behind, whom it makes wait) by its direction; a figure row by its words. */
const rowKind = (text: string): string =>
  /^waits behind/.test(text)
    ? 'peer: waits behind'
    : /^makes .* wait/.test(text)
      ? 'peer: makes wait'
      : /^preempted by/.test(text)
        ? 'peer: preempted by'
        : text.replace(/[+-]?\d[\d.,]*.*$/, '').trim();

function shape(rows: TreeRow[]): Shape {
  const out: Shape = { kids: new Map(), order: new Map(), notes: '' };
  let group = '';
  let pid = '';
  let kinds: string[] = [];
  // Counted only when a row follows: the list is virtualised, rows below the view are not in the DOM.
  const flush = () => {
    if (pid && kinds.length) out.kids.set(pid, { group, rows: kinds });
    pid = '';
  };
  for (const r of rows) {
    if (r.level === 1) {
      flush();
      pid = '';
      const g = LABEL.exec(r.text)?.[1];
      if (g) group = g;
      else out.notes += `${/^[^:]*/.exec(r.text)?.[0]};`;
    } else if (r.level === 2) {
      flush();
      pid = /\((\d+)\)/.exec(r.text)?.[1] ?? '';
      kinds = [];
      out.order.set(group, [...(out.order.get(group) ?? []), pid]);
    } else kinds.push(rowKind(r.text));
  }
  return out;
}

/**
 * Whether `b` is `a` with peer rows added in free places: every row of `a` still there in its order, and only peer
 * rows new. (A peer list fills its places as peers first appear — up to three each way, see sticky.ts — and from
 * then on keeps them; a figure row must never come or go, and no row may move.)
 */
function onlyFilled(a: string[], b: string[]): boolean {
  let i = 0;
  for (const k of b)
    if (i < a.length && k === a[i]) i++;
    else if (!k.startsWith('peer:')) return false;
  return i === a.length;
}

/** What moved between two windows: a process's detail rows (in the same group), a note, two rows' order. */
function moved(a: Shape, b: Shape): string[] {
  const out: string[] = [];
  for (const [pid, k] of b.kids) {
    const was = a.kids.get(pid);
    if (was && was.group === k.group && !onlyFilled(was.rows, k.rows))
      out.push(`rows under ${pid} (${k.group}): ${was.rows.join(' | ')} → ${k.rows.join(' | ')}`);
  }
  if (a.notes !== b.notes) out.push(`notes: ${a.notes} → ${b.notes}`);
  for (const [g, list] of b.order) {
    const before = (a.order.get(g) ?? []).filter((p) => list.includes(p));
    const now = list.filter((p) => before.includes(p));
    if (before.join() !== now.join()) out.push(`${g} order: ${before} → ${now}`);
  }
  return out;
}

test('5. rows hold still: the same detail rows, notes and order window after window', {
  skip,
  timeout: 120_000,
}, async () => {
  const page = session.page;
  for (const k of ['hog', 'meek']) {
    const r = row(page, `(${pids[k]})`);
    if ((await r.getAttribute('aria-expanded')) !== 'true') await r.locator('.monaco-tl-twistie').click();
  }
  await page.mouse.move(1400, 900);
  await page.waitForTimeout(3000);
  const seen: Shape[] = [];
  let last = '';
  while (seen.length < 20) {
    const w = await lastWindow(page);
    if (w === last) {
      await page.waitForTimeout(150);
      continue;
    }
    last = w;
    await page.waitForTimeout(300); // the tree renders the window
    await expandGroups(page);
    seen.push(shape(await treeRows(page)));
  }
  const changes: string[] = [];
  for (let i = 1; i < seen.length; i++)
    changes.push(...moved(seen[i - 1], seen[i]).map((c) => `window ${i}: ${c}`));
  console.log(`  ${changes.length} moves in ${seen.length - 1} windows`);
  for (const c of changes) console.log(`  ${c}`);
  await shots(page, 'glance-expanded');
  assert.deepEqual(changes, [], 'rows that came, went or moved while their process kept its label');
});

test('4. Filter to This Process changes what is shown, not what happened', {
  skip,
  timeout: 120_000,
}, async () => {
  const page = session.page;
  // The nice-19 loop pinned beside another loop is Starved window after window (it waits ~100 % of its time),
  // so its episode is one long one: filtering the view to another process must not end it.
  const meek = `sh (${pids.meek})`;
  await waitForTree(page, (rs) => rs.some((r) => r.text.includes(meek) && /^Starved/.test(r.group)), meek);
  await page.waitForTimeout(2000);
  await runCommand(page, 'Hotspot: Show Alert Timeline');
  const episodes = webview(page).locator('.episode', { hasText: meek }).filter({ hasText: 'Starved' });
  await episodes.first().waitFor({ timeout: 20_000 });
  const before = await episodes.count();
  const endedBefore = await episodes.filter({ hasText: /ended|until it exited/ }).count();
  await rowAction(page, `(${pids.hog})`, 'Filter to This Process', async () =>
    /Showing only/.test((await pane(page).textContent()) ?? ''),
  );
  await page.waitForTimeout(4000);
  const cards = await webview(page)
    .locator(`#proc-${pids.meek}`)
    .evaluateAll((els) => els.map((e) => e.textContent ?? ''));
  await screenshot(page, 'glance-filtered');
  await runCommand(page, 'Hotspot: Clear Filter');
  await page.waitForTimeout(3000);
  const after = await episodes.count();
  const ended = await episodes.filter({ hasText: /ended|until it exited/ }).count();
  console.log(
    `  ${meek} Starved episodes: ${before} before (${endedBefore} ended), ${after} after the filter (${ended} ended); its card while filtered: ${cards.join(' | ') || 'hidden'}`,
  );
  assert.ok(!cards.some((c) => /idle or exited/.test(c)), 'the running loop is not "idle or exited"');
  assert.equal(ended, endedBefore, 'no episode of the running loop was closed by the filter');
  assert.equal(after, before, 'no new episode was opened when the filter was cleared');
});

test("3/6/9. 60 windows of the four workloads: no label contradicts its threshold; the leak's end is told", {
  skip,
  timeout: 180_000,
}, async () => {
  const page = session.page;
  await page.keyboard.press('Escape');
  await page.mouse.move(1400, 900);
  const bad = new Map<string, number>();
  const status = page.locator('#workbench\\.parts\\.statusbar');
  let last = '';
  let windows = 0;
  let leakGoneAt = 0;
  const waits: { at: number; delay: Map<string, number> }[] = [];
  const caused: string[] = []; // "made others wait / all others waited by /proc", % of a core
  while (windows < 60) {
    const w = await lastWindow(page);
    if (w === last) {
      await page.waitForTimeout(150);
      continue;
    }
    last = w;
    windows++;
    await page.waitForTimeout(250);
    if (windows === 30) {
      const leak = session.workloads[1];
      leak.kill('SIGKILL');
      leakGoneAt = Date.now();
    }
    await expandGroups(page);
    waits.push({ at: Date.now(), delay: machineRunDelay() });
    if (waits.length > 4) waits.shift();
    const othersWaited = (pid: number) => {
      let most: number | undefined;
      for (let i = 1; i < waits.length; i++) {
        const pct =
          (100 * othersWaitedNs(waits[i - 1].delay, waits[i].delay, pid)) /
          ((waits[i].at - waits[i - 1].at) * 1e6);
        most = Math.max(most ?? 0, pct);
      }
      return most;
    };
    for (const r of await treeRows(page)) {
      if (r.level !== 2) continue;
      for (const c of contradictions(r, othersWaited)) {
        const k = `${c}: ${r.text}`;
        bad.set(k, (bad.get(k) ?? 0) + 1);
      }
      const noisy =
        /Noisy neighbor/.test(r.group) &&
        /(\d+)% of a core queued.*?\((\d+)\)|\((\d+)\).*?(\d+)% of a core queued/.exec(r.text);
      if (noisy) {
        const pid = Number(noisy[2] ?? noisy[3]);
        caused.push(`${noisy[1] ?? noisy[4]}/${othersWaited(pid)?.toFixed(0)}`);
      }
    }
    const bar = (await status.textContent()) ?? '';
    if (leakGoneAt && Date.now() - leakGoneAt > 2500 && bar.includes(`(${pids.leak}) · ~`))
      bad.set(`status bar counts down to OOM for the exited leak: ${bar}`, 1);
  }
  // The last ended OOM risk (the leak's, or another process's on this shared machine).
  const until = / was at OOM risk until [^(]*/.exec((await status.textContent()) ?? '')?.[0] ?? '';
  console.log(`  ${windows} windows, ${bad.size} contradictions; status bar: ${until}`);
  for (const [k, n] of bad) console.log(`  ${n}× ${k}`);
  console.log(`  Noisy neighbor figures (made others wait / all others waited, %): ${caused.join(' ')}`);
  await runCommand(page, 'Hotspot: Show Alert Timeline');
  await page.waitForTimeout(1500);
  await shots(page, 'glance-timeline');
  assert.deepEqual([...bad.keys()], [], 'labels whose words contradict their figures');
  assert.match(
    until ?? '',
    /until \d{1,2}:\d{2}:\d{2}/,
    'the status bar uses the clock format of the other views',
  );
});

/** Pids whose command line contains `what`. */
function pidsWith(what: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(what)) out.push(Number(d));
    } catch {}
  }
  return out;
}

test("7. VS Code's own processes (the JSON language server, a terminal's shell integration) are not the workspace's", {
  skip,
  timeout: 150_000,
}, async () => {
  const page = session.page;
  const json = path.join(WORKSPACE, 'glance-sample.json');
  writeFileSync(json, '{ "a": [1, 2, 3] }\n');
  try {
    await runCommand(page, 'Terminal: Create New Terminal');
    await page.locator('.terminal-wrapper.active .xterm').first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Control+P');
    await page.keyboard.type('glance-sample.json');
    await page.waitForTimeout(800);
    await page.keyboard.press('Enter');
    let server: number[] = [];
    for (let i = 0; i < 60 && !server.length; i++) {
      server = pidsWith('jsonServerMain');
      await page.waitForTimeout(500);
    }
    assert.ok(server.length, 'the JSON language server started');
    // Make it work a little (it is judged like any process while it runs).
    await page.keyboard.type('{ "b": 1 }');
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.waitForTimeout(1000);
      await expandGroups(page);
      for (const r of await treeRows(page))
        if (server.some((p) => r.text.includes(`(${p})`)) || /shellIntegration/.test(r.text))
          seen.push(r.text);
    }
    const bar = (await page.locator('#workbench\\.parts\\.statusbar').textContent()) ?? '';
    console.log(`  JSON server ${server.join(',')}; rows naming it or shell integration: ${seen.length}`);
    for (const s of new Set(seen)) console.log(`  ${s}`);
    await shots(page, 'glance-editor-processes');
    assert.deepEqual([...new Set(seen)], [], "rows for VS Code's own processes");
    assert.ok(!server.some((p) => bar.includes(`(${p})`)), 'the status bar is not about the language server');
  } finally {
    rmSync(json, { force: true });
    rmSync(FSYNC_FILE, { force: true });
  }
});
