// Settings: an invalid value is named in ONE warning (with "Open Settings"), only that field falls
// back to its default, the same problem is not reported again, and the live orchestrator follows.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { captureMessages, maofApi, resetSettings, setSettings, waitFor } from './helpers';
import { userTurn } from '../../src/core/types';
import { COMMANDS } from '../../src/host/platform/ids';

describe('settings', () => {
  afterEach(async () => {
    await resetSettings();
  });

  it('names an invalid setting once and falls back field by field', async () => {
    const api = await maofApi();
    const warnings = captureMessages('showWarningMessage');
    try {
      await setSettings({ retry: { maxAttempts: 0, baseDelayMs: 123, maxDelayMs: 4_000 } });
      await waitFor('the retry settings to be applied', () => api.services.config().retry.baseDelayMs === 123);
      await waitFor('the warning', () => warnings.messages.length > 0);

      const config = api.services.config();
      assert.equal(config.retry.maxAttempts, 3, 'the invalid field uses its default');
      assert.equal(config.retry.maxDelayMs, 4_000, 'the valid fields next to it are kept');
      assert.equal(api.orchestrator.currentConfig.retry.baseDelayMs, 123, 'the orchestrator got the new config');

      const [warning] = warnings.messages;
      assert.match(warning.message, /maof\.retry\.maxAttempts/);
      assert.match(warning.message, /using the default/);
      assert.deepEqual(warning.items, ['Open Settings']);
      assert.ok(api.services.configIssues().some((i) => i.path === 'retry.maxAttempts'));

      // An unrelated change re-reads the settings but must not repeat the same warning.
      await setSettings({ cache: { enabled: false } });
      await waitFor('the cache setting', () => api.services.config().cache.enabled === false);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(warnings.messages.length, 1, `warned again: ${warnings.messages.map((m) => m.message).join(' | ')}`);

      // A new, different problem is reported, naming only the new setting.
      await setSettings({ budget: { monthlyUsd: -5 } });
      await waitFor('the second warning', () => warnings.messages.length === 2);
      assert.match(warnings.messages[1].message, /maof\.budget\.monthlyUsd/);
      assert.doesNotMatch(warnings.messages[1].message, /maxAttempts/);
      assert.equal(api.services.config().budget.monthlyUsd, undefined);
    } finally {
      warnings.restore();
    }
  });

  it('drops an unknown agent from a route and keeps the rest of the route', async () => {
    const api = await maofApi();
    const warnings = captureMessages('showWarningMessage');
    try {
      await setSettings({ routes: { code: ['no-such-agent', 'gpt-4.1'] } });
      await waitFor('the new route', () => api.services.config().routes.code?.[0] === 'gpt-4.1');
      assert.deepEqual(api.orchestrator.currentConfig.routes.code, ['gpt-4.1']);
      await waitFor('the warning', () => warnings.messages.length > 0);
      assert.match(warnings.messages[0].message, /maof\.routes\.code/);
      assert.match(warnings.messages[0].message, /no-such-agent/);
    } finally {
      warnings.restore();
    }
  });

  it('an agent of unknown price on a remote endpoint: warned once by name, listed by Diagnose, refused under a budget', async () => {
    const api = await maofApi();
    const warnings = captureMessages('showWarningMessage');
    try {
      const gateway = { id: 'team-gw', provider: 'openai', model: 'team-smart', baseUrl: 'https://gateway.example.com/v1', contextWindow: 128_000 };
      await setSettings({ agents: [gateway], budget: { monthlyUsd: 20 } });
      await waitFor('the gateway agent', () => api.orchestrator.currentConfig.agents.some((a) => a.id === 'team-gw'));
      // The OpenAI key is never sent to a hosted gateway, so Diagnose must not count it for team-gw.
      await api.services.extensionContext.secrets.store('maof.apiKey.openai', 'sk-test-openai-provider-0123456789');
      await waitFor('the provider key to be read', async () => api.services.keys.hasKeyFor('gpt-4.1'));
      assert.equal(await api.services.keys.hasKeyFor('team-gw'), false, 'a provider-wide key does not count for a hosted gateway');
      // Its own key, so that the price, not a missing key, is what stops it.
      await api.services.extensionContext.secrets.store('maof.apiKey.agent.team-gw', 'sk-team-gw-0123456789abcdef');
      const gwAgent = api.orchestrator.currentConfig.agents.find((a) => a.id === 'team-gw')!;
      await waitFor('the agent key to reach the orchestrator', async () => (await api.keyFingerprint(gwAgent.id)) !== undefined);
      await waitFor('the warning', () => warnings.messages.length > 0);
      assert.match(warnings.messages[0].message, /maof\.agents\.team-gw\.pricing/);
      assert.match(warnings.messages[0].message, /set pricing for agent "team-gw"/);

      const r = await api.orchestrator.run({ messages: [userTurn('hello')], agentId: 'team-gw', task: 'writing' });
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.error.code, 'CONFIG');
        assert.match(r.error.message, /set pricing for agent "team-gw"/);
      }

      const doc = await vscode.commands.executeCommand<vscode.TextDocument | undefined>(COMMANDS.diagnose, { connectivity: false });
      assert.ok(doc);
      const text = doc.getText();
      assert.match(text, /- \*\*team-gw\*\* — team-smart \(OpenAI, custom endpoint\)\s+key set · \*\*price unknown\*\*/);
      assert.match(text, /## Settings problems\n\n- maof\.agents\.team-gw\.pricing — no known price/);
      assert.ok(!text.includes('gateway.example.com'), 'Diagnose never shows an endpoint');

      // Pricing written (zero is fine): the problem is gone and not reported again.
      await setSettings({ agents: [{ ...gateway, pricing: { inputPerMTok: 0, outputPerMTok: 0 } }], budget: { monthlyUsd: 20 } });
      await waitFor('the priced agent', () => !api.services.configIssues().some((i) => i.path === 'agents.team-gw.pricing'));
      assert.equal(warnings.messages.filter((m) => m.message.includes('team-gw')).length, 1, 'warned once');
    } finally {
      warnings.restore();
      await api.services.extensionContext.secrets.delete('maof.apiKey.agent.team-gw');
      await api.services.extensionContext.secrets.delete('maof.apiKey.openai');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
