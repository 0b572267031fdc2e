// Settings cannot move a key to someone else, in the real extension host: an agent written to the
// workspace's .vscode/settings.json gets no key off the provider's official API (the same agent in
// the user's settings does), and in an untrusted workspace the workspace's agents and routes are
// ignored, the user is told once, and they apply as soon as the workspace is trusted.
// The runner starts code-server with --disable-workspace-trust, so every window is trusted; the
// untrusted case builds the host's own ConfigService with a trust source the test controls.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { silentLogger } from '../../src/core/ports';
import { ConfigService } from '../../src/host/platform/configService';
import { captureMessages, maofApi, resetSettings, simulatorSuite, waitFor } from './helpers';
import { userTurn } from '../../src/core/types';

const GATEWAY_HEADERS = { 'x-portkey-custom-host': 'https://collector.example' };

async function setWorkspaceSettings(values: Record<string, unknown>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('maof');
  for (const [key, value] of Object.entries(values)) await cfg.update(key, value, vscode.ConfigurationTarget.Workspace);
}

async function clearWorkspaceSettings(): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('maof');
  // Routes before agents, as helpers.resetSettings does.
  for (const key of ['routes', 'agents']) {
    if (cfg.inspect(key)?.workspaceValue !== undefined) await cfg.update(key, undefined, vscode.ConfigurationTarget.Workspace);
  }
}

describe('workspace settings and keys', () => {
  const { sim, address } = simulatorSuite();
  const wsAgent = (): Record<string, unknown> => ({
    id: 'ws-claude',
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    baseUrl: address().anthropicBaseUrl,
    contextWindow: 200_000,
    maxOutputTokens: 256,
    headers: GATEWAY_HEADERS,
  });

  afterEach(async () => {
    await clearWorkspaceSettings();
  });
  after(async () => {
    await resetSettings();
  });

  it('an agent from .vscode/settings.json gets no provider key on a loopback gateway; the same agent in user settings does', async () => {
    const api = await maofApi();
    const userAgents = vscode.workspace.getConfiguration('maof').inspect<unknown[]>('agents')?.globalValue ?? [];
    await setWorkspaceSettings({ agents: [...userAgents, wsAgent()], routes: { code: ['ws-claude'] } });
    await waitFor('the workspace agent in the live config', () => api.orchestrator.currentConfig.agents.some((a) => a.id === 'ws-claude'));
    const agent = api.orchestrator.currentConfig.agents.find((a) => a.id === 'ws-claude');
    assert.equal(agent?.fromWorkspace, true, 'marked as coming from the workspace');
    assert.equal(api.orchestrator.currentConfig.agents.find((a) => a.id === 'sim-claude')?.fromWorkspace, undefined, "the user's own agents, repeated by the workspace, stay the user's");

    assert.equal(await api.services.keys.hasKeyFor('ws-claude'), false, 'pickers do not claim a key the agent will not get');
    sim.reset();
    const refused = await api.orchestrator.run({ messages: [userTurn('workspace agent')], agentId: 'ws-claude' });
    assert.equal(refused.ok, false);
    assert.equal(refused.ok ? '' : refused.error.code, 'AUTH');
    assert.match(refused.ok ? '' : refused.error.message, /comes from this workspace's settings/);
    assert.equal(sim.tally().requests, 0, 'nothing was sent: the key is never put on the wire');

    // Moved to the user's settings, the same agent is the user's: the provider key goes to the loopback endpoint.
    await clearWorkspaceSettings();
    await vscode.workspace.getConfiguration('maof').update('agents', [...userAgents, wsAgent()], vscode.ConfigurationTarget.Global);
    await waitFor('the user-level agent', () => {
      const a = api.orchestrator.currentConfig.agents.find((x) => x.id === 'ws-claude');
      return a !== undefined && a.fromWorkspace === undefined;
    });
    assert.equal(await api.services.keys.hasKeyFor('ws-claude'), true);
    const answered = await api.orchestrator.run({ messages: [userTurn('user agent')], agentId: 'ws-claude' });
    assert.equal(answered.ok, true, answered.ok ? '' : answered.error.message);
    await vscode.workspace.getConfiguration('maof').update('agents', userAgents.length > 0 ? userAgents : undefined, vscode.ConfigurationTarget.Global);
  });

  it('in an untrusted workspace its agents and routes are ignored, the user is told once, and trusting it applies them', async () => {
    const granted = new vscode.EventEmitter<void>();
    let trusted = false;
    const warnings = captureMessages('showWarningMessage');
    await setWorkspaceSettings({ agents: [wsAgent()], routes: { code: ['ws-claude'] } });
    const service = new ConfigService(silentLogger, {
      get isTrusted() {
        return trusted;
      },
      onDidGrant: granted.event,
    });
    try {
      assert.equal(service.config.agents.some((a) => a.id === 'ws-claude'), false, 'the workspace agent is ignored');
      assert.deepEqual(service.config.routes.code, ['sim-gpt', 'sim-claude'], "the user's own route");
      assert.deepEqual([...service.ignoredWorkspaceSettings].sort(), ['agents', 'routes']);
      assert.equal(service.config.agents.some((a) => a.id === 'sim-gpt'), true, "the user's agents are kept");

      assert.equal(await service.reportUntrusted(), true);
      assert.equal(await service.reportUntrusted(), false, 'told once');
      const told = warnings.messages.filter((m) => m.message.includes('not trusted'));
      assert.equal(told.length, 1);
      assert.match(told[0].message, /ignores the maof\.agents, maof\.routes its settings define/);
      assert.deepEqual(told[0].items, ['Manage Workspace Trust']);

      const changed = new Promise<void>((resolve) => service.onDidChangeConfig(() => resolve()));
      trusted = true;
      granted.fire();
      await changed;
      const agent = service.config.agents.find((a) => a.id === 'ws-claude');
      assert.equal(agent?.fromWorkspace, true, 'now applied, and still marked as the workspace’s');
      assert.deepEqual(service.config.routes.code, ['ws-claude']);
      assert.deepEqual(service.ignoredWorkspaceSettings, []);
    } finally {
      service.dispose();
      granted.dispose();
      warnings.restore();
    }
  });
});
