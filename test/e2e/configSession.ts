// The set-up both config e2e tests share: a thresholds file of their own in a temporary folder, the workbench on
// the sample workspace reading it (hotspot.configPath), the Problems panel open, and what that panel lists.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import type { Page } from 'playwright-core';
import { Session } from './lib';

export class ConfigSession extends Session {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'hotspot-cfg-'));
  readonly file = path.join(this.dir, 'hotspot.yaml');

  /** Writes `text` to the file, opens the workbench with the file as its config (and `settings`), then Problems. */
  async openWithConfig(text: string, settings: Record<string, unknown> = {}): Promise<Page> {
    writeFileSync(this.file, text);
    const page = await this.open({ settings: { 'hotspot.configPath': this.file, ...settings } });
    await page.keyboard.press('Control+Shift+M'); // the Problems panel
    await page.locator('.markers-panel').waitFor({ state: 'attached', timeout: 30_000 });
    return page;
  }

  /** Waits until a line of the extension's own log (its LogOutputChannel's file in the profile) contains `text`. */
  async waitForLog(text: string, ms = 30_000): Promise<void> {
    const root = path.join(this.cs?.profile.userDataDir ?? '/nonexistent', 'logs');
    await waitFor(`"${text}" in the extension's log under ${root}`, ms, async () => {
      let files: string[] = [];
      try {
        files = readdirSync(root, { recursive: true, encoding: 'utf8' });
      } catch {}
      for (const f of files)
        if (/hotspot/i.test(f) && f.endsWith('.log'))
          try {
            if (readFileSync(path.join(root, f), 'utf8').includes(text)) return true;
          } catch {}
      return undefined;
    });
  }

  override async close(): Promise<void> {
    await super.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A ConfigSession torn down (browser, code-server, the temporary folder) after the file's tests. */
export function configSession(): ConfigSession {
  const session = new ConfigSession();
  after(() => session.close());
  return session;
}

/** Each row of the Problems panel: its text and whether it is an error or a warning. */
export const problemRows = (page: Page) =>
  page.locator('.markers-panel .monaco-list-row').evaluateAll((rows) =>
    rows.map((r) => ({
      text: (r.getAttribute('aria-label') || r.textContent || '').trim(),
      severity: r.querySelector('.codicon-error')
        ? 'error'
        : r.querySelector('.codicon-warning')
          ? 'warning'
          : 'other',
    })),
  );

/** Polls `probe` every 100 ms (the tests time the panel to 2 s) until it gives a value; throws after `ms`. */
export async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
