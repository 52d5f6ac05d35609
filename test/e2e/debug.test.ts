// A real Node debug session (js-debug, launch.json "Busy loop") next to other workspace processes:
// "Hotspot: Filter to Debugged Process" must narrow the Diagnoses tree to the debuggee alone.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { runCommand, screenshot } from '../../scripts/e2e/browser';
import { e2eSession, missing, showDiagnoses, startYes, WORKSPACE, waitForTree } from './lib';

const skip = missing();
const session = e2eSession();

/** Pids of node processes running the workspace's busy.js (the debuggee). */
function debuggeePids(): number[] {
  const script = path.join(WORKSPACE, 'busy.js');
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // js-debug may pass the program relative to the workspace; resolve against the process's cwd.
        const args = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        const cwd = readlinkSync(`/proc/${d}/cwd`);
        return args.some((a) => path.resolve(cwd, a) === script);
      } catch {
        return false;
      }
    })
    .map(Number);
}

after(() => {
  for (const pid of debuggeePids()) process.kill(pid, 'SIGKILL');
});

test('Filter to Debugged Process narrows the tree to the debuggee', { skip, timeout: 150_000 }, async () => {
  const page = await session.open();
  const yes = startYes(); // a second workspace process the filter must hide
  session.workloads.push(yes);
  await runCommand(page, 'Hotspot: Start');

  await runCommand(page, 'Debug: Start Debugging');
  let pid = 0;
  for (const deadline = Date.now() + 30_000; !pid && Date.now() < deadline; await page.waitForTimeout(500))
    pid = debuggeePids()[0] ?? 0;
  if (!pid) await screenshot(page, 'debug-no-session');
  assert.ok(pid > 0, 'the debug session started busy.js');

  await showDiagnoses(page); // starting a session switches the side bar to Run and Debug
  await waitForTree(
    page,
    (rows) => rows.some((r) => r.text.includes(`(${yes.pid})`)),
    'yes in the unfiltered tree',
  );
  await runCommand(page, 'Hotspot: Filter to Debugged Process');
  await page.waitForTimeout(1500);
  await screenshot(page, 'debug-after-filter');
  const rows = await waitForTree(
    page,
    (rs) => {
      const procs = rs.filter((r) => r.level === 2);
      return procs.length > 0 && procs.every((r) => r.text.split(',')[0].includes(`(${pid})`));
    },
    `only the debuggee (${pid}) in the filtered tree`,
    30_000,
  );
  // No row of its own; the debuggee's cause may still name it ("waiting for a CPU …, behind yes (pid)").
  assert.ok(
    !rows.some((r) => r.level === 2 && r.text.split(',')[0].includes(`(${yes.pid})`)),
    'the other workspace process is filtered out',
  );
  // The view says what it is filtered to (its description or its message), not just fewer rows.
  const pane = page
    .locator('.pane', { has: page.locator('.pane-header', { hasText: /Diagnoses/i }) })
    .first();
  const context = [
    await pane.locator('.pane-header').textContent(),
    // With a single view, its description shows in the side bar's title instead of the (hidden) pane header.
    await page.locator('#workbench\\.parts\\.sidebar .composite.title').first().textContent(),
    ...(await pane.locator('.pane-body .message').allTextContents()),
  ].join(' ');
  assert.match(
    context,
    new RegExp(`${pid}|busy|debug|filter`, 'i'),
    `the view shows the filtered context: "${context}"`,
  );
  await screenshot(page, 'debug-filtered');

  await runCommand(page, 'Hotspot: Clear Filter');
  await waitForTree(
    page,
    (rs) => rs.some((r) => r.text.includes(`(${yes.pid})`)),
    'yes back after Clear Filter',
    30_000,
  );
  await runCommand(page, 'Debug: Stop');
  await runCommand(page, 'Hotspot: Stop');
});
