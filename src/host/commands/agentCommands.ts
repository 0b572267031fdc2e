// Commands that ask agents and show the answer as a document: Analyse Selection / File (structured
// findings), Ask Agent…, Compare Agents… (fan-out, side by side) and Run Chain….
import * as vscode from 'vscode';
import { isSecretFile } from '../../core/context/secretRedactor';
import type { ContextItem } from '../../core/context/contextPruner';
import { formatUsd } from '../../core/cost/costCalculator';
import type { AgentConfig } from '../../core/config/schema';
import type { BreakerState } from '../../core/events';
import type { ChainStep, RunResult } from '../../core/maofCore';
import { analysisToMarkdown } from '../../core/structuredOutput';
import type { KeyStatus } from '../../shared/protocolCommon';
import { keyStatus } from '../platform/keyNames';
import { attemptsOf, fenced, footer, openMarkdown, quote, seconds } from '../platform/markdownReport';
import { promptArgument } from '../platform/commandArgs';
import { withRequestProgress } from '../platform/requestProgress';
import type { MaofServices } from '../platform/services';
import { userTurn } from '../../core/types';
import { COMMANDS } from '../platform/ids';

const BREAKER_BADGE: Record<BreakerState, string> = {
  closed: '$(check) closed',
  'half-open': '$(warning) half-open',
  open: '$(error) open',
};

const KEY_BADGE: Record<KeyStatus, string> = {
  set: '$(key) key set',
  missing: '$(circle-slash) no key',
  'not-needed': 'no key needed',
};

function answerMarkdown(result: RunResult & { ok: true }, languageId = ''): string {
  if (result.structured) return analysisToMarkdown(result.structured);
  return languageId && result.task === 'code' && !result.text.includes('```') ? fenced(result.text, languageId) : result.text;
}

function numbered(text: string, firstLine: number): string {
  const lines = text.split('\n');
  const width = String(firstLine + lines.length).length;
  return lines.map((l, i) => `${String(firstLine + i).padStart(width)}| ${l}`).join('\n');
}

function secretRefusal(doc: vscode.TextDocument, services: MaofServices): boolean {
  if (!isSecretFile(doc.uri.fsPath || doc.uri.path, services.config().context.excludeFiles)) return false;
  void vscode.window.showWarningMessage('MAOF: this file looks like it holds secrets (.env, keys) and is never sent to an agent.');
  return true;
}

// ---- analyse ------------------------------------------------------------------------------------

async function analyse(services: MaofServices, scope: 'selection' | 'file'): Promise<vscode.TextDocument | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage(scope === 'selection' ? 'MAOF: select the code to analyse.' : 'MAOF: open the file to analyse.');
    return undefined;
  }
  const doc = editor.document;
  if (secretRefusal(doc, services)) return undefined;
  let range: vscode.Range;
  if (scope === 'selection') {
    if (editor.selection.isEmpty) {
      const choice = await vscode.window.showInformationMessage('MAOF: nothing is selected.', 'Analyse the Whole File');
      if (choice !== 'Analyse the Whole File') return undefined;
      range = new vscode.Range(0, 0, doc.lineCount, 0);
    } else {
      range = new vscode.Range(editor.selection.start, editor.selection.end);
    }
  } else {
    range = new vscode.Range(0, 0, doc.lineCount, 0);
  }
  range = doc.validateRange(range);
  const path = vscode.workspace.asRelativePath(doc.uri, false);
  // A selection ending at column 0 does not include that line.
  const lastLine = range.end.character === 0 && range.end.line > range.start.line ? range.end.line - 1 : range.end.line;
  const whole = range.start.line === 0 && lastLine >= doc.lineCount - 1;
  const where = whole ? path : `${path} (lines ${range.start.line + 1}–${lastLine + 1})`;
  const prompt = [
    `Analyse this ${doc.languageId} code from ${where}.`,
    'Report bugs, risks, security and performance problems, most severe first, each with the line number shown in the left margin.',
    '',
    numbered(doc.getText(range), range.start.line + 1),
  ].join('\n');
  const result = await withRequestProgress({ title: 'MAOF', verb: 'Analysing', events: services.core.events }, (run) =>
    services.core.run({ messages: [userTurn(prompt)], task: 'analysis', structured: true, signal: run.signal, requestId: run.requestId, source: 'commands' }),
  );
  if (!result.ok) {
    await services.showError(result.error);
    return undefined;
  }
  return openMarkdown([`# Analysis — ${where}`, '', answerMarkdown(result), '', '---', footer(result), ''].join('\n'), `Analysis of ${path.split('/').pop() ?? path}`);
}

// ---- ask ----------------------------------------------------------------------------------------

interface AgentPick extends vscode.QuickPickItem {
  agent: AgentConfig;
}

async function agentItems(services: MaofServices): Promise<AgentPick[]> {
  const routed = new Set(Object.values(services.config().routes).flat());
  const items: AgentPick[] = [];
  for (const agent of services.config().agents) {
    const state = services.core.breakerState(agent.id);
    const key = keyStatus(agent, await services.keys.hasKeyFor(agent.id));
    items.push({
      label: agent.id,
      description: `${agent.provider} · ${agent.model}${agent.baseUrl ? ' · custom endpoint' : ''}`,
      detail: [BREAKER_BADGE[state], KEY_BADGE[key], routed.has(agent.id) ? undefined : 'not in any route', agent.description].filter(Boolean).join(' · '),
      agent,
    });
  }
  return items;
}

function stringArg(args: unknown, name: string): string | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const v = (args as Record<string, unknown>)[name];
  return typeof v === 'string' && v ? v : undefined;
}

async function askAgent(services: MaofServices, args: unknown): Promise<vscode.TextDocument | undefined> {
  let agentId = stringArg(args, 'agentId');
  if (!agentId || !services.config().agents.some((a) => a.id === agentId)) {
    const picked = await vscode.window.showQuickPick(agentItems(services), { title: 'MAOF: Ask Agent… — which agent?', matchOnDescription: true, matchOnDetail: false, ignoreFocusOut: true });
    if (!picked) return undefined;
    agentId = picked.agent.id;
  }
  const question = promptArgument(args) ?? (await vscode.window.showInputBox({ title: `MAOF: Ask ${agentId}`, prompt: 'Your question or request (the selection and open files are sent as context)', ignoreFocusOut: true }));
  if (!question?.trim()) return undefined;
  const context = await services.collectContext();
  const result = await withRequestProgress({ title: 'MAOF', verb: 'Asking', events: services.core.events }, (run) =>
    services.core.run({ messages: [userTurn(question)], agentId, context, signal: run.signal, requestId: run.requestId, source: 'commands' }),
  );
  if (!result.ok) {
    await services.showError(result.error);
    return undefined;
  }
  return openMarkdown([`# ${agentId}`, '', quote(question), '', answerMarkdown(result), '', '---', footer(result), ''].join('\n'), `Answer from ${agentId}`);
}

// ---- compare ------------------------------------------------------------------------------------

export function comparisonMarkdown(question: string, results: Array<{ agentId: string; result: RunResult }>): string {
  const lines = ['# Compare agents', '', quote(question), '', '| Agent | Result | Cost | Latency | Attempts |', '|---|---|---|---|---|'];
  for (const { agentId, result } of results) {
    const status = result.ok ? (result.cached ? '✓ cached' : '✓') : `✗ ${result.error.code}`;
    lines.push(`| ${agentId} | ${status} | ${formatUsd(result.costUsd)} | ${seconds(result.durationMs)} | ${attemptsOf(result)} |`);
  }
  for (const { agentId, result } of results) {
    lines.push('', `## ${agentId}${result.ok ? ` (${result.model})` : ''}`, '');
    lines.push(result.ok ? answerMarkdown(result) : `> ✗ ${result.error.message}`);
  }
  lines.push('');
  return lines.join('\n');
}

async function compareAgents(services: MaofServices, args: unknown): Promise<vscode.TextDocument | undefined> {
  let ids: string[] | undefined;
  if (typeof args === 'object' && args !== null && Array.isArray((args as { agentIds?: unknown }).agentIds)) {
    ids = ((args as { agentIds: unknown[] }).agentIds).filter((x): x is string => typeof x === 'string');
  }
  if (!ids || ids.length === 0) {
    const picked = await vscode.window.showQuickPick(agentItems(services), { title: 'MAOF: Compare Agents… — pick two or more', canPickMany: true, matchOnDescription: true, ignoreFocusOut: true });
    if (!picked) return undefined;
    ids = picked.map((p) => p.agent.id);
  }
  if (ids.length < 2) {
    void vscode.window.showInformationMessage('MAOF: pick at least two agents to compare.');
    return undefined;
  }
  const question = promptArgument(args) ?? (await vscode.window.showInputBox({ title: `MAOF: Compare ${ids.join(', ')}`, prompt: 'The same request goes to every picked agent at once', ignoreFocusOut: true }));
  if (!question?.trim()) return undefined;
  const context = await services.collectContext();
  const agentIds = ids;
  const out = await withRequestProgress({ title: 'MAOF', verb: 'Comparing', events: services.core.events, anyRequest: true }, (run) => {
    run.report(`Asking ${agentIds.length} agents at once…`);
    return services.core.fanOut({ messages: [userTurn(question)], task: 'auto', context, signal: run.signal, source: 'commands' }, agentIds);
  });
  if (out.results.every((r) => !r.result.ok && r.result.error.code === 'CANCELLED')) return undefined;
  return openMarkdown(comparisonMarkdown(question, out.results), 'Agent comparison');
}

// ---- chains -------------------------------------------------------------------------------------

interface ChainChoice extends vscode.QuickPickItem {
  id: string;
  /** Where the chain's input comes from. */
  input: 'code' | 'prompt';
  steps: ChainStep[];
}

export const BUILT_IN_CHAINS: ChainChoice[] = [
  {
    id: 'analyse-fix-commit',
    label: 'Analyse → Fix → Write commit message',
    detail: 'Finds the problems in the selection (or file), fixes them, and writes the commit message',
    input: 'code',
    steps: [
      { name: 'Analyse', task: 'analysis', prompt: 'Analyse this code; report its bugs and risks:' },
      { name: 'Fix', task: 'code', prompt: 'Fix the problems the analysis found. Reply with the corrected code only.\n\nCode:\n{{input}}\n\nAnalysis:\n{{previous}}' },
      { name: 'Commit message', task: 'writing', prompt: 'Write a concise git commit message (imperative subject of at most 72 characters, then a short body) for this fix:\n\n{{previous}}' },
    ],
  },
  {
    id: 'explain-document',
    label: 'Explain → Document',
    detail: 'Explains the selection (or file), then turns the explanation into reference documentation',
    input: 'code',
    steps: [
      { name: 'Explain', task: 'writing', prompt: 'Explain step by step what this code does and why:' },
      { name: 'Document', task: 'writing', prompt: 'Turn this explanation into concise reference documentation in Markdown:\n\n{{previous}}' },
    ],
  },
  {
    id: 'implement-review',
    label: 'Implement → Review',
    detail: 'Writes code for your request, then has another agent review it',
    input: 'prompt',
    steps: [
      { name: 'Implement', task: 'code', prompt: 'Implement the following. Reply with the code only:' },
      { name: 'Review', task: 'analysis', prompt: 'Review this implementation of "{{input}}":\n\n{{previous}}' },
    ],
  },
];

async function runChain(services: MaofServices, args: unknown): Promise<vscode.TextDocument | undefined> {
  const chainId = stringArg(args, 'chain');
  const chain = BUILT_IN_CHAINS.find((c) => c.id === chainId) ?? (await vscode.window.showQuickPick(BUILT_IN_CHAINS, { title: 'MAOF: Run Chain…', ignoreFocusOut: true }));
  if (!chain) return undefined;
  let input: string | undefined;
  let languageId = '';
  let context: ContextItem[] | undefined;
  if (chain.input === 'code') {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('MAOF: open a file (and select code) to run this chain on.');
      return undefined;
    }
    if (secretRefusal(editor.document, services)) return undefined;
    input = editor.selection.isEmpty ? editor.document.getText() : editor.document.getText(editor.selection);
    languageId = editor.document.languageId;
  } else {
    input = promptArgument(args) ?? (await vscode.window.showInputBox({ title: `MAOF: ${chain.label}`, prompt: 'What should be implemented?', ignoreFocusOut: true }));
    context = await services.collectContext();
  }
  if (!input?.trim()) return undefined;
  const chainInput = input;
  const steps = chain.steps;
  const out = await withRequestProgress({ title: `MAOF: ${chain.label}`, verb: 'Working', events: services.core.events, anyRequest: true }, (run) => {
    run.report(`Step 1 of ${steps.length}: ${steps[0]?.name ?? ''}…`);
    return services.core.chain(steps, chainInput, {
      signal: run.signal,
      source: 'commands',
      context,
      onStep: (index, result) => {
        if (result.ok && index + 1 < steps.length) run.report(`Step ${index + 2} of ${steps.length}: ${steps[index + 1]?.name ?? ''}…`);
      },
    });
  });
  const last = out.steps[out.steps.length - 1]?.result;
  if (last && !last.ok && last.error.code === 'CANCELLED') return undefined;
  const lines = [`# ${chain.label}`, '', `_Total cost ${formatUsd(out.costUsd)} · ${out.ok ? 'completed' : 'stopped at a failed step'}_`];
  out.steps.forEach(({ name, result }, i) => {
    lines.push('', `## ${i + 1}. ${name}`, '');
    if (result.ok) lines.push(answerMarkdown(result, languageId), '', footer(result));
    else lines.push(`> ✗ ${result.error.message}`, '', footer(result));
  });
  lines.push('');
  if (!out.ok && last && !last.ok) void services.showError(last.error);
  return openMarkdown(lines.join('\n'), chain.label.replace(/→/g, 'then'));
}

export function registerAgentCommands(services: MaofServices): vscode.Disposable {
  return vscode.Disposable.from(
    services.registry.registerCommand(COMMANDS.analyseSelection, () => analyse(services, 'selection')),
    services.registry.registerCommand(COMMANDS.analyseFile, () => analyse(services, 'file')),
    services.registry.registerCommand(COMMANDS.askAgent, (args: unknown) => askAgent(services, args)),
    services.registry.registerCommand(COMMANDS.compareAgents, (args: unknown) => compareAgents(services, args)),
    services.registry.registerCommand(COMMANDS.runChain, (args: unknown) => runChain(services, args)),
  );
}
