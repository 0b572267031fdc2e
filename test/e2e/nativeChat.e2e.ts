// MAOF under VS Code's own Chat, in the real workbench with anonymous access (no Copilot sign-in):
// VS Code's Auto lands on MAOF's auto model and the simulator answers; in agent mode the Chat runs
// one of its own tools on a call MAOF relayed and the simulator receives the tool's result;
// `@maof /route` explains which agent would answer, `/compare` asks the route's agents side by
// side and `/diagnose` reports the set-up.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RequestLogEntry } from '../../src/simulator/providerSimulator';
import { e2eIt, runCommand, screenshot, session, textOf } from './driver';
import { askNativeChat, waitForChatAnswer, waitForChatText } from './nativeChatDriver';
import { applyUserSettings, simulatorSuite } from './simulatorSetup';

describe('VS Code\'s native Chat through MAOF', function () {
  this.timeout(180_000);
  // The Chat opens in the secondary side bar: close it, so later tests get the usual layout.
  const suite = simulatorSuite({ 'chat.allowAnonymousAccess': true }, { beforeRestore: () => runCommand(session().page, 'View: Close Secondary Side Bar') });
  const { sim } = suite;

  e2eIt('answers a question asked in the Chat with MAOF\'s auto model', async (page) => {
    await askNativeChat(page, 'What does the add function return? (native chat)');
    const text = await waitForChatAnswer(page, /Simulated gpt-4\.1-mini reply/);
    assert.match(text, /What does the add function return/);
    const asked = sim.requestLog().filter((e) => e.outcome === 'succeeded');
    assert.ok(asked.length >= 1, 'the simulator answered');
    console.log(`      (tools offered by the Chat: ${asked[asked.length - 1]?.tools?.length ?? 0}: ${(asked[asked.length - 1]?.tools ?? []).slice(0, 60).join(', ')})`);
    await screenshot(page, 'native-chat-01-answer');
  });

  e2eIt('in agent mode, runs one of VS Code\'s own tools on a call MAOF relayed, and the model receives its result', async (page) => {
    // Right after a window reload (an earlier suite's), the Chat offers only the tools registered so
    // far — read_file comes later: ask again until it is offered, and fail if it never is.
    const offeredTools = (): string[] => [...new Set(sim.requestLog().flatMap((e: RequestLogEntry) => e.tools ?? []))];
    let readTool = offeredTools().find((t) => /read.?file/i.test(t));
    for (let round = 1; !readTool && round <= 4; round++) {
      await page.waitForTimeout(3_000);
      const asked = sim.requestLog().length;
      await askNativeChat(page, `Say hello (round ${round})`);
      const deadline = Date.now() + 30_000;
      while (sim.requestLog().length === asked && Date.now() < deadline) await page.waitForTimeout(250);
      readTool = offeredTools().find((t) => /read.?file/i.test(t));
    }
    assert.ok(readTool, `the Chat never offered a read-file tool; it offered: ${offeredTools().join(', ')}`);
    const file = path.join(session().workspace, 'src', 'math.ts');
    assert.ok(fs.existsSync(file));
    const before = sim.requestLog().length;
    const cachedBefore = sim.tally().cacheReadTokens;
    await askNativeChat(page, `Read the file [[tool:${readTool} {"filePath":${JSON.stringify(file)},"startLine":1,"endLine":20}]]`);
    const deadline = Date.now() + 90_000;
    let withResult: RequestLogEntry | undefined;
    while (!withResult && Date.now() < deadline) {
      withResult = sim.requestLog().slice(before).find((e) => e.toolResults && e.toolResults.length > 0);
      if (!withResult) await page.waitForTimeout(500);
    }
    await screenshot(page, 'native-chat-02-tool-round-trip');
    assert.ok(withResult, `the simulator never received a tool result (requests: ${JSON.stringify(sim.requestLog().slice(before))})`);
    assert.match(withResult.toolResults!.join('\n'), /export function average/, `the result holds the file's text: ${JSON.stringify(withResult.toolResults)}`);
    await waitForChatAnswer(page, /the tool returned/);
    // The request with the tool result starts with the one that asked for the tool (instructions,
    // the Chat's tool schemas, the question): the provider read that prefix from its prompt cache.
    assert.ok(sim.tally().cacheReadTokens > cachedBefore, `no cached input in the agent-mode series (tally ${JSON.stringify(sim.tally())})`);
  });

  e2eIt('@maof /route says which agent would answer now', async (page) => {
    await askNativeChat(page, '@maof /route write a function that adds two numbers');
    const text = await waitForChatAnswer(page, /would answer now/);
    assert.match(text, /sim-gpt/);
    await screenshot(page, 'native-chat-03-route');
  });

  e2eIt('@maof /compare puts the route\'s agents side by side: one answers, the one without a key says so', async (page) => {
    const asked = sim.requestLog().length;
    await askNativeChat(page, '@maof /compare write a function that adds two numbers');
    const text = await waitForChatAnswer(page, /2 agents on the "code" route[\s\S]*No Anthropic API key is set for agent "sim-claude"/);
    assert.match(text, /sim-gpt\s+gpt-4\.1-mini\s+\S+\s+[\d.]+ s\s+answered/, 'sim-gpt answered, with its cost and time');
    assert.match(text, /sim-claude\s+claude-haiku-4-5\s+\S+\s+[\d.]+ s\s+key missing or rejected/, 'sim-claude\'s row names the problem in the words the other surfaces use');
    assert.match(text, /sim-gpt\s+Simulated gpt-4\.1-mini reply: write a function that adds two numbers\s+sim-claude\s+No Anthropic API key/, 'each answer is shown under its agent\'s name, in route order');
    const sent = sim.requestLog().slice(asked);
    assert.deepEqual([...new Set(sent.map((e) => e.model))], ['gpt-4.1-mini'], 'only the agent with a key was asked');
    await screenshot(page, 'native-chat-04-compare');
  });

  e2eIt('@maof /diagnose shows the agents, routes and budget', async (page) => {
    // With nothing after the command, Enter would accept the command's completion instead of sending.
    await askNativeChat(page, '@maof /diagnose my set-up');
    const text = await waitForChatAnswer(page, /MAOF diagnostics[\s\S]*Routes[\s\S]*Budget[\s\S]*Connectivity[\s\S]*Not checked/);
    assert.match(text, /sim-gpt[\s\S]*sim-claude/, 'both agents are listed');
    assert.match(text, /code: sim-gpt → sim-claude/, 'the code route, in order');
    assert.match(text, /Not checked \(open "MAOF: Diagnose" from the Command Palette/, 'the Chat has no Check Connectivity button: the report says where it is');
    assert.match(text, /sim-gpt — gpt-4\.1-mini \(OpenAI, custom endpoint\) (no key needed|key set) · (built-in price|price set) · breaker (closed|open)/, 'each agent is a list item that fits the narrow panel, not a wide table');
    await screenshot(page, 'native-chat-05-diagnose');
    // The agents, scrolled back into view as a user would (the Chat's list is its own scroller):
    // nothing cut off on the right of the side panel.
    const box = await page.locator('.interactive-session .interactive-list').first().boundingBox();
    if (box) {
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.wheel(0, -260);
      await page.waitForTimeout(500);
    }
    await screenshot(page, 'native-chat-05b-diagnose-agents');
  });

  e2eIt('after a fallback in the Chat, the status bar lists which agent answered, why and what it cost; /route explains it', async (page) => {
    // A second agent with the OpenAI key (a loopback proxy may carry it) as the code route's
    // fallback, and sim-gpt overloaded for as long as its retries last.
    const settings = suite.settings();
    const agents = settings['maof.agents'] as Array<Record<string, unknown>>;
    const nano = { ...agents[0], id: 'sim-nano', model: 'gpt-4.1-nano', description: 'Loopback simulator, the fallback' };
    await applyUserSettings(page, { ...settings, 'maof.agents': [...agents, nano], 'maof.routes': { ...(settings['maof.routes'] as object), code: ['sim-gpt', 'sim-nano'] } });
    try {
      sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'overloaded' }, times: 2 }]);
      const asked = sim.requestLog().length;
      await askNativeChat(page, 'Write a function that multiplies two numbers');
      await waitForChatAnswer(page, /Simulated gpt-4\.1-nano reply/);
      assert.deepEqual(sim.requestLog().slice(asked).map((e) => `${e.model} ${e.outcome}`).slice(0, 3), ['gpt-4.1-mini faulted', 'gpt-4.1-mini faulted', 'gpt-4.1-nano succeeded']);

      // One click on the status bar item: the last requests, newest first.
      await page.locator('.part.statusbar .statusbar-item', { hasText: 'MAOF' }).first().click();
      const picker = page.locator('.quick-input-widget');
      await picker.locator('.quick-input-title', { hasText: 'last requests' }).waitFor({ timeout: 15_000 });
      const rows = picker.locator('.quick-input-list .monaco-list-row');
      await rows.filter({ hasText: 'sim-nano' }).first().waitFor({ timeout: 10_000 });
      const row = await textOf(rows.filter({ hasText: 'sim-nano' }).first());
      assert.match(row, /sim-nano · \$0\.\d+/, `the agent and the cost: ${row}`);
      assert.match(row, /VS Code Language Model API · code/, `who asked and the route: ${row}`);
      assert.match(row, /Fallback #1 of the code route, after sim-gpt: overloaded \(\d{3}\) ×2/, `why: ${row}`);
      await screenshot(page, 'native-chat-06-last-requests');
      // Picking the row tells the whole story: the route and each attempt.
      await rows.filter({ hasText: 'sim-nano' }).first().click();
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: 10_000 });
      const story = await textOf(dialog);
      assert.match(story, /sim-nano \(gpt-4\.1-nano\) answered a code request from VS Code Language Model API/, story);
      assert.match(story, /Route: sim-gpt → sim-nano\. Attempts: sim-gpt: overloaded \(\d{3}\) ×2 → sim-nano: answered\. Cost: \$0\.\d+/, story);
      await screenshot(page, 'native-chat-07-last-request-story');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden', timeout: 10_000 });

      await askNativeChat(page, '@maof /route which agent answered?');
      const text = await waitForChatAnswer(page, /The last request from VS Code's Chat[^.]*sim-nano\*{0,2} answered/);
      assert.match(text, /The last request from VS Code's Chat \(code, VS Code Language Model API\): sim-nano answered — fallback #1 of the code route, after sim-gpt: overloaded \(\d{3}\) ×2; it cost \$0\.\d+\. Attempts: sim-gpt: overloaded \(\d{3}\) ×2 → sim-nano: answered/);
      await screenshot(page, 'native-chat-08-route-last-request');
    } finally {
      await applyUserSettings(page, settings);
    }
  });
});

describe('VS Code\'s native Chat through MAOF: a primary that goes silent (issue 18)', function () {
  this.timeout(180_000);
  // Two OpenAI-format agents on the loopback simulator (no key needed): the primary goes silent,
  // the fallback answers. Default deadlines: the cold-start first-token deadline is 12 s. Agent ids
  // of their own: the shared ledger keeps other suites' breakers and learned latency by agent id.
  const { sim } = simulatorSuite(
    (address) => ({
      'chat.allowAnonymousAccess': true,
      'maof.agents': [
        { id: 'quiet-gpt', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: address.openaiBaseUrl, contextWindow: 128000, maxOutputTokens: 1024, description: 'Loopback simulator (goes silent)' },
        { id: 'quiet-gpt-b', provider: 'openai', model: 'gpt-4.1', baseUrl: address.openaiBaseUrl, contextWindow: 128000, maxOutputTokens: 1024, description: 'Loopback simulator (the fallback)' },
      ],
      'maof.routes': { code: ['quiet-gpt', 'quiet-gpt-b'], writing: ['quiet-gpt', 'quiet-gpt-b'], analysis: ['quiet-gpt', 'quiet-gpt-b'] },
    }),
    { beforeRestore: () => runCommand(session().page, 'View: Close Secondary Side Bar') },
  );

  e2eIt('a silent primary: the fallback\'s answer appears once, within the first-token deadline', async (page) => {
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'hang' }, times: 1 }]);
    let started = Date.now();
    // Timed from the send: opening the Chat view on a loaded machine is not the router's time.
    await askNativeChat(page, 'Write a function that adds two numbers (silent primary)', () => (started = Date.now()));
    // In agent mode the Chat puts its own context before the question: the simulator echoes that.
    await waitForChatText(page, /Simulated gpt-4\.1 reply:/, 60_000);
    const elapsed = Date.now() - started;
    // The end of the answer, not its first words.
    const text = await waitForChatAnswer(page, /Simulated gpt-4\.1 reply:/, 60_000);
    await screenshot(page, 'native-chat-06-silent-primary');
    assert.equal(text.match(/Simulated gpt-4\.1 reply:/g)?.length, 1, `the fallback's answer once: "${text.slice(-600)}"`);
    assert.match(text, /Write a function that adds two numbers \(silent primary\)/);
    assert.doesNotMatch(text, /Simulated gpt-4\.1-mini reply/, 'nothing of the silent primary');
    // The 12 s cold-start deadline (a learned one, 8 s at least, after earlier answers), then the fallback's answer and the
    // workbench's own time, which on a loaded machine is tens of seconds. Without the deadline the
    // fallback is never asked: the silent primary holds the request past retry.maxTotalMs (60 s).
    assert.ok(elapsed >= 7_500 && elapsed < 60_000, `the answer took ${elapsed} ms`);
    const log = sim.requestLog();
    console.log(`      (answered in ${elapsed} ms)`);
    const primary = log.find((e) => e.model === 'gpt-4.1-mini');
    assert.equal(primary?.aborted, true, 'the silent primary\'s request was aborted');
    assert.ok(log.some((e) => e.model === 'gpt-4.1' && e.outcome === 'succeeded'), 'the fallback answered');
  });
});
