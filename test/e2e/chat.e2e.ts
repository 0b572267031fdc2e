// The side-panel chat as a user meets it: MAOF: Open Chat from the palette, type in the webview,
// watch the answer stream with its agent and cost, see a retry narrated, stop an answer with
// Escape, take code from an answer into the editor, and find the conversation again when the view
// is shown anew.
import * as assert from 'node:assert/strict';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import type { ProviderSimulator } from '../../src/simulator/providerSimulator';
import { e2eIt, runCommand, screenshot, textOf, waitForWorkbench } from './driver';
import { findWebview, setOpenAiKeyThroughPalette, simulatorSuite } from './simulatorSetup';

const KEY = 'sk-e2e-chat-openai-3hG7kP2wQ9zR5tV1';

async function openChat(page: Page): Promise<FrameLocator> {
  await runCommand(page, 'MAOF: Open Chat');
  const chat = await findWebview(page, '.maof-chat #prompt');
  // The agents come from the settings written by the test (and the key state from SecretStorage).
  await chat.locator('#agent option[value="sim-gpt"]').waitFor({ state: 'attached', timeout: 20_000 });
  return chat;
}

async function ask(chat: FrameLocator, prompt: string, agent = 'auto'): Promise<void> {
  await chat.locator('#agent').selectOption(agent);
  const box = chat.locator('#prompt');
  await box.click();
  await box.fill(prompt);
  // Wait for the host to append this turn's answer: until then `.msg.assistant` last() is the
  // previous answer, and a test acting on it would race the round trip to the host.
  const answers = await chat.locator('.msg.assistant').count();
  await box.press('Enter');
  await chat.locator('.msg.assistant').nth(answers).waitFor({ state: 'attached', timeout: 15_000 });
}

/** Asks for an answer that streams slowly; returns it once its first words have arrived. */
async function startSlowAnswer(chat: FrameLocator, sim: ProviderSimulator): Promise<Locator> {
  sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'slow_stream', chunkDelayMs: 200 } }]);
  await ask(chat, 'Write a long essay on sorting [[words:300]]', 'sim-gpt');
  const answer = chat.locator('.msg.assistant').last();
  await answer.locator('.msg-body', { hasText: 'Simulated' }).waitFor({ timeout: 15_000 });
  return answer;
}

/** Escape in the composer, as a user stops an answer; done when the answer shows it was stopped. */
async function stopWithEscape(chat: FrameLocator, answer: Locator): Promise<void> {
  await chat.locator('#prompt').press('Escape');
  await answer.locator('.stopped').waitFor({ state: 'visible', timeout: 10_000 });
}

/** Asks sim-gpt for an answer with one TypeScript code block; returns the block once the answer is done. */
async function askForCode(chat: FrameLocator): Promise<Locator> {
  await ask(chat, 'Write an increment function [[code:1]]', 'sim-gpt');
  const answer = chat.locator('.msg.assistant').last();
  const block = answer.locator('.code-block');
  await block.waitFor({ timeout: 15_000 });
  await answer.locator('.chip.cost').waitFor({ state: 'visible', timeout: 15_000 });
  return block;
}

/** Asks for a function that adds two numbers (auto route); returns the answer once its cost shows. */
async function askFirstQuestion(chat: FrameLocator): Promise<Locator> {
  await ask(chat, 'Write a function that adds two numbers [[words:60]]');
  const answer = chat.locator('.msg.assistant').last();
  await answer.locator('.chip.cost').waitFor({ state: 'visible', timeout: 30_000 });
  return answer;
}

describe('chat view in the real workbench', function () {
  this.timeout(120_000);
  // A retry-after cap of 5 minutes: a long 429 pause is waited out (with Retry now), not fallen back from.
  const { sim } = simulatorSuite({ 'maof.retry': { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200, maxRetryAfterMs: 300_000, maxTotalMs: 600_000 } });


  e2eIt('opens from the palette and streams an answer with agent, model and cost', async (page) => {
    await setOpenAiKeyThroughPalette(page, KEY);
    const chat = await openChat(page);
    assert.equal(await chat.locator('#agent option[value="sim-gpt"]').innerText(), 'sim-gpt (gpt-4.1-mini)');
    await screenshot(page, 'chat-01-empty');

    const answer = await askFirstQuestion(chat);
    assert.equal(await chat.locator('#prompt').inputValue(), '', 'the composer is cleared');
    assert.match(await textOf(chat.locator('.msg.user').last()), /Write a function that adds two numbers/);
    assert.match(await textOf(answer.locator('.msg-body')), /^Simulated gpt-4\.1-mini reply: Write a function that adds two numbers/);
    const meta = await textOf(answer.locator('.meta'));
    assert.match(meta, /sim-gpt/);
    assert.match(meta, /gpt-4\.1-mini/);
    assert.match(meta, /\$0\.\d{2,4}/, `a cost in the meta line: ${meta}`);
    assert.equal(await textOf(answer.locator('.who')), 'sim-gpt');
    await screenshot(page, 'chat-02-answer');
  });

  e2eIt('narrates a server-error retry under the pending answer, with how long the slow attempt took, then counts it', async (page) => {
    const chat = await openChat(page);
    // Answers take 1.2 s, as behind a gateway that retried on its own before giving up.
    sim.setLatency(1_200);
    // A 503 that asks for 2.5 s (as servers send Retry-After with one): long enough to read the line.
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'status', status: 503, retryAfterMs: 2_500 } }]);
    try {
      await ask(chat, 'Fix the off-by-one bug', 'sim-gpt');
      const answer = chat.locator('.msg.assistant').last();
      const status = answer.locator('.msg-status');
      await status.waitFor({ state: 'visible', timeout: 15_000 });
      await chat.locator('.msg-status', { hasText: 'retrying in' }).waitFor({ timeout: 10_000 });
      // sim-gpt sits behind a baseUrl: the line names it as the error messages do, not as "OpenAI".
      assert.match(await textOf(status), /(The OpenAI-compatible server is overloaded|Server error at the OpenAI-compatible server) after 1\.\d s — retrying in \d s \(attempt 2\/2\)/);
      assert.ok(await chat.locator('button', { hasText: 'Stop' }).isVisible(), 'Stop is offered while the answer is pending');
      await screenshot(page, 'chat-03-retry-status');
      await answer.locator('.chip.cost').waitFor({ state: 'visible', timeout: 20_000 });
      assert.match(await textOf(answer.locator('.meta')), /1 retry/);
      const calls = await answer.locator('.chip', { hasText: '1 retry' }).getAttribute('title');
      assert.match(calls ?? '', /2 attempts in all:\nsim-gpt: (overloaded|server error) after 1\.\d s\nsim-gpt: answered after 1\.\d s/);
      assert.equal(await status.isVisible(), false, 'the status line goes when the answer is done');
    } finally {
      sim.setLatency(0);
    }
  });

  e2eIt('shows a rate-limit pause as a countdown with Retry now and Switch agent; Retry now sends at once', async (page) => {
    const chat = await openChat(page);
    // Four minutes: only Retry now can bring the answer within this test's time-outs.
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'rate_limit', retryAfterMs: 240_000 } }]);
    await ask(chat, 'Fix the off-by-one bug', 'sim-gpt');
    const answer = chat.locator('.msg.assistant').last();
    const status = answer.locator('.msg-status');
    await chat.locator('.msg-status', { hasText: 'asked to slow down' }).waitFor({ timeout: 15_000 });
    assert.match(await textOf(status), /The OpenAI-compatible server asked to slow down — waiting for sim-gpt's rate limit, sending in \d+ s/);
    const retryNow = status.locator('button', { hasText: 'Retry now' });
    assert.ok(await retryNow.isVisible(), 'Retry now is offered');
    assert.ok(await status.locator('button', { hasText: 'Switch agent' }).isVisible(), 'Switch agent is offered');
    assert.ok(await chat.locator('button', { hasText: 'Stop' }).isVisible(), 'Stop is offered while the answer is pending');
    await screenshot(page, 'chat-03-rate-limit-wait');
    await retryNow.click();
    await answer.locator('.chip.cost').waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await textOf(answer.locator('.msg-body')), /^Simulated gpt-4\.1-mini reply: Fix the off-by-one bug/);
    assert.match(await textOf(answer.locator('.meta')), /1 retry/);
    assert.equal(await status.isVisible(), false, 'the status line goes when the answer is done');
  });

  e2eIt('Escape stops a streaming answer and keeps what arrived', async (page) => {
    const chat = await openChat(page);
    const answer = await startSlowAnswer(chat, sim);
    await screenshot(page, 'chat-04-streaming');
    await stopWithEscape(chat, answer);
    assert.match(await textOf(answer.locator('.msg-body')), /^Simulated gpt-4\.1-mini reply/);
    await chat.locator('button', { hasText: 'Stop' }).waitFor({ state: 'hidden', timeout: 5_000 });
    await screenshot(page, 'chat-05-stopped');
  });

  e2eIt('a code block in an answer has Copy / Insert / Apply, and Insert puts the code in the editor', async (page) => {
    await runCommand(page, 'File: New Untitled Text File');
    await page.locator('.tabs-container .tab.active', { hasText: 'Untitled' }).waitFor({ state: 'visible' });
    const chat = await openChat(page);
    const block = await askForCode(chat);
    assert.equal(await textOf(block.locator('.code-lang')), 'typescript');
    assert.deepEqual(await block.locator('button.code-action').allInnerTexts(), ['Copy', 'Insert', 'Apply']);
    assert.match(await textOf(block.locator('pre')), /export function simulated1\(value: number\): number \{ return value \+ 1; \}/);
    await screenshot(page, 'chat-07-code-block');
    await block.locator('button[data-action="insert"]').click();
    // The editor renders spaces as U+00A0, which \s matches.
    await page.waitForFunction(() => /export\sfunction\ssimulated1\(value:\snumber\)/.test(document.querySelector('.editor-instance .view-lines')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await screenshot(page, 'chat-08-code-inserted');
    // No unsaved editor left for the suites that follow: close it without saving.
    await runCommand(page, 'View: Close Editor');
    await page.locator('.monaco-dialog-box').getByRole('button', { name: "Don't Save" }).click({ timeout: 10_000 });
    await page.locator('.tabs-container .tab', { hasText: 'Untitled' }).waitFor({ state: 'detached', timeout: 10_000 });
  });

  e2eIt('the conversation comes back when the view is hidden and shown again', async (page) => {
    // A conversation of its own, begun afresh: an answer, a stopped answer, an answer with code.
    const own = await openChat(page);
    await own.getByRole('button', { name: 'Start a new conversation' }).click();
    await own.locator('.msg').first().waitFor({ state: 'detached', timeout: 10_000 });
    await askFirstQuestion(own);
    await stopWithEscape(own, await startSlowAnswer(own, sim));
    await askForCode(own);
    // The view does not retain its page while hidden: showing it again rebuilds it from the host's history.
    await runCommand(page, 'View: Close Primary Side Bar');
    await page.locator('.part.sidebar').waitFor({ state: 'hidden' });
    const chat = await openChat(page);
    await chat.locator('.msg.user', { hasText: 'Write a function that adds two numbers' }).waitFor({ timeout: 20_000 });
    // The history's last parts to render (the stopped answer, the highlighted code block), before counting.
    await chat.locator('.msg.assistant', { hasText: 'Stopped.' }).first().waitFor({ timeout: 10_000 });
    await chat.locator('.msg.assistant .code-block').first().waitFor({ timeout: 10_000 });
    assert.ok((await chat.locator('.msg.assistant .chip.cost').count()) >= 2, 'the answers and their costs are back');
    assert.equal(await chat.locator('.msg.assistant', { hasText: 'Stopped.' }).count(), 1, 'the stopped answer is back, marked as stopped');
    assert.equal(await chat.locator('.msg.assistant .code-block').count(), 1, 'the answer with code has its code block again');
    await screenshot(page, 'chat-06-shown-again');
  });

  e2eIt('an answer whose provider reported no usage shows its cost as an estimate (≈)', async (page) => {
    const chat = await openChat(page);
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'no_usage' } }]);
    await ask(chat, 'Explain closures briefly [[words:30]]', 'sim-gpt');
    const cost = chat.locator('.msg.assistant').last().locator('.chip.cost');
    await cost.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await textOf(cost), /^≈\$0\.\d{2,4}$/);
    assert.match((await cost.getAttribute('title')) ?? '', /Estimated: the provider reported no token usage/);
    await screenshot(page, 'chat-09-estimated-cost');
  });

  e2eIt('the conversation survives a window reload (saved in workspaceState through its slot)', async (page) => {
    await setOpenAiKeyThroughPalette(page, KEY);
    let chat = await openChat(page);
    const marker = `reload-${Date.now() % 100_000}`;
    await ask(chat, `Name a prime, ${marker} [[words:12]]`, 'sim-gpt');
    await chat.locator('.msg.assistant').last().locator('.chip.cost').waitFor({ state: 'visible', timeout: 30_000 });

    await runCommand(page, 'Developer: Reload Window');
    await page.waitForLoadState('domcontentloaded');
    await waitForWorkbench(page);
    chat = await openChat(page);
    // The last turn of the history is the one asked before the reload.
    await chat.locator('.msg.user', { hasText: marker }).waitFor({ timeout: 30_000 });
    const answer = chat.locator('.msg.assistant').last();
    // The answer is whole once its cost shows: only then is its text asserted.
    await answer.locator('.chip.cost').waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await textOf(answer.locator('.msg-body')), /^Simulated gpt-4\.1-mini reply: Name a prime/);
    await screenshot(page, 'chat-10-after-reload');
  });
});
