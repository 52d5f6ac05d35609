// Hotspot's entry point: wires the session (Monitor) to the views (tree, status bar, dashboard) and the commands.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type Config, DEFAULT_CONFIG } from '../shared/config';
import type { Failure } from '../shared/supervisor';
import { Dashboard } from './dashboard';
import { DebuggeeTracker, isExtensionTooling } from './debuggee';
import { InstallError, installHelper } from './install';
import { Monitor, type MonitorState } from './monitor';
import { plainLines } from './safeText';
import { type ProcessFilter, WorkspaceScope } from './scope';
import { readSettings, type Settings } from './settings';
import { AlertStatusItem } from './statusBar';
import { Thresholds } from './thresholds';
import { DiagnosesTree, type Node, reportText } from './tree';

/** What activate() returns: the pieces the extension-host tests drive and inspect. */
export interface HotspotApi {
  monitor: Monitor;
  tree: DiagnosesTree;
  alert: AlertStatusItem;
  dashboard: Dashboard;
  scope: WorkspaceScope;
  config(): Config;
  /** Reloads the thresholds file; returns the error message when it is rejected (the old config stays). */
  reloadConfig(): Promise<string | undefined>;
}

const STATE_TEXT: Record<MonitorState, string> = {
  stopped: 'stopped',
  starting: 'starting the eBPF helper…',
  running: 'live (eBPF)',
  restarting: 'restarting the helper…',
  degraded: 'degraded mode (/proc)',
  replaying: 'replaying a recorded session',
};

export function activate(ctx: vscode.ExtensionContext): HotspotApi {
  const log = vscode.window.createOutputChannel('Hotspot', { log: true });
  let settings: Settings = readSettings();
  const scope = new WorkspaceScope();
  const m = new Monitor(ctx.extensionPath, log, scope, settings, DEFAULT_CONFIG);
  const thresholds = new Thresholds(
    log,
    () => settings,
    (c) => m.setConfig(c),
  );
  void thresholds.reload();
  const tree = new DiagnosesTree(() => settings.topK);
  const view = vscode.window.createTreeView('hotspot.diagnoses', {
    treeDataProvider: tree,
    showCollapseAll: true,
  });
  const alert = new AlertStatusItem();
  const dashboard = new Dashboard(ctx.extensionUri, settings.historyWindows, (msg) => {
    if (msg.type === 'filter') filterTo({ roots: new Set([msg.tgid]), label: `process ${msg.tgid}` });
  });
  const debuggees = new DebuggeeTracker(
    (pid) => scope.addRoot(pid),
    (pid) => scope.removeRoot(pid),
  );

  const setContext = (key: string, value: boolean) =>
    void vscode.commands.executeCommand('setContext', key, value);
  const updateViewText = () => {
    const f = m.filter;
    view.description = f ? `filtered: ${f.label}` : m.state === 'stopped' ? undefined : STATE_TEXT[m.state];
    const lines: string[] = [];
    if (m.state === 'degraded')
      lines.push(`Degraded mode from /proc (no preemption data): ${m.degradedReason ?? ''}`);
    if (m.state === 'restarting')
      lines.push('The helper stopped unexpectedly and is being restarted; see the log.');
    if (f) lines.push(`Showing only ${f.label} and its descendants. Run "Hotspot: Clear Filter" to see all.`);
    if (m.state !== 'stopped' && m.last && m.last.shown.length === 0 && !f)
      lines.push(
        settings.scope === 'workspace'
          ? 'No process of this workspace was active in the last window.'
          : 'No active process in the last window.',
      );
    view.message = lines.join(' ') || undefined;
  };
  const filterTo = (f: ProcessFilter | undefined) => {
    m.setFilter(f);
    setContext('hotspot.filtered', f !== undefined);
    updateViewText();
  };

  m.onDidUpdate((u) => {
    tree.update(u);
    alert.update(u);
    dashboard.update(u, STATE_TEXT[m.state], m.drops);
    updateViewText();
  });
  m.onDidChangeState((s) => {
    setContext('hotspot.running', s !== 'stopped');
    // A finished replay leaves its last window on screen; Stop and failures clear the views.
    if (s === 'stopped' && !m.showsFinishedReplay) {
      tree.update(undefined);
      alert.update(undefined);
      dashboard.reset('Stopped.');
    }
    if (s === 'starting' || s === 'replaying') dashboard.reset(`${STATE_TEXT[s]}`); // a new session starts empty
    updateViewText();
  });
  m.onDidChangeRecording((on) => setContext('hotspot.recording', on));
  let lastWarning = 0;
  m.onDidFail((f: Failure) => void notifyFailure(f));
  const notifyFailure = async (f: Failure) => {
    const text = `Hotspot: ${f.message} ${f.hint}`;
    if (!f.fatal) {
      if (Date.now() - lastWarning < 30_000) return; // restarts are logged; do not stack toasts
      lastWarning = Date.now();
      const c = await vscode.window.showWarningMessage(text, 'Show Log');
      if (c) log.show();
      return;
    }
    const actions = f.code === 'NOT_INSTALLED' ? ['Install Helper', 'Show Log'] : ['Show Log'];
    const c = await vscode.window.showErrorMessage(text, ...actions);
    if (c === 'Show Log') log.show();
    else if (c === 'Install Helper') void vscode.commands.executeCommand('hotspot.installHelper');
  };

  const nodeTgid = (n?: Node): number | undefined => (n?.kind === 'process' ? n.d.tgid : alert.current?.tgid);
  const cmd = (id: string, fn: (...args: never[]) => unknown) =>
    ctx.subscriptions.push(vscode.commands.registerCommand(`hotspot.${id}`, fn));

  cmd('start', () => m.start());
  cmd('stop', () => m.stop());
  cmd('showDashboard', () => dashboard.show());
  cmd('showLog', () => log.show());
  cmd('filterToDebugged', () => {
    const s = vscode.debug.activeDebugSession;
    if (!s) return void vscode.window.showInformationMessage('Hotspot: no debug session is active.');
    const pids = debuggees.find(s);
    if (!pids.length)
      return void vscode.window.showWarningMessage(
        `Hotspot: the debug adapter of "${s.name}" did not say which process it debugs.`,
      );
    for (const p of pids) scope.addRoot(p);
    filterTo({
      roots: new Set(pids),
      label: `debug "${s.name}" (${pids.join(', ')})`,
      hide: isExtensionTooling,
      debugSession: s.id,
    });
  });
  cmd('clearFilter', () => filterTo(undefined));
  cmd('filterToProcess', (n?: Node) => {
    const tgid = nodeTgid(n);
    if (tgid && n?.kind === 'process') filterTo({ roots: new Set([tgid]), label: `${n.d.comm} (${tgid})` });
  });
  cmd('revealInDashboard', (n?: Node) => dashboard.show(nodeTgid(n)));
  cmd('copyReport', async (n?: Node) => {
    if (n?.kind !== 'process') return;
    await vscode.env.clipboard.writeText(plainLines(reportText(n.d))); // no control characters in a paste
    vscode.window.setStatusBarMessage('Hotspot: report copied', 3000);
  });
  cmd('revealAlert', async () => {
    const d = alert.current;
    if (!d) return;
    const node = tree.processNode(d.tgid);
    if (node) await view.reveal(node, { select: true, focus: true, expand: true });
    else await vscode.commands.executeCommand('hotspot.diagnoses.focus');
  });
  cmd('openConfig', () => thresholds.open());
  cmd('generateConfig', () => thresholds.generate());
  cmd('installHelper', () =>
    vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Hotspot: installing the privileged helper…' },
      async () => {
        try {
          const r = await installHelper({ extensionPath: ctx.extensionPath, log });
          void vscode.window.showInformationMessage(
            `Hotspot: helper installed in ${r.installDir}; its ${r.verifiedFiles} files match the manifest built at ` +
              `packaging (sha256 ${r.manifestSha256}).`,
          );
        } catch (e) {
          const hint = e instanceof InstallError ? ` ${e.hint}` : '';
          log.error(`install failed: ${(e as Error).message}`);
          const c = await vscode.window.showErrorMessage(
            `Hotspot: ${(e as Error).message}${hint}`,
            'Show Log',
          );
          if (c) log.show();
        }
      },
    ),
  );
  cmd('recordSession', async () => {
    const uri = await vscode.window.showSaveDialog({
      title: 'Record the Hotspot session to',
      filters: { 'Hotspot session': ['jsonl'] },
      defaultUri: vscode.Uri.file(
        path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', 'hotspot-session.jsonl'),
      ),
    });
    if (uri && !m.startRecording(uri.fsPath))
      void vscode.window.showWarningMessage('Hotspot: nothing to record; start Hotspot first.');
  });
  cmd('stopRecording', () => m.stopRecording());
  cmd('replaySession', async (file?: string) => {
    if (typeof file !== 'string') {
      const picked = await vscode.window.showOpenDialog({
        title: 'Replay a recorded Hotspot session',
        filters: { 'Hotspot session': ['jsonl'] },
      });
      file = picked?.[0]?.fsPath;
    }
    if (!file) return;
    try {
      m.replay(file, Math.min(settings.intervalMs, 1000));
    } catch (e) {
      void vscode.window.showErrorMessage(`Hotspot: cannot replay: ${(e as Error).message}`);
    }
  });

  ctx.subscriptions.push(
    view,
    alert,
    dashboard,
    scope,
    debuggees,
    m,
    thresholds,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('hotspot')) return;
      settings = readSettings();
      dashboard.setHistoryWindows(settings.historyWindows);
      if (e.affectsConfiguration('hotspot.configPath') || e.affectsConfiguration('hotspot.thresholds'))
        void thresholds.reload();
      m.setSettings(settings);
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      settings = readSettings();
      void thresholds.reload();
    }),
    vscode.debug.onDidTerminateDebugSession((s) => {
      const f = m.filter;
      if (!f?.debugSession) return;
      // The filtered session, or its parent (js-debug runs the program in a child session), has ended.
      for (let x: vscode.DebugSession | undefined = s; x; x = x.parentSession)
        if (x.id === f.debugSession) {
          for (const pid of f.roots) scope.removeRoot(pid);
          return filterTo(undefined);
        }
    }),
    log, // last: the others log while they stop
  );
  setContext('hotspot.running', false);
  setContext('hotspot.filtered', false);
  setContext('hotspot.recording', false);
  log.info(`Hotspot activated (scope: ${settings.scope}, window ${settings.intervalMs} ms)`);

  return {
    monitor: m,
    tree,
    alert,
    dashboard,
    scope,
    config: () => thresholds.current,
    reloadConfig: () => thresholds.reload(),
  };
}

export function deactivate(): void {
  // Disposing the Monitor (a subscription) stops the helper: stdin EOF + SIGTERM, and PDEATHSIG as a backstop.
}
