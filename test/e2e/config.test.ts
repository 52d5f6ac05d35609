// Config mistakes must be visible where VS Code users look for them: a malformed thresholds file written on disk
// (not through the extension's reload API: this covers the file watcher) shows in the Problems panel at its line
// within 2 s, with an error notification that tells the truth about which thresholds apply; fixing the file clears
// the Problems entry and says so in the status bar.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { runCommand, screenshot } from '../../scripts/e2e/browser';
import { configSession, problemRows, waitFor } from './configSession';
import { missing } from './lib';

const skip = missing();
const session = configSession();
const file = session.file;

test('a malformed config saved on disk shows in Problems within 2 s and clears when fixed', {
  skip,
  timeout: 120_000,
}, async () => {
  // Showing the Diagnoses view activates the extension, which loads (and starts watching) the file.
  const page = await session.openWithConfig('oom:\n  rss_mb: 300\n');
  // The good file loaded first (the extension logs it): the previous thresholds are then the file's.
  await session.waitForLog(`thresholds loaded from ${file}`);

  const broken = 'oom:\n  rss_mb: 300\ncpu_bound:\n  core_cpu_percent: lots\n';
  const t0 = Date.now();
  writeFileSync(file, broken);
  const row = await waitFor(
    'the config error in Problems',
    10_000,
    async () => (await problemRows(page)).find((r) => /core_cpu_percent: expected/.test(r.text))?.text,
  );
  const seenAfter = Date.now() - t0;
  await screenshot(page, 'config-problems');
  console.log(`  Problems row after ${seenAfter} ms: ${row}`);
  assert.ok(seenAfter <= 2000, `shown within 2 s (took ${seenAfter} ms)`);
  assert.match(row, /4/, 'the row names line 4');
  const toast = page.locator('.notification-toast', { hasText: 'Hotspot config error' });
  await toast.first().waitFor({ timeout: 5000 });
  const toastText = (await toast.first().textContent()) ?? '';
  assert.match(
    toastText,
    /thresholds loaded at .* stay in force/,
    `the toast says which thresholds apply: ${toastText}`,
  );

  const t1 = Date.now();
  writeFileSync(file, 'oom:\n  rss_mb: 300\ncpu_bound:\n  core_cpu_percent: 80\n');
  await waitFor('the Problems entry to clear', 10_000, async () =>
    // the error, not the warning that this [reference] key is ignored under the default profile
    (await problemRows(page)).some((r) => /core_cpu_percent: expected/.test(r.text)) ? undefined : true,
  );
  const clearedAfter = Date.now() - t1;
  // The error notification stays for the user to close; the status bar says the config loads again.
  await page
    .locator('#workbench\\.parts\\.statusbar', { hasText: 'the config loads again' })
    .waitFor({ timeout: 5000 });
  await screenshot(page, 'config-fixed');
  console.log(`  cleared after ${clearedAfter} ms`);
  assert.ok(clearedAfter <= 2000, `cleared within 2 s (took ${clearedAfter} ms)`);

  // The same through the editor: Hotspot: Open Config, break a value, save (Ctrl+S).
  await runCommand(page, 'Hotspot: Open Config');
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.waitFor({ timeout: 20_000 });
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\nstarved:\n  min_preempted: -5\n');
  const t2 = Date.now();
  await page.keyboard.press('Control+S');
  const row2 = await waitFor(
    'the saved mistake in Problems',
    10_000,
    async () => (await problemRows(page)).find((r) => /min_preempted/.test(r.text))?.text,
  );
  console.log(`  saved in the editor: shown after ${Date.now() - t2} ms: ${row2}`);
  assert.ok(Date.now() - t2 <= 2500, 'shown within about 2 s of the save');
  await screenshot(page, 'config-editor-save');
});
