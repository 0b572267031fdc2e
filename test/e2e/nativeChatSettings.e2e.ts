// VS Code's own Chat with MAOF as the only model provider, for the parts the Chat does on its own:
// its utility flows (a new chat's title) through MAOF's `utility` model once "MAOF: Use MAOF for
// Chat Utility Models" has run — the "Set BYOK utility models" banner goes away — and an MCP
// server's sampling request (the pinned @modelcontextprotocol/server-everything, a local stdio
// server) answered by MAOF from agent mode. The spend of each shows under its own source.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { RequestLogEntry } from '../../src/simulator/providerSimulator';
import { e2eIt, runCommand, screenshot, session, textOf } from './driver';
import { askNativeChat, nativeChatTitle, newNativeChat, waitForChatAnswer } from './nativeChatDriver';
import { findWebview, readUserSettings, simulatorSuite } from './simulatorSetup';

const banner = /Set BYOK utility models?/;
const everything = path.resolve(__dirname, '..', '..', 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

/** The text of the Chat view's whole pane (input notifications and the title included). */
async function chatPaneText(page: Page): Promise<string> {
  return textOf(page.locator('.interactive-session').first()).catch(() => '');
}

async function waitUntil(page: Page, what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await page.waitForTimeout(500);
  }
}

/** The last user message of a request the simulator received (bodies are kept in this suite). */
function lastUserText(entry: RequestLogEntry): string {
  const body = entry.body as { messages?: { role?: string; content?: unknown }[] } | undefined;
  const users = (body?.messages ?? []).filter((m) => m.role === 'user');
  const content = users[users.length - 1]?.content;
  return typeof content === 'string' ? content : JSON.stringify(content ?? '');
}

/** "Spend by source" on MAOF's dashboard, as the user reads it. */
async function spendBySource(page: Page): Promise<string> {
  await runCommand(page, 'MAOF: Show Dashboard');
  const frame = await findWebview(page, '.maof-dashboard h1');
  const panel = frame.locator('section.panel', { hasText: 'Spend by source' }).first();
  await panel.waitFor({ state: 'visible', timeout: 20_000 });
  return textOf(panel);
}

describe('VS Code\'s Chat: utility flows and MCP sampling through MAOF', function () {
  this.timeout(240_000);
  const mcpFiles: string[] = [];
  const { sim } = simulatorSuite(
    { 'chat.allowAnonymousAccess': true, 'chat.tools.global.autoApprove': true },
    {
      beforeRestore: async () => {
        for (const f of mcpFiles) fs.rmSync(f, { force: true });
        await runCommand(session().page, 'View: Close All Editors').catch(() => undefined);
        await runCommand(session().page, 'View: Close Secondary Side Bar');
      },
    },
    { keepBodies: true },
  );

  before(() => {
    // The server runs from the pinned devDependency with this Node: offline, no npx.
    const dotVscode = path.join(session().workspace, '.vscode');
    fs.mkdirSync(dotVscode, { recursive: true });
    const mcpJson = path.join(dotVscode, 'mcp.json');
    fs.writeFileSync(mcpJson, JSON.stringify({ servers: { everything: { type: 'stdio', command: process.execPath, args: [everything, 'stdio'] } } }, null, 2));
    // The sampling permission and models of a workspace server are read from the folder's settings,
    // under "<folder>/.vscode/mcp.json: <server>" (VS Code 1.139's McpSamplingService).
    const key = `${path.basename(session().workspace)}/.vscode/mcp.json: everything`;
    const settingsJson = path.join(dotVscode, 'settings.json');
    const had = fs.existsSync(settingsJson) ? (JSON.parse(fs.readFileSync(settingsJson, 'utf8')) as Record<string, unknown>) : {};
    fs.writeFileSync(settingsJson, JSON.stringify({ ...had, 'chat.mcp.serverSampling': { [key]: { allowedDuringChat: true, allowedOutsideChat: true, allowedModels: ['maof/utility'] } } }, null, 2));
    mcpFiles.push(mcpJson);
    if (Object.keys(had).length === 0) mcpFiles.push(settingsJson);
  });

  e2eIt('"Use MAOF for Chat Utility Models" removes the utility banner, and a new chat\'s title comes from MAOF\'s utility route', async (page) => {
    await askNativeChat(page, 'What does the add function return? (utility)');
    await waitForChatAnswer(page, /What does the add function return\? \(utility\)[\s\S]*Simulated gpt-4\.1-mini reply/);
    await waitUntil(page, 'the Chat shows "Set BYOK utility models"', async () => banner.test(await chatPaneText(page)), 30_000);
    await screenshot(page, 'native-chat-utility-01-banner-before');

    await runCommand(page, 'MAOF: Use MAOF for Chat Utility Models');
    await waitUntil(page, 'the user settings name maof/utility', () => Promise.resolve(readUserSettings()['chat.utilityModel'] === 'maof/utility' && readUserSettings()['chat.utilitySmallModel'] === 'maof/utility'), 20_000);
    await runCommand(page, 'Chat: Focus on Chat View');
    await waitUntil(page, 'the utility banner is gone', async () => !banner.test(await chatPaneText(page)), 30_000);

    const asked = sim.requestLog().length;
    assert.match(await nativeChatTitle(page), /^What does the add function return/, 'without a utility model, the title is the question itself');
    await newNativeChat(page);
    await askNativeChat(page, 'Explain the average function');
    await waitForChatAnswer(page, /Explain the average function[\s\S]*Simulated gpt-4\.1-mini reply/);
    // The Chat's own request offers its tools; a utility request (the title) offers none.
    await waitUntil(page, 'MAOF received a utility request', () => Promise.resolve(sim.requestLog().slice(asked).some((e) => !e.tools?.length)), 60_000);
    // What the simulator answered the title request is what the Chat shows as the title.
    await waitUntil(page, 'the new chat has the title MAOF wrote', async () => /^Simulated gpt-4\.1-mini reply: Please write a brief title/.test(await nativeChatTitle(page)), 30_000);
    await screenshot(page, 'native-chat-utility-02-banner-gone-title');
    const utility = sim.requestLog().slice(asked).filter((e) => !e.tools?.length);
    console.log(`      (utility requests after the command: ${utility.length}, models ${[...new Set(utility.map((e) => e.model))].join(', ')}; first asked: ${JSON.stringify(lastUserText(utility[0]).slice(0, 200))})`);
    assert.ok(!banner.test(await chatPaneText(page)), 'no utility banner');

    const bySource = await spendBySource(page);
    assert.match(bySource, /VS Code utility/, `the dashboard's spend by source: ${bySource}`);
    await screenshot(page, 'native-chat-utility-03-dashboard-source');
  });

  e2eIt('an MCP server\'s sampling request from agent mode is answered through MAOF, and the answer shows in the Chat', async (page) => {
    await runCommand(page, 'View: Close All Editors').catch(() => undefined);
    await newNativeChat(page);
    const offered = (): string[] => [...new Set(sim.requestLog().flatMap((e) => e.tools ?? []))];
    let tool = offered().find((t) => /trigger.?sampling.?request$/i.test(t));
    for (let round = 1; !tool && round <= 4; round++) {
      const asked = sim.requestLog().length;
      await askNativeChat(page, `Say hello (mcp round ${round})`);
      await waitUntil(page, 'the Chat asked MAOF', () => Promise.resolve(sim.requestLog().length > asked), 30_000);
      tool = offered().find((t) => /trigger.?sampling.?request$/i.test(t));
      if (!tool) await page.waitForTimeout(3_000);
    }
    assert.ok(tool, `the Chat never offered the server's sampling tool; it offered: ${offered().join(', ')}`);
    const before = sim.requestLog().length;
    await askNativeChat(page, `Sample through MCP [[tool:${tool} {"prompt":"name three primes","maxTokens":60}]]`);
    await waitUntil(page, 'the simulator received the sampling request', async () => {
      // "chat.tools.global.autoApprove" (so the tool runs without a click) is confirmed once in a dialog.
      const dialog = page.locator('.monaco-dialog-box', { hasText: 'Enable global auto approve' });
      if (await dialog.isVisible().catch(() => false)) await dialog.getByRole('button', { name: 'Enable' }).click();
      return sim.requestLog().slice(before).some((e) => /Resource trigger-sampling-request context: name three primes/.test(lastUserText(e)));
    }, 90_000);
    // The tool's result — the sampled answer, and the model VS Code picked for it — shows in the
    // Chat; the server marks the tool open-world, so the Chat asks before it hands the result on.
    const shown = await waitForChatAnswer(page, /LLM sampling result[\s\S]*Allow/, 60_000, { waitingForUser: true });
    assert.match(shown, /"model": "maof\/\s?utility"/, `the sampling result names the MAOF model VS Code picked: ${shown}`);
    assert.match(shown, /"text": "Simulated gpt-4\.1-mini reply: Resource trigger-sampling-req\s?u?\s?est context: name three primes"/, 'the simulator\'s answer, through MAOF, is the sampling result');
    await screenshot(page, 'native-chat-mcp-01-sampling-result');
    await page.locator('.interactive-session .monaco-button', { hasText: /^Allow/ }).last().click();
    await waitForChatAnswer(page, /Simulated gpt-4\.1-mini reply: the tool returned: LLM sampling result/, 60_000);
    await screenshot(page, 'native-chat-mcp-02-answer');
    const sampled = sim.requestLog().slice(before).find((e) => /Resource trigger-sampling-request context/.test(lastUserText(e)));
    assert.equal(sampled?.model, 'gpt-4.1-mini', 'the utility route answered it');

    const bySource = await spendBySource(page);
    assert.match(bySource, /MCP sampling/, `the dashboard's spend by source: ${bySource}`);
    await screenshot(page, 'native-chat-mcp-03-dashboard-source');
  });
});
