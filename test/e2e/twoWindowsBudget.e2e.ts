// Issue 19's proof with the real editor: two editor windows (two extension hosts of one
// code-server) ask in the MAOF chat while a real `maof batch` runs on the same ledger, all under
// one monthly budget that affords about 60 answers. The provider (the simulator) must never bill
// past the limit, and the saved spend must equal what it billed, to the cent.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import type { UsageStatement } from '../../src/core/usage/usageReport';
import type { SimulatorAddress, TallyCounts } from '../../src/simulator/providerSimulator';
import { e2eIt, runCommand, screenshot, session, waitForWorkbench } from './driver';
import { applyUserSettings, findWebview, setOpenAiKeyThroughPalette, simulatorSuite } from './simulatorSetup';

const ROOT = path.resolve(__dirname, '..', '..');
const KEY = 'sk-e2e-twowin-openai-7fK2mQ9xR4tW';
// One price for every agent: the test prices the simulator's tally with it, independently of MAOF.
const PRICING = { inputPerMTok: 100, outputPerMTok: 2_000 };
// A small output cap keeps the worst case a request reserves close to what an answer costs.
const MAX_OUTPUT = 200;
const ANSWERS_AFFORDED = 60;
const CLI_REQUESTS = 80;
const QUESTIONS_PER_WINDOW = 8;
// The CLI's agent has a model of its own, so the simulator's tally tells its requests apart.
const CLI_MODEL = 'gpt-4.1';
const EDITOR_MODEL = 'gpt-4.1-mini';

function ledgerDir(): string {
  return path.join(session().runDir, 'xdg', 'state', 'maof');
}

function sqliteNode(): string {
  const bin = execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-node.sh')], { encoding: 'utf8' }).trim();
  return path.join(bin, 'node');
}

/** A real `node dist/cli.js` process on the editor's ledger, run asynchronously (the simulator lives in this process). */
function cli(args: string[], timeoutMs = 240_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(sqliteNode(), [path.join(ROOT, 'dist', 'cli.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: path.join(session().runDir, 'cli-home'), MAOF_STATE_DIR: ledgerDir(), OPENAI_API_KEY: KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

async function usage(config: string): Promise<UsageStatement> {
  const r = await cli(['usage', '--config', config, '--json'], 60_000);
  assert.equal(r.code, 0, `${r.stdout} ${r.stderr}`);
  return JSON.parse(r.stdout) as UsageStatement;
}

/** What the provider billed for these counts, at PRICING (cache reads and writes at the input price, as no cache price is set). */
function billed(c: TallyCounts | undefined): number {
  if (!c) return 0;
  return ((c.inputTokens + c.cacheReadTokens + c.cacheWriteTokens) * PRICING.inputPerMTok + c.outputTokens * PRICING.outputPerMTok) / 1e6;
}

function editorAgents(sim: SimulatorAddress): Record<string, unknown> {
  return {
    // The windows ask twowin-gpt: an id of its own, as the shared ledger keeps breakers by agent id
    // and other suites trip sim-gpt's. sim-gpt stays, as the key picker's helper looks for it.
    'maof.agents': [
      { id: 'twowin-gpt', provider: 'openai', model: EDITOR_MODEL, baseUrl: sim.openaiBaseUrl, contextWindow: 128000, maxOutputTokens: MAX_OUTPUT, pricing: PRICING },
      { id: 'sim-gpt', provider: 'openai', model: EDITOR_MODEL, baseUrl: sim.openaiBaseUrl, contextWindow: 128000, maxOutputTokens: MAX_OUTPUT, pricing: PRICING },
      { id: 'sim-claude', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: sim.anthropicBaseUrl, contextWindow: 200000, maxOutputTokens: MAX_OUTPUT, pricing: PRICING },
    ],
    // Every question is a new prompt, but no answer may come from MAOF's own cache.
    'maof.cache': { enabled: false },
  };
}

type Outcome = 'answered' | 'refused by the budget';

/** Opens the chat in `page` on a new conversation with twowin-gpt picked. */
async function freshChat(page: Page): Promise<FrameLocator> {
  await runCommand(page, 'MAOF: Open Chat');
  const chat = await findWebview(page, '.maof-chat #prompt');
  await chat.locator('#agent option[value="twowin-gpt"]').waitFor({ state: 'attached', timeout: 30_000 });
  await chat.getByRole('button', { name: 'Start a new conversation' }).click();
  await chat.locator('.msg').first().waitFor({ state: 'detached', timeout: 10_000 });
  await chat.locator('#agent').selectOption('twowin-gpt');
  return chat;
}

/** Asks one question and waits for the end of its answer: a cost (answered) or an error, which must be the budget's. */
async function askOnce(chat: FrameLocator, prompt: string): Promise<Outcome> {
  const before = await chat.locator('.msg.assistant').count();
  await chat.locator('#prompt').fill(prompt);
  await chat.locator('#prompt').press('Enter');
  const answer = chat.locator('.msg.assistant').nth(before);
  await answer.waitFor({ state: 'attached', timeout: 30_000 });
  await answer.locator('.chip.cost, .error').first().waitFor({ state: 'visible', timeout: 120_000 });
  if ((await answer.locator('.chip.cost').count()) > 0) return 'answered';
  const error = (await answer.locator('.error-text').innerText()).trim();
  assert.match(error, /budget/i, `a window's question failed for another reason than the budget: ${error}`);
  return 'refused by the budget';
}

async function askSeveral(chat: FrameLocator, window: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 1; i <= QUESTIONS_PER_WINDOW; i++) outcomes.push(await askOnce(chat, `${window} question ${i}: write a helper that parses a date [[words:40]]`));
  return outcomes;
}

interface CliLine {
  ok: boolean;
  error?: { code: string; message: string };
}

describe('two editor windows and a CLI batch under one budget (issue 19)', function () {
  this.timeout(600_000);
  const suite = simulatorSuite(editorAgents);
  const sim = suite.sim;
  let second: Page | undefined;
  after(async () => {
    await second?.context().close().catch(() => undefined);
  });

  e2eIt('two windows and a CLI batch at once never bill past the monthly budget, and the saved spend is the provider\'s bill to the cent', async (page) => {
    const agents = suite.settings()['maof.agents'] as Array<{ id: string; baseUrl: string }>;
    const openaiBaseUrl = agents.find((a) => a.id === 'twowin-gpt')!.baseUrl;
    fs.mkdirSync(path.join(session().runDir, 'cli-home'), { recursive: true });
    const config = path.join(session().runDir, 'twowin-cli-config.json');
    const cliConfig = (monthlyUsd?: number): Record<string, unknown> => ({
      agents: [{ id: 'twowin-cli', provider: 'openai', model: CLI_MODEL, baseUrl: openaiBaseUrl, contextWindow: 128000, maxOutputTokens: MAX_OUTPUT, pricing: PRICING }],
      routes: { code: ['twowin-cli'] },
      cache: { enabled: false },
      ...(monthlyUsd === undefined ? {} : { budget: { monthlyUsd } }),
    });
    fs.writeFileSync(config, JSON.stringify(cliConfig()));

    // One answer's price, measured, and what earlier tests left in this month's ledger.
    const probe = await cli(['ask', '--config', config, '--agent', 'twowin-cli', '--json', 'probe: write a helper that parses a date [[words:40]]'], 60_000);
    assert.equal(probe.code, 0, `${probe.stdout} ${probe.stderr}`);
    const answerUsd = (JSON.parse(probe.stdout) as { costUsd: number }).costUsd;
    assert.ok(answerUsd > 0.05, `an answer costs cents: $${answerUsd}`);
    const baseline = (await usage(config)).totals.costUsd;
    const monthlyUsd = Math.round((baseline + ANSWERS_AFFORDED * answerUsd) * 100) / 100;
    const limitLeft = monthlyUsd - baseline;
    fs.writeFileSync(config, JSON.stringify(cliConfig(monthlyUsd)));
    await applyUserSettings(page, { ...suite.settings(), 'maof.budget': { monthlyUsd } });
    const limitShown = `/ $${monthlyUsd.toFixed(2)}`;
    await page.waitForFunction((t) => (document.querySelector('.part.statusbar')?.textContent ?? '').includes(t), limitShown, { timeout: 30_000 });

    // The second window: a new browser context, so code-server starts a second extension host.
    // Its secrets live in its own browser storage, so the user sets the key there too.
    const browser = page.context().browser();
    assert.ok(browser, 'the workbench runs in a browser');
    second = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await second.goto(page.url(), { timeout: 60_000 });
    await waitForWorkbench(second);
    await second.waitForFunction((t) => (document.querySelector('.part.statusbar')?.textContent ?? '').includes(t), limitShown, { timeout: 60_000 });
    await setOpenAiKeyThroughPalette(page, KEY);
    await setOpenAiKeyThroughPalette(second, KEY);
    const chats = [await freshChat(page), await freshChat(second)];

    // Answers take a while, as a real provider's do: the three processes overlap.
    sim.reset();
    sim.setLatency(1_500);
    const batchFile = path.join(session().runDir, 'twowin-batch.jsonl');
    fs.writeFileSync(batchFile, Array.from({ length: CLI_REQUESTS }, (_, i) => JSON.stringify({ prompt: `batch ${i + 1}: write a helper that parses a date [[words:40]]`, agent: 'twowin-cli' })).join('\n') + '\n');
    let windows: Outcome[][];
    let batch: { code: number; stdout: string; stderr: string };
    try {
      [batch, ...windows] = await Promise.all([
        cli(['batch', batchFile, '--concurrency', '4', '--config', config, '--json']),
        askSeveral(chats[0], 'window 1'),
        askSeveral(chats[1], 'window 2'),
      ]);
    } finally {
      sim.setLatency(0);
    }
    await screenshot(page, 'twowin-01-first-window');
    await screenshot(second, 'twowin-02-second-window');

    const lines = batch.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as CliLine);
    assert.equal(lines.length, CLI_REQUESTS, `a result per request: ${batch.stderr}`);
    const others = lines.filter((l) => !l.ok && l.error?.code !== 'BUDGET_EXCEEDED');
    assert.deepEqual(others, [], 'the batch failed only by the budget');
    const cliAnswered = lines.filter((l) => l.ok).length;

    // Every reservation settled: nothing is held any more by any process.
    let spent = await usage(config);
    for (const deadline = Date.now() + 30_000; spent.budget.reservedUsd > 0 && Date.now() < deadline; ) spent = await usage(config);
    assert.equal(spent.budget.reservedUsd, 0, 'no reservation is left held');

    const tally = sim.tally();
    const billedUsd = billed(tally);
    const savedUsd = spent.totals.costUsd - baseline;
    const windowAnswered = windows.map((w) => w.filter((o) => o === 'answered').length);
    console.log(
      `      limit $${limitLeft.toFixed(4)} left of $${monthlyUsd} (answer ≈ $${answerUsd}); provider billed $${billedUsd.toFixed(4)} for ${tally.succeeded} answers ` +
        `(CLI ${cliAnswered}/${CLI_REQUESTS}, window 1 ${windowAnswered[0]}/${QUESTIONS_PER_WINDOW}, window 2 ${windowAnswered[1]}/${QUESTIONS_PER_WINDOW}); saved $${savedUsd.toFixed(4)}`,
    );
    assert.equal(tally.faulted + tally.aborted, 0, 'every request sent was answered whole');
    assert.equal(tally.byModel[CLI_MODEL]?.succeeded ?? 0, cliAnswered, 'the provider answered what the CLI reports answered');
    assert.equal(tally.byModel[EDITOR_MODEL]?.succeeded ?? 0, windowAnswered[0] + windowAnswered[1], 'the provider answered what the windows show answered');
    assert.ok(windowAnswered[0] > 0 && windowAnswered[1] > 0, `both windows got answers: ${JSON.stringify(windows)}`);
    assert.ok(cliAnswered + windowAnswered[0] + windowAnswered[1] < CLI_REQUESTS + 2 * QUESTIONS_PER_WINDOW, 'the budget refused some requests');
    assert.ok(billedUsd <= limitLeft + 1e-9, `the provider billed $${billedUsd} past the $${limitLeft} the budget left`);
    assert.ok(billedUsd > limitLeft * 0.7, `the budget was mostly used ($${billedUsd} of $${limitLeft})`);
    assert.ok(Math.abs(savedUsd - billedUsd) < 0.005, `the saved spend ($${savedUsd}) is the provider's bill ($${billedUsd}) to the cent`);
  });
});
