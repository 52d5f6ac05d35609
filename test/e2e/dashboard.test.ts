// The dashboard is read below the fold while windows keep arriving: scrolled to the bottom with a process card
// focused, three new windows must leave the scroll position and the focus where the user put them (it used to
// re-render every section, jumping to the top and dropping focus). Also: arrow keys move between cards.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { openWorkbench, runCommand, screenshot, type Workbench, webview } from '../../scripts/e2e/browser';
import { type CodeServer, startCodeServer } from '../../scripts/e2e/codeServer';
import {
  EXTENSION_DIR,
  killAll,
  missing,
  showDiagnoses,
  startLeak,
  startYes,
  TEST_CONFIG,
  WORKSPACE,
} from './lib';

const skip = missing();
let cs: CodeServer | undefined;
let wb: Workbench | undefined;
const workloads: ChildProcess[] = [];

after(async () => {
  killAll(workloads);
  await wb?.close();
  await cs?.stop();
});

test('dashboard: scroll position and keyboard focus hold across three windows', {
  skip,
  timeout: 150_000,
}, async () => {
  // Scope "workspace" (the two workloads, not the shared machine's churn) in a short window, so the page is taller
  // than the panel and what is on it stays put unless Hotspot moves it.
  cs = await startCodeServer({
    settings: { 'hotspot.configPath': TEST_CONFIG, 'hotspot.intervalMs': 1000, 'hotspot.scope': 'workspace' },
  });
  wb = await openWorkbench(cs.url(WORKSPACE, { devPath: EXTENSION_DIR }));
  const page = wb.page;
  await page.setViewportSize({ width: 1300, height: 560 });
  await showDiagnoses(page);
  const yes = startYes();
  workloads.push(yes, startLeak());
  await runCommand(page, 'Hotspot: Start');
  await runCommand(page, 'Hotspot: Show Dashboard');
  const web = webview(page);
  await web.locator(`#proc-${yes.pid}`).waitFor({ timeout: 60_000 });

  const windowNo = async () =>
    Number((await web.locator('#status').textContent())?.match(/Window (\d+)/)?.[1] ?? Number.NaN);

  // The first windows bring and drop many short-lived cards; start from a settled page.
  while ((await windowNo()) < 4 || Number.isNaN(await windowNo())) await page.waitForTimeout(300);
  // Focus the last card (keyboard: Tab lands on cards; we focus directly), then scroll to the very bottom.
  const before = await web.locator('body').evaluate((_, id) => {
    const last = document.getElementById(id) as HTMLElement;
    last.focus({ preventScroll: true });
    window.scrollTo(0, document.documentElement.scrollHeight);
    return {
      focused: document.activeElement?.id ?? '',
      scrollY: window.scrollY,
      top: last.getBoundingClientRect().top,
      // What the user is looking at, at the bottom: the last section. Its place on screen is what must hold.
      anchor:
        document.querySelector('vscode-collapsible[data-key="self"]')?.getBoundingClientRect().top ??
        Number.NaN,
    };
  }, `proc-${yes.pid}`);
  assert.ok(before.scrollY > 200, `the page must be scrollable to test this (scrollY ${before.scrollY})`);
  assert.equal(before.focused, `proc-${yes.pid}`, 'the card of yes is focused');

  const start = await windowNo();
  const deadline = Date.now() + 30_000;
  while ((await windowNo()) < start + 3) {
    assert.ok(Date.now() < deadline, `three windows did not arrive (still at ${await windowNo()})`);
    await page.waitForTimeout(300);
  }
  const afterWindows = await web.locator('body').evaluate(
    (_, id) => ({
      focused: document.activeElement?.id ?? '',
      scrollY: window.scrollY,
      top: document.getElementById(id)?.getBoundingClientRect().top ?? Number.NaN,
      anchor:
        document.querySelector('vscode-collapsible[data-key="self"]')?.getBoundingClientRect().top ??
        Number.NaN,
      bottom: document.getElementById(id)?.getBoundingClientRect().bottom ?? Number.NaN,
      height: window.innerHeight,
      maxScroll: document.documentElement.scrollHeight - window.innerHeight,
    }),
    before.focused,
  );
  await screenshot(page, 'dashboard-scrolled');
  assert.equal(afterWindows.focused, before.focused, 'focus stays on the same card');
  // A preemption pair or a card may be added above while we wait; Chromium's scroll anchoring then moves scrollY
  // by that much so that what is on screen stays put. "Held" means the same content at the same place, not a jump.
  const moved = `scrollY ${before.scrollY} → ${afterWindows.scrollY}, bottom section at y ${before.anchor.toFixed(0)} → ${afterWindows.anchor.toFixed(0)}`;
  console.log(`  ${moved}`);
  assert.ok(afterWindows.scrollY > 0, `not back at the top (${moved})`);
  assert.ok(
    Math.abs(afterWindows.anchor - before.anchor) <= 2,
    `the content on screen stayed put (${moved})`,
  );

  // Keyboard: from the first card, ArrowDown focuses the second; Enter opens its details.
  const first = web.locator('.proc').first();
  await first.focus();
  await page.keyboard.press('ArrowDown');
  const second = await web.locator('body').evaluate(() => {
    const cards = [...document.querySelectorAll<HTMLElement>('.proc')];
    return { active: document.activeElement?.id, expected: cards[1]?.id };
  });
  assert.equal(second.active, second.expected, 'ArrowDown moves to the next card');
  await page.keyboard.press('Enter');
  // Enter toggles the card's details (the list may be empty for an OK process, so check the toggle's state).
  await web
    .locator(`#${second.expected} button.toggle[aria-expanded="true"]`)
    .waitFor({ state: 'attached', timeout: 5000 });
  await runCommand(page, 'Hotspot: Stop');
});
