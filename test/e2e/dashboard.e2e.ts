// The dashboard and status bar as a user meets them: spend in the status bar, MAOF: Show Dashboard
// with spend, charts, breakers and the last requests; a failing agent trips its breaker, the status
// bar turns to a warning, and Reset on the dashboard closes it again.
import * as assert from 'node:assert/strict';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import type { ProviderSimulator } from '../../src/simulator/providerSimulator';
import { e2eIt, runCommand, screenshot, session, textOf, waitForWorkbench } from './driver';
import { applyUserSettings, findWebview, setOpenAiKeyThroughPalette, simulatorSuite } from './simulatorSetup';

const KEY = 'sk-e2e-dash-openai-8mN3qR6tY1wZ4xC7';

function statusItem(page: Page) {
  return page.locator('.part.statusbar .statusbar-item', { hasText: 'MAOF' }).first();
}

async function chatAsk(page: Page, prompt: string, agent: string): Promise<void> {
  await runCommand(page, 'MAOF: Open Chat');
  const chat = await findWebview(page, '.maof-chat #prompt');
  await chat.locator(`#agent option[value="${agent}"]`).waitFor({ state: 'attached', timeout: 20_000 });
  await chat.locator('#agent').selectOption(agent);
  const before = await chat.locator('.msg.assistant .msg-footer').count();
  await chat.locator('#prompt').fill(prompt);
  await chat.locator('#prompt').press('Enter');
  // Done when the new answer has its footer content (meta or error).
  await chat.locator('.msg.assistant').nth(before).locator('.msg-footer > *').first().waitFor({ timeout: 30_000 });
}

async function dashboard(page: Page): Promise<FrameLocator> {
  await runCommand(page, 'MAOF: Show Dashboard');
  const frame = await findWebview(page, '.maof-dashboard h1');
  return frame;
}

/** sim-gpt's row in the dashboard's Circuit breakers table. */
function breakerRow(dash: FrameLocator): Locator {
  return dash.locator('section', { has: dash.locator('h2', { hasText: 'Circuit breakers' }) }).locator('tr', { hasText: 'sim-gpt' });
}

/** One request to sim-gpt that fails twice (both attempts): with a threshold of two, its breaker opens. */
async function tripSimGpt(page: Page, sim: ProviderSimulator): Promise<void> {
  sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'status', status: 503 }, times: 2 }]);
  await chatAsk(page, 'Implement a queue class', 'sim-gpt');
}

/** Reset on the dashboard's breaker row, as a user clicks it; done when the row shows closed. */
async function resetOnDashboard(row: Locator): Promise<void> {
  await row.getByRole('button', { name: 'Reset the circuit breaker of sim-gpt' }).click();
  await row.locator('.state.closed').waitFor({ timeout: 10_000 });
}

describe('dashboard and status bar in the real workbench', function () {
  this.timeout(120_000);
  // A breaker that opens after two failures, so one failed request trips it.
  const suite = simulatorSuite({ 'maof.breaker': { failureThreshold: 2, resetTimeoutMs: 600000 }, 'maof.budget': { monthlyUsd: 20 } });
  const sim = suite.sim;
  afterEach(async () => {
    // Leave the workbench as the next suite expects it: no dashboard in front, focus on the workbench.
    await runCommand(session().page, 'View: Close All Editors').catch(() => undefined);
  });

  e2eIt('shows the month spend against the budget in the status bar', async (page) => {
    // The budget in the status bar also shows that the settings written above are live.
    await page.waitForFunction(() => /MAOF \$\d+\.\d+ \/ \$20\.00/.test(document.querySelector('.part.statusbar')?.textContent ?? ''), undefined, { timeout: 20_000 });
    await setOpenAiKeyThroughPalette(page, KEY);
    await chatAsk(page, 'Write a function that reverses a string [[words:40]]', 'sim-gpt');
    const item = statusItem(page);
    await page.waitForFunction(() => /MAOF \$\d+\.\d+ \/ \$20\.00/.test(document.querySelector('.part.statusbar')?.textContent ?? ''), undefined, { timeout: 15_000 });
    assert.match(await textOf(item), /MAOF \$\d+\.\d+ \/ \$20\.00/);
    await screenshot(page, 'dashboard-01-status-bar');
  });

  e2eIt('opens with spend, charts, breakers and the last requests', async (page) => {
    // A request of its own, so that there is spend and a last request to show.
    await chatAsk(page, 'Write a function that reverses a string [[words:40]]', 'sim-gpt');
    const dash = await dashboard(page);
    await dash.locator('.card').first().waitFor();
    assert.match(await textOf(dash.locator('.card').first()), /This month \$\d+\.\d+ of \$20\.00/i);
    const byAgent = dash.locator('section', { has: dash.locator('h2', { hasText: 'Spend by agent' }) });
    assert.match(await textOf(byAgent), /sim-gpt \$0\.\d+/);
    assert.ok((await dash.locator('svg.day-chart rect.day-bar').count()) === 30, 'a bar per day for 30 days');
    assert.match(await textOf(breakerRow(dash)), /sim-gpt closed/);
    const recent = dash.locator('section', { has: dash.locator('h2', { hasText: 'Last requests' }) });
    assert.match(await textOf(recent.locator('tbody tr').first()), /sim-gpt (code|writing) ok \$0\.\d+/);
    await screenshot(page, 'dashboard-02-overview');
  });

  e2eIt("tells the providers' prompt cache from MAOF's response cache, with a hit rate per agent", async (page) => {
    // A long first turn becomes the cached prefix of the second (OpenAI caches 1,024 tokens and more on its own).
    await chatAsk(page, `Review this text: ${'the quick brown fox jumps over the lazy dog '.repeat(150)}`, 'sim-gpt');
    await chatAsk(page, 'Review it once more, shorter', 'sim-gpt');
    const chat = await findWebview(page, '.maof-chat #prompt');
    const chip = chat.locator('.msg.assistant').last().locator('.chip', { hasText: 'prompt cache saved' });
    await chip.waitFor({ timeout: 15_000 });
    assert.match(await textOf(chip), /prompt cache saved \$\d+\.\d+/);
    await screenshot(page, 'dashboard-08-chat-prompt-cache');
    const dash = await dashboard(page);
    const panelOf = dash.locator('section', { has: dash.locator('h2', { hasText: 'Prompt cache by agent' }) });
    await panelOf.waitFor();
    await panelOf.scrollIntoViewIfNeeded();
    await screenshot(page, 'dashboard-09-prompt-cache');
    assert.match(await textOf(panelOf.locator('tr', { hasText: 'sim-gpt' })), /sim-gpt [1-9]\d?(\.\d)? ?%/);
    const cards = (await dash.locator('.card').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.ok(cards.some((t) => /^Prompt cache \$\d+\.\d+ saved the providers'/i.test(t)), cards.join(' | '));
    assert.ok(cards.some((t) => /^Response cache \$\d+\.\d+ saved MAOF's own/i.test(t)), cards.join(' | '));
  });

  e2eIt('a request whose provider reported no usage shows its cost as an estimate (≈) in the last requests', async (page) => {
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'no_usage' } }]);
    await chatAsk(page, 'Summarise the retry policy [[words:30]]', 'sim-gpt');
    const dash = await dashboard(page);
    const recent = dash.locator('section', { has: dash.locator('h2', { hasText: 'Last requests' }) });
    await recent.locator('tbody tr').first().waitFor();
    assert.match(await textOf(recent.locator('tbody tr').first()), /sim-gpt (code|writing|analysis) ok ≈\$0\.\d+/);
    assert.match((await recent.locator('tbody tr').first().locator('span[title^="Estimated"]').getAttribute('title')) ?? '', /reported no token usage/);
    await recent.scrollIntoViewIfNeeded();
    await screenshot(page, 'dashboard-07-estimated-cost');
  });

  e2eIt('a request waiting out a 429 pause counts down in Live retries and in the status bar, then is answered', async (page) => {
    // Long enough to look at, within the retry-after cap (5 s): waited out, not fallen back from.
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'rate_limit', retryAfterMs: 4_500 } }]);
    await runCommand(page, 'MAOF: Open Chat');
    const chat = await findWebview(page, '.maof-chat #prompt');
    await chat.locator('#agent').selectOption('sim-gpt');
    const before = await chat.locator('.msg.assistant').count();
    await chat.locator('#prompt').fill('Implement a stack class');
    await chat.locator('#prompt').press('Enter');
    await chat.locator('.msg-status', { hasText: 'asked to slow down' }).waitFor({ timeout: 15_000 });
    const dash = await dashboard(page);
    const live = dash.locator('section', { has: dash.locator('h2', { hasText: 'Live retries' }) });
    await live.locator('li', { hasText: 'paused by its provider (429)' }).waitFor({ timeout: 5_000 });
    assert.match(await textOf(live), /sim-gpt paused by its provider \(429\) — next try in \d+ s/);
    // The status bar is refreshed on its own throttle: wait for the countdown rather than read it once.
    await page.waitForFunction(() => [...document.querySelectorAll('.part.statusbar .statusbar-item')].some((e) => /MAOF \$\d+\.\d+ \/ \$20\.00\s*\d+ s/.test(e.textContent ?? '')), undefined, { timeout: 10_000 });
    assert.match(await textOf(statusItem(page)), /MAOF \$\d+\.\d+ \/ \$20\.00\s*\d+ s/, 'the status bar counts the wait down');
    await screenshot(page, 'dashboard-03-waiting');
    await runCommand(page, 'MAOF: Open Chat');
    const again = await findWebview(page, '.maof-chat #prompt');
    await again.locator('.msg.assistant').nth(before).locator('.chip.cost').waitFor({ timeout: 20_000 });
  });

  e2eIt('shows each agent\'s time to first token and the deadline in force; an agent that went silent shows as stalled (issue 18)', async (page) => {
    // sim-gpt with a first-token deadline of its own (3 s): set on the agent, it cuts even a request pinned to it.
    const settings = suite.settings();
    const agents = (settings['maof.agents'] as Array<Record<string, unknown>>).map((a) => (a.id === 'sim-gpt' ? { ...a, firstTokenTimeoutMs: 3000 } : a));
    await applyUserSettings(page, { ...settings, 'maof.agents': agents });
    try {
      // An answer, so that its first token is measured; then a request sim-gpt never answers.
      await chatAsk(page, 'Write a function that doubles a number [[words:20]]', 'sim-gpt');
      sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'hang' } }]);
      await chatAsk(page, 'Write a function that halves a number', 'sim-gpt');
      const chat = await findWebview(page, '.maof-chat #prompt');
      assert.match(await textOf(chat.locator('.msg.assistant').last()), /sim-gpt[\s\S]*(silent|sent nothing)/i, 'the chat names the agent and the silence');
      const dash = await dashboard(page);
      const latency = dash.locator('section', { has: dash.locator('h2', { hasText: 'Latency' }) });
      const row = latency.locator('tr', { hasText: 'sim-gpt' });
      await row.locator('.stalled').waitFor({ timeout: 15_000 });
      // Agent, first token p50 and p95, the deadline in force (set on the agent), stalls.
      assert.match(await textOf(row), /sim-gpt\s+[\d.]+ m?s\s+[\d.]+ m?s\s+3\.0 s \(set\)\s+[1-9]\d*/);
      assert.match(await textOf(latency.locator('thead')), /First token p50\s+p95\s+Deadline\s+Stalled/);
      assert.match(await textOf(breakerRow(dash)), /went silent/, 'the breaker\'s last error says the agent went silent');
      await latency.scrollIntoViewIfNeeded();
      await screenshot(page, 'dashboard-10-latency-stalled');
    } finally {
      await applyUserSettings(page, settings);
    }
  });

  e2eIt('a failing agent trips its breaker: warning status bar, Reset on the dashboard closes it', async (page) => {
    await tripSimGpt(page, sim);
    await page.waitForFunction(
      () => [...document.querySelectorAll('.part.statusbar .statusbar-item')].some((e) => /MAOF/.test(e.textContent ?? '') && e.classList.contains('warning-kind')),
      undefined,
      { timeout: 15_000 },
    );
    await screenshot(page, 'dashboard-03-status-bar-warning');

    const dash = await dashboard(page);
    const row = breakerRow(dash);
    await row.locator('.state.open').waitFor({ timeout: 10_000 });
    // The last error in the vocabulary's words (the code is its tooltip), as in the activity feed.
    assert.match(await textOf(row), /sim-gpt open probe in \d+ (s|min) 2 1 (server error|overloaded)/);
    const activity = dash.locator('section', { has: dash.locator('h2', { hasText: 'Activity' }) });
    // The feed arrives in its own message after the snapshot: wait for the line.
    await activity.getByText(/sim-gpt breaker closed → open/).first().waitFor({ timeout: 10_000 });
    assert.match(await textOf(activity), /sim-gpt breaker closed → open \((server error|overloaded)\)/);
    await activity.scrollIntoViewIfNeeded();
    await screenshot(page, 'dashboard-04-breaker-open');

    await resetOnDashboard(row);
    await page.waitForFunction(
      () => [...document.querySelectorAll('.part.statusbar .statusbar-item')].some((e) => /MAOF/.test(e.textContent ?? '') && !e.classList.contains('warning-kind')),
      undefined,
      { timeout: 15_000 },
    );
    await screenshot(page, 'dashboard-05-breaker-reset');
  });

  e2eIt('clicking the status bar item lists the last requests, with the dashboard one item away', async (page) => {
    await chatAsk(page, 'Write a function that doubles a number [[words:20]]', 'sim-gpt');
    await runCommand(page, 'View: Close All Editors');
    await statusItem(page).click();
    const picker = page.locator('.quick-input-widget');
    await picker.locator('.quick-input-title', { hasText: 'last requests' }).waitFor({ timeout: 15_000 });
    const rows = picker.locator('.quick-input-list .monaco-list-row');
    // The request just asked, newest first, with who asked and why that agent.
    const row = rows.filter({ hasText: 'MAOF chat' }).first();
    await row.waitFor({ timeout: 10_000 });
    assert.match(await textOf(row), /sim-gpt · <?\$0\.\d+\s*MAOF chat · (code|writing|analysis) · \d+ s ago The agent was picked by name/);
    await rows.filter({ hasText: 'Open Dashboard' }).first().click();
    await findWebview(page, '.maof-dashboard h1');
    assert.equal(await page.locator('.tabs-container .tab', { hasText: 'MAOF Dashboard' }).count(), 1);
  });

  e2eIt('an open dashboard comes back after a window reload, with the spend and breaker history the new host read back', async (page) => {
    // History of its own to read back: spend, and a breaker trip that was reset.
    await chatAsk(page, 'Write a function that reverses a string [[words:40]]', 'sim-gpt');
    await tripSimGpt(page, sim);
    const row = breakerRow(await dashboard(page));
    await row.locator('.state.open').waitFor({ timeout: 10_000 });
    await resetOnDashboard(row);
    // Failures 0, and the opens so far: this test's trip, and any an earlier test left.
    const opens = /sim-gpt closed 0 ([1-9]\d*)/.exec(await textOf(row))?.[1];
    assert.ok(opens, `the trip is counted: ${await textOf(row)}`);
    // The command, not a page reload: it lets the workbench save its editors (the panel among them)
    // before it goes, as a user's reload does.
    await runCommand(page, 'Developer: Reload Window');
    await page.waitForLoadState('domcontentloaded');
    await waitForWorkbench(page);
    // No command: VS Code restores the panel through MAOF's serializer, activating MAOF for it.
    const dash = await findWebview(page, '.maof-dashboard .card', 60_000);
    assert.equal(await page.locator('.tabs-container .tab', { hasText: 'MAOF Dashboard' }).count(), 1);
    assert.match(await textOf(dash.locator('.card').first()), /This month \$\d+\.\d+ of \$20\.00/i);
    // The new extension host read the ledger and the breakers back: the trip and reset above count.
    assert.match(await textOf(breakerRow(dash)), new RegExp(`sim-gpt closed 0 ${opens}\\b`));
    const byAgent = dash.locator('section', { has: dash.locator('h2', { hasText: 'Spend by agent' }) });
    assert.match(await textOf(byAgent), /sim-gpt \$0\.\d+/);
    await screenshot(page, 'dashboard-06-restored-after-reload');
  });

  e2eIt("an open breaker's error in the chat says so and offers Reset Circuit Breakers, which closes it", async (page) => {
    await tripSimGpt(page, sim);
    await chatAsk(page, 'Implement a heap class', 'sim-gpt');
    const chat = await findWebview(page, '.maof-chat #prompt');
    const error = chat.locator('.msg.assistant').last().locator('.error');
    await error.waitFor({ timeout: 10_000 });
    const fix = error.locator('button', { hasText: 'Reset Circuit Breakers' });
    assert.ok(await fix.isVisible(), `the fix is offered: ${await textOf(error)}`);
    await chat.locator('#agent option', { hasText: 'sim-gpt' }).filter({ hasText: 'breaker open' }).waitFor({ state: 'attached', timeout: 10_000 });
    await screenshot(page, 'dashboard-04-chat-breaker-open-fix');
    await fix.click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await dialog.innerText(), /Reset the circuit breakers of sim-gpt \(open\)\?/);
    await dialog.getByRole('button', { name: 'Reset' }).click({ timeout: 10_000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll('.part.statusbar .statusbar-item')].some((e) => /MAOF/.test(e.textContent ?? '') && !e.classList.contains('warning-kind')),
      undefined,
      { timeout: 15_000 },
    );
    await chat.locator('#agent option', { hasText: 'sim-gpt' }).filter({ hasNotText: 'breaker open' }).waitFor({ state: 'attached', timeout: 10_000 });
  });

  e2eIt('Diagnose shows where each price comes from and lists an agent of unknown price as a settings problem', async (page) => {
    const gateway = { id: 'team-gw', provider: 'openai', model: 'team-smart', baseUrl: 'https://gateway.example.com/v1', contextWindow: 128000 };
    await applyUserSettings(page, { ...suite.settings(), 'maof.agents': [...(suite.settings()['maof.agents'] as unknown[]), gateway] });
    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'MAOF: Diagnose');
    await page.getByRole('button', { name: 'Report Only' }).click({ timeout: 15_000 });
    const tab = page.locator('.tabs-container .tab', { hasText: 'MAOF Diagnostics' });
    await tab.waitFor({ state: 'visible', timeout: 20_000 });
    const lines = page.locator('.editor-instance .monaco-editor .view-lines').last();
    await page.waitForFunction(() => [...document.querySelectorAll('.view-lines')].some((v) => (v.textContent ?? '').includes('team-gw')), undefined, { timeout: 20_000 });
    try {
      const text = await textOf(lines);
      // One list item per agent (the report also answers @maof /diagnose in the Chat's narrow panel).
      assert.match(text, /\*\*team-gw\*\* — team-smart \(OpenAI, custom endpoint\)\s+\*\*no key\*\* · \*\*price unknown\*\*/, 'the OpenAI key does not count for a hosted gateway');
      assert.match(text, /sim-gpt.*built-in/);
      assert.ok(!text.includes('gateway.example.com'), 'no endpoint in the report');
      assert.equal(await tab.count(), 1, 'the report opens once, in one editor group');
      await screenshot(page, 'dashboard-07-diagnose-unknown-price');
    } finally {
      // The report is an unsaved document: close it without the save prompt that would block the
      // palette — its own tab first, so that no later test finds it (or a split group) left open.
      await tab.click();
      await runCommand(page, 'View: Revert and Close Editor');
      await tab.waitFor({ state: 'detached', timeout: 10_000 });
    }
    await runCommand(page, 'View: Close All Editors');
  });
});
