// The smoke check of `npm start -- --smoke`: what a new user does first, in headless Chromium on
// the URL `npm start` printed — wait for MAOF in the status bar, open the chat, ask one question,
// wait for the simulator's answer. Returns what it saw, or the step that failed and why.
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { ProviderSimulator } from '../src/simulator/providerSimulator';
import { findWebview } from '../test/e2e/simulatorSetup';
import { runCommand, textOf } from '../test/e2e/driver';
import { launchBrowser } from './editor';

export interface SmokeOptions {
  url: string;
  /** Screenshots go here. */
  runDir: string;
  /** The simulator the agents point at: the answer must have come from it. */
  simulator?: ProviderSimulator;
  /** Upper bound for the whole check. */
  timeoutMs?: number;
}

export interface SmokeReport {
  ok: boolean;
  /** The step that failed and why. */
  reason?: string;
  /** What was seen, step by step. */
  lines: string[];
}

export const SMOKE_QUESTION = 'What can MAOF do for me? (smoke check)';

async function steps(page: Page, o: SmokeOptions, lines: string[], step: (name: string) => void): Promise<void> {
  step('open the workbench');
  await page.goto(o.url, { timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
  lines.push('workbench loaded');

  step('wait for MAOF in the status bar');
  // The placeholder reads "MAOF"; once the host is up it shows the month's spend after it.
  const item = page.locator('.statusbar-item', { hasText: /MAOF \$/ }).first();
  await item.waitFor({ state: 'visible', timeout: 90_000 });
  lines.push(`status bar: "${await textOf(item)}"`);

  step('open the chat (MAOF: Open Chat)');
  await runCommand(page, 'MAOF: Open Chat');
  const chat = await findWebview(page, '.maof-chat #prompt', 60_000);
  await chat.locator('#agent option').first().waitFor({ state: 'attached', timeout: 30_000 });
  const agents = (await chat.locator('#agent option').allInnerTexts()).map((t) => t.trim());
  lines.push(`chat open; agents: ${agents.join(', ')}`);

  step('ask the chat one question');
  const before = o.simulator?.tally();
  const box = chat.locator('#prompt');
  await box.click();
  await box.fill(SMOKE_QUESTION);
  const answers = await chat.locator('.msg.assistant').count();
  await box.press('Enter');
  const answer = chat.locator('.msg.assistant').nth(answers);
  await answer.waitFor({ state: 'attached', timeout: 30_000 });

  step('wait for the answer');
  // The cost chip appears when the answer is complete; an error shows in the message instead.
  await answer.locator('.chip.cost, .error, .stopped').first().waitFor({ state: 'visible', timeout: 90_000 });
  if (await answer.locator('.error').count() > 0) throw new Error(`the chat answered with an error: "${await textOf(answer.locator('.error'))}"`);
  const body = await textOf(answer.locator('.msg-body'));
  const who = await textOf(answer.locator('.who')).catch(() => '?');
  const cost = await textOf(answer.locator('.chip.cost')).catch(() => '');
  if (!/^Simulated .+ reply: /.test(body) || !body.includes(SMOKE_QUESTION)) {
    throw new Error(`the answer is not the simulator's reply to the question: "${body.slice(0, 300)}"`);
  }
  if (o.simulator && before) {
    const after = o.simulator.tally();
    const calls = JSON.stringify(after) === JSON.stringify(before) ? 0 : 1;
    if (calls === 0) throw new Error('the simulator saw no request for the question');
  }
  lines.push(`answered by ${who}${cost ? ` (${cost})` : ''}: "${body.length > 120 ? `${body.slice(0, 117)}...` : body}"`);
}

export async function runSmoke(o: SmokeOptions): Promise<SmokeReport> {
  const lines: string[] = [];
  let current = 'start Chromium';
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(30_000);
  const timeoutMs = o.timeoutMs ?? 5 * 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      steps(page, o, lines, (name) => {
        current = name;
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`gave up after ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
    const shot = path.join(o.runDir, 'smoke.png');
    await page.screenshot({ path: shot });
    lines.push(`screenshot: ${shot}`);
    return { ok: true, lines };
  } catch (err) {
    const shot = path.join(o.runDir, 'smoke-failed.png');
    await page.screenshot({ path: shot }).catch(() => undefined);
    lines.push(`screenshot: ${shot}`);
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { ok: false, reason: `${current}: ${why}`, lines };
  } finally {
    if (timer) clearTimeout(timer);
    await browser.close().catch(() => undefined);
  }
}
