// Context collection: the selection, the active file with its cursor, other open documents —
// never a secret file, never output channels, never a file that is not already open.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAllEditors, maofApi, workspaceFile } from './helpers';

describe('context collection', () => {
  afterEach(closeAllEditors);

  it('sends the selection, the active file with its cursor and open tabs, but never .env', async () => {
    const api = await maofApi();
    const env = await vscode.workspace.openTextDocument(workspaceFile('.env'));
    await vscode.window.showTextDocument(env, { preview: false });
    const py = await vscode.workspace.openTextDocument(workspaceFile('src/greeting.py'));
    await vscode.window.showTextDocument(py, { preview: false, viewColumn: vscode.ViewColumn.Two });
    const ts = await vscode.workspace.openTextDocument(workspaceFile('src/math.ts'));
    const editor = await vscode.window.showTextDocument(ts, { preview: false, viewColumn: vscode.ViewColumn.One });
    editor.selection = new vscode.Selection(3, 0, 4, 0);

    const items = await api.services.collectContext();
    const kinds = items.map((i) => `${i.kind}:${i.path ?? ''}`);
    assert.deepEqual(kinds.slice(0, 2), ['selection:src/math.ts', 'activeFile:src/math.ts']);
    assert.equal(items[0].text, ts.lineAt(3).text + '\n');
    assert.equal(items[1].cursorOffset, ts.offsetAt(new vscode.Position(4, 0)));
    assert.ok(kinds.includes('visibleEditor:src/greeting.py'), kinds.join(', '));
    assert.ok(!items.some((i) => i.path?.endsWith('.env') || i.text.includes('FAKEfixtureKEY')), 'the .env file is never collected');

    const withoutSelection = await api.services.collectContext({ includeSelection: false });
    assert.ok(!withoutSelection.some((i) => i.kind === 'selection'));
  });
});
