// API keys: stored in SecretStorage only, seen by the orchestrator through the host's cache (kept
// in sync by secrets.onDidChange), and never written to a setting, the log or the state file.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { ProviderSimulator, type SimulatorAddress } from '../../src/simulator/providerSimulator';
import { clearKeys, maofApi, resetSettings, storeKeys, TEST_KEYS, useSimulatorSettings, waitFor } from './helpers';
import { keyFingerprint } from '../../src/core/hash';
import { userTurn } from '../../src/core/types';

describe('API keys in SecretStorage', () => {
  const sim = new ProviderSimulator();
  let address: SimulatorAddress;

  before(async () => {
    address = await sim.start();
  });
  after(async () => {
    const api = await maofApi();
    await clearKeys(api);
    await resetSettings();
    await sim.stop();
  });

  it('round-trips: stored key → orchestrator uses it → cleared key is gone, in sync without reload', async () => {
    const api = await maofApi();
    await useSimulatorSettings(api, address);
    const gpt = api.services.config().agents.find((a) => a.id === 'sim-gpt')!;
    await clearKeys(api);
    await waitFor('no key', async () => (await api.keyFingerprint(gpt.id)) === undefined);
    assert.equal(await api.services.keys.hasKeyFor('sim-gpt'), false);

    await storeKeys(api, { openai: TEST_KEYS.openai });
    assert.equal(await api.services.keys.hasKeyFor('sim-gpt'), true);
    assert.equal(await api.services.keys.hasKeyFor('sim-claude'), false, 'the OpenAI key does not serve Anthropic agents');

    // Another window (or the UI) replacing the key: onDidChange invalidates the cached value.
    await api.services.extensionContext.secrets.store('maof.apiKey.openai', `${TEST_KEYS.openai}-v2`);
    await waitFor('the replaced key', async () => (await api.keyFingerprint(gpt.id)) === keyFingerprint(`${TEST_KEYS.openai}-v2`));
    await api.services.extensionContext.secrets.delete('maof.apiKey.openai');
    await waitFor('the deleted key', async () => (await api.keyFingerprint(gpt.id)) === undefined);
  });

  it('an agent-specific key wins over the provider key', async () => {
    const api = await maofApi();
    await useSimulatorSettings(api, address);
    await storeKeys(api, { openai: TEST_KEYS.openai });
    const gpt = api.services.config().agents.find((a) => a.id === 'sim-gpt')!;
    await api.services.extensionContext.secrets.store('maof.apiKey.agent.sim-gpt', 'sk-agent-own-key-0123456789');
    try {
      await waitFor('the agent key', async () => (await api.keyFingerprint(gpt.id)) === keyFingerprint('sk-agent-own-key-0123456789'));
    } finally {
      await api.services.extensionContext.secrets.delete('maof.apiKey.agent.sim-gpt');
    }
    await waitFor('the provider key again', async () => (await api.keyFingerprint(gpt.id)) === keyFingerprint(TEST_KEYS.openai));
  });

  it('a used key appears in no setting, no log line and not in the state file', async () => {
    const api = await maofApi();
    await useSimulatorSettings(api, address);
    await storeKeys(api, { openai: TEST_KEYS.openai, anthropic: TEST_KEYS.anthropic });
    const result = await api.orchestrator.run({ messages: [userTurn('Write a haiku about retries.')], task: 'writing' });
    assert.equal(result.ok, true, result.ok ? '' : result.error.message);
    await api.orchestrator.flush();

    const settings = JSON.stringify(vscode.workspace.getConfiguration('maof'));
    const inspected = JSON.stringify(['agents', 'routes', 'retry', 'context'].map((k) => vscode.workspace.getConfiguration('maof').inspect(k)));
    const log = api.recentLogLines().join('\n');
    assert.ok(fs.existsSync(api.stateFile), 'the ledger was saved');
    // The ledger database and its write-ahead log, where recent commits are until a checkpoint.
    const state = [api.stateFile, `${api.stateFile}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'latin1')).join('');
    assert.ok(state.includes('sim-claude'), 'the state file holds the request that was made');
    for (const key of [TEST_KEYS.openai, TEST_KEYS.anthropic]) {
      assert.ok(!settings.includes(key) && !inspected.includes(key), 'key in settings');
      assert.ok(!log.includes(key), 'key in the log');
      assert.ok(!state.includes(key), 'key in the state file');
    }
  });
});
