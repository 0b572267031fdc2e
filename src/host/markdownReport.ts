// Results that are read rather than applied (analyses, answers, comparisons, diagnostics) open as
// untitled markdown documents beside the editor, each with the same footer of agent, cost and tries.
import * as vscode from 'vscode';
import { formatUsd } from '../core/cost/costCalculator';
import type { RunResult } from '../core/orchestrator';

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

export async function openMarkdown(content: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false, preserveFocus: false });
  return doc;
}
