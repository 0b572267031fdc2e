// What a user does on day one: Set API Key through the palette and the password box, then
// Generate Code in a file, see the inline proposal with Accept / Reject, accept it, and save.
// The provider is the loopback simulator started here; the settings that point MAOF at it are
// written to the user settings.json, then the browser page is reloaded (a running workbench does
// not reliably notice a settings.json written behind its back). Other e2e files share this
// workbench, so the agents here have their own ids (no breaker or route state carries over).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { ProviderSimulator, type SimulatorAddress } from '../../src/simulator/providerSimulator';
import { e2eIt, readNotifications, screenshot, session, waitForWorkbench } from './driver';
import { openKeyPickerWith, runCommandWithInput } from './simulatorSetup';

const quickInput = '.quick-input-widget';
const KEY = 'sk-e2e-openai-9fK2mQ7xL4pV8sN1';

function writeUserSettings(sim: SimulatorAddress): void {
  const file = path.join(session().runDir, 'user-data', 'User', 'settings.json');
  const current = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        ...current,
        'maof.agents': [
          { id: 'gen-gpt', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: sim.openaiBaseUrl, contextWindow: 128000, maxOutputTokens: 1024, description: 'Loopback simulator (OpenAI wire format)' },
          { id: 'gen-claude', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: sim.anthropicBaseUrl, contextWindow: 200000, maxOutputTokens: 1024, description: 'Loopback simulator (Anthropic wire format)' },
        ],
        'maof.routes': { code: ['gen-gpt', 'gen-claude'], writing: ['gen-claude', 'gen-gpt'], analysis: ['gen-claude', 'gen-gpt'] },
        'maof.retry': { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
      },
      null,
      2,
    ),
  );
}

async function quickInputTitle(page: Page): Promise<string> {
  const widget = page.locator(quickInput);
  await widget.waitFor({ state: 'visible' });
  return (await widget.locator('.quick-input-title').innerText().catch(() => '')).trim();
}

/**
 * Saves the active editor and reads the file once the save is over: the tab is no longer dirty
 * and two reads a moment apart agree. VS Code truncates a file before it writes it, so a read
 * during a save can see an empty or partial file (a CI flake read '' here).
 */
async function saveAndRead(page: Page, file: string, expect?: RegExp): Promise<string> {
  await page.keyboard.press('Control+S');
  await page.locator('.tabs-container .tab.active:not(.dirty)').waitFor({ state: 'visible', timeout: 10_000 });
  return stableRead(page, file, expect);
}

async function stableRead(page: Page, file: string, expect?: RegExp): Promise<string> {
  const deadline = Date.now() + 10_000;
  let last = fs.readFileSync(file, 'utf8');
  for (;;) {
    await page.waitForTimeout(150);
    const now = fs.readFileSync(file, 'utf8');
    const settled = now === last && now.length > 0 && (!expect || expect.test(now));
    if (settled || Date.now() > deadline) return now;
    last = now;
  }
}

/** Opens a workspace file with Quick Open, like a user typing its name. */
async function openFile(page: Page, name: string): Promise<void> {
  // F1 rather than Ctrl+P: F1 reaches the workbench even when a webview (the chat) has focus;
  // replacing its ">" with a file name turns the palette into Quick Open.
  if (await page.locator(quickInput).isVisible()) await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator(`${quickInput} input.input`);
  await input.waitFor({ state: 'visible' });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row .label-name', { hasText: name }).first().waitFor({ state: 'visible' });
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await page.locator(`.tabs-container .tab.active[aria-label*="${name}"]`).waitFor({ state: 'visible' });
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
}

describe('Generate Code in the real workbench', function () {
  this.timeout(120_000);
  const sim = new ProviderSimulator();
  let address: SimulatorAddress;

  before(async () => {
    address = await sim.start();
    writeUserSettings(address);
    const page = session().page;
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitForWorkbench(page);
  });
  after(async () => {
    await sim.stop();
  });

  e2eIt('Set API Key: pick OpenAI and type the key into a password box', async (page) => {
    // The agent list in the picker comes from the settings written above.
    await openKeyPickerWith(page, 'gen-gpt');
    await screenshot(page, '01-set-api-key-picker');
    await page.locator(`${quickInput} input.input`).fill('OpenAI (all');
    await page.waitForTimeout(200);
    await page.keyboard.press('Enter');

    const password = page.locator(`${quickInput} input[type="password"]`);
    await password.waitFor({ state: 'visible' });
    assert.match(await quickInputTitle(page), /OpenAI API key/);
    await password.pressSequentially(KEY, { delay: 5 });
    await screenshot(page, '02-set-api-key-password');
    await page.keyboard.press('Enter');
    await page.locator(quickInput).waitFor({ state: 'hidden' });

    const notes = await readNotifications(page);
    assert.ok(notes.some((n) => /OpenAI API key saved/.test(n)), `notifications: ${notes.join(' | ')}`);
    assert.ok(!notes.some((n) => n.includes(KEY)), 'the key is never shown');
  });

  e2eIt('Generate Code: prompt, inline preview with Accept / Reject, Alt+Enter accepts, the file has the code', async (page) => {
    await openFile(page, 'math.ts');
    await page.keyboard.press('Control+End');
    await runCommandWithInput(page, 'MAOF: Generate Code', /Generate Code/);
    const prompt = page.locator(`${quickInput} input.input`);
    await prompt.waitFor({ state: 'visible' });
    await prompt.fill('add a function sum(values) that adds the numbers');
    await screenshot(page, '03-generate-code-prompt');
    await page.keyboard.press('Enter');

    const accept = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Accept (Alt+Enter)' });
    await accept.waitFor({ state: 'visible', timeout: 30_000 });
    const lens = (await page.locator('.contentWidgets .codelens-decoration').first().innerText()).replace(/\s+/g, ' ');
    assert.match(lens, /✓ Accept \(Alt\+Enter\) \| ✗ Reject \(Esc\) \| MAOF · gen-gpt/);
    // The preview's text is laid out by the editor on its own schedule: wait for it, then assert.
    await page.waitForFunction(() => /Simulated\sgpt-4\.1-mini\sreply/.test(document.querySelector('.editor-instance .view-lines')?.textContent ?? ''), undefined, { timeout: 10_000 });
    const editorText = (await page.locator('.editor-instance .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
    assert.match(editorText, /Simulated gpt-4\.1-mini reply/);
    await screenshot(page, '04-inline-preview');

    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Alt+Enter');
    await accept.waitFor({ state: 'hidden', timeout: 10_000 });
    const file = path.join(session().workspace, 'src', 'math.ts');
    const saved = await saveAndRead(page, file, /Simulated gpt-4\.1-mini reply/);
    assert.match(saved, /export class Counter[\s\S]*\n}\nSimulated gpt-4\.1-mini reply/, 'the generated code follows the original file');
    await screenshot(page, '05-accepted');
    assert.ok(sim.tally().succeeded >= 1);
  });

  e2eIt('Generate Code on a selection, then Escape rejects: the file is exactly as before', async (page) => {
    // Opens the file itself rather than relying on the editor the test before left open.
    await openFile(page, 'math.ts');
    const file = path.join(session().workspace, 'src', 'math.ts');
    const before = await stableRead(page, file);
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowDown');
    await runCommandWithInput(page, 'MAOF: Generate Code', /Generate Code/);
    await page.locator(`${quickInput} input.input`).fill('turn this comment into a JSDoc block');
    await page.keyboard.press('Enter');
    const reject = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Reject (Esc)' });
    await reject.waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(page, '06-replace-selection-preview');
    await page.keyboard.press('Escape');
    await reject.waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal(await saveAndRead(page, file), before);
    await screenshot(page, '07-rejected');
  });
});
