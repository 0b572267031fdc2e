// The Write commands against the simulator: a doc comment above the symbol at the cursor and
// prose on the selection go through the same inline Accept / Reject flow; Write Commit Message
// says clearly when Git is not available.
import * as assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { InlineOutcome } from '../../src/host/inline/inlineGeneration';
import { ProviderSimulator } from '../../src/simulator/providerSimulator';
import { captureMessages, clearKeys, closeAllEditors, maofApi, resetSettings, simulatorSuite, storeKeys, TEST_KEYS, useSimulatorSettings, waitFor, workspaceFile } from './helpers';
import { COMMANDS } from '../../src/host/platform/ids';

describe('Write commands', function () {
  this.timeout(60_000);
  const { sim } = simulatorSuite();

  afterEach(async () => {
    sim.reset();
    const api = await maofApi();
    if (api.pendingInline) await vscode.commands.executeCommand(COMMANDS.rejectInline);
    await closeAllEditors();
  });

  it('Write Doc Comment inserts a comment above the method at the cursor, indented like it', async () => {
    const api = await maofApi();
    const doc = await vscode.workspace.openTextDocument(workspaceFile('src/math.ts'));
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const before = doc.getText();
    const line = before.split('\n').findIndex((l) => l.includes('increment(by = 1)'));
    editor.selection = new vscode.Selection(line + 1, 4, line + 1, 4);
    // The TypeScript server must have started for the symbol provider to answer.
    await waitFor('TypeScript symbols', async () => ((await vscode.commands.executeCommand<unknown[]>('vscode.executeDocumentSymbolProvider', doc.uri)) ?? []).length > 0, 30_000);

    const outcome = await vscode.commands.executeCommand<InlineOutcome>(COMMANDS.writeDocComment);
    assert.deepEqual(outcome, { status: 'proposed', agentId: 'sim-claude' });
    const pending = api.pendingInline!;
    assert.equal(pending.original, '');
    const lines = doc.getText().split('\n');
    assert.match(lines[line], /^ {2}Simulated claude-haiku-4-5 reply: Write a documentation comment for the method `increment`/);
    assert.equal(lines[line + 1], '  increment(by = 1): number {', 'the method follows its new comment');
    await vscode.commands.executeCommand(COMMANDS.rejectInline);
    assert.equal(doc.getText(), before);
  });

  it('Write… proofreads the selected prose in place', async () => {
    const api = await maofApi();
    const doc = await vscode.workspace.openTextDocument(workspaceFile('notes.md'));
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const before = doc.getText();
    editor.selection = new vscode.Selection(0, 0, 1, 0);
    const outcome = await vscode.commands.executeCommand<InlineOutcome>(COMMANDS.write, { mode: 'proofread' });
    assert.equal(outcome.status, 'proposed');
    const pending = api.pendingInline!;
    assert.equal(pending.original, `${before.split('\n')[0]}\n`);
    assert.ok(pending.proposed.endsWith('\n'), 'a replaced whole line keeps its line break');
    assert.equal(doc.getText(), pending.proposed + before.split('\n').slice(1).join('\n'));
    await vscode.commands.executeCommand(COMMANDS.acceptInline);
    await vscode.commands.executeCommand('undo');
    await waitFor('one undo step', () => doc.getText() === before);
  });

  it('Write Commit Message explains that Git is not available instead of failing silently', async () => {
    const info = captureMessages('showWarningMessage');
    const info2 = captureMessages('showInformationMessage');
    try {
      const ok = await vscode.commands.executeCommand<boolean>(COMMANDS.writeCommitMessage);
      assert.equal(ok, false);
      const all = [...info.messages, ...info2.messages].map((m) => m.message);
      assert.ok(all.some((m) => /Git/.test(m)), `messages: ${all.join(' | ')}`);
      assert.equal(sim.tally().requests, 0);
    } finally {
      info2.restore();
      info.restore();
    }
  });
});

interface GitRepositoryLike {
  rootUri: vscode.Uri;
  inputBox: { value: string };
}
interface GitApiLike {
  repositories: GitRepositoryLike[];
  openRepository?(root: vscode.Uri): Promise<GitRepositoryLike | null>;
}

describe('Write Commit Message with Git', function () {
  this.timeout(90_000);
  const sim = new ProviderSimulator();
  let root: string;

  before(async function () {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) this.skip();
    root = folder.uri.fsPath;
    const api = await maofApi();
    await useSimulatorSettings(api, await sim.start());
    await storeKeys(api, { openai: TEST_KEYS.openai, anthropic: TEST_KEYS.anthropic });
    // A throwaway repository in the run's copy of the fixture workspace.
    const git = (args: string): void => {
      execSync(`git -c user.name=MAOF -c user.email=maof@example.invalid -c init.defaultBranch=main ${args}`, { cwd: root, stdio: 'ignore' });
    };
    if (!fs.existsSync(path.join(root, '.git'))) {
      git('init -q');
      git('add -A');
      git('commit -q -m initial');
    }
    fs.appendFileSync(path.join(root, 'src', 'greeting.py'), '\n\ndef whisper(text):\n    return text.lower() + "..."\n');
    git('add src/greeting.py');
    await vscode.workspace.getConfiguration('git').update('enabled', true, vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await vscode.workspace.getConfiguration('git').update('enabled', undefined, vscode.ConfigurationTarget.Global);
    const api = await maofApi();
    await clearKeys(api);
    await resetSettings();
    await sim.stop();
  });

  it('describes the staged diff and puts the message into the Source Control input box', async function () {
    const ext = vscode.extensions.getExtension<{ getAPI(v: 1): GitApiLike; enabled?: boolean }>('vscode.git');
    if (!ext) this.skip();
    const exports = ext.isActive ? ext.exports : await ext.activate();
    let gitApi: GitApiLike | undefined;
    await waitFor('the Git extension to be enabled', () => {
      if (exports.enabled === false) return false;
      gitApi = exports.getAPI(1);
      return true;
    }, 20_000);
    const repoUri = vscode.Uri.file(root);
    if (gitApi!.repositories.length === 0) await gitApi!.openRepository?.(repoUri);
    await waitFor('the repository to be open', () => gitApi!.repositories.length > 0, 30_000);
    const repo = gitApi!.repositories[0];
    repo.inputBox.value = '';

    const ok = await vscode.commands.executeCommand<boolean>(COMMANDS.writeCommitMessage);
    assert.equal(ok, true);
    // The writing route answers; the simulator echoes the start of the prompt it was given.
    assert.match(repo.inputBox.value, /^Simulated claude-haiku-4-5 reply: Write a git commit message for these staged changes/);
    assert.equal(sim.tally().requests, 1);
  });
});
