// Proves the real-VS-Code harness itself with a tiny stub extension: the payload URL loads a development
// extension, codeAutomationExit reports 0 for a passing extension-host suite and 1 for a failing one, and the
// palette / status bar / nested webview helpers work. If this fails, the Hotspot e2e tests cannot be trusted.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import {
  openWorkbench,
  runCommand,
  screenshot,
  waitForWorkbench,
  webview,
  withTimeout,
} from '../../scripts/e2e/browser';
import { CODE_SERVER_BIN, type CodeServer, startCodeServer } from '../../scripts/e2e/codeServer';

const STUB = path.join(__dirname, 'fixtures/stub-extension');
const skip = existsSync(CODE_SERVER_BIN) ? false : 'code-server not installed (bash scripts/setup.sh --e2e)';
let cs: CodeServer;
let ws: string;

before(async () => {
  if (skip) return;
  cs = await startCodeServer();
  ws = mkdtempSync(path.join(tmpdir(), 'hotspot-ws-'));
});
after(async () => {
  await cs?.stop();
  if (ws) rmSync(ws, { recursive: true, force: true });
});

test('extension-host suite through the payload URL: exit 0 when it passes, 1 when it fails', {
  skip,
  timeout: 120_000,
}, async () => {
  for (const [name, want] of [
    ['pass', 0],
    ['expect-fail', 1],
  ] as const) {
    const folder = path.join(ws, name);
    mkdirSync(folder);
    const wb = await openWorkbench(cs.url(folder, { devPath: STUB, testsPath: path.join(STUB, 'tests.js') }));
    try {
      const code = await withTimeout(wb.exitCode, 60_000, 'codeAutomationExit');
      assert.equal(code, want, `suite "${name}" exit code; log:\n${wb.logs.slice(-20).join('\n')}`);
      if (want === 0)
        assert.ok(
          wb.logs.some((l) => l.includes('stub suite: command ran in extension host')),
          'the suite ran inside the extension host',
        );
    } finally {
      await wb.close();
    }
  }
});

test('UI helpers: palette command, status bar item and webview content two iframes deep', {
  skip,
  timeout: 120_000,
}, async () => {
  const wb = await openWorkbench(cs.url(ws, { devPath: STUB }));
  try {
    await waitForWorkbench(wb.page);
    await runCommand(wb.page, 'Stub: Start');
    const status = wb.page.locator('#workbench\\.parts\\.statusbar', { hasText: /Stub running in \d+/ });
    await status.waitFor({ timeout: 30_000 });
    const pid = Number(/Stub running in (\d+)/.exec((await status.textContent()) ?? '')?.[1]);
    assert.ok(pid > 0 && existsSync(`/proc/${pid}`), 'the status bar names the live extension-host pid');
    await webview(wb.page).locator(`#stub-${pid}`).waitFor({ timeout: 30_000 });
    await screenshot(wb.page, 'harness-stub');
  } finally {
    await wb.close();
  }
});
