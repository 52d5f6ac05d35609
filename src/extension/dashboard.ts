// The dashboard webview panel: history sparklines, the preemption graph, per-core bars and the helper's own cost.
// Strict CSP (nonce'd script from dist/, styles from media/), typed messages from ../shared/dashboard.
import * as vscode from 'vscode';
import {
  DashboardHistory,
  type DashboardModel,
  type FromWebview,
  isFromWebview,
  type ToWebview,
} from '../shared/presentation/dashboard';
import type { Episode } from '../shared/presentation/timeline';
import type { Update } from './monitor';
import { webviewHtml } from './webviewHtml';

export class Dashboard implements vscode.Disposable {
  static readonly viewType = 'hotspot.dashboard';
  private panel?: vscode.WebviewPanel;
  private readonly history: DashboardHistory;
  private model?: DashboardModel;
  /** The last window's model before the filter. */
  private full?: DashboardModel;
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
    // History is kept for every process in scope; a filter narrows what the panel shows, not what it remembers
    // (a filtered-out process is not "idle or exited", and its sparkline has no gap when the filter is cleared).
    // A re-publication after a filter change is the same window: no new point in the history.
    if (u.fresh || !this.full) this.full = this.history.add(u.report, u.scoped, source, drops, episodes);
    const model = { ...this.full };
    if (u.shown !== u.scoped) {
      const shown = new Set(u.shown.map((d) => d.tgid));
      model.processes = model.processes.filter((p) => shown.has(p.tgid));
      model.rows = model.rows.filter((r) => shown.has(r.tgid));
      model.totalShown = model.rows.length;
      model.edges = model.edges.filter((e) => shown.has(e.victim.tgid) || shown.has(e.aggressor.tgid));
    }
    this.model = model;
    this.post({ type: 'model', model: this.model });
  }

  /** Forgets the history (a new session, or Stop) and tells an open panel why it is empty. */
  reset(status: string): void {
    this.history.clear();
    this.model = undefined;
    this.full = undefined;
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
    w.html = webviewHtml(w, this.extensionUri, {
      title: 'Hotspot Dashboard',
      css: 'dashboard.css',
      script: 'webview.js',
      body: '<header id="status">Waiting for the first window…</header>\n<main id="root"></main>',
      images: true,
    });
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
