// Config actions say what they did, in a real VS Code: a key the active profile ignores is a warning at that key; a
// config error is an error notification (not an information toast with a progress bar) and a Problems entry whose
// range covers the value; Generate Config says what it wrote and that it switched hotspot.configPath, with Undo.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import { runCommand, screenshot } from '../../scripts/e2e/browser';
import { configSession, problemRows, waitFor } from './configSession';
import { missing, WORKSPACE } from './lib';

const isDark = (page: Page) =>
  page
    .locator('.monaco-workbench')
    .first()
    .evaluate((e) => e.classList.contains('vs-dark') || e.classList.contains('hc-black'));

const skip = missing();
const session = configSession();
const file = session.file;
const vscodeDir = path.join(WORKSPACE, '.vscode');
const hadVscodeDir = existsSync(vscodeDir);
/** What Generate Config may write into the sample workspace (its .vscode holds a tracked launch.json). */
const written = ['settings.json', 'hotspot.yaml']
  .map((f) => path.join(vscodeDir, f))
  .filter((f) => !existsSync(f));

after(() => {
  for (const f of written) rmSync(f, { force: true });
  if (!hadVscodeDir) rmSync(vscodeDir, { recursive: true, force: true });
});

test('a key the profile ignores is a warning; an error is an error over the whole value; Generate Config says what it did', {
  skip,
  timeout: 180_000,
}, async () => {
  const page = await session.openWithConfig(
    '# the sample workspace sets a reference key under the default profile\noom:\n  rss_mb: 200\n',
    { 'workbench.colorTheme': 'Default Dark Modern' },
  );

  // Each of the three is checked and reported; the test fails at the end with every one that failed.
  const failed: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) failed.push(what);
  };

  // 1. oom.rss_mb is read by the reference profile only.
  const warning = await waitFor('a warning for oom.rss_mb', 15_000, async () =>
    (await problemRows(page)).find((r) => /rss_mb/.test(r.text)),
  ).catch(() => undefined);
  console.log(`  ignored key: ${warning?.severity}: ${warning?.text}`);
  await screenshot(page, 'config-ignored-key');
  check(warning?.severity === 'warning', 'an ignored key is a warning in Problems');

  // 2. A bad value: an error notification, and a Problems range over the whole value.
  writeFileSync(file, 'oom:\n  horizon_sec: 600\ncpu_bound:\n  min_demand_percent: lots # not a number\n');
  const error = await waitFor('the config error in Problems', 10_000, async () =>
    (await problemRows(page)).find((r) => /min_demand_percent/.test(r.text)),
  );
  const toast = page.locator('.notification-toast', { hasText: 'Hotspot config error' }).first();
  await toast.waitFor({ timeout: 10_000 });
  const toastIsError = (await toast.locator('.codicon-error').count()) > 0;
  const progress = await toast.locator('.monaco-progress-container.active').count();
  console.log(
    `  error: ${error.severity}: ${error.text}; toast error icon ${toastIsError}, progress ${progress}`,
  );
  await runCommand(page, 'Hotspot: Open Config');
  const squiggle = page.locator('.monaco-editor .squiggly-error').first();
  await squiggle.waitFor({ state: 'attached', timeout: 15_000 });
  // The decoration is laid out after it is attached: read its width until two frames agree.
  const width = await waitFor('the squiggle laid out', 5000, async () => {
    const a = await squiggle.evaluate((e) => e.getBoundingClientRect().width);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const b = await squiggle.evaluate((e) => e.getBoundingClientRect().width);
    return a > 0 && a === b ? a : undefined;
  });
  // The width of one character: the line with the value, its text span's width over its length.
  const charWidth = await page
    .locator('.monaco-editor .view-line', { hasText: 'lots' })
    .first()
    .evaluate((e) => {
      const span = e.firstElementChild as HTMLElement;
      return span.getBoundingClientRect().width / Math.max(1, (span.textContent ?? '').length);
    });
  console.log(`  squiggle ${width.toFixed(1)} px for "lots" (a character is ${charWidth.toFixed(1)} px)`);
  // Named by the theme each shows: the workbench may start in either (an earlier test's toggle is kept).
  for (let i = 0; i < 2; i++) {
    const dark = await isDark(page);
    await screenshot(page, `config-error-${dark ? 'dark' : 'light'}`);
    await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
    await waitFor('the other theme', 5000, async () => ((await isDark(page)) !== dark ? true : undefined));
  }
  check(error.severity === 'error', 'the config error is an error in Problems');
  check(toastIsError, 'the notification is an error');
  check(progress === 0, 'no progress bar on an error');
  check(width >= 3.5 * charWidth, `the range covers the value "lots" (${width.toFixed(1)} px)`);
  await page.keyboard.press('Escape');

  // 3. Generate Config: what it wrote, that it switched hotspot.configPath, and Undo.
  writeFileSync(file, 'oom:\n  horizon_sec: 600\n');
  await runCommand(page, 'Hotspot: Generate Config');
  const said = page.locator('.notification-toast', { hasText: 'hotspot.configPath' }).first();
  const shown = await said
    .waitFor({ timeout: 15_000 })
    .then(() => true)
    .catch(() => false);
  const text = shown ? ((await said.locator('.notification-list-item-message').textContent()) ?? '') : '';
  console.log(`  Generate Config: ${text || 'no notification'}`);
  await screenshot(page, 'config-generated');
  check(/\.vscode\/hotspot\.yaml/.test(text), 'Generate Config names the file it wrote and the setting');
  const generated = path.join(vscodeDir, 'hotspot.yaml');
  if (shown) {
    await said.locator('.monaco-button', { hasText: /^Undo$/ }).click();
    await waitFor('Undo to remove the file and put the setting back', 10_000, async () =>
      existsSync(generated) ? undefined : true,
    );
    const settings = path.join(vscodeDir, 'settings.json');
    const left = existsSync(settings) ? readFileSync(settings, 'utf8') : '';
    check(!/hotspot\.configPath/.test(left), 'Undo takes the workspace setting back');
  }
  assert.deepEqual(failed, [], 'config actions that did not say what they did');
});
