// Shared setup of the chat and dashboard e2e tests: point MAOF at a loopback simulator by editing
// the user settings.json in the workbench, and store a key the way a user does (palette, picker,
// password box).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { ProviderSimulator, type SimulatorAddress, type SimulatorOptions } from '../../src/simulator/providerSimulator';
import { openCommandPalette, runCommand, session, webviewFrame } from './driver';

const quickInput = '.quick-input-widget';

function settingsFile(): string {
  return path.join(session().runDir, 'user-data', 'User', 'settings.json');
}

export function readUserSettings(): Record<string, unknown> {
  const file = settingsFile();
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
}

/**
 * Replaces the user settings by editing settings.json in the workbench (Preferences: Open User
 * Settings (JSON), paste, save). Writing the file from outside is not reliably noticed by
 * code-server once the workbench has loaded; a save through the editor always is.
 */
export async function applyUserSettings(page: Page, settings: Record<string, unknown>): Promise<void> {
  const text = JSON.stringify(settings, null, 2) + '\n';
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
  await runCommand(page, 'Preferences: Open User Settings (JSON)');
  await page.locator('.tabs-container .tab.active', { hasText: 'settings.json' }).waitFor({ state: 'visible' });
  // The editor can still be settling when the keys arrive (the paste lands nowhere, or the save
  // comes before it): paste and save again until the file on disk is the text, up to three times.
  for (let attempt = 1; ; attempt++) {
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.evaluate((t) => navigator.clipboard.writeText(t), text);
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Control+V');
    await page.keyboard.press('Control+S');
    const deadline = Date.now() + 5_000;
    while (fs.readFileSync(settingsFile(), 'utf8') !== text && Date.now() < deadline) await page.waitForTimeout(100);
    if (fs.readFileSync(settingsFile(), 'utf8') === text) break;
    if (attempt === 3) throw new Error('settings.json was not saved');
  }
  await runCommand(page, 'View: Close Editor');
}

/** Two simulator agents (one per provider), routed for every task, with fast retries; `extra` on top. */
export function simulatorSettings(sim: SimulatorAddress, base: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...base,
    'maof.agents': [
      { id: 'sim-gpt', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: sim.openaiBaseUrl, contextWindow: 128000, maxOutputTokens: 1024, description: 'Loopback simulator (OpenAI wire format)' },
      { id: 'sim-claude', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: sim.anthropicBaseUrl, contextWindow: 200000, maxOutputTokens: 1024, description: 'Loopback simulator (Anthropic wire format)' },
    ],
    'maof.routes': { code: ['sim-gpt', 'sim-claude'], writing: ['sim-claude', 'sim-gpt'], analysis: ['sim-claude', 'sim-gpt'], utility: ['sim-claude', 'sim-gpt'] },
    'maof.retry': { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200, maxRetryAfterMs: 5000 },
    ...extra,
  };
}

/** Runs a palette command that opens its own quick input, waiting for that input by its title. */
export async function runCommandWithInput(page: Page, command: string, inputTitle: RegExp): Promise<void> {
  // The palette closes when something else takes the focus while it is open (a view loading in
  // the side bar): then open it again, up to three times.
  for (let attempt = 1; ; attempt++) {
    const labels = await openCommandPalette(page, command, { until: (l) => l.includes(command) });
    const index = labels.indexOf(command);
    assert.ok(index >= 0, `"${command}" is not in the palette: ${JSON.stringify(labels)}`);
    try {
      await page.locator('.quick-input-list .monaco-list-row').nth(index).click({ timeout: 5_000 });
      break;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
  await page.waitForFunction(
    ({ widget, source, flags }) => new RegExp(source, flags).test(document.querySelector(`${widget} .quick-input-title`)?.textContent ?? ''),
    { widget: quickInput, source: inputTitle.source, flags: inputTitle.flags },
    { timeout: 15_000 },
  );
}

/**
 * Opens MAOF: Set API Key until its picker lists `agentId`: the list comes from the settings just
 * written, which reach the extension a moment later.
 */
export async function openKeyPickerWith(page: Page, agentId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    await runCommandWithInput(page, 'MAOF: Set API Key', /Set API Key/);
    await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ state: 'visible' });
    const labels = await page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
    if (labels.some((l) => l.includes(agentId))) return;
    await page.keyboard.press('Escape');
    if (Date.now() > deadline) throw new Error(`the simulator agents never appeared in the picker: ${labels.join(' | ')}`);
    await page.waitForTimeout(500);
  }
}

/** MAOF: Set API Key → "OpenAI (all OpenAI agents)" → password box, once the sim agents are configured. */
export async function setOpenAiKeyThroughPalette(page: Page, key: string): Promise<void> {
  await openKeyPickerWith(page, 'sim-gpt');
  await page.locator(`${quickInput} input.input`).fill('OpenAI (all');
  await page.waitForTimeout(200);
  await page.keyboard.press('Enter');
  const password = page.locator(`${quickInput} input[type="password"]`);
  await password.waitFor({ state: 'visible' });
  await password.pressSequentially(key, { delay: 2 });
  await page.keyboard.press('Enter');
  await page.locator(quickInput).waitFor({ state: 'hidden' });
}

/** The webview whose page has `selector` (the chat view and the dashboard may both be open). */
export async function findWebview(page: Page, selector: string, timeoutMs = 30_000): Promise<FrameLocator> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < count; i++) {
      const frame = webviewFrame(page, i);
      if ((await frame.locator(selector).count().catch(() => 0)) > 0) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no webview shows ${selector} (${count} webviews)`);
    await page.waitForTimeout(250);
  }
}

export interface SimulatorSuite {
  readonly sim: ProviderSimulator;
  /** The user settings the suite applied (the simulator's agents plus `extra`). */
  settings(): Record<string, unknown>;
}

/**
 * The hooks of a suite that runs against a loopback simulator: before, start it and point MAOF at
 * it through the user settings; after, put the user's settings back (so the next suite starts
 * from what the user had) and stop it. `beforeRestore` / `afterRestore` undo what the suite left
 * open in the workbench (a side bar, an editor).
 */
export function simulatorSuite(
  /** Settings on top of the simulator's; a function when they need the simulator's address. */
  extra: Record<string, unknown> | ((sim: SimulatorAddress) => Record<string, unknown>) = {},
  hooks: { beforeRestore?: () => Promise<void>; afterRestore?: () => Promise<void> } = {},
  simOptions: SimulatorOptions = {},
): SimulatorSuite {
  const sim = new ProviderSimulator(simOptions);
  let original: Record<string, unknown> = {};
  let applied: Record<string, unknown> = {};
  before(async () => {
    const address = await sim.start();
    original = readUserSettings();
    applied = simulatorSettings(address, original, typeof extra === 'function' ? extra(address) : extra);
    await applyUserSettings(session().page, applied);
  });
  after(async () => {
    await hooks.beforeRestore?.().catch(() => undefined);
    await applyUserSettings(session().page, original).catch((err: unknown) => console.log(`      (could not restore the settings: ${String(err)})`));
    await sim.stop();
    await hooks.afterRestore?.().catch(() => undefined);
  });
  return { sim, settings: () => applied };
}
