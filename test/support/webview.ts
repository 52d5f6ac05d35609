// The dashboard's webview without the workbench: the built dist/webview.js and media/dashboard.css in a bare
// Chromium page, with a stand-in for acquireVsCodeApi and the body padding VS Code's webview host adds. Tests post
// models to it exactly as the extension does (a 'message' event on the window).
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { CHROMIUM } from '../../scripts/e2e/browser';
import { ROOT } from '../../scripts/e2e/codeServer';
import type { DashboardModel } from '../../src/shared/presentation/dashboard';

const BUNDLE = path.join(ROOT, 'dist/webview.js');
const CSS = path.join(ROOT, 'media/dashboard.css');

/** Why the webview cannot be loaded here, or false. */
export function webviewMissing(): string | false {
  if (!existsSync(CHROMIUM)) return 'chromium not installed';
  if (!existsSync(BUNDLE)) return 'dist/webview.js not built (node scripts/build.mjs)';
  return false;
}

export async function loadDashboard(page: Page): Promise<void> {
  const code = readFileSync(BUNDLE, 'utf8').replace(/<\/script/gi, '<\\/script');
  const css = readFileSync(CSS, 'utf8').replace(/<\/style/gi, '<\\/style');
  await page.setContent(
    `<!DOCTYPE html><html><head><style>body { margin: 0; padding: 0 20px; }</style><style>${css}</style></head>
<body><header id="status"></header><main id="root"></main>
<script>window.acquireVsCodeApi = () => ({ postMessage: (m) => (window.sent = [...(window.sent || []), m]) });</script>
<script type="module">${code}</script></body></html>`,
  );
  await page.waitForFunction(() => document.querySelector('vscode-collapsible') !== null);
}

/** Posts one window's model; resolves with how long the webview took to apply it (ms). */
export function postModel(page: Page, model: DashboardModel): Promise<number> {
  return page.evaluate((m) => {
    const t0 = performance.now();
    window.dispatchEvent(new MessageEvent('message', { data: { type: 'model', model: m } }));
    return performance.now() - t0;
  }, model);
}

/** Resolves after the next frame has been painted (layout, scroll anchoring and custom elements all settled). */
export const nextFrame = (page: Page): Promise<void> =>
  page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0))));
