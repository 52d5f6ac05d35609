// Installing without a polkit agent (Remote-SSH, WSL, code-server, headless): VS Code runs as an unprivileged user,
// pkexec has no agent to ask for a password, so "Install Helper" must offer the one command to run in a terminal —
// sudo, an absolute node, this extension's dist/cli.js, the install-helper subcommand — and "Run in Terminal" must
// type exactly that. Running that command installs the helper; with an administrator's polkit rule for the user
// (what a headless box needs, as no agent can ask for a password), Start then goes live.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { openWorkbench, runCommand, screenshot, type Workbench } from '../../scripts/e2e/browser';
import { type CodeServer, ROOT, startCodeServer } from '../../scripts/e2e/codeServer';
import { EXTENSION_DIR, missing, showDiagnoses, WORKSPACE } from './lib';

const NOBODY = { uid: 65534, gid: 65534 };
const skip = missing() || (spawnSync('which', ['pkexec']).status !== 0 ? 'pkexec not installed' : false);
let cs: CodeServer | undefined;
let wb: Workbench | undefined;
/** The command the first test was offered, run by the second. */
let offered = '';

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
  offered = expected.exec(text)?.[0] ?? '';
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

const RULE = '/etc/polkit-1/rules.d/49-hotspot-e2e.rules';
const POLICY = '/usr/share/polkit-1/actions/dev.hotspot.helper.policy';
const INSTALL_DIR = '/usr/local/lib/hotspot';

test("…running that command installs the helper, and with an administrator's polkit rule Start goes live", {
  skip:
    skip ||
    (existsSync(INSTALL_DIR) ? `${INSTALL_DIR} exists: the test would replace a real install` : false),
  timeout: 240_000,
}, async () => {
  assert.ok(wb && offered, 'the first test offered a command');
  const page = wb.page;
  // What the user's terminal runs: the offered command. sudo itself is not what is tested (and is not installed
  // here): this test is root, so it runs the command's argv directly, as sudo would after the password.
  const argv = offered.split(' ');
  assert.equal(argv[0], 'sudo');
  try {
    const out = execFileSync(argv[1], argv.slice(2), { encoding: 'utf8', stdio: 'pipe', timeout: 120_000 });
    console.log(`  install-helper: ${out.trim().split('\n').at(-1)}`);
    assert.ok(existsSync(path.join(INSTALL_DIR, 'hotspot-helper')), 'the launcher is installed');
    assert.ok(existsSync(POLICY), 'the polkit action is installed');
    // Without an authentication agent pkexec cannot ask anyone, so on a headless box an administrator allows the
    // action for the developers who may use it (README: "No polkit agent"). The test is that administrator.
    writeFileSync(
      RULE,
      'polkit.addRule(function (action, subject) {\n' +
        '  if (action.id === "dev.hotspot.helper" && subject.user === "nobody") return polkit.Result.YES;\n' +
        '});\n',
    );
    execFileSync('bash', [path.join(ROOT, 'scripts/e2e/polkit.sh'), 'start'], { stdio: 'inherit' });
    await runCommand(page, 'Hotspot: Start');
    await page
      .locator('.pane-body .message', { hasText: /live \(eBPF\) · last window/i }) // a window came through
      .first()
      .waitFor({ timeout: 90_000 })
      .catch(async (e) => {
        await screenshot(page, 'install-then-start');
        throw e;
      });
    await screenshot(page, 'install-then-start');
  } finally {
    await runCommand(page, 'Hotspot: Stop').catch(() => {});
    rmSync(RULE, { force: true });
    rmSync(POLICY, { force: true });
    rmSync(INSTALL_DIR, { recursive: true, force: true });
    execFileSync('bash', [path.join(ROOT, 'scripts/e2e/polkit.sh'), 'stop'], { stdio: 'inherit' });
  }
});
