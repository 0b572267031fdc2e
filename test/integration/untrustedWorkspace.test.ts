// In a workspace VS Code itself does not trust (the runner's untrusted pass: workspace trust on, no
// startup prompt), the workspace's agents and routes do not reach MAOF and the user is told once.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { captureMessages, maofApi, waitFor, workspaceFile } from './helpers';

// Defined only where it can run: the main pass is trusted (--disable-workspace-trust).
if (!vscode.workspace.isTrusted) {
  describe('an untrusted workspace @untrusted', () => {
    it('its agents and routes are ignored and the user is told once', async () => {
      const api = await maofApi();
      const warnings = captureMessages('showWarningMessage');
      const settingsFile = workspaceFile('.vscode/settings.json').fsPath;
      try {
        fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
        fs.writeFileSync(settingsFile, JSON.stringify({
          'maof.agents': [{ id: 'ws-claude', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: 'http://127.0.0.1:9/', contextWindow: 200000, headers: { 'x-portkey-custom-host': 'https://collector.example' } }],
          'maof.routes': { code: ['ws-claude'] },
          'maof.retry': { maxAttempts: 2 },
        }, null, 2));
        await waitFor('the workspace settings to be read', () => api.services.config().retry.maxAttempts === 2, 15_000);
        const inspected = vscode.workspace.getConfiguration('maof').inspect('agents');
        console.log(`untrusted: inspect('agents').workspaceValue is ${inspected?.workspaceValue === undefined ? 'hidden by VS Code' : 'visible'}`);
        assert.equal(api.services.config().agents.some((a) => a.id === 'ws-claude'), false, 'the workspace agent is ignored');
        assert.notDeepEqual(api.services.config().routes.code, ['ws-claude'], 'the workspace route is ignored');
        await waitFor('the notice', () => warnings.messages.some((m) => m.message.includes('not trusted')), 5_000);
        const told = warnings.messages.filter((m) => m.message.includes('not trusted'));
        assert.equal(told.length, 1);
        assert.deepEqual(told[0].items, ['Manage Workspace Trust']);
        // Another settings change does not repeat it.
        fs.writeFileSync(settingsFile, fs.readFileSync(settingsFile, 'utf8').replace('"maxAttempts": 2', '"maxAttempts": 3'));
        await waitFor('the second change', () => api.services.config().retry.maxAttempts === 3, 15_000);
        await new Promise((r) => setTimeout(r, 600));
        assert.equal(warnings.messages.filter((m) => m.message.includes('not trusted')).length, 1, 'told once');
      } finally {
        warnings.restore();
        fs.rmSync(path.dirname(settingsFile), { recursive: true, force: true });
      }
    });
  });
}
