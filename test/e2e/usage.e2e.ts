// The usage surfaces (issue 19 §4) as a user meets them: spend made in a terminal
// with `maof ask` (a real `node dist/cli.js` process whose MAOF_STATE_DIR is the editor's state
// directory) shows in the editor's status bar and dashboard without a reload, to the cent of what
// `maof usage --json` reports.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { formatUsd } from '../../src/shared/format';
import type { UsageStatement } from '../../src/core/usage/usageReport';
import { e2eIt, runCommand, screenshot, session, textOf } from './driver';
import { findWebview, simulatorSuite } from './simulatorSetup';

const ROOT = path.resolve(__dirname, '..', '..');

/** The editor's ledger directory: scripts/editor.ts gives code-server XDG_STATE_HOME=<run>/xdg/state. */
function ledgerDir(): string {
  return path.join(session().runDir, 'xdg', 'state', 'maof');
}

/** A Node with node:sqlite (the machine's when new enough, else the cached Node 24), as npm test uses. */
function sqliteNode(): string {
  const bin = execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-node.sh')], { encoding: 'utf8' }).trim();
  return path.join(bin, 'node');
}

/** A real CLI process, run asynchronously: the simulator answering it lives in this process. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(sqliteNode(), [path.join(ROOT, 'dist', 'cli.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: path.join(session().runDir, 'cli-home'), MAOF_STATE_DIR: ledgerDir(), OPENAI_API_KEY: 'sk-e2e-cli-openai-5tG8hJ2kL4' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

async function monthSpend(config: string): Promise<number> {
  const r = await cli(['usage', '--config', config, '--json']);
  assert.equal(r.code, 0, `${r.stdout} ${r.stderr}`);
  return (JSON.parse(r.stdout) as UsageStatement).totals.costUsd;
}

async function statusBarShows(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => (document.querySelector('.part.statusbar')?.textContent ?? '').includes(t), text, { timeout: 30_000 });
}

describe('usage: the CLI\'s spend and the history in the editor', function () {
  this.timeout(180_000);
  const suite = simulatorSuite({ 'maof.budget': { monthlyUsd: 50 } });
  afterEach(async () => {
    await runCommand(session().page, 'View: Close All Editors').catch(() => undefined);
  });

  e2eIt('spend made with the CLI shows in the status bar and the dashboard, to the cent of `maof usage`', async (page) => {
    // The limit in the status bar says the settings above are live.
    await page.waitForFunction(() => /MAOF \$[\d.,]+ \/ \$50\.00/.test(document.querySelector('.part.statusbar')?.textContent ?? ''), undefined, { timeout: 30_000 });
    const config = path.join(session().runDir, 'cli-config.json');
    const address = suite.settings()['maof.agents'] as Array<{ id: string; baseUrl: string }>;
    const baseUrl = address.find((a) => a.id === 'sim-gpt')!.baseUrl;
    // A price that makes one short answer cost dollars, so the status bar's cents must move.
    fs.mkdirSync(path.join(session().runDir, 'cli-home'), { recursive: true });
    fs.writeFileSync(config, JSON.stringify({ agents: [{ id: 'cli-pricey', provider: 'openai', model: 'gpt-4.1-mini', baseUrl, contextWindow: 128000, pricing: { inputPerMTok: 20_000, outputPerMTok: 20_000 } }], routes: { code: ['cli-pricey'] } }));

    const before = await monthSpend(config);
    const asked = await cli(['ask', '--config', config, '--task', 'code', '--json', 'a TypeScript function that debounces another']);
    assert.equal(asked.code, 0, `${asked.stdout} ${asked.stderr}`);
    const cost = (JSON.parse(asked.stdout) as { costUsd: number }).costUsd;
    assert.ok(cost > 0.1, `the CLI's answer cost $${cost}`);
    const after = await monthSpend(config);
    assert.ok(Math.abs(after - before - cost) < 1e-8, `maof usage counts it: ${before} + ${cost} = ${after}`);
    assert.notEqual(formatUsd(after), formatUsd(before));

    // No reload, no request in the editor: the status bar reads the shared ledger.
    await statusBarShows(page, `MAOF ${formatUsd(after)} / $50.00`);
    await screenshot(page, 'usage-01-status-bar-after-cli-spend');

    await runCommand(page, 'MAOF: Show Dashboard');
    const dash = await findWebview(page, '.maof-dashboard h1');
    const month = dash.locator('.card').first();
    await dash.locator('.card', { hasText: formatUsd(after) }).first().waitFor({ timeout: 20_000 });
    assert.match(await textOf(month), new RegExp(`This month ${formatUsd(after).replace(/[$.]/g, '\\$&')} of \\$50\\.00`, 'i'));
    const bySource = dash.locator('section', { has: dash.locator('h2', { hasText: 'Spend by source' }) });
    assert.match(await textOf(bySource), /CLI \$\d/);
    const byAgent = dash.locator('section', { has: dash.locator('h2', { hasText: 'Spend by agent' }) });
    assert.match(await textOf(byAgent), /cli-pricey \$\d/);
    await screenshot(page, 'usage-02-dashboard-after-cli-spend');
  });

  e2eIt('the dashboard\'s month picker shows a past month from the history', async (page) => {
    const thisMonth = new Date().toISOString().slice(0, 7);
    const past = new Date(Date.parse(`${thisMonth}-01T00:00:00Z`) - 86_400_000).toISOString().slice(0, 7);
    // 40 requests of last month, written by another process (as a CLI run of last month left them).
    const seeded = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(sqliteNode(), ['--import', 'tsx', path.join(ROOT, 'test', 'e2e', 'support', 'seedHistory.ts'), ledgerDir(), past, '40'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
    assert.equal(seeded.code, 0, seeded.stderr);
    const pastUsd = Number(seeded.stdout.trim()) / 1e9;

    await runCommand(page, 'MAOF: Show Dashboard');
    const dash = await findWebview(page, '.maof-dashboard h1');
    const picker = dash.locator('select[aria-label="Month shown"]');
    // The picker lists the months with history, read when the page loads.
    await picker.locator(`option[value="${past}"]`).waitFor({ state: 'attached', timeout: 20_000 });
    await picker.selectOption(past);
    const card = dash.locator('.card', { hasText: `Spent in ${past}` });
    await card.waitFor({ timeout: 20_000 });
    assert.match(await textOf(card), new RegExp(`Spent in ${past} ${formatUsd(pastUsd).replace(/[$.]/g, '\\$&')}`, 'i'));
    assert.match(await textOf(dash.locator('.card', { hasText: 'Requests' })), /Requests 40 billed in \d{4}-\d{2}/i);
    const byAgent = dash.locator('section', { has: dash.locator('h2', { hasText: 'Spend by agent' }) });
    assert.match(await textOf(byAgent), new RegExp(`last-month-agent ${formatUsd(pastUsd).replace(/[$.]/g, '\\$&')}`));
    assert.doesNotMatch(await textOf(byAgent), /cli-pricey/, 'this month\'s agents are not in last month');
    const days = dash.locator('svg.day-chart rect.day-bar');
    assert.ok((await days.count()) >= 28, 'a bar per day of last month');
    await screenshot(page, 'usage-03-dashboard-past-month');

    await picker.selectOption(thisMonth);
    // The budget card reads "This month" whichever month is shown: wait for the past month's card to go.
    await card.waitFor({ state: 'detached', timeout: 20_000 });
    await byAgent.filter({ hasText: 'cli-pricey' }).waitFor({ timeout: 20_000 });
    assert.doesNotMatch(await textOf(byAgent), /last-month-agent/, 'back to this month');
  });
});

