// The dashboard is read below the fold while windows keep arriving: scrolled to the bottom with a process card
// focused, windows that add and drop rows above the view (short-lived processes' cards, preemption pairs) must
// leave what the user was looking at in its place on screen and the focus where the user put it (it used to
// re-render every section, jumping to the top and dropping focus; then, patched in place, it still slid by the
// height of the rows that came and went). Also: arrow keys move between cards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCommand, screenshot, webview } from '../../scripts/e2e/browser';
import { e2eSession, missing, startLeak, startWorkload, startYes } from './lib';

const skip = missing();
const session = e2eSession();

/** How far (px) the element at the top of the view may move on screen in a window. */
const TOLERANCE_PX = 4;

test('dashboard: scroll position and keyboard focus hold across windows that change rows above the view', {
  skip,
  timeout: 150_000,
}, async () => {
  // Scope "workspace" (the workloads, not the shared machine's churn) in a short window, so the page is taller than
  // the panel. Besides yes and the leak, a shell in the workspace starts 0–3 short-lived processes every 0.7 s: each
  // gets a card for the window it ran in, gone the next, so the cards above the view change every window.
  const page = await session.open();
  // Short enough that the sections below the cards (pairs, table) fill more than the view when scrolled to the end:
  // the steady layout of issue 22 made the page shorter, and at 560 px the cards were not always above the view.
  await page.setViewportSize({ width: 1300, height: 430 });
  const yes = startYes();
  const churn = startWorkload('bash', [
    '-c',
    'while :; do for i in $(seq $((RANDOM % 4))); do head -c 30000000 /dev/urandom > /dev/null & done; sleep 0.7; done',
  ]);
  session.workloads.push(yes, startLeak(), churn);
  await runCommand(page, 'Hotspot: Start');
  await runCommand(page, 'Hotspot: Show Dashboard');
  const web = webview(page);
  await web.locator(`#proc-${yes.pid}`).waitFor({ timeout: 60_000 });

  const windowNo = async () =>
    Number((await web.locator('#status').textContent())?.match(/Window (\d+)/)?.[1] ?? Number.NaN);
  while (!((await windowNo()) >= 4)) await page.waitForTimeout(300);
  // The test needs the cards wholly above the view when scrolled to the end. How much sits below them (episodes,
  // pairs) depends on the machine: on a quiet one, 430 px was not short enough (CI, stop 23). Shrink the window
  // until it is, and say so if no height works.
  const tried: string[] = [];
  for (const height of [430, 390, 350, 310, 270]) {
    await page.setViewportSize({ width: 1300, height });
    await page.waitForTimeout(300); // the workbench lays out the new size
    const fit = await web.locator('body').evaluate(() => {
      window.scrollTo(0, document.documentElement.scrollHeight);
      const bottom = (document.querySelector('.procs') as HTMLElement).getBoundingClientRect().bottom;
      return { bottom, view: window.innerHeight };
    });
    tried.push(`${height} px: cards end at ${fit.bottom.toFixed(0)} of a ${fit.view} px view`);
    if (fit.bottom <= 0) break;
  }
  console.log(`  window height: ${tried.join('; ')}`);

  // Focus the card of yes (keyboard: Tab lands on cards; we focus directly), then scroll to the very bottom. Tag the
  // elements under the top of the view, innermost first (a legend, its section…): the innermost one still in the page
  // after a window is what the user reads, and must be where it was on screen. The rows of a list re-sorted every
  // window (the preemption pairs, the table: data-hold="list") are not tagged: there the list holds its place and
  // the rows change under the view, as in top. Count the rows that come and go above.
  const before = await web.locator('body').evaluate((_, id) => {
    (document.getElementById(id) as HTMLElement).focus({ preventScroll: true });
    window.scrollTo(0, document.documentElement.scrollHeight);
    const root = document.getElementById('root') as HTMLElement;
    const x = root.getBoundingClientRect().left + 30;
    const marks = document
      .elementsFromPoint(x, 3)
      .filter((e) => e !== root && root.contains(e) && !e.parentElement?.closest('[data-hold="list"]'))
      .map((e, i) => {
        e.setAttribute('data-mark', String(i));
        return { what: `${e.tagName.toLowerCase()}.${e.className}`, top: e.getBoundingClientRect().top };
      });
    const procs = document.querySelector('.procs') as HTMLElement;
    const changes = { cards: 0, pairs: 0 };
    (window as unknown as { changes: typeof changes }).changes = changes;
    new MutationObserver((ms) => {
      for (const m of ms) changes.cards += m.addedNodes.length + m.removedNodes.length;
    }).observe(procs, { childList: true });
    new MutationObserver((ms) => {
      for (const m of ms) changes.pairs += m.addedNodes.length + m.removedNodes.length;
    }).observe(document.querySelector('ul.edges') as HTMLElement, { childList: true });
    return {
      focused: document.activeElement?.id ?? '',
      scrollY: window.scrollY,
      marks,
      procsBottom: procs.getBoundingClientRect().bottom,
    };
  }, `proc-${yes.pid}`);
  assert.ok(before.scrollY > 50, `the page must be scrollable to test this (scrollY ${before.scrollY})`);
  assert.equal(before.focused, `proc-${yes.pid}`, 'the card of yes is focused');
  assert.ok(before.marks.length > 0, 'something of the dashboard is at the top of the view');
  assert.ok(
    before.procsBottom <= before.marks[0].top,
    `the process cards are above the view (${tried.join('; ')})`,
  );

  // Judge every window until three of them changed the rows above the view and one of them changed their height.
  const read = () =>
    web.locator('body').evaluate(() => ({
      focused: document.activeElement?.id ?? '',
      scrollY: window.scrollY,
      marks: [...document.querySelectorAll('[data-mark]')]
        .filter((e) => e.getClientRects().length > 0) // hidden by a window: nothing to hold
        .map((e) => ({
          i: Number(e.getAttribute('data-mark')),
          top: e.getBoundingClientRect().top,
        })),
      changes: { ...(window as unknown as { changes: { cards: number; pairs: number } }).changes },
    }));
  const figures: string[] = [];
  let seen = await windowNo();
  let last = { cards: 0, pairs: 0 };
  let changedRows = 0;
  let changedHeight = 0;
  let worst = 0;
  const deadline = Date.now() + 60_000;
  while (changedRows < 3 || changedHeight < 1) {
    assert.ok(
      Date.now() < deadline,
      `windows did not change the rows above the view (${figures.join('; ')})`,
    );
    await page.waitForTimeout(300);
    const now = await windowNo();
    if (now === seen) continue;
    seen = now;
    await page.waitForTimeout(100); // let the frame after the window's patch be painted
    const r = await read();
    assert.equal(r.focused, before.focused, `window ${now}: focus stays on the same card`);
    assert.ok(r.marks.length > 0, `window ${now}: every element at the top of the view was replaced`);
    const held = r.marks.reduce((a, b) => (b.i < a.i ? b : a));
    const moved = Math.abs(held.top - before.marks[held.i].top);
    worst = Math.max(worst, moved);
    const rows = r.changes.cards - last.cards + r.changes.pairs - last.pairs;
    last = r.changes;
    if (rows > 0) changedRows++;
    if (Math.abs(r.scrollY - before.scrollY) >= 1) changedHeight++;
    figures.push(
      `window ${now}: ${rows} card/pair nodes added or removed above, scrollY ${r.scrollY - before.scrollY >= 0 ? '+' : ''}${(r.scrollY - before.scrollY).toFixed(0)}, top of view moved ${moved.toFixed(1)} px`,
    );
    assert.ok(
      moved <= TOLERANCE_PX,
      `window ${now}: ${before.marks.map((m) => m.what).join(' < ')} at the top of the view moved ${moved.toFixed(1)} px (${figures.join('; ')})`,
    );
  }
  await screenshot(page, 'dashboard-scrolled');
  console.log(`  ${figures.join('\n  ')}\n  worst move ${worst.toFixed(1)} px`);

  // Keyboard: from the first card, ArrowDown focuses the second; Enter opens its details. The churn changes the
  // cards every window: a try that a window interrupted says nothing and is made again.
  let second = { active: '', expected: '' };
  for (let i = 0; i < 5; i++) {
    const w0 = await windowNo();
    const expected = await web.locator('body').evaluate(() => {
      const cards = [...document.querySelectorAll<HTMLElement>('.proc')];
      cards[0]?.focus();
      return cards[1]?.id ?? '';
    });
    await page.keyboard.press('ArrowDown');
    const active = await web.locator('body').evaluate(() => document.activeElement?.id ?? '');
    second = { active, expected };
    if ((await windowNo()) === w0) break;
  }
  assert.equal(second.active, second.expected, 'ArrowDown moves to the next card');
  await page.keyboard.press('Enter');
  // Enter toggles the card's details (the list may be empty for an OK process, so check the toggle's state).
  await web
    .locator(`#${second.expected} button.toggle[aria-expanded="true"]`)
    .waitFor({ state: 'attached', timeout: 5000 });
  await runCommand(page, 'Hotspot: Stop');
});
