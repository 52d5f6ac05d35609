// The page every Hotspot webview starts from: a strict CSP (its one module script by nonce from dist/, styles and
// fonts from the extension, images only where a view draws them), one stylesheet from media/, and the view's body.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export interface WebviewPage {
  title: string;
  /** File names under media/ and dist/. */
  css: string;
  script: string;
  /** The markup the script fills in. */
  body: string;
  /** Allows webview and data: images (the dashboard's sparklines). */
  images?: boolean;
}

export function webviewHtml(w: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    ...(page.images ? [`img-src ${w.cspSource} data:`] : []),
    `style-src ${w.cspSource}`,
    `font-src ${w.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const uri = (dir: string, file: string) => w.asWebviewUri(vscode.Uri.joinPath(extensionUri, dir, file));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('media', page.css)}">
<title>${page.title}</title>
</head>
<body>
${page.body}
<script type="module" nonce="${nonce}" src="${uri('dist', page.script)}"></script>
</body>
</html>`;
}
