// Code in a chat answer is syntax-highlighted in the real webview, under its CSP: the grammar's chunk
// loads from the extension, the tokens take the theme's colours (dark and light), and an agent
// that needs no key is offered without a "no key" warning.
import * as assert from 'node:assert/strict';
import type { FrameLocator, Page } from 'playwright-core';
import { e2eIt, runCommand, screenshot } from './driver';
import { applyUserSettings, findWebview, simulatorSuite } from './simulatorSetup';

async function openChat(page: Page): Promise<FrameLocator> {
  await runCommand(page, 'MAOF: Open Chat');
  const chat = await findWebview(page, '.maof-chat #prompt');
  await chat.locator('#agent option[value="sim-gpt"]').waitFor({ state: 'attached', timeout: 20_000 });
  return chat;
}

/** The colour a token is drawn in, as the browser computed it. */
function colourOf(chat: FrameLocator, selector: string): Promise<string> {
  return chat.locator(selector).first().evaluate((e) => getComputedStyle(e).color);
}

describe('chat code highlighting in the real workbench', function () {
  this.timeout(120_000);
  // sim-gpt is an OpenAI-compatible server on loopback: it needs no key.
  const suite = simulatorSuite({ 'workbench.colorTheme': 'Default Dark Modern' });

  e2eIt('a TypeScript answer shows highlight tokens in theme colours; the keyless agent is not "no key"', async (page) => {
    const chat = await openChat(page);
    assert.doesNotMatch(await chat.locator('#agent option[value="sim-gpt"]').innerText(), /no key/);
    await chat.locator('#agent').selectOption('auto');
    assert.equal(await chat.locator('.agent-note').isVisible(), false, 'no "No API key is set" note: sim-gpt can be asked');

    await chat.locator('#agent').selectOption('sim-gpt');
    const before = await chat.locator('.msg.assistant').count();
    await chat.locator('#prompt').fill('Two increment functions [[code:2]]');
    await chat.locator('#prompt').press('Enter');
    const answer = chat.locator('.msg.assistant').nth(before);
    await answer.locator('.chip.cost').waitFor({ state: 'visible', timeout: 30_000 });
    const code = answer.locator('.code-block pre code');
    // TypeScript's grammar is a chunk of its own: the block is highlighted once it has loaded.
    await code.locator('.hljs-keyword').first().waitFor({ state: 'attached', timeout: 10_000 });
    const keywords = await code.locator('.hljs-keyword').allInnerTexts();
    assert.deepEqual(keywords.slice(0, 2), ['export', 'function']);
    assert.ok((await code.locator('.hljs-title').allInnerTexts()).includes('simulated2'));
    assert.ok((await code.locator('.hljs-number').count()) >= 2, 'the numbers are tokens');
    assert.match(await code.innerText(), /export function simulated2\(value: number\): number \{\n {2}return value \+ 2;\n\}/, 'the text is unchanged');

    const plain = await colourOf(chat, '.msg.assistant .msg-body p');
    const keyword = await colourOf(chat, '.msg.assistant .hljs-keyword');
    const num = await colourOf(chat, '.msg.assistant .hljs-number');
    assert.notEqual(keyword, plain, 'keywords have a colour of their own');
    assert.notEqual(num, keyword, 'numbers and keywords differ');
    await screenshot(page, 'chat-10-highlight-dark');

    await applyUserSettings(page, { ...suite.settings(), 'workbench.colorTheme': 'Default Light Modern' });
    await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs'), undefined, { timeout: 10_000 });
    const lightChat = await openChat(page);
    await lightChat.locator('.msg.assistant .hljs-keyword').first().waitFor({ state: 'attached', timeout: 10_000 });
    // The webview takes the new theme's colours when VS Code hands them over, after the workbench
    // switched: look again until they change (or time runs out), then assert.
    let lightKeyword = await colourOf(lightChat, '.msg.assistant .hljs-keyword');
    for (const end = Date.now() + 10_000; lightKeyword === keyword && Date.now() < end; ) {
      await page.waitForTimeout(250);
      lightKeyword = await colourOf(lightChat, '.msg.assistant .hljs-keyword');
    }
    assert.notEqual(lightKeyword, keyword, 'the token colours follow the theme');
    assert.notEqual(lightKeyword, await colourOf(lightChat, '.msg.assistant .msg-body p'));
    await screenshot(page, 'chat-11-highlight-light');
  });
});
