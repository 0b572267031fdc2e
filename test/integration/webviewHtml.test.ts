// The HTML shell both MAOF webviews load: strict CSP, a fresh nonce on the one script, every asset
// through asWebviewUri, and resource roots limited to the built bundles and media/.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { webviewHtml, webviewOptions } from '../../src/host/webviews/webviewHtml';

const extensionUri = vscode.Uri.file('/ext');
const converted: string[] = [];
const fakeWebview = {
  cspSource: 'https://webview.test',
  asWebviewUri: (uri: vscode.Uri) => {
    converted.push(uri.path);
    return vscode.Uri.parse(`https://webview.test${uri.path}`);
  },
} as unknown as vscode.Webview;

describe('webview HTML', () => {
  it('has a strict CSP whose nonce is on the only script, and loads assets through asWebviewUri', () => {
    converted.length = 0;
    const html = webviewHtml(fakeWebview, extensionUri, 'chat', 'MAOF Chat');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replace(/&#39;|&apos;/g, "'");
    assert.ok(csp, 'a CSP meta tag');
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && nonce.length >= 22, `a 16-byte base64 nonce, got ${nonce}`);
    assert.equal(
      csp,
      `default-src 'none'; img-src https://webview.test data:; style-src https://webview.test; script-src 'nonce-${nonce}'; font-src https://webview.test`,
    );
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    assert.equal(scripts.length, 1, 'one script');
    assert.match(scripts[0], new RegExp(`nonce="${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}"`));
    assert.match(scripts[0], /src="https:\/\/webview\.test\/ext\/dist\/webview\/chat\.js"/);
    assert.match(html, /<link rel="stylesheet" href="https:\/\/webview\.test\/ext\/media\/chat\.css">/);
    assert.deepEqual(converted.sort(), ['/ext/dist/webview/chat.js', '/ext/media/chat.css']);
    assert.doesNotMatch(html, /<style|\sstyle="|\son\w+="/i, 'no inline styles or handlers');
  });

  it('makes a new nonce every time', () => {
    const nonces = new Set([1, 2, 3].map(() => /nonce="([^"]+)"/.exec(webviewHtml(fakeWebview, extensionUri, 'dashboard', 'x'))?.[1]));
    assert.equal(nonces.size, 3);
  });

  it('limits local resources to dist/webview and media', () => {
    const options = webviewOptions(extensionUri);
    assert.equal(options.enableScripts, true);
    assert.deepEqual(options.localResourceRoots?.map((u) => u.path), ['/ext/dist/webview', '/ext/media']);
  });
});
