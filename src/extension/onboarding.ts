// The first minutes: installing the helper wherever VS Code runs, and saying calmly what happens when it cannot.
// - No polkit agent (Remote-SSH, WSL, code-server, headless) or no pkexec: offer the one sudo command to run in a
//   terminal, with "Run in Terminal" / "Copy", and notice when the install has happened.
// - A container without BPF capabilities: say so instead of a generic failure; installing would not help.
// - Degraded (/proc) mode: information, once per VS Code session (not at every Start), with "Don't Show Again". Root is never offered an
//   install (it runs the helper directly).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { bpfImpossible, isRoot, sudoInstallCommand } from '../host/environment';
import { InstallError, installHelper } from '../host/install';
import { DEFAULT_INSTALL_DIR, findRootNode, LAUNCHER, unsafeForRoot } from '../host/rootPath';
import { DEGRADABLE, type Failure } from '../host/supervisor';

const HIDE_DEGRADED = 'hotspot.hideDegradedNotice';
/** pkexec cannot ask for a password here: installing through it is pointless, sudo in a terminal is not. */
const NO_AGENT = /pkexec is not installed|could not reach polkit|authentication agent|no polkit/i;

export class Onboarding implements vscode.Disposable {
  private announcedDegraded = false;
  private lastWarning = 0;
  private poll?: NodeJS.Timeout;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly start: () => void,
  ) {}

  async failed(f: Failure): Promise<void> {
    if (!f.fatal) {
      if (Date.now() - this.lastWarning < 30_000) return; // restarts are logged; do not stack toasts
      this.lastWarning = Date.now();
      if (
        (await vscode.window.showWarningMessage(`Hotspot: ${f.message} ${f.hint}`, 'Show Log')) === 'Show Log'
      )
        this.log.show();
      return;
    }
    if (DEGRADABLE.has(f.code)) return this.degraded(f);
    const c = await vscode.window.showErrorMessage(`Hotspot: ${f.message} ${f.hint}`, 'Show Log');
    if (c) this.log.show();
  }

  /** The helper cannot run, so Hotspot carries on from /proc: say why and what would help, once. */
  private async degraded(f: Failure): Promise<void> {
    if (this.announcedDegraded || this.ctx.globalState.get<boolean>(HIDE_DEGRADED)) return;
    this.announcedDegraded = true;
    const impossible = bpfImpossible();
    let text: string;
    const actions: string[] = [];
    if (impossible)
      text = `Hotspot runs from /proc (CPU, faults, RSS; no preemption data). ${impossible} Give it --cap-add BPF --cap-add PERFMON (or --privileged) for full data.`;
    else if (f.code === 'NOT_INSTALLED') {
      text =
        "Hotspot runs from /proc (CPU, faults, RSS; no preemption data) until its eBPF helper is installed. Installing asks for an administrator's password once.";
      if (!isRoot()) actions.push('Install Helper');
    } else if (NO_AGENT.test(f.message)) {
      text = `Hotspot runs from /proc (no preemption data): pkexec cannot ask for your password here (${f.message})`;
    } else text = `Hotspot runs from /proc (no preemption data): ${f.message}`;
    actions.push('Show Log', "Don't Show Again");
    const c = await vscode.window.showInformationMessage(text, ...actions);
    if (c === 'Install Helper') await this.install();
    else if (c === 'Show Log') this.log.show();
    else if (c === "Don't Show Again") await this.ctx.globalState.update(HIDE_DEGRADED, true);
  }

  /** Install Helper: pkexec when an agent can ask; otherwise the sudo command for a terminal. */
  async install(): Promise<void> {
    const impossible = bpfImpossible();
    if (impossible) {
      void vscode.window.showInformationMessage(
        `Hotspot: ${impossible} Installing the helper would not help.`,
      );
      return;
    }
    // The spinner covers the install only; what follows (an error, an offer) is not "installing…" any more.
    let error: Error | undefined;
    let installedIn = '';
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Hotspot: installing the privileged helper…' },
      async () => {
        try {
          const r = await installHelper({ extensionPath: this.ctx.extensionPath, log: this.log });
          installedIn = `${r.installDir}; its ${r.verifiedFiles} files match the manifest built at packaging (sha256 ${r.manifestSha256})`;
        } catch (e) {
          error = e as Error;
        }
      },
    );
    if (!error) {
      const c = await vscode.window.showInformationMessage(
        `Hotspot: helper installed in ${installedIn}.`,
        'Start Hotspot',
      );
      if (c) this.start();
      return;
    }
    const err = error as Error;
    this.log.error(`install failed: ${err.message}`);
    if (NO_AGENT.test(err.message)) return this.offerTerminal(err.message);
    const hint = err instanceof InstallError ? ` ${err.hint}` : '';
    const c = await vscode.window.showErrorMessage(`Hotspot: ${err.message}${hint}`, 'Show Log');
    if (c) this.log.show();
  }

  /** "Run this in a terminal": the one sudo command, runnable or copyable. */
  async offerTerminal(why: string): Promise<void> {
    const command = sudoInstallCommand(this.ctx.extensionPath, findRootNode());
    const c = await vscode.window.showWarningMessage(
      `Hotspot: pkexec cannot ask for your password here: ${why.replace(/\.$/, '')}. Install the helper from a terminal instead: ${command}`,
      'Run in Terminal',
      'Copy',
    );
    if (c === 'Copy') {
      await vscode.env.clipboard.writeText(command);
      vscode.window.setStatusBarMessage('Hotspot: install command copied', 4000);
    } else if (c === 'Run in Terminal') {
      const t = vscode.window.createTerminal({ name: 'Hotspot: install helper' });
      t.show();
      t.sendText(command, true);
    } else return;
    this.waitForInstall();
  }

  /** Notices the terminal install (the launcher appears, root-owned) and offers to start. */
  private waitForInstall(): void {
    clearInterval(this.poll);
    const launcher = path.join(DEFAULT_INSTALL_DIR, LAUNCHER);
    const until = Date.now() + 10 * 60_000;
    this.poll = setInterval(() => {
      if (Date.now() > until) return clearInterval(this.poll);
      if (unsafeForRoot(launcher)) return;
      clearInterval(this.poll);
      void vscode.window
        .showInformationMessage('Hotspot: the helper is installed.', 'Start Hotspot')
        .then((c) => c && this.start());
    }, 2000);
  }

  dispose(): void {
    clearInterval(this.poll);
  }
}
