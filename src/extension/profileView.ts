// The profile view: a webview panel per profile (flame graph + hot functions), built by dist/profileView.js.
// Strict CSP (nonce'd script from dist/, styles from media/); the only message acted on is "open frame N", and
// only for a frame whose file is an existing regular file.
import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import type { SymbolizedProfile } from '../shared/profile/model';
import { isFromProfileView, profileView, type ToProfileView } from '../shared/profile/view';
import { webviewHtml } from './webviewHtml';

export function showProfile(
  extensionUri: vscode.Uri,
  profile: SymbolizedProfile,
  title: string,
): vscode.WebviewPanel {
  const media = vscode.Uri.joinPath(extensionUri, 'media');
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  const panel = vscode.window.createWebviewPanel(
    'hotspot.profile',
    title,
    { viewColumn: vscode.ViewColumn.Active },
    { enableScripts: true, localResourceRoots: [media, dist], retainContextWhenHidden: true },
  );
  panel.iconPath = vscode.Uri.joinPath(media, 'hotspot.svg');
  const w = panel.webview;
  w.html = webviewHtml(w, extensionUri, {
    title: 'Hotspot profile',
    css: 'profile.css',
    script: 'profileView.js',
    body: '<main id="root">Loading the profile…</main>',
  });
  w.onDidReceiveMessage(async (m: unknown) => {
    if (!isFromProfileView(m)) return;
    if (m.type === 'ready') {
      void w.postMessage({ type: 'profile', view: profileView(profile, title) } satisfies ToProfileView);
      return;
    }
    const f = profile.frames[m.frame];
    if (!f?.file || !f.line || !f.file.startsWith('/')) return;
    try {
      if (!statSync(f.file).isFile()) return;
    } catch {
      void vscode.window.showWarningMessage(`Hotspot: ${f.file} is not on this machine any more.`);
      return;
    }
    const pos = new vscode.Position(Math.max(0, f.line - 1), 0);
    await vscode.window.showTextDocument(vscode.Uri.file(f.file), {
      viewColumn: vscode.ViewColumn.Beside,
      selection: new vscode.Range(pos, pos),
    });
  });
  return panel;
}
