// The document-producing commands against the simulator: Analyse, Ask, Compare, Run Chain,
// Diagnose, Export Usage and Reset Circuit Breakers — each checked by what the user reads.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { captureMessages, closeAllEditors, maofApi, simulatorSuite, TEST_KEYS, workspaceFile } from './helpers';
import { userTurn } from '../../src/core/types';
import { COMMANDS } from '../../src/host/platform/ids';

async function openFixture(relative: string, select?: [number, number]): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(workspaceFile(relative));
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  if (select) editor.selection = new vscode.Selection(select[0], 0, select[1], 0);
  return editor;
}

describe('agent and admin commands', function () {
  this.timeout(60_000);
  const { sim, address } = simulatorSuite();

  afterEach(async () => {
    sim.reset();
    await closeAllEditors();
  });

  it('Analyse Selection renders structured findings with agent, cost and attempts', async () => {
    await openFixture('src/math.ts', [3, 8]);
    const report = await vscode.commands.executeCommand<vscode.TextDocument | undefined>(COMMANDS.analyseSelection);
    assert.ok(report, 'a report opened');
    const text = report.getText();
    assert.equal(report.languageId, 'markdown');
    assert.match(text, /^# Analysis — src\/math\.ts \(lines 4–8\)/);
    assert.match(text, /\*\*Summary\.\*\* Simulated claude-haiku-4-5 analysis/);
    assert.match(text, /\*\*LOW\*\* Simulated finding/);
    assert.match(text, /_Agent: sim-claude \(claude-haiku-4-5\) · cost \$\S+ · 1 attempt · /);
  });

  it('Analyse File refuses a secret file', async () => {
    const warnings = captureMessages('showWarningMessage');
    try {
      await openFixture('.env');
      const report = await vscode.commands.executeCommand<vscode.TextDocument | undefined>(COMMANDS.analyseFile);
      assert.equal(report, undefined);
      assert.equal(sim.tally().requests, 0, 'nothing was sent');
      assert.match(warnings.messages[0]?.message ?? '', /secrets/);
    } finally {
      warnings.restore();
    }
  });

  it('Ask Agent pins the picked agent', async () => {
    await openFixture('src/math.ts');
    const doc = await vscode.commands.executeCommand<vscode.TextDocument | undefined>(COMMANDS.askAgent, { agentId: 'sim-gpt', prompt: 'What is a closure?' });
    assert.ok(doc);
    assert.match(doc.getText(), /^# sim-gpt\n\n> What is a closure\?/);
    assert.match(doc.getText(), /Simulated gpt-4\.1-mini/);
  });

  it('Compare Agents shows every agent side by side, failures included', async () => {
    sim.plan([{ match: { provider: 'anthropic' }, fault: { kind: 'status', status: 400 }, times: 5 }]);
    const doc = await vscode.commands.executeCommand<vscode.TextDocument | undefined>(COMMANDS.compareAgents, { agentIds: ['sim-gpt', 'sim-claude'], prompt: 'Explain CRDTs in one sentence.' });
    assert.ok(doc);
    const text = doc.getText();
    assert.match(text, /\| sim-gpt \| ✓ \| \$/);
    assert.match(text, /\| sim-claude \| ✗ BAD_REQUEST \| /);
    assert.match(text, /## sim-gpt \(gpt-4\.1-mini\)\n\n(\*\*Summary\.\*\* )?Simulated gpt-4\.1-mini/);
    assert.match(text, /## sim-claude\n\n> ✗ /);
  });

  it('Run Chain runs every step and reports each', async () => {
    await openFixture('src/math.ts');
    const doc = await vscode.commands.executeCommand<vscode.TextDocument | undefined>(COMMANDS.runChain, { chain: 'implement-review', prompt: 'a debounce function' });
    assert.ok(doc);
    const text = doc.getText();
    assert.match(text, /^# Implement → Review/);
    assert.match(text, /## 1\. Implement\n/);
    assert.match(text, /## 2\. Review\n\n\*\*Summary\.\*\*/);
    assert.match(text, /completed/);
  });

  it('Diagnose reports keys as yes/no, breakers and a live check — never a key or an endpoint', async () => {
    const api = await maofApi();
    await api.orchestrator.run({ messages: [userTurn('warm up')], task: 'writing' });
    const doc = await vscode.commands.executeCommand<vscode.TextDocument | undefined>(COMMANDS.diagnose, { connectivity: true });
    assert.ok(doc);
    const text = doc.getText();
    // One list item per agent (it fits the Chat's narrow panel): name, model, provider and endpoint kind, then key, price, breaker.
    assert.match(text, /- \*\*sim-gpt\*\* — gpt-4\.1-mini \(OpenAI, custom endpoint\)\s+key set · price set · breaker closed/);
    assert.match(text, /- \*\*claude-haiku\*\* — [\w.-]+ \(Anthropic, default endpoint\)\s+key set · built-in price/);
    assert.match(text, /- \*\*claude-sonnet\*\* — [\w.-]+ \(Anthropic, default endpoint\)\s+key set/);
    assert.match(text, /## Connectivity\n\n(.|\n)*✓ sim-gpt answered/);
    for (const leak of [TEST_KEYS.openai, TEST_KEYS.anthropic, '127.0.0.1', address().openaiBaseUrl]) assert.ok(!text.includes(leak), `leaks ${leak}`);
  });

  it('Export Usage writes a period of the history as CSV and JSON, and names a bad period', async () => {
    const api = await maofApi();
    const result = await api.orchestrator.run({ messages: [userTurn('count me')], task: 'code' });
    assert.equal(result.ok, true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maof-export-'));
    const said = captureMessages('showInformationMessage');
    const refused = captureMessages('showErrorMessage');
    try {
      const csv = vscode.Uri.file(path.join(dir, 'usage.csv'));
      await vscode.commands.executeCommand(COMMANDS.exportUsage, { uri: csv });
      const lines = fs.readFileSync(csv.fsPath, 'utf8').trim().split('\n');
      assert.equal(lines[0], 'time,requestId,agent,model,task,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,costUsd,cached,source,outcome,savedUsd,ttftMs,totalMs');
      assert.ok(lines.some((l) => l.includes(result.requestId) && l.includes(',sim-gpt,gpt-4.1-mini,code,')), 'the request is a row');
      const month = new Date().toISOString().slice(0, 7);
      assert.match(said.messages.at(-1)?.message ?? '', new RegExp(`^MAOF: exported \\d+ requests? .*\\(${month}, <?\\$[\\d.]+\\) to usage\\.csv\\.$`));

      const json = vscode.Uri.file(path.join(dir, 'usage.json'));
      await vscode.commands.executeCommand(COMMANDS.exportUsage, { uri: json, all: true });
      const parsed = JSON.parse(fs.readFileSync(json.fsPath, 'utf8')) as { period: { kind: string }; totals: { costUsd: number; requests: number }; byAgent: Array<{ key: string }>; requests: Array<{ requestId: string; costUsd: number }> };
      assert.equal(parsed.period.kind, 'all');
      const row = parsed.requests.find((e) => e.requestId === result.requestId);
      assert.ok(row, 'the request is in the JSON');
      assert.ok(Math.abs(row.costUsd - result.costUsd) < 1e-9, 'at its cost');
      assert.ok(parsed.totals.requests >= 1 && parsed.totals.costUsd >= row.costUsd, 'the totals count it');
      assert.ok(parsed.byAgent.some((g) => g.key === 'sim-gpt'));

      const bad = vscode.Uri.file(path.join(dir, 'bad.csv'));
      assert.equal(await vscode.commands.executeCommand(COMMANDS.exportUsage, { uri: bad, month: '2026-13' }), undefined);
      assert.match(refused.messages.at(-1)?.message ?? '', /month must be written YYYY-MM, e\.g\. \d{4}-\d{2} — "2026-13" is not one/);
      assert.ok(!fs.existsSync(bad.fsPath), 'nothing written');
    } finally {
      said.restore();
      refused.restore();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Reset Circuit Breakers lists the open ones, asks, and closes them', async () => {
    const api = await maofApi();
    const breaker = api.orchestrator.breakers.get('sim-claude');
    for (let i = 0; i < 10 && breaker.state !== 'open'; i++) breaker.recordFailure('OVERLOADED');
    assert.equal(breaker.state, 'open');
    const asked = captureMessages('showWarningMessage', () => 'Reset');
    try {
      assert.equal(await vscode.commands.executeCommand(COMMANDS.resetBreakers), 1);
      assert.match(asked.messages[0]?.message ?? '', /sim-claude \(open\)/);
      assert.equal(breaker.state, 'closed');
    } finally {
      asked.restore();
    }
  });
});
