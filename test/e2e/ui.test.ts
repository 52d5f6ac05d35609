// The whole product in a real VS Code: code-server loads the extension (development path), the user runs
// "Hotspot: Start" from the Command Palette, two reference workloads run in the workspace, and the tree, the
// status bar and the dashboard webview must name them with the right diagnosis. "Hotspot: Stop" must leave no
// helper process and no BPF program behind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCommand, screenshot, webview } from '../../scripts/e2e/browser';
import {
  bpfProgIds,
  bpfProgIdsOf,
  e2eSession,
  helperPids,
  missing,
  startLeak,
  startYes,
  waitForTree,
} from './lib';

const skip = missing();
const session = e2eSession();

test('Start → tree, status bar and dashboard diagnose yes (CPU-bound) and a leak (OOM risk); Stop cleans up', {
  skip,
  timeout: 150_000,
}, async () => {
  const page = await session.open();
  await runCommand(page, 'Hotspot: Start');

  const yes = startYes();
  const leak = startLeak();
  session.workloads.push(yes, leak);
  const yesRow = `yes (${yes.pid})`;
  const leakRow = `python3 (${leak.pid})`;

  await waitForTree(
    page,
    (rows) =>
      rows.some((r) => r.level > 1 && r.text.includes(yesRow) && /CPU-bound/.test(r.group)) &&
      rows.some((r) => r.level > 1 && r.text.includes(leakRow) && /OOM risk/.test(r.group)),
    `tree rows "${yesRow}" under CPU-bound and "${leakRow}" under OOM risk`,
    60_000,
  );
  await screenshot(page, 'ui-tree');

  const status = page.locator('#workbench\\.parts\\.statusbar', { hasText: `OOM risk: ${leakRow}` });
  await status.waitFor({ timeout: 20_000 });

  const helpers = helperPids(session.cs?.child.pid ?? -1);
  assert.ok(helpers.length >= 1, 'a helper process runs under the extension host');
  const ours = [...new Set(helpers.flatMap(bpfProgIdsOf))];
  assert.ok(ours.length >= 2, `the helper holds BPF programs (ids: ${ours.join(',')})`);

  await runCommand(page, 'Hotspot: Show Dashboard');
  await webview(page).locator(`#proc-${leak.pid}`).waitFor({ timeout: 30_000 });
  await webview(page).locator(`#proc-${yes.pid}`).waitFor({ timeout: 30_000 });
  await screenshot(page, 'ui-dashboard');

  await runCommand(page, 'Hotspot: Stop');
  const deadline = Date.now() + 10_000;
  let left: number[] = [];
  let alive: number[] = [];
  do {
    await page.waitForTimeout(500);
    alive = helpers.filter((pid) => helperPids(session.cs?.child.pid ?? -1).includes(pid));
    const now = bpfProgIds();
    left = ours.filter((id) => now.has(id));
  } while ((alive.length || left.length) && Date.now() < deadline);
  assert.deepEqual(alive, [], 'helper processes left after Hotspot: Stop');
  assert.deepEqual(left, [], 'BPF programs left after Hotspot: Stop');
  await screenshot(page, 'ui-stopped');
});
