// Hotspot's entry point: wires the session (Monitor) to the views (tree, status bar, dashboard) and the commands.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isRoot } from '../host/environment';
import type { Failure } from '../host/supervisor';
import { type Config, DEFAULT_CONFIG } from '../shared/diagnosis/config';
import type { Diagnosis } from '../shared/diagnosis/model';
import { isUrgent } from '../shared/diagnosis/rules/default';
import { timelineCsv } from '../shared/presentation/timeline';
import { CommandLines, commandLineText, scriptName } from './commandLine';
import { Dashboard } from './dashboard';
import { DebuggeeTracker, isExtensionTooling } from './debuggee';
import { Monitor } from './monitor';
import { readNice } from './nice';
import { Onboarding } from './onboarding';
import { Owners } from './owners';
import { renice, sendSignal } from './processActions';
import { registerProfileCommand } from './profileCommand';
import { reportText } from './report';
import { plainLines } from './safeText';
import { type ProcessFilter, WorkspaceScope } from './scope';
import { readSettings, type Settings } from './settings';
import { AlertStatusItem } from './statusBar';
import { Thresholds } from './thresholds';
import { DiagnosesTree, type Identity, type Node } from './tree';
import { STATE_TEXT, ViewStatus } from './viewStatus';

/** What activate() returns: the pieces the extension-host tests drive and inspect. */
export interface HotspotApi {
  monitor: Monitor;
  tree: DiagnosesTree;
  alert: AlertStatusItem;
  dashboard: Dashboard;
  scope: WorkspaceScope;
  owners: Owners;
  config(): Config;
  /** Reloads the thresholds file; returns the error message when it is rejected (the old config stays). */
  reloadConfig(): Promise<string | undefined>;
}

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
  void thresholds.reload('activate');
  const commandLines = new CommandLines();
  const owners = new Owners();
  /** Command line and owner of a live process (a replay's pids are another machine's: nothing to read). */
  const identify = (d: Diagnosis): Identity => {
    if (m.state === 'replaying' || m.showsFinishedReplay) return {};
    const argv = commandLines.argv(d.tgid, d.comm);
    return {
      script: argv ? scriptName(argv) : undefined,
      commandLine: argv ? commandLineText(argv) : undefined,
      owner: owners.of(d.tgid),
      nice: readNice(d.tgid),
      editor: m.last?.editor.has(d.tgid),
    };
  };
  const tree = new DiagnosesTree(() => settings.topK, identify);
  const view = vscode.window.createTreeView('hotspot.diagnoses', {
    treeDataProvider: tree,
    showCollapseAll: true,
  });
  const alert = new AlertStatusItem();
  const dashboard = new Dashboard(ctx.extensionUri, settings.historyWindows, (msg) => {
    if (msg.type === 'filter') filterTo({ roots: new Set([msg.tgid]), label: `process ${msg.tgid}` });
    else if (msg.type === 'reveal') void revealProcess(msg.tgid);
  });
  const debuggees = new DebuggeeTracker(
    (pid, session) => {
      scope.addRoot(pid);
      owners.addDebuggee(pid, session);
    },
    (pid) => {
      scope.removeRoot(pid);
      owners.removeRoot(pid);
    },
  );

  const setContext = (key: string, value: boolean) =>
    void vscode.commands.executeCommand('setContext', key, value);
  const status = new ViewStatus(view, m, tree, () => settings);
  const updateViewText = () => status.render();
  const filterTo = (f: ProcessFilter | undefined) => {
    m.setFilter(f);
    setContext('hotspot.filtered', f !== undefined);
    updateViewText();
  };

  m.onDidUpdate((u) => {
    if (u.fresh) owners.newWindow();
    tree.update(u);
    alert.update(u, m.timeline.lastEndedOom(), (d) => isUrgent(d, m.thresholds));
    dashboard.update(u, STATE_TEXT[m.state], m.drops, m.timeline.episodes);
    status.windowArrived(u.fresh);
  });
  m.onDidChangeState((s) => {
    setContext('hotspot.running', s !== 'stopped');
    setContext('hotspot.replaying', s === 'replaying' || m.showsFinishedReplay);
    // A finished replay leaves its last window on screen; Stop and failures clear the views.
    if (s === 'stopped' && !m.showsFinishedReplay) {
      tree.update(undefined);
      alert.update(undefined);
      dashboard.reset('Stopped.');
    }
    if (s === 'starting' || s === 'replaying') dashboard.reset(`${STATE_TEXT[s]}`); // a new session starts empty
    status.sessionChanged();
  });
  m.onDidChangeRecording((on) => setContext('hotspot.recording', on));
  const onboarding = new Onboarding(ctx, log, () => vscode.commands.executeCommand('hotspot.start'));
  m.onDidFail((f: Failure) => void onboarding.failed(f));

  const nodeTgid = (n?: Node): number | undefined => (n?.kind === 'process' ? n.d.tgid : alert.current?.tgid);
  const cmd = (id: string, fn: (...args: never[]) => unknown) =>
    ctx.subscriptions.push(vscode.commands.registerCommand(`hotspot.${id}`, fn));

  registerProfileCommand(ctx, () => m.helper, log);
  cmd('start', () => {
    thresholds.reload('start'); // a config broken since activation is reported now, where it is noticed
    m.start();
  });
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
    for (const p of pids) {
      scope.addRoot(p);
      owners.addDebuggee(p, s.name);
    }
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
    const last = m.last?.report;
    const who = identify(n.d);
    await vscode.env.clipboard.writeText(
      plainLines(
        // no control characters in a paste
        reportText(n.d, {
          ts: last?.ts ?? Date.now(),
          seq: last?.seq ?? 0,
          intervalMs: settings.intervalMs,
          commandLine: who.commandLine,
          owner: who.owner?.label,
        }),
      ),
    );
    vscode.window.setStatusBarMessage('Hotspot: report copied', 3000);
  });
  const protectedPids = () => [process.pid, m.hello?.pid];
  const afterAction = (done: boolean, d: Diagnosis) => {
    if (done) commandLines.forget(d.tgid);
  };
  cmd('terminateProcess', async (n?: Node) => {
    if (n?.kind === 'process')
      afterAction(await sendSignal(n.d, 'SIGTERM', identify(n.d).commandLine, protectedPids()), n.d);
  });
  cmd('killProcess', async (n?: Node) => {
    if (n?.kind === 'process')
      afterAction(await sendSignal(n.d, 'SIGKILL', identify(n.d).commandLine, protectedPids()), n.d);
  });
  cmd('reniceProcess', async (n?: Node) => {
    if (n?.kind === 'process') await renice(n.d, identify(n.d).commandLine, protectedPids());
  });
  cmd('revealTerminal', (n?: Node) => {
    if (n?.kind !== 'process') return;
    const o = owners.of(n.d.tgid);
    if (o?.kind === 'terminal') o.terminal.show();
    else
      void vscode.window.showInformationMessage(
        `Hotspot: ${n.d.comm} (${n.d.tgid}) was not started from a VS Code terminal${o ? ` (it runs under ${o.label})` : ''}.`,
      );
  });
  /** Selects a process in the tree (status-bar click, an aggressor row, the dashboard). */
  const revealProcess = async (tgid: number) => {
    const node = tree.processNode(tgid);
    if (node) await view.reveal(node, { select: true, focus: true, expand: true });
    else {
      await vscode.commands.executeCommand('hotspot.diagnoses.focus');
      vscode.window.setStatusBarMessage(
        `Hotspot: process ${tgid} is not in the view (idle, exited or filtered out)`,
        4000,
      );
    }
  };
  cmd('revealAlert', async () => {
    const d = alert.current;
    if (d) await revealProcess(d.tgid);
  });
  cmd('revealProcess', (tgid?: number | Node) => {
    const t = typeof tgid === 'number' ? tgid : tgid?.kind === 'detail' ? tgid.tgid : undefined;
    if (t) return revealProcess(t);
  });
  cmd('showTimeline', () => dashboard.showSection('timeline'));
  cmd('exportTimeline', async (file?: string) => {
    if (!m.timeline.episodes.length)
      return void vscode.window.showInformationMessage('Hotspot: no alert in this session yet.');
    if (typeof file !== 'string') {
      const uri = await vscode.window.showSaveDialog({
        title: 'Export the alert timeline to',
        filters: { CSV: ['csv'] },
        defaultUri: vscode.Uri.file(
          path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', 'hotspot-timeline.csv'),
        ),
      });
      file = uri?.fsPath;
    }
    if (!file) return;
    writeFileSync(file, timelineCsv(m.timeline.episodes));
    vscode.window.setStatusBarMessage(`Hotspot: alert timeline written to ${file}`, 4000);
  });
  cmd('openConfig', () => thresholds.open());
  cmd('generateConfig', () => thresholds.generate());
  cmd('installHelper', () => onboarding.install());
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
      await m.replay(file, Math.min(settings.intervalMs, 1000));
    } catch (e) {
      void vscode.window.showErrorMessage(`Hotspot: cannot replay: ${(e as Error).message}`);
    }
  });

  ctx.subscriptions.push(
    onboarding,
    status,
    owners,
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
      if (
        e.affectsConfiguration('hotspot.configPath') ||
        e.affectsConfiguration('hotspot.thresholds') ||
        e.affectsConfiguration('hotspot.profile')
      )
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
  setContext('hotspot.isRoot', isRoot()); // root runs the helper directly: no install to offer
  setContext('hotspot.filtered', false);
  setContext('hotspot.recording', false);
  log.info(`Hotspot activated (scope: ${settings.scope}, window ${settings.intervalMs} ms)`);

  return {
    monitor: m,
    tree,
    alert,
    dashboard,
    scope,
    owners,
    config: () => thresholds.current,
    reloadConfig: () => thresholds.reload('settings'),
  };
}

export function deactivate(): void {
  // Disposing the Monitor (a subscription) stops the helper: stdin EOF + SIGTERM, and PDEATHSIG as a backstop.
}
