// Drives the code-server workbench with playwright-core and the system Chromium (no browser download).
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { type Browser, chromium, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { ARTIFACTS } from './codeServer';

/** Known harmless workbench messages offline: the gallery lookup and the closed-source signing lib. */
const NOISE = /open-vsx\.org|vsda|ChatSessionStore|Creating a socket/;

export const CHROMIUM = process.env.HOTSPOT_CHROMIUM ?? '/usr/bin/chromium';

export interface Workbench {
  browser: Browser;
  page: Page;
  /** Workbench + extension-host console lines forwarded through codeAutomationLog. */
  logs: string[];
  /** Resolves with the code the extension-host test runner reports (codeAutomationExit). */
  exitCode: Promise<number>;
  close(): Promise<void>;
}

export async function openWorkbench(url: string, opts: { echo?: boolean } = {}): Promise<Workbench> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  const logs: string[] = [];
  let resolveExit: (code: number) => void = () => {};
  const exitCode = new Promise<number>((r) => {
    resolveExit = r;
  });
  // Both hooks must exist before the workbench loads: it looks them up once at startup.
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
    // The workbench forwards console calls as (format, ...args), so format them like console does.
    const line = Array.isArray(args) ? format(...args) : String(args);
    logs.push(`[${type}] ${line}`);
    if (opts.echo && !NOISE.test(line)) console.log(`  [exthost] ${line}`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
  await page.goto(url);
  return {
    browser,
    page,
    logs,
    exitCode,
    close: () => browser.close(),
  };
}

/** Rejects after ms without keeping the process alive (an un-cleared timer would hold node:test open). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Waits for the workbench and, when given, for something the extension contributes (a view, a status item). */
export async function waitForWorkbench(page: Page, contributed?: Locator, timeout = 90_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout });
  if (contributed) await contributed.first().waitFor({ timeout });
}

/** The activity-bar entry of a view container, by its title. */
export const activityItem = (page: Page, title: string): Locator =>
  page.locator(`.activitybar .action-item a[aria-label^="${title}"]`).first();

/**
 * Runs a command by its palette title. Retries because the palette can open before the extension's commands are
 * registered (the list is then missing the entry).
 */
export async function runCommand(page: Page, title: string, tries = 8): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  for (let i = 1; ; i++) {
    await page.keyboard.press('Escape');
    // F1 can be swallowed while focus is inside a webview or a closing menu (seen on a loaded CI machine):
    // the second way in is the other palette key, the third a click on the workbench first.
    if (i % 3 === 0)
      await page
        .locator('.monaco-workbench .part.editor')
        .first()
        .click({ timeout: 2000 })
        .catch(() => {});
    await page.keyboard.press(i % 2 ? 'F1' : 'Control+Shift+P');
    const open = await input.waitFor({ timeout: 5000 }).then(
      () => true,
      () => false,
    );
    if (!open) {
      if (i >= tries)
        throw new Error(`the command palette did not open after ${tries} tries (for "${title}")`);
      continue;
    }
    await input.fill(`>${title}`);
    // Exact label, clicked: Enter would run the *focused* row, which fuzzy matching may rank first
    // ("Debug: Select and Start Debugging" above "Debug: Start Debugging").
    const row = page
      .locator('.quick-input-list .monaco-list-row', {
        has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRe(title)}\\s*$`) }),
      })
      .first();
    try {
      await row.waitFor({ timeout: 3000 });
      await row.click();
      await input.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
      return;
    } catch (e) {
      if (i >= tries)
        throw new Error(`command "${title}" not found in the palette after ${tries} tries: ${e}`);
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1000);
    }
  }
}

/**
 * Opens a new integrated terminal and types `line` into it once its shell has printed a prompt. Keystrokes can
 * land elsewhere on a loaded machine (the shell still starting, focus taken by a refreshing view), so the line is
 * typed again, after a click into the terminal, until `started()` says it ran; false when it never did.
 */
export async function runInNewTerminal(
  page: Page,
  line: string,
  started: () => boolean,
  timeout = 45_000,
): Promise<boolean> {
  await runCommand(page, 'Terminal: Create New Terminal');
  const term = page.locator('.terminal-wrapper.active .xterm').first();
  await term.waitFor({ timeout: 30_000 });
  const deadline = Date.now() + timeout;
  const prompted = () =>
    page
      .waitForFunction(
        () =>
          /[$#]\s*$/.test(
            document.querySelector('.terminal-wrapper.active .xterm-rows')?.textContent?.trimEnd() ?? '',
          ),
        undefined,
        { timeout: 15_000 },
      )
      .catch(() => {});
  while (Date.now() < deadline) {
    await prompted();
    await term.click().catch(() => {});
    await page.keyboard.type(`${line}\n`);
    const until = Math.min(deadline, Date.now() + 10_000);
    while (Date.now() < until) {
      if (started()) return true;
      await page.waitForTimeout(300);
    }
  }
  return started();
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Opens an activity-bar container by its title (e.g. "Hotspot"). */
export async function openContainer(page: Page, title: string): Promise<void> {
  const item = activityItem(page, title);
  await item.waitFor({ timeout: 30_000 });
  const checked = await item.locator('xpath=..').getAttribute('aria-selected');
  if (checked !== 'true') await item.click();
}

/** Expands a view by its header title; contributed views can start collapsed. */
export async function expandView(page: Page, title: string | RegExp): Promise<void> {
  // A container with a single view hides that view's header (the container title stands in); it is expanded.
  const hdr = page.locator('.pane-header', { hasText: title }).first();
  await hdr.waitFor({ state: 'attached', timeout: 30_000 });
  if ((await hdr.getAttribute('aria-expanded')) !== 'true' && (await hdr.isVisible())) await hdr.click();
}

/** The content of the active webview: two iframes deep in the workbench. */
export function webview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
