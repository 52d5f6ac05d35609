// Installing without a polkit agent (Remote-SSH, WSL, code-server, headless): VS Code runs as an unprivileged user,
// pkexec has no agent to ask for a password, so "Install Helper" must offer the one command to run in a terminal —
// sudo, an absolute node, this extension's dist/cli.js, the install-helper subcommand — and "Run in Terminal" must
// type exactly that. Running it (and then Start going live) needs the CLI's install-helper subcommand and a sudo
// rule for the test user; that part skips, saying so, where the CLI does not support it yet.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { openWorkbench, runCommand, screenshot, type Workbench } from '../../scripts/e2e/browser';
import { type CodeServer, startCodeServer } from '../../scripts/e2e/codeServer';
import { EXTENSION_DIR, missing, showDiagnoses, WORKSPACE } from './lib';

const NOBODY = { uid: 65534, gid: 65534 };
const skip = missing() || (spawnSync('which', ['pkexec']).status !== 0 ? 'pkexec not installed' : false);
let cs: CodeServer | undefined;
let wb: Workbench | undefined;

after(async () => {
  await wb?.close();
  await cs?.stop();
});

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const CLI = path.join(EXTENSION_DIR, 'dist/cli.js');
const expected = new RegExp(`sudo /\\S+/node ${escapeRe(CLI)} install-helper`);

test('as a user without a polkit agent, Install Helper offers the sudo command and Run in Terminal types it', {
  skip,
  timeout: 120_000,
}, async () => {
  cs = await startCodeServer({
    user: NOBODY,
    settings: {
      // nobody's login shell is nologin: give its terminals a shell.
      'terminal.integrated.profiles.linux': { sh: { path: '/bin/sh' } },
      'terminal.integrated.defaultProfile.linux': 'sh',
      'terminal.integrated.gpuAcceleration': 'off', // the DOM renderer: the typed command is readable text
    },
  });
  wb = await openWorkbench(cs.url(WORKSPACE, { devPath: EXTENSION_DIR }));
  const page = wb.page;
  await showDiagnoses(page);
  // Not root: the welcome view offers the install (as a link: Start is the one primary button).
  await page
    .locator('.welcome-view-content', { hasText: 'Install the privileged helper' })
    .waitFor({ timeout: 30_000 });

  await runCommand(page, 'Hotspot: Install Helper');
  const toast = page.locator('.notification-toast', { hasText: 'pkexec cannot ask for your password here' });
  await toast.first().waitFor({ timeout: 60_000 });
  const text = (await toast.first().textContent()) ?? '';
  console.log(`  offer: ${text.trim().slice(0, 300)}`);
  assert.match(text, expected, 'the offered command');
  // The install spinner is gone: the error is not "installing…" any more.
  await page
    .locator('.notification-toast', { hasText: 'installing the privileged helper' })
    .first()
    .waitFor({ state: 'detached', timeout: 5000 });
  await screenshot(page, 'install-offer');

  await toast.first().locator('.monaco-button', { hasText: 'Run in Terminal' }).click();
  const terminal = page.locator('.xterm-rows');
  await page
    .waitForFunction(
      (needle) => [...document.querySelectorAll('.xterm-rows')].some((e) => e.textContent?.includes(needle)),
      'install-helper',
      { timeout: 30_000 },
    )
    .catch(async (e) => {
      await screenshot(page, 'install-terminal');
      throw e;
    });
  const typed = (await terminal.first().textContent()) ?? '';
  assert.match(
    typed.replace(/\s+/g, ' '),
    /sudo \S+ \S+cli\.js install-helper/,
    'the terminal ran the command',
  );
  await screenshot(page, 'install-terminal');
});

/** Whether dist/cli.js knows the install-helper subcommand (another change adds it). */
function cliSupportsInstallHelper(): boolean {
  try {
    execFileSync(process.execPath, [CLI, 'install-helper', '--help'], { encoding: 'utf8', stdio: 'pipe' });
    return true;
  } catch (e) {
    return !/unknown (flag|command|subcommand)/i.test(String((e as { stderr?: string }).stderr ?? e));
  }
}

test('…and running that command installs the helper, then Start goes live', {
  skip:
    skip ||
    (cliSupportsInstallHelper()
      ? 'needs a sudo rule and polkit rule for the test user; not automated yet'
      : 'dist/cli.js does not support the install-helper subcommand yet'),
}, () => {});
