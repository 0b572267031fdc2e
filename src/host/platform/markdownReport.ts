// Results that are read rather than applied (analyses, answers, comparisons, diagnostics) open as
// untitled markdown documents beside the editor, each with the same footer of agent, cost and tries.
import * as vscode from 'vscode';
import { formatUsd } from '../../core/cost/costCalculator';
import type { RunResult } from '../../core/maofCore';

export function attemptsOf(result: RunResult): number {
  return result.attempts.filter((a) => a.outcome !== 'cached' && a.outcome !== 'skipped').length;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "_claude-sonnet (claude-sonnet-4-5) · $0.0021 · 2 attempts · 3.2 s_" */
export function footer(result: RunResult): string {
  const tries = attemptsOf(result);
  const parts = result.ok ? [`Agent: ${result.agentId} (${result.model})`] : [`Failed: ${result.error.code}`];
  parts.push(`cost ${formatUsd(result.costUsd)}`);
  parts.push(`${tries} attempt${tries === 1 ? '' : 's'}`);
  if (result.ok && result.cached) parts.push('from cache');
  parts.push(seconds(result.durationMs));
  const fallbacks = new Set(result.attempts.map((a) => a.agent));
  if (fallbacks.size > 1) parts.push(`tried ${[...fallbacks].join(' → ')}`);
  return `_${parts.join(' · ')}_`;
}

/** Markdown that shows `text` literally inside a fence that its own backticks cannot close. */
export function fenced(text: string, languageId = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${languageId}\n${text.replace(/\s+$/, '')}\n${fence}`;
}

export function quote(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((l) => `> ${l}`)
    .join('\n');
}

let opened = 0;

/**
 * Opens `content` as an untitled markdown document named after what it holds ("Analysis —
 * math.ts.md"); every one gets its own name, so a new report never lands in a closing one.
 */
export async function openMarkdown(content: string, title = 'MAOF'): Promise<vscode.TextDocument> {
  opened++;
  const base = title.replace(/[\\/:*?"<>|#\n\r]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 80) || 'MAOF';
  const uri = vscode.Uri.from({ scheme: 'untitled', path: `${base}${opened > 1 ? ` (${opened})` : ''}.md` });
  let doc = await vscode.workspace.openTextDocument(uri);
  if (doc.languageId !== 'markdown') doc = await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
  // Shown first, then written through its editor: a workspace edit to an untitled document no
  // editor shows may open one of its own, and the report then stood in two editor groups.
  // Beside the code it is about; with no editor open, in the editor area itself (Beside would leave
  // an empty group beside it).
  const viewColumn = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
  const editor = await vscode.window.showTextDocument(doc, { viewColumn, preview: false, preserveFocus: false });
  await editor.edit((b) => b.insert(new vscode.Position(0, 0), content), { undoStopBefore: false, undoStopAfter: false });
  return editor.document;
}
