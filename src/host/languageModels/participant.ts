// `@maof` in VS Code's native Chat: plain questions through `auto` (or the MAOF model picked in
// the Chat), `/compare` (the route's agents side by side with cost and latency), `/route` (which
// agent would answer now, and why) and `/diagnose`. Retries and fallbacks show as progress lines.
import * as vscode from 'vscode';
import { agentRequiresKey } from '../../core/config/schema';
import { classifyTask } from '../../core/router/taskClassifier';
import { providerLabel } from '../../core/errors';
import { userTurn, type ChatMessage } from '../../core/types';
import { formatUsd } from '../../shared/format';
import { ACTIONS, errorFix, errorLabel } from '../../shared/errorVocabulary';
import { narrate } from '../platform/progressText';
import type { MaofServices } from '../platform/services';
import { diagnoseReport } from '../platform/diagnoseReport';
import { trail, whyWords } from '../../core/requestLog';
import { LANGUAGE_MODEL_VENDOR, PARTICIPANT_ID } from '../platform/ids';
import { targetOf } from './modelCatalog';
import { reportChatUse } from './chatUse';

/** "200 K tokens", "1 M tokens": short enough for the side panel. */
function windowLabel(tokens: number): string {
  return tokens >= 1_000_000 ? `${+(tokens / 1_000_000).toFixed(2)} M tokens` : `${Math.round(tokens / 1000)} K tokens`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Earlier turns with @maof, as plain text turns. */
function historyOf(context: vscode.ChatContext): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const turn of context.history) {
    if (turn instanceof vscode.ChatRequestTurn) out.push({ role: 'user', content: turn.prompt });
    else if (turn instanceof vscode.ChatResponseTurn) {
      const text = turn.response.map((p) => (p instanceof vscode.ChatResponseMarkdownPart ? p.value.value : '')).join('');
      if (text) out.push({ role: 'assistant', content: text });
    }
  }
  return out.slice(-8);
}

/** Progress lines for one request, from the core's events. */
function narrateInto(services: MaofServices, stream: vscode.ChatResponseStream, requestId: string): vscode.Disposable {
  const current: { agent?: string } = {};
  const off = services.core.events.on((event) => {
    if (!('requestId' in event) || event.requestId !== requestId) return;
    const line = narrate('Asking', event, current);
    if (line) stream.progress(line);
  });
  return new vscode.Disposable(off);
}

async function answer(services: MaofServices, request: vscode.ChatRequest, context: vscode.ChatContext, stream: vscode.ChatResponseStream, token: vscode.CancellationToken): Promise<vscode.ChatResult> {
  const config = services.config();
  // The MAOF model picked in the Chat decides the route; any other vendor's model means auto.
  const picked = request.model.vendor === LANGUAGE_MODEL_VENDOR ? targetOf(request.model.id, config) : undefined;
  const requestId = `chat-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const abort = new AbortController();
  const cancel = token.onCancellationRequested(() => abort.abort());
  const narration = narrateInto(services, stream, requestId);
  let streamed = false;
  try {
    const result = await services.core.run({
      requestId,
      source: 'VS Code Chat (@maof)',
      messages: [...historyOf(context), userTurn(request.prompt)],
      instructions: 'own',
      ...(picked?.kind === 'agent' ? { agentId: picked.agentId } : picked?.kind === 'task' ? { task: picked.task } : { task: 'auto' }),
      stream: true,
      signal: abort.signal,
      onDelta: (text) => {
        streamed = true;
        stream.markdown(text);
      },
      onRestart: () => {
        if (streamed) stream.markdown('\n\n---\n_The answer above broke off; MAOF is trying again:_\n\n');
      },
    });
    if (!result.ok) {
      if (result.error.code === 'CANCELLED') return {};
      stream.markdown(`**${result.error.message}**`);
      const fix = errorFix(result.error.code, result.error.detail);
      if (fix) stream.button({ command: ACTIONS[fix].command, arguments: [...(ACTIONS[fix].args ?? [])], title: ACTIONS[fix].label });
      return { errorDetails: { message: result.error.message } };
    }
    if (!streamed) stream.markdown(result.text);
    const retries = result.attempts.filter((a) => a.outcome !== 'ok' && a.outcome !== 'cached' && a.outcome !== 'skipped').length;
    stream.markdown(`\n\n<sub>${result.agentId} · ${result.model} · ${formatUsd(result.costUsd)} · ${seconds(result.durationMs)}${retries > 0 ? ` · ${retries} retr${retries === 1 ? 'y' : 'ies'}` : ''}${result.cached ? ' · cached' : ''}</sub>`);
    return { metadata: { agentId: result.agentId, costUsd: result.costUsd } };
  } finally {
    narration.dispose();
    cancel.dispose();
  }
}

async function compare(services: MaofServices, request: vscode.ChatRequest, stream: vscode.ChatResponseStream, token: vscode.CancellationToken): Promise<vscode.ChatResult> {
  const config = services.config();
  const prompt = request.prompt.trim();
  if (!prompt) {
    stream.markdown('Ask a question after `/compare`, e.g. `@maof /compare write a debounce function`.');
    return {};
  }
  const task = classifyTask(prompt, config.tasks).task;
  const agentIds = config.routes[task] ?? [];
  stream.progress(`Asking ${agentIds.join(', ')} at once (task: ${task})…`);
  const abort = new AbortController();
  const cancel = token.onCancellationRequested(() => abort.abort());
  try {
    const { results } = await services.core.fanOut({ messages: [userTurn(prompt)], task, signal: abort.signal, structured: false, source: 'VS Code Chat (@maof)' }, agentIds);
    stream.markdown(`### ${results.length} agents on the "${task}" route\n\n| Agent | Model | Cost | Time | Result |\n|---|---|---|---|---|\n`);
    for (const { agentId, result } of results) {
      const agent = config.agents.find((a) => a.id === agentId);
      stream.markdown(`| ${agentId} | ${agent?.model ?? '?'} | ${formatUsd(result.costUsd)} | ${seconds(result.durationMs)} | ${result.ok ? 'answered' : errorLabel(result.error.code)} |\n`);
    }
    for (const { agentId, result } of results) {
      stream.markdown(`\n#### ${agentId}\n\n`);
      stream.markdown(result.ok ? result.text : `_${result.error.message}_`);
      stream.markdown('\n');
    }
    return {};
  } finally {
    cancel.dispose();
  }
}

async function route(services: MaofServices, request: vscode.ChatRequest, stream: vscode.ChatResponseStream): Promise<vscode.ChatResult> {
  const config = services.config();
  const prompt = request.prompt.trim();
  const classification = prompt ? classifyTask(prompt, config.tasks) : undefined;
  const picked = request.model.vendor === LANGUAGE_MODEL_VENDOR ? targetOf(request.model.id, config) : undefined;
  const task = picked?.kind === 'task' ? picked.task : classification?.task ?? 'code';
  const agentIds = picked?.kind === 'agent' ? [picked.agentId] : config.routes[task] ?? [];
  const { core } = services;
  const summary = core.spend();
  const lines: string[] = [];
  if (picked?.kind === 'agent') lines.push(`The model picked in the Chat pins agent **${picked.agentId}** (retries, no fallback).`);
  else if (classification) lines.push(`"${prompt.length > 60 ? `${prompt.slice(0, 57)}…` : prompt}" is a **${task}** request (${classification.reason}, confidence ${Math.round(classification.confidence * 100)} %).`);
  else lines.push(`With no question, this shows the **${task}** route. Try \`@maof /route explain this regex\`.`);
  // A list, not a table: the Chat's side panel is narrow, and a seven-column table there wrapped
  // agent names mid-word.
  lines.push('');
  let chosen: string | undefined;
  for (const [i, id] of agentIds.entries()) {
    const agent = config.agents.find((a) => a.id === id);
    if (!agent) continue;
    // A local server that needs no key is ready without one.
    const hasKey = !agentRequiresKey(agent) || (await services.keys.hasKeyFor(id));
    const breaker = core.breakerState(id);
    if (!chosen && hasKey && breaker !== 'open') chosen = id;
    const key = !agentRequiresKey(agent) ? 'no key needed' : hasKey ? 'key set' : '**no key**';
    lines.push(`${i + 1}. **${id}** — ${agent.model} (${providerLabel(agent.provider)})  `, `   ${key} · breaker ${breaker} · ${windowLabel(agent.contextWindow)} window · ${formatUsd(summary.byAgent[id] ?? 0)} this month`);
  }
  lines.push('');
  lines.push(chosen ? `**${chosen}** would answer now; the agents after it are the fallbacks, tried in order.` : '**No agent of this route can answer now** (no key or breaker open) — run "MAOF: Set API Key" or "MAOF: Reset Circuit Breakers".');
  const left = summary.monthlyLimitUsd !== undefined ? `${formatUsd(Math.max(0, summary.monthlyLimitUsd - summary.monthUsd))} left of ${formatUsd(summary.monthlyLimitUsd)} this month` : 'no monthly limit';
  lines.push(`Budget: ${formatUsd(summary.monthUsd)} spent, ${left}.`);
  const last = services.core.recentRequests().find((r) => r.source.startsWith('VS Code'));
  if (last) lines.push('', `**The last request from VS Code's Chat** (${last.task}, ${last.source}): ${last.ok ? `**${last.agentId}** answered` : 'no agent answered'} — ${whyWords(last)}; it cost ${formatUsd(last.costUsd)}. Attempts: ${trail(last)}.`);
  stream.markdown(lines.join('\n'));
  return {};
}

export function registerParticipant(services: MaofServices): vscode.Disposable {
  return services.registry.registerChatParticipant(PARTICIPANT_ID, async (request, context, stream, token) => {
    reportChatUse({ source: 'VS Code Chat (@maof)' });
    try {
      if (request.command === 'compare') return await compare(services, request, stream, token);
      if (request.command === 'route') return await route(services, request, stream);
      if (request.command === 'diagnose') {
        stream.progress('Collecting diagnostics…');
        stream.markdown(await diagnoseReport(services, false, 'open "MAOF: Diagnose" from the Command Palette and choose "Check Connectivity"'));
        return {};
      }
      return await answer(services, request, context, stream, token);
    } catch (err) {
      services.logger.error('@maof failed', err);
      const message = 'MAOF could not answer — the MAOF output channel says why.';
      stream.markdown(message);
      return { errorDetails: { message } };
    }
  });
}
