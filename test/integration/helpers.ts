// Shared helpers for the integration suites: the extension's API, settings that are always put
// back, stubs on the `vscode.window` namespace that are always restored, and a simulator config.
import * as vscode from 'vscode';
import type { MaofTestApi } from '../../src/host/boot/extension';
import { ProviderSimulator, type SimulatorAddress } from '../../src/simulator/providerSimulator';
import { keyFingerprint } from '../../src/core/hash';

export const EXTENSION_ID = 'maof.maof';
/** Routes before agents: resetting agents first would leave routes naming unknown agents. */
export const SETTING_KEYS = ['routes', 'classifierAgent', 'tasks', 'agents', 'retry', 'breaker', 'budget', 'cache', 'context'];

export async function maofApi(): Promise<MaofTestApi> {
  const ext = vscode.extensions.getExtension<MaofTestApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded`);
  return ext.isActive ? ext.exports : await ext.activate();
}

export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function setSettings(values: Record<string, unknown>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('maof');
  for (const [key, value] of Object.entries(values)) await cfg.update(key, value, vscode.ConfigurationTarget.Global);
}

export async function resetSettings(): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('maof');
  for (const key of SETTING_KEYS) {
    if (cfg.inspect(key)?.globalValue !== undefined) await cfg.update(key, undefined, vscode.ConfigurationTarget.Global);
  }
}

type WindowApi = typeof vscode.window;

/** Replaces one `vscode.window` function until `restore()`; the extension shares this object. */
export function stubWindow<K extends keyof WindowApi>(name: K, impl: WindowApi[K]): { restore: () => void } {
  const win = vscode.window as unknown as Record<string, unknown>;
  const original = win[name];
  win[name] = impl;
  if (win[name] !== impl) throw new Error(`vscode.window.${String(name)} cannot be stubbed`);
  return {
    restore: () => {
      win[name] = original;
    },
  };
}

export interface CapturedMessage {
  message: string;
  items: string[];
}

/** Captures messages of one kind; `answer` picks the button the "user" clicks. */
export function captureMessages(
  kind: 'showErrorMessage' | 'showWarningMessage' | 'showInformationMessage',
  answer: (message: string, items: string[]) => string | undefined = () => undefined,
): { messages: CapturedMessage[]; restore(): void } {
  const messages: CapturedMessage[] = [];
  const fake = (message: string, ...rest: unknown[]): Thenable<string | undefined> => {
    const items = rest.filter((r): r is string => typeof r === 'string');
    messages.push({ message, items });
    return Promise.resolve(answer(message, items));
  };
  const stub = stubWindow(kind, fake as unknown as WindowApi[typeof kind]);
  return { messages, restore: stub.restore };
}

export const TEST_KEYS = {
  openai: 'sk-test-openai-Q7rX2mK9vL4pN8sT1wY6',
  anthropic: 'sk-ant-test-Z3cV5bN7mQ1wE9rT2yU4',
};

/** Two agents on the simulator, one per provider, routed for every task; fast retries. */
export function simulatorSettings(sim: SimulatorAddress): Record<string, unknown> {
  return {
    agents: [
      { id: 'sim-gpt', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: sim.openaiBaseUrl, contextWindow: 128_000, maxOutputTokens: 1024, pricing: { inputPerMTok: 0.4, outputPerMTok: 1.6 } },
      { id: 'sim-claude', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: sim.anthropicBaseUrl, contextWindow: 200_000, maxOutputTokens: 1024, pricing: { inputPerMTok: 1, outputPerMTok: 5 } },
    ],
    routes: { code: ['sim-gpt', 'sim-claude'], writing: ['sim-claude', 'sim-gpt'], analysis: ['sim-claude', 'sim-gpt'], utility: ['sim-claude', 'sim-gpt'] },
    retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50, maxTotalMs: 20_000, maxRetryAfterMs: 2_000, jitter: 0 },
  };
}

export async function useSimulatorSettings(api: MaofTestApi, sim: SimulatorAddress): Promise<void> {
  await setSettings(simulatorSettings(sim));
  await waitFor('the simulator agents in the live config', () => api.services.config().routes.code?.[0] === 'sim-gpt' && api.orchestrator.currentConfig.routes.code?.[0] === 'sim-gpt');
}

export async function storeKeys(api: MaofTestApi, keys: { openai?: string; anthropic?: string }): Promise<void> {
  const secrets = api.services.extensionContext.secrets;
  for (const [provider, key] of Object.entries(keys)) {
    if (key) await secrets.store(`maof.apiKey.${provider}`, key);
  }
  const agent = api.services.config().agents.find((a) => a.provider === (keys.openai ? 'openai' : 'anthropic'));
  const expected = keys.openai ?? keys.anthropic;
  if (agent && expected) await waitFor('the stored key to reach the orchestrator', async () => (await api.keyFingerprint(agent.id)) === keyFingerprint(expected));
}

export async function clearKeys(api: MaofTestApi): Promise<void> {
  const secrets = api.services.extensionContext.secrets;
  for (const name of ['maof.apiKey.openai', 'maof.apiKey.anthropic']) await secrets.delete(name);
}

/** Closes every editor without a save prompt, dropping unsaved changes (fixtures stay pristine). */
export async function closeAllEditors(): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const tabs = vscode.window.tabGroups.all.reduce((n, g) => n + g.tabs.length, 0);
    if (tabs === 0) return;
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    if (vscode.window.tabGroups.all.reduce((n, g) => n + g.tabs.length, 0) === tabs) {
      await vscode.commands.executeCommand('workbench.action.focusFirstEditorGroup');
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  }
  // A closed untitled document lingers briefly in the extension host; a new one opened at once
  // could be handed the stale "Untitled-1".
  await waitFor('closed untitled documents to go', () => vscode.workspace.textDocuments.every((d) => !d.isUntitled), 5_000).catch(() => undefined);
}

export function workspaceFile(relative: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the integration tests need the fixture workspace open');
  return vscode.Uri.joinPath(folder.uri, relative);
}

/**
 * The hooks every simulator-backed suite needs: a simulator on 127.0.0.1, the settings pointing
 * at it and both keys stored before the suite; all of it undone after. Call inside `describe`.
 */
export function simulatorSuite(): { sim: ProviderSimulator; address: () => SimulatorAddress } {
  const sim = new ProviderSimulator();
  let address: SimulatorAddress | undefined;
  before(async () => {
    address = await sim.start();
    const api = await maofApi();
    await useSimulatorSettings(api, address);
    await storeKeys(api, { openai: TEST_KEYS.openai, anthropic: TEST_KEYS.anthropic });
  });
  after(async () => {
    const api = await maofApi();
    await clearKeys(api);
    await resetSettings();
    await sim.stop();
  });
  return {
    sim,
    address: () => {
      if (!address) throw new Error('the simulator has not started yet');
      return address;
    },
  };
}
