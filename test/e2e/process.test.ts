// Telling processes apart and acting on them, and the alert history, in a real VS Code:
// 1. a node process's row names its script (busy.js), and its context-menu "Terminate" (after the modal
//    confirmation) ends it with SIGTERM, sent by the extension as the user;
// 2. a leak flagged OOM risk and then killed stays on record: the dashboard's alert timeline lists the episode as
//    ended when it exited, and the status bar says it "was at OOM risk until …".
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { runCommand, runInNewTerminal, screenshot, webview } from '../../scripts/e2e/browser';
import {
  e2eSession,
  missing,
  openRowMenu,
  rowAction,
  startLeak,
  startWorkload,
  WORKSPACE,
  waitForTree,
} from './lib';

const skip = missing();
const session = e2eSession();

const exited = (c: ChildProcess) =>
  new Promise<string>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve(String(c.signalCode ?? c.exitCode));
    else c.once('exit', (code, sig) => resolve(String(sig ?? code)));
  });

before(async () => {
  if (skip) return;
  await runCommand(await session.open(), 'Hotspot: Start');
});

test('a process row shows its script, and its context-menu Terminate ends it', {
  skip,
  timeout: 120_000,
}, async () => {
  const page = session.page;
  const busy = startWorkload('node', [path.join(WORKSPACE, 'busy.js')]);
  session.workloads.push(busy);
  const row = `node (${busy.pid})`;
  const rows = await waitForTree(
    page,
    (rs) => rs.some((r) => r.level > 1 && r.text.includes(row) && r.text.includes('busy.js')),
    `a row "${row}" naming busy.js`,
    60_000,
  );
  console.log(`  row: ${rows.find((r) => r.text.includes(row))?.text}`);
  await screenshot(page, 'process-row');

  const gone = exited(busy);
  // Rows keep their id while their label changes (tree.ts), so the action finds its row even mid-update.
  const dialog = page.locator('.monaco-dialog-box');
  await rowAction(page, row, 'Terminate Process (SIGTERM)', () => dialog.isVisible(), 'process-context-menu');
  assert.match((await dialog.textContent()) ?? '', /busy\.js/, 'the confirmation shows the command line');
  await screenshot(page, 'process-confirm');
  await dialog.locator('.monaco-button', { hasText: /^Terminate$/ }).click();
  const how = await Promise.race([
    gone,
    new Promise<string>((r) => setTimeout(() => r('still running'), 10_000)),
  ]);
  assert.equal(how, 'SIGTERM', 'the process ended by SIGTERM');
});

/** Pids whose command line runs the given script (a process started in a VS Code terminal is not our child). */
function pidsRunning(script: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8')
          .split('\0')
          .some((a) => a.endsWith(script));
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('a process started in a VS Code terminal knows its terminal: Reveal Owning Terminal', {
  skip,
  timeout: 120_000,
}, async () => {
  const page = session.page;
  const before = new Set(pidsRunning('busy.js'));
  const started = () => pidsRunning('busy.js').filter((p) => !before.has(p));
  let pid = 0;
  try {
    assert.ok(
      await runInNewTerminal(page, 'node busy.js', () => started().length > 0),
      'node busy.js started in the terminal',
    );
    pid = started()[0];
    const row = `node (${pid})`;
    await waitForTree(
      page,
      (rs) => rs.some((r) => r.level > 1 && r.text.includes(row)),
      `a row "${row}"`,
      60_000,
    );
    const item = await openRowMenu(page, row, 'Reveal Owning Terminal');
    await screenshot(page, 'process-terminal-menu');
    await item.click();
    await page.locator('.terminal-wrapper.active').first().waitFor({ timeout: 10_000 });
  } finally {
    // A retyped line may have started it twice.
    for (const p of started()) process.kill(p, 'SIGKILL');
  }
});

test('the alert timeline keeps an OOM episode after the leaking process exits', {
  skip,
  timeout: 150_000,
}, async () => {
  const page = session.page;
  const leak = startLeak();
  session.workloads.push(leak);
  const row = `python3 (${leak.pid})`;
  await waitForTree(
    page,
    (rs) => rs.some((r) => r.level > 1 && r.text.includes(row) && /OOM risk/.test(r.group)),
    `"${row}" under OOM risk`,
    60_000,
  );
  leak.kill('SIGKILL');
  await exited(leak);

  const status = page.locator('#workbench\\.parts\\.statusbar', {
    hasText: new RegExp(`python3 \\(${leak.pid}\\) was at OOM risk until .*\\(exited\\)`),
  });
  await status.waitFor({ timeout: 20_000 });
  await runCommand(page, 'Hotspot: Show Alert Timeline');
  const episode = webview(page).locator('.episode', { hasText: row }).filter({ hasText: 'OOM risk' });
  await episode.filter({ hasText: 'until it exited' }).first().waitFor({ timeout: 20_000 });
  console.log(`  timeline: ${(await episode.first().textContent())?.trim()}`);
  await screenshot(page, 'timeline-oom-exited');
  await runCommand(page, 'Hotspot: Stop');
});
