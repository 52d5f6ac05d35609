// Shared pieces of the Hotspot e2e tests: workloads, BPF/helper bookkeeping, and reading the Diagnoses tree.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import {
  activityItem,
  expandView,
  openWorkbench,
  screenshot,
  type Workbench,
} from '../../scripts/e2e/browser';
import {
  CODE_SERVER_BIN,
  type CodeServer,
  type Profile,
  ROOT,
  startCodeServer,
} from '../../scripts/e2e/codeServer';

export const WORKSPACE = path.join(ROOT, 'test/e2e/workspace');
export const TEST_CONFIG = path.join(WORKSPACE, 'hotspot.yaml');
/** The extension loaded in development mode: the repo, unless HOTSPOT_E2E_EXTENSION points at another build. */
export const EXTENSION_DIR = path.resolve(process.env.HOTSPOT_E2E_EXTENSION ?? ROOT);

/** Why the Hotspot e2e tests cannot run here, or false. */
export function missing(): string | false {
  if (!existsSync(CODE_SERVER_BIN)) return 'code-server not installed (bash scripts/setup.sh --e2e)';
  for (const f of ['dist/extension.js', 'dist/helper.js'])
    if (!existsSync(path.join(EXTENSION_DIR, f))) return `${f} not built (npm run build)`;
  if (process.getuid?.() !== 0) return 'needs root (the extension runs the helper directly as root)';
  return false;
}

/** Starts a workload with its cwd in the sample workspace, so the 'workspace' scope includes it. */
export function startWorkload(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { cwd: WORKSPACE, stdio: 'ignore' });
  child.on('error', () => {});
  return child;
}

export const startYes = () => startWorkload('sh', ['-c', 'exec yes > /dev/null']);
export const startLeak = () => startWorkload('python3', [path.join(WORKSPACE, 'leak.py')]);

export function killAll(children: ChildProcess[]): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export { bpfProgIds, bpfProgIdsOf } from '../support/procs';

/** The settings most e2e tests run under: the test config, 1 s windows, and only the sample workspace's processes
 *  (not the shared machine's churn). */
export const WORKSPACE_SETTINGS: Record<string, unknown> = {
  'hotspot.configPath': TEST_CONFIG,
  'hotspot.measurementWindow': 1000,
  'hotspot.scope': 'workspace',
};

/** One test file's code-server, browser page and workloads. */
export class Session {
  cs?: CodeServer;
  wb?: Workbench;
  readonly workloads: ChildProcess[] = [];

  /** Starts code-server on the sample workspace (the extension from EXTENSION_DIR, or from `profile`'s installed
   *  extensions), opens it in the browser and shows the Diagnoses view. */
  async open(opts: { settings?: Record<string, unknown>; profile?: Profile } = {}): Promise<Page> {
    this.cs = await startCodeServer(
      opts.profile ? { profile: opts.profile } : { settings: opts.settings ?? WORKSPACE_SETTINGS },
    );
    this.wb = await openWorkbench(
      this.cs.url(WORKSPACE, opts.profile ? undefined : { devPath: EXTENSION_DIR }),
    );
    await showDiagnoses(this.wb.page);
    return this.wb.page;
  }

  get page(): Page {
    if (!this.wb) throw new Error('the e2e session was not opened');
    return this.wb.page;
  }

  async close(): Promise<void> {
    killAll(this.workloads);
    await this.wb?.close();
    await this.cs?.stop();
  }
}

/** A Session torn down (workloads killed, browser closed, code-server stopped) after the file's tests. */
export function e2eSession(): Session {
  const session = new Session();
  after(() => session.close());
  return session;
}

/** Helper processes (node …/helper.js) in a process group, i.e. started by that code-server's extension host. */
export function helperPids(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('helper.js')) out.push(Number(d));
    } catch {}
  }
  return out;
}

export interface TreeRow {
  level: number;
  text: string;
  /** The label of the nearest level-1 row above (the diagnosis group). */
  group: string;
}

/** Opens the Hotspot container and expands its Diagnoses view. */
export async function showDiagnoses(page: Page): Promise<void> {
  const item = activityItem(page, 'Hotspot');
  await item.waitFor({ timeout: 60_000 });
  if ((await page.locator('.pane-header', { hasText: /Diagnoses/i }).count()) === 0) await item.click();
  await expandView(page, /Diagnoses/i);
}

/** The rows of the Diagnoses tree, top to bottom, each with its group. */
export async function treeRows(page: Page): Promise<TreeRow[]> {
  const pane = page
    .locator('.pane', { has: page.locator('.pane-header', { hasText: /Diagnoses/i }) })
    .first();
  const raw = await pane.locator('.monaco-list-row').evaluateAll((rows) =>
    rows.map((r) => ({
      level: Number(r.getAttribute('aria-level') ?? '1'),
      text: (r.getAttribute('aria-label') || r.textContent || '').trim(),
      expanded: r.getAttribute('aria-expanded'),
    })),
  );
  let group = '';
  return raw.map((r) => {
    if (r.level === 1) group = r.text;
    return { level: r.level, text: r.text, group };
  });
}

/** Expands every collapsed group row of the Diagnoses tree. */
export async function expandGroups(page: Page): Promise<void> {
  const pane = page
    .locator('.pane', { has: page.locator('.pane-header', { hasText: /Diagnoses/i }) })
    .first();
  const collapsed = pane.locator('.monaco-list-row[aria-level="1"][aria-expanded="false"]');
  for (let i = await collapsed.count(); i > 0; i--) {
    await collapsed.first().click();
    await page.waitForTimeout(100);
  }
}

/** Polls the tree until pred holds (expanding groups as they appear); returns the rows, or throws with them. */
export async function waitForTree(
  page: Page,
  pred: (rows: TreeRow[]) => boolean,
  what: string,
  timeout = 60_000,
): Promise<TreeRow[]> {
  const deadline = Date.now() + timeout;
  let rows: TreeRow[] = [];
  while (Date.now() < deadline) {
    await expandGroups(page);
    rows = await treeRows(page);
    if (pred(rows)) return rows;
    await page.waitForTimeout(1000);
  }
  throw new Error(
    `${what}: not seen within ${timeout / 1000} s; tree was:\n${rows.map((r) => `${'  '.repeat(r.level)}${r.text}`).join('\n')}`,
  );
}

/**
 * Right-clicks the Diagnoses view's process row (level 2) that contains `row` and waits for `item` in its context
 * menu; returns the item to click. Level 2 only: a detail row of another process can name the same pid.
 */
export async function openRowMenu(page: Page, row: string, item: string): Promise<Locator> {
  const pane = page
    .locator('.pane', { has: page.locator('.pane-header', { hasText: /Diagnoses/i }) })
    .first();
  await pane
    .locator('.monaco-list-row[aria-level="2"]', { has: page.locator('.label-name', { hasText: row }) })
    .first()
    .click({ button: 'right' });
  const entry = page.locator('.monaco-menu .action-item', { hasText: item }).first();
  await entry.waitFor({ timeout: 10_000 });
  return entry;
}

/**
 * Runs a row's context-menu entry until `done` says it took effect, as a user would try again: a row that changes
 * group under the click can take the menu with it, and a click can leave the menu up with the entry highlighted and
 * nothing done (both seen in CI). `shot` names a screenshot of the first open menu.
 */
export async function rowAction(
  page: Page,
  row: string,
  item: string,
  done: () => Promise<boolean>,
  shot?: string,
): Promise<void> {
  const took = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await page.waitForTimeout(100))
      if (await done()) return true;
    return false;
  };
  for (let i = 1; ; i++) {
    await page.keyboard.press('Escape'); // a menu left up keeps the keyboard
    const entry = await openRowMenu(page, row, item);
    if (i === 1 && shot) await screenshot(page, shot);
    await entry.click({ timeout: 5000 }).catch(() => {});
    if (await took(2000)) return;
    // The menu still up with the entry highlighted: the keyboard runs the highlighted entry.
    const up = await entry.isVisible().catch(() => false);
    if (up) {
      await entry.hover({ timeout: 2000 }).catch(() => {});
      await page.keyboard.press('Enter');
    }
    if (await took(3000)) return;
    console.log(
      `  "${item}" on ${row}: try ${i}: no effect (menu ${up ? 'was still up: Enter pressed' : 'gone'})`,
    );
    if (i >= 4) {
      await screenshot(page, 'row-action-failed');
      throw new Error(`"${item}" on ${row}: no effect after ${i} tries (see row-action-failed.png)`);
    }
  }
}
