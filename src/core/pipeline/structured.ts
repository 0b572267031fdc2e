// Stage 7, structured output: a task with a schema (analysis) has its answer parsed with zod; an
// invalid answer gets one repair request to the same agent, then INVALID_OUTPUT (the route tries
// the next agent). Invalid output is never passed on.
import { MaofError } from '../errors';
import type { ChatMessage } from '../types';
import type { CachedResponse } from '../cache/responseCache';
import { tokenizerFor } from '../context/tokenizer';
import { parseStructured, repairPrompt, type AnalysisResult } from '../structuredOutput';
import { callAgent } from './agentCall';
import type { AgentCall } from './prepareContext';
import type { RequestContext } from './requestContext';

/** Calls the agent and, for a structured task, repairs an invalid answer once: what the cache stores. */
export async function answer(ctx: RequestContext, call: AgentCall): Promise<CachedResponse> {
  const { agent, spec } = call;
  let outcome = await callAgent(ctx, call);
  let costUsd = outcome.costUsd;
  if (spec) {
    let parsed = parseStructured(outcome.response.text, spec);
    if (!parsed.ok) {
      ctx.services.logger.info(`Request ${ctx.requestId}: "${agent.id}" returned invalid structured output (${parsed.problem}); asking once for a repair.`);
      const messages: ChatMessage[] = [...call.messages, { role: 'assistant', content: outcome.response.text }, { role: 'user', content: repairPrompt(parsed.problem, spec) }];
      const inputTokens = call.inputTokens + tokenizerFor(agent.provider, agent.model).count(outcome.response.text) + 64;
      outcome = await callAgent(ctx, { ...call, messages, inputTokens, json: true });
      costUsd += outcome.costUsd;
      parsed = parseStructured(outcome.response.text, spec);
      if (!parsed.ok) {
        ctx.attempts.push({ agent: agent.id, outcome: 'INVALID_OUTPUT' });
        throw new MaofError('INVALID_OUTPUT', `Agent "${agent.id}" did not return a usable structured answer — MAOF tried another agent or gave up; try again or pick another agent.`, { agentId: agent.id, detail: parsed.problem });
      }
    }
  }
  const r = outcome.response;
  return { text: r.text, usage: r.usage, agentId: agent.id, model: r.model || agent.model, costUsd, finishReason: r.finishReason, ...(r.toolCalls ? { toolCalls: r.toolCalls } : {}) };
}

/** The parsed structured answer of a task with a schema (valid by now: the answer stage checked it). */
export function structuredOf(call: AgentCall, text: string): AnalysisResult | undefined {
  if (!call.spec) return undefined;
  const parsed = parseStructured(text, call.spec);
  return parsed.ok ? parsed.value : undefined;
}
