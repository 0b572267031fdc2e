// Stage 5, the response cache: an exact key over agent, model, params, messages (their tool calls,
// tool results and images included) and context hashes; only deterministic requests (temperature 0,
// or opted in) without tools; identical requests in
// flight share one call. A hit is recorded in the ledger as a saving. Throws what the answer stage throws.
import type { CachedResponse } from '../cache/responseCache';
import type { AgentCall } from './prepareContext';
import type { RequestContext } from './requestContext';
import { answer } from './structured';

export interface Answer {
  value: CachedResponse;
  /** Served from the cache or shared with an identical request in flight: nothing was sent for this one. */
  cached: boolean;
}

/** The response cache's key for a call, or undefined when the call must not be cached. */
export function cacheKeyOf(ctx: RequestContext, call: AgentCall): string | undefined {
  // Never cached: answers with tools offered (a tool call asks the caller to act, and its result
  // changes what comes next). Turns that carry tool results or images are: the key covers them.
  if (call.tools) return undefined;
  const { agent } = call;
  return ctx.services.cache.keyFor({
    agentId: agent.id,
    provider: agent.provider,
    model: agent.model,
    baseUrl: agent.baseUrl,
    temperature: call.temperature,
    maxOutputTokens: call.maxOutputTokens,
    json: call.spec !== undefined,
    messages: call.messages,
    contextHashes: call.contextHashes,
  });
}

/** The answer for `key`: from the cache, shared with an identical call in flight, or asked (and stored). */
export async function cachedAnswer(ctx: RequestContext, call: AgentCall, key: string): Promise<Answer> {
  const { services } = ctx;
  const got = await services.cache.getOrCompute(key, () => answer(ctx, call));
  const cached = got.hit || got.shared;
  if (cached) {
    const { agent } = call;
    const value = got.value;
    ctx.attempts.push({ agent: agent.id, outcome: 'cached' });
    services.emit({ type: 'cache.hit', at: services.clock.now(), requestId: ctx.requestId, agentId: agent.id, savedUsd: value.costUsd });
    services.ledger.recordCacheHit({ requestId: ctx.requestId, agentId: agent.id, task: ctx.task, savedUsd: value.costUsd, source: ctx.source });
    if (ctx.req.onDelta && value.text) ctx.req.onDelta(value.text);
  }
  return { value: got.value, cached };
}
