// Generate Code and the other inline writers: ask an agent (streamed, cancellable, narrated in a
// progress notification), never touch the document while it answers, then show the answer as an
// inline proposal to accept or reject. If the text under the target changed meanwhile, nothing is
// applied and the answer is offered in a separate document instead.
import { promptArgument } from '../platform/commandArgs';
import * as vscode from 'vscode';
import type { ContextItem } from '../../core/context/contextPruner';
import type { RunResult } from '../../core/maofCore';
import type { ErrorCode } from '../../core/errors';
import type { InlinePreview } from './inlinePreview';
import { fitToRange, shiftRange, stripCodeFence } from './inlineText';
import { withRequestProgress } from '../platform/requestProgress';
import type { MaofServices } from '../platform/services';
import { userTurn } from '../../core/types';
import { COMMANDS } from '../platform/ids';

export type InlineOutcome =
  | { status: 'proposed'; agentId: string }
  | { status: 'failed'; code?: ErrorCode }
  | { status: 'cancelled' }
  | { status: 'empty' }
  | { status: 'conflict' }
  | { status: 'dismissed' };

export interface InlineJob {
  editor: vscode.TextEditor;
  /** Replaced by the proposal; empty = insert at this position. */
  range: vscode.Range;
  prompt: string;
  task: string;
  system?: string;
  context?: ContextItem[];
  title: string;
  /** "Generating", "Writing", … */
  verb: string;
  /** Turns the model's answer into the text to insert. */
  shape: (answer: string) => string;
}

function languageName(doc: vscode.TextDocument): string {
  return doc.languageId === 'plaintext' ? 'the file' : doc.languageId;
}

async function showInDocument(text: string, languageId: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content: text, language: languageId });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false });
}

/** Runs one inline job end to end; the document changes only through the proposal. */
export async function runInline(services: MaofServices, preview: InlinePreview, job: InlineJob): Promise<InlineOutcome> {
  const doc = job.editor.document;
  const original = doc.getText(job.range);
  const linePrefix = doc.lineAt(job.range.start.line).text.slice(0, job.range.start.character);
  let tracked = { start: doc.offsetAt(job.range.start), end: doc.offsetAt(job.range.end) };
  let conflict = false;
  // Follow edits made while the agent answers so the proposal lands where the user asked.
  const watch = vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.document !== doc) return;
    for (const change of e.contentChanges) {
      const next = shiftRange(tracked, change);
      if (next.touched) conflict = true;
      tracked = { start: next.start, end: next.end };
    }
  });

  let result: RunResult;
  try {
    result = await withRequestProgress({ title: job.title, verb: job.verb, events: services.core.events }, (run) => {
      let received = 0;
      let lastReport = 0;
      return services.core.run({
        messages: [userTurn(job.prompt)],
        source: 'commands',
        task: job.task,
        system: job.system,
        context: job.context,
        stream: true,
        signal: run.signal,
        requestId: run.requestId,
        onDelta: (delta) => {
          received += delta.length;
          const now = Date.now();
          if (now - lastReport > 250) {
            lastReport = now;
            run.report(`${job.verb} with ${run.currentAgent() ?? 'the agent'}… ${received.toLocaleString('en-US')} characters`);
          }
        },
        onRestart: (agentId) => {
          received = 0;
          run.report(`${job.verb} with ${agentId}… (starting over)`);
        },
      });
    });
  } finally {
    watch.dispose();
  }

  if (!result.ok) {
    await services.showError(result.error);
    return result.error.code === 'CANCELLED' ? { status: 'cancelled' } : { status: 'failed', code: result.error.code };
  }
  const text = fitToRange(job.shape(result.text), original, linePrefix);
  if (text.trim() === '') {
    void vscode.window.showInformationMessage(`MAOF: ${result.agentId} returned nothing to insert.`);
    return { status: 'empty' };
  }
  const range = doc.isClosed ? undefined : new vscode.Range(doc.positionAt(tracked.start), doc.positionAt(tracked.end));
  if (!range || conflict || doc.getText(range) !== original) {
    void vscode.window.showWarningMessage('MAOF: the text changed while the agent was answering, so nothing was applied.', 'Show Result').then((choice) => {
      if (choice === 'Show Result') void showInDocument(text, doc.languageId);
    });
    return { status: 'conflict' };
  }
  const proposed = await preview.propose(doc, range, text, {
    agentId: result.agentId,
    costUsd: result.costUsd,
    attempts: result.attempts.filter((a) => a.outcome !== 'cached' && a.outcome !== 'skipped').length,
    languageId: doc.languageId,
  });
  if (!proposed.ok) {
    void vscode.window.showWarningMessage(`MAOF: ${proposed.reason}`);
    return { status: 'failed' };
  }
  return { status: 'proposed', agentId: result.agentId };
}

/** When a proposal is pending, says so (with Accept / Reject) and returns true. */
export async function blockedByPending(preview: InlinePreview): Promise<boolean> {
  if (!preview.pending) return false;
  const choice = await vscode.window.showInformationMessage('MAOF: accept or reject the pending change first.', 'Accept', 'Reject');
  if (choice === 'Accept') await preview.accept();
  if (choice === 'Reject') await preview.reject();
  return true;
}

export function codePrompt(doc: vscode.TextDocument, range: vscode.Range, instruction: string): string {
  const where = vscode.workspace.asRelativePath(doc.uri, false);
  if (range.isEmpty) {
    return [
      `Write ${languageName(doc)} code to insert at the cursor in ${where} (line ${range.start.line + 1}, column ${range.start.character + 1}).`,
      `Instruction: ${instruction}`,
      'Reply with only the code to insert — no explanation and no markdown fence. The surrounding file is given as context.',
    ].join('\n');
  }
  return [
    `Rewrite the selected ${languageName(doc)} code from ${where} (lines ${range.start.line + 1}–${range.end.line + 1}) as instructed.`,
    `Instruction: ${instruction}`,
    'Reply with only the replacement code — no explanation and no markdown fence. Keep the indentation of the original.',
    '',
    'Selected code:',
    doc.getText(range),
  ].join('\n');
}

async function generateCode(services: MaofServices, preview: InlinePreview, args: unknown): Promise<InlineOutcome> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('MAOF: open a file and place the cursor where the code should go.');
    return { status: 'dismissed' };
  }
  if (await blockedByPending(preview)) return { status: 'dismissed' };
  const selection = editor.selection;
  const instruction =
    promptArgument(args) ??
    (await vscode.window.showInputBox({
      title: 'MAOF: Generate Code',
      prompt: selection.isEmpty ? 'Describe the code to write at the cursor' : 'Describe how to change the selected code',
      placeHolder: selection.isEmpty ? 'e.g. a function that parses an ISO date and returns null when invalid' : 'e.g. add error handling and early returns',
      ignoreFocusOut: true,
    }));
  if (!instruction?.trim()) return { status: 'dismissed' };
  const range = new vscode.Range(selection.start, selection.end);
  const context = await services.collectContext({ includeSelection: false });
  return runInline(services, preview, {
    editor,
    range,
    prompt: codePrompt(editor.document, range, instruction.trim()),
    task: 'code',
    context,
    title: 'MAOF',
    verb: 'Generating',
    shape: stripCodeFence,
  });
}

export function registerInlineCommands(services: MaofServices, preview: InlinePreview): vscode.Disposable {
  return vscode.Disposable.from(
    services.registry.registerCommand(COMMANDS.generateCode, (args: unknown) => generateCode(services, preview, args)),
    services.registry.registerCommand(COMMANDS.acceptInline, () => preview.accept()),
    services.registry.registerCommand(COMMANDS.rejectInline, () => preview.reject()),
  );
}
