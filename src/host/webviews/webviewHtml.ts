// The HTML shell of MAOF's webviews: a strict CSP (no inline code, scripts only with a fresh
// nonce), assets only through asWebviewUri, and resource roots limited to the built webview
// bundles and media/.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export type WebviewName = 'chat' | 'dashboard';

/** The only folders a MAOF webview may load from. */
export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: webviewResourceRoots(extensionUri) };
}

export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

function escapeAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, name: WebviewName, title: string): string {
  const nonce = createNonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${name}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', `${name}.css`));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(webview.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(style.toString())}">
<title>${escapeAttr(title)}</title>
</head>
<body>
<div id="root" class="maof-${name}"><p class="loading">Loading…</p></div>
<script${name === 'chat' ? ' type="module"' : ''} nonce="${escapeAttr(nonce)}" src="${escapeAttr(script.toString())}"></script>
</body>
</html>`;
}
