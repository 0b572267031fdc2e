// Generate Code on a real document against the loopback provider simulator: the proposal appears
// as one edit, Accept keeps it (one undo step), Reject restores the document exactly — also after
// an undo or an edit elsewhere — and failures leave the document untouched with a clear message.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { InlineOutcome } from '../../src/host/inline/inlineGeneration';
import { captureMessages, closeAllEditors, maofApi, simulatorSuite, storeKeys, stubWindow, TEST_KEYS, waitFor, workspaceFile } from './helpers';
import { COMMANDS } from '../../src/host/platform/ids';

async function openAt(relative: string, where: 'end' | { line: number; character: number }): Promise<{ doc: vscode.TextDocument; editor: vscode.TextEditor }> {
  const doc = await vscode.workspace.openTextDocument(workspaceFile(relative));
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  const pos = where === 'end' ? doc.positionAt(doc.getText().length) : new vscode.Position(where.line, where.character);
  editor.selection = new vscode.Selection(pos, pos);
  return { doc, editor };
}

function generate(prompt: string): Thenable<InlineOutcome> {
  return vscode.commands.executeCommand<InlineOutcome>(COMMANDS.generateCode, { prompt });
}

describe('Generate Code (inline)', function () {
  this.timeout(60_000);
  const { sim, address } = simulatorSuite();

  afterEach(async () => {
    sim.reset();
    const api = await maofApi();
    if (api.pendingInline) await vscode.commands.executeCommand(COMMANDS.acceptInline);
    await closeAllEditors();
  });

  it('shows the answer as a pending proposal; Accept keeps it as one undo step', async () => {
    const api = await maofApi();
    const { doc } = await openAt('src/math.ts', 'end');
    const before = doc.getText();
    const outcome = await generate('add a function sum(values: number[]) that adds the numbers');
    assert.deepEqual(outcome, { status: 'proposed', agentId: 'sim-gpt' });
    const pending = api.pendingInline;
    assert.ok(pending, 'a proposal is pending');
    assert.match(pending.proposed, /^Simulated gpt-4\.1-mini reply/);
    assert.equal(doc.getText(), before + pending.proposed, 'the proposal is in the document at the cursor');

    assert.equal(await vscode.commands.executeCommand(COMMANDS.acceptInline), true);
    assert.equal(api.pendingInline, undefined);
    assert.equal(doc.getText(), before + pending.proposed, 'accepted text stays');

    await vscode.commands.executeCommand('undo');
    await waitFor('one undo to remove the whole insertion', () => doc.getText() === before);
  });

  it('Reject restores the document exactly', async () => {
    const api = await maofApi();
    const { doc } = await openAt('src/math.ts', { line: 9, character: 0 });
    const before = doc.getText();
    assert.equal((await generate('a helper that rounds to two decimals')).status, 'proposed');
    assert.notEqual(doc.getText(), before);
    assert.equal(await vscode.commands.executeCommand(COMMANDS.rejectInline), true);
    assert.equal(doc.getText(), before);
    assert.equal(api.pendingInline, undefined);
  });

  it('replaces a selection, and Reject puts the selected code back', async () => {
    const api = await maofApi();
    const { doc, editor } = await openAt('src/math.ts', 'end');
    const before = doc.getText();
    const start = before.indexOf('export function clamp');
    const end = before.indexOf('export class Counter');
    editor.selection = new vscode.Selection(doc.positionAt(start), doc.positionAt(end));
    assert.equal((await generate('use Math.min and Math.max')).status, 'proposed');
    const pending = api.pendingInline!;
    assert.equal(pending.original, before.slice(start, end));
    assert.equal(doc.getText(), before.slice(0, start) + pending.proposed + before.slice(end));
    await vscode.commands.executeCommand(COMMANDS.rejectInline);
    assert.equal(doc.getText(), before);
  });

  it('after the user already pressed Undo, Reject does not revert a second time', async () => {
    const api = await maofApi();
    const { doc } = await openAt('src/math.ts', 'end');
    const before = doc.getText();
    assert.equal((await generate('a function that returns the median')).status, 'proposed');
    await vscode.commands.executeCommand('undo');
    await waitFor('the undo', () => doc.getText() === before);
    await waitFor('the proposal to end with the undo', () => api.pendingInline === undefined);
    await vscode.commands.executeCommand(COMMANDS.rejectInline);
    assert.equal(doc.getText(), before);
  });

  it('keeps the proposal range right when the document changes above it, then rejects exactly', async () => {
    const api = await maofApi();
    const { doc, editor } = await openAt('src/math.ts', 'end');
    const before = doc.getText();
    assert.equal((await generate('a function that returns the mode')).status, 'proposed');
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), '// edited meanwhile\n'));
    assert.equal(api.pendingInline?.start, before.length + '// edited meanwhile\n'.length);
    await vscode.commands.executeCommand(COMMANDS.rejectInline);
    assert.equal(doc.getText(), '// edited meanwhile\n' + before);
  });

  it('narrates a 429 pause in the progress notification and still succeeds', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'rate_limit', retryAfterMs: 200 } }]);
    const reports: string[] = [];
    const stub = stubWindow('withProgress', ((_options: vscode.ProgressOptions, task: (p: vscode.Progress<{ message?: string }>, t: vscode.CancellationToken) => Thenable<unknown>) =>
      task({ report: (v) => v.message && reports.push(v.message) }, new vscode.CancellationTokenSource().token)) as typeof vscode.window.withProgress);
    try {
      const { doc } = await openAt('src/math.ts', 'end');
      const before = doc.getText();
      assert.equal((await generate('a function that returns the range')).status, 'proposed');
      assert.ok(reports.some((r) => /Generating with sim-gpt… \(waiting 1 s for the provider’s rate limit\)/.test(r)), `progress was: ${reports.join(' | ')}`);
      await vscode.commands.executeCommand(COMMANDS.rejectInline);
      assert.equal(doc.getText(), before);
    } finally {
      stub.restore();
    }
  });

  it('cancelling leaves the document untouched and shows no error', async () => {
    sim.setLatency(10_000);
    const source = new vscode.CancellationTokenSource();
    const stub = stubWindow('withProgress', ((_options: vscode.ProgressOptions, task: (p: vscode.Progress<{ message?: string }>, t: vscode.CancellationToken) => Thenable<unknown>) => {
      setTimeout(() => source.cancel(), 300);
      return task({ report: () => undefined }, source.token);
    }) as typeof vscode.window.withProgress);
    const errors = captureMessages('showErrorMessage');
    try {
      const api = await maofApi();
      const { doc } = await openAt('src/math.ts', 'end');
      const before = doc.getText();
      const outcome = await generate('something slow');
      assert.deepEqual(outcome, { status: 'cancelled' });
      assert.equal(doc.getText(), before);
      assert.equal(api.pendingInline, undefined);
      assert.deepEqual(errors.messages, []);
    } finally {
      errors.restore();
      stub.restore();
    }
  });

  it('401 from every agent: a clear, sanitised error offering "Set API Key", document untouched', async () => {
    const api = await maofApi();
    const bad = { openai: 'sk-bad-openai-0000000000000000', anthropic: 'sk-bad-anthropic-000000000000' };
    await storeKeys(api, bad);
    const errors = captureMessages('showErrorMessage');
    try {
      const { doc } = await openAt('src/math.ts', 'end');
      const before = doc.getText();
      const outcome = await generate('anything');
      assert.deepEqual(outcome, { status: 'failed', code: 'AUTH' });
      assert.equal(doc.getText(), before, 'nothing was inserted');
      assert.equal(api.pendingInline, undefined);
      assert.equal(errors.messages.length, 1);
      const { message, items } = errors.messages[0];
      assert.ok(items.includes('Set API Key'), `actions: ${items.join(', ')}`);
      assert.match(message, /key/i);
      for (const leak of ['127.0.0.1', 'http', 'localhost', bad.openai, bad.anthropic, 'sk-bad', String(address().port)]) {
        assert.ok(!message.includes(leak), `the message leaks "${leak}": ${message}`);
      }
    } finally {
      errors.restore();
      await storeKeys(api, { openai: TEST_KEYS.openai, anthropic: TEST_KEYS.anthropic });
    }
  });
});
