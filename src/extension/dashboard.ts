// The dashboard webview panel: history sparklines, the preemption graph, per-core bars and the helper's own cost.
// Strict CSP (nonce'd script from dist/, styles from media/), typed messages from ../shared/dashboard.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import {
  DashboardHistory,
  type DashboardModel,
  type FromWebview,
  isFromWebview,
  type ToWebview,
} from '../shared/dashboard';
import type { Episode } from '../shared/timeline';
import type { Update } from './monitor';

export class Dashboard implements vscode.Disposable {
  static readonly viewType = 'hotspot.dashboard';
  private panel?: vscode.WebviewPanel;
  private readonly history: DashboardHistory;
  private model?: DashboardModel;
  private ready = false;
  private pendingReveal?: number;
  private pendingSection?: string;

  constructor(
    private readonly extensionUri: vscode.Uri,
    historyWindows: number,
    private readonly onMessage: (m: FromWebview) => void,
  ) {
    this.history = new DashboardHistory(historyWindows);
  }

  get visible(): boolean {
    return this.panel !== undefined;
  }

  setHistoryWindows(n: number): void {
    this.history.setMaxWindows(n);
  }

  /** Called for every window whether or not the panel is open, so history is there when it opens. */
  update(u: Update, source: string, drops: Record<string, number>, episodes: readonly Episode[]): void {
    this.model = this.history.add(u.report, u.shown, source, drops, episodes);
    this.post({ type: 'model', model: this.model });
  }

  /** Forgets the history (a new session, or Stop) and tells an open panel why it is empty. */
  reset(status: string): void {
    this.history.clear();
    this.model = undefined;
    this.post({ type: 'reset', text: status });
  }

  show(revealTgid?: number): void {
    if (this.panel) this.panel.reveal(undefined, true);
    else this.create();
    if (revealTgid !== undefined) {
      if (this.ready) this.post({ type: 'reveal', tgid: revealTgid });
      else this.pendingReveal = revealTgid;
    }
  }

  /** Opens the panel at one of its sections. */
  showSection(key: string): void {
    this.show();
    if (this.ready) this.post({ type: 'section', key });
    else this.pendingSection = key;
  }

  private create(): void {
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(
      Dashboard.viewType,
      'Hotspot Dashboard',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [media, dist], retainContextWhenHidden: true },
    );
    panel.iconPath = vscode.Uri.joinPath(media, 'hotspot.svg');
    this.panel = panel;
    this.ready = false;
    const w = panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const csp = [
      "default-src 'none'",
      `img-src ${w.cspSource} data:`,
      `style-src ${w.cspSource}`,
      `font-src ${w.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    w.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${w.asWebviewUri(vscode.Uri.joinPath(media, 'dashboard.css'))}">
<title>Hotspot Dashboard</title>
</head>
<body>
<header id="status">Waiting for the first window…</header>
<main id="root"></main>
<script type="module" nonce="${nonce}" src="${w.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'))}"></script>
</body>
</html>`;
    w.onDidReceiveMessage((m: unknown) => {
      if (!isFromWebview(m)) return; // a webview is untrusted input too
      if (m.type === 'ready') {
        this.ready = true;
        if (this.model) this.post({ type: 'model', model: this.model });
        if (this.pendingReveal !== undefined) this.post({ type: 'reveal', tgid: this.pendingReveal });
        this.pendingReveal = undefined;
        if (this.pendingSection) this.post({ type: 'section', key: this.pendingSection });
        this.pendingSection = undefined;
      } else this.onMessage(m);
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
    });
  }

  private post(m: ToWebview): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
