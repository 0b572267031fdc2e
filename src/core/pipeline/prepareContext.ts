// Stage 4, prepare context, once per agent tried: system prompt, history, the window check (a
// caller's own conversation too long for it loses its oldest turns), the editor context pruned for
// this agent's own window (a fallback with another window re-prunes), laid out for the provider's
// prompt cache. Throws CONTEXT_TOO_LARGE when even the part that cannot be pruned does not fit.
import { MaofError } from '../errors';
import type { ChatMessage, MessagePart, ToolDefinition } from '../types';
import type { AgentConfig } from '../config/schema';
import { renderContext } from '../context/contextPruner';
import { pruneConversation } from '../context/conversationPruner';
import { redactSecrets } from '../context/secretRedactor';
import { tokenizerFor } from '../context/tokenizer';
import type { PromptCacheRequest } from '../providers/promptCache';
import { structuredSpecFor, type AnalysisResult, type StructuredSpec } from '../structuredOutput';
import { cacheableLayout, promptCacheFor, stableContextOrder } from '../promptLayout';
import type { RequestContext } from './requestContext';

const DEFAULT_SYSTEM: Record<string, string> = {
  code: 'You are an expert software engineer. Answer with correct, idiomatic code; when asked for code only, reply with the code alone.',
  writing: 'You are a precise technical writer. Write clearly and concisely in the requested form.',
  analysis: 'You are a senior reviewer. Analyse the code or question carefully and report concrete findings.',
};

/** Everything one call to one agent needs: what the agent-call stage sends, the cache stage keys. */
export interface AgentCall {
  agent: AgentConfig;
  apiKey: string;
  messages: ChatMessage[];
  /** Input tokens as counted (or safely bounded) for the window check, the reservation and the limiter. */
  inputTokens: number;
  maxOutputTokens: number;
  temperature: number | undefined;
  /** The task's structured output, when the request asks for it. */
  spec: StructuredSpec<AnalysisResult> | undefined;
  /** Ask the provider for JSON (a structured answer or its repair). */
  json: boolean;
  promptCache: PromptCacheRequest | undefined;
  tools: readonly ToolDefinition[] | undefined;
  /** Hashes of the kept context items, for the response cache's key. */
  contextHashes: string[] | undefined;
}

export function prepareContext(ctx: RequestContext, agent: AgentConfig, apiKey: string): AgentCall {
  const { services, req } = ctx;
  const config = services.config;
  const redact = config.context.redactSecrets;
  const maxOutputTokens = Math.min(req.maxOutputTokens ?? agent.maxOutputTokens, agent.maxOutputTokens);
  const tokenizer = tokenizerFor(agent.provider, agent.model);
  const own = ctx.own;
  const spec = req.structured === false || own ? undefined : structuredSpecFor(ctx.task);
  const taskConfig = config.tasks[ctx.task];
  const systemParts = own ? [req.system] : [taskConfig?.systemPrompt ?? DEFAULT_SYSTEM[ctx.task] ?? DEFAULT_SYSTEM.code, req.system, spec?.instructions];
  const system = systemParts.filter(Boolean).join('\n\n');

  // 'task': the task's instructions, the session's history, then the caller's turns with the
  // context glued to the last one. 'own': the caller's conversation as it is.
  const turns = req.messages;
  const last = own ? undefined : turns[turns.length - 1];
  const turn = last?.role === 'user' ? last : undefined;
  const prompt = own ? '' : redact ? redactSecrets(turn?.content ?? '').text : (turn?.content ?? '');
  let history: ChatMessage[];
  if (own) history = redact ? turns.map(redactMessage) : turns;
  else {
    history = req.sessionId ? services.sessions.get(req.sessionId).toMessages().slice(-config.context.historyTurns * 2) : [];
    const earlier = turn ? turns.length - 1 : turns.length;
    for (let i = 0; i < earlier; i++) history.push(redact ? redactMessage(turns[i]) : turns[i]);
  }
  // A turn of a conversation asks the provider to cache its prefix (and lays it out to stay stable).
  const promptCache = promptCacheFor(agent, ctx.conversationKey);
  const tools = req.tools && req.tools.length > 0 ? req.tools : undefined;
  // Tool schemas are read by the model too: counted like a message.
  const toolText = tools ? JSON.stringify(tools) : '';

  // Window check and pruning for this agent's own window (fallbacks re-prune for theirs).
  const reserved = config.context.reservedOutputTokens ?? maxOutputTokens;
  const counted: ChatMessage[] = own ? [...history] : [...history, { role: 'user', content: prompt }];
  if (system) counted.unshift({ role: 'system', content: system });
  if (toolText) counted.push({ role: 'system', content: toolText });
  let fixed = services.messageTokens(tokenizer, counted, req.context?.length ? 0 : agent.contextWindow - reserved);
  let available = agent.contextWindow - reserved - fixed;
  if (available < 0 && own) {
    // The caller's conversation is too long for this window: its oldest turns go (a tool call with
    // its results, never one without the other), as long as the last user turn and what follows fit.
    const shorter = pruneOwnConversation(ctx, agent, history, [system, toolText], agent.contextWindow - reserved);
    if (shorter) {
      history = shorter.messages;
      fixed = shorter.fixed;
      available = agent.contextWindow - reserved - fixed;
    }
  }
  if (available < 0) {
    ctx.skip(agent.id, 'CONTEXT_TOO_LARGE', 'CONTEXT_TOO_LARGE');
    throw new MaofError('CONTEXT_TOO_LARGE', `The request is larger than agent "${agent.id}"'s context window (${agent.contextWindow.toLocaleString('en-US')} tokens) — shorten the prompt or pick an agent with a larger window.`, { agentId: agent.id });
  }
  let contextText = '';
  let contextHashes: string[] | undefined;
  let prunedTokens = 0;
  if (req.context && req.context.length > 0) {
    const report = services.prunerFor(tokenizer).prune(req.context, {
      budgetTokens: Math.min(available, config.context.maxContextTokens),
      tokenizer,
      redact,
      maxFileBytes: config.context.maxFileBytes,
      excludeFiles: config.context.excludeFiles,
    });
    ctx.pruned = report;
    prunedTokens = report.usedTokens;
    services.emit({
      type: 'context.pruned',
      at: services.clock.now(),
      requestId: ctx.requestId,
      agentId: agent.id,
      keptTokens: report.usedTokens,
      budgetTokens: report.budgetTokens,
      dropped: report.dropped.map((d) => d.label),
      truncated: report.truncated.map((t) => t.label),
      redactions: report.redactions,
    });
    contextText = renderContext(promptCache ? stableContextOrder(report.kept) : report.kept);
    // Only the cache key uses them; hashing a large context on every request is not free.
    if (report.kept.length > 0 && config.cache.enabled) contextHashes = report.kept.map((k) => services.hashText(k.text));
  }
  const messages: ChatMessage[] = promptCache
    ? cacheableLayout(system, contextText, history, own ? undefined : prompt)
    : own
      ? [...(system || contextText ? [{ role: 'system' as const, content: [system, contextText].filter(Boolean).join('\n\n') }] : []), ...history]
      : [{ role: 'system', content: system }, ...history, { role: 'user', content: contextText ? `${contextText}\n\n${prompt}` : prompt }];
  if (turn?.parts && !own) withTurnParts(messages, turn.parts, redact);
  return {
    agent,
    apiKey,
    messages,
    inputTokens: fixed + prunedTokens,
    maxOutputTokens,
    temperature: req.temperature ?? agent.temperature ?? taskConfig?.temperature,
    spec,
    json: spec !== undefined,
    promptCache,
    tools,
    contextHashes,
  };
}

/**
 * The one call point of conversation pruning: an 'own' conversation cut to what `room` leaves
 * beside the request's system text and tool schemas, said in a `context.pruned` event naming how
 * many turns were left out. Undefined when even its last user turn and what follows do not fit.
 */
function pruneOwnConversation(ctx: RequestContext, agent: AgentConfig, history: ChatMessage[], besideTexts: readonly string[], room: number): { messages: ChatMessage[]; fixed: number } | undefined {
  const { services } = ctx;
  const tokenizer = tokenizerFor(agent.provider, agent.model);
  const beside = services.messageTokens(tokenizer, besideTexts.filter(Boolean).map((content) => ({ role: 'system' as const, content })));
  const budgetTokens = room - beside;
  const pruned = pruneConversation(history, budgetTokens, (m) => services.turnTokens(tokenizer, m));
  if (!pruned) return undefined;
  services.emit({
    type: 'context.pruned',
    at: services.clock.now(),
    requestId: ctx.requestId,
    agentId: agent.id,
    keptTokens: pruned.usedTokens,
    budgetTokens,
    dropped: [`${pruned.droppedTurns} earlier turn${pruned.droppedTurns === 1 ? '' : 's'} of the conversation`],
    truncated: [],
    redactions: 0,
  });
  services.logger.info(`Request ${ctx.requestId}: the conversation is too long for "${agent.id}"'s window; ${pruned.droppedTurns} earlier turns left out.`);
  return { messages: pruned.messages, fixed: pruned.usedTokens + beside };
}

/** The new turn (the last message) carries the caller's parts (images) after its text, context included. */
function withTurnParts(messages: ChatMessage[], parts: readonly MessagePart[], redact: boolean): void {
  const i = messages.length - 1;
  const text = messages[i].content;
  const rest = parts.filter((p) => p.type !== 'text').map((p) => (redact ? redactPart(p) : p));
  messages[i] = { role: 'user', content: text, parts: [{ type: 'text', text }, ...rest] };
}

/** A turn with secrets redacted from its text, tool calls' inputs left as the model wrote them. */
export function redactMessage(m: ChatMessage): ChatMessage {
  const content = redactSecrets(m.content).text;
  if (!m.parts) return content === m.content ? m : { ...m, content };
  return { ...m, content, parts: m.parts.map(redactPart) };
}

function redactPart(p: MessagePart): MessagePart {
  if (p.type === 'text') return { ...p, text: redactSecrets(p.text).text };
  if (p.type === 'tool_result') return { ...p, content: redactSecrets(p.content).text };
  return p;
}
