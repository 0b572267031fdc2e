// Stage 8, finish: the result the caller gets (success or failure, with attempts, usage and cost),
// the turn kept in session memory, the sticky route remembered, and `request.finished` — emitted
// for every request, success or not. Throws nothing.
import { cancelledError, finalError, toMaofError, type ErrorCode } from '../errors';
import type { Usage } from '../types';
import { pricingFor } from '../config/schema';
import type { CachedResponse } from '../cache/responseCache';
import { lostCacheCostUsd } from '../router/stickyRoutes';
import type { RoutedRequest, RunFailure, RunSuccess } from './types';
import type { AgentCall } from './prepareContext';
import type { RequestContext } from './requestContext';
import { structuredOf } from './structured';

/** A success as the route returns it; the classification is added when the request finishes. */
export type RouteSuccess = Omit<RunSuccess, 'classification'>;

export function successResult(ctx: RequestContext, call: AgentCall, value: CachedResponse, cached: boolean): RouteSuccess {
  return {
    ok: true,
    requestId: ctx.requestId,
    task: ctx.task,
    agentId: call.agent.id,
    model: value.model,
    text: value.text,
    structured: structuredOf(call, value.text),
    cached,
    ...(cached ? { responseCacheSavedUsd: value.costUsd } : {}),
    ...(ctx.promptCacheSavedUsd !== undefined ? { promptCacheSavedUsd: ctx.promptCacheSavedUsd } : {}),
    ...(value.toolCalls ? { toolCalls: value.toolCalls } : {}),
    attempts: ctx.attempts,
    durationMs: ctx.services.clock.now() - ctx.started,
    costUsd: ctx.costUsd,
    usage: ctx.usage,
    pruned: ctx.pruned,
    ...(ctx.usageEstimated ? { usageEstimated: true } : {}),
  };
}

/** A successful request: its turn remembered (sticky route, session memory), then `request.finished`. */
export function finishSuccess(ctx: RequestContext, routed: RoutedRequest, result: RouteSuccess): RunSuccess {
  const { services, req } = ctx;
  if (routed.conversationKey && !result.cached) noteTurn(ctx, routed, result);
  if (req.sessionId) {
    const memory = services.sessions.get(req.sessionId);
    const at = services.clock.now();
    memory.add({ role: 'user', content: ctx.text, task: ctx.task, at });
    memory.add({ role: 'assistant', content: result.text, agentId: result.agentId, task: ctx.task, at });
  }
  const success: RunSuccess = { ...result, classification: ctx.classification };
  emitFinished(ctx, true, success.agentId, undefined, success.cached);
  return success;
}

/** A failed request: the error as the user reads it (CANCELLED once the caller aborted), logged once. */
export function finishFailure(ctx: RequestContext, err: unknown): RunFailure {
  const { services } = ctx;
  const error = ctx.signal.aborted ? cancelledError() : finalError(toMaofError(err));
  if (error.code === 'UPSTREAM' && error.detail) services.logger.error(`Request ${ctx.requestId} failed: ${error.detail}`);
  else services.logger.warn(`Request ${ctx.requestId} failed: ${error.code} ${error.message}${error.detail ? ` (${error.detail})` : ''}`);
  emitFinished(ctx, false, error.agentId, error.code, false);
  return {
    ok: false,
    requestId: ctx.requestId,
    task: ctx.task,
    error,
    attempts: ctx.attempts,
    durationMs: services.clock.now() - ctx.started,
    costUsd: ctx.costUsd,
    usage: ctx.usage,
    classification: ctx.classification,
    pruned: ctx.pruned,
    ...(ctx.usageEstimated ? { usageEstimated: true } : {}),
  };
}

/** Remembers who answered the turn; an answer from another agent than the warm one says what the lost cache cost. */
function noteTurn(ctx: RequestContext, routed: RoutedRequest, result: { agentId: string; usage: Usage }): void {
  const { services } = ctx;
  const conversationKey = routed.conversationKey;
  if (!conversationKey) return;
  const answered = services.config.agents.find((a) => a.id === result.agentId);
  if (!answered) return;
  const warm = routed.warm;
  if (warm && warm.agentId !== answered.id && warm.cachedTokens > 0) {
    const warmAgent = services.config.agents.find((a) => a.id === warm.agentId);
    const failed = ctx.attempts.find((a) => a.agent === warm.agentId && a.outcome !== 'ok' && a.outcome !== 'cached' && a.outcome !== 'skipped')?.outcome;
    const reason: ErrorCode | 'agent-changed' = failed && failed !== 'ok' && failed !== 'cached' && failed !== 'skipped' ? failed : 'agent-changed';
    const extraCostUsd = warmAgent ? lostCacheCostUsd(warm.cachedTokens, pricingFor(warmAgent), pricingFor(answered)) : 0;
    services.emit({ type: 'promptCache.lost', at: services.clock.now(), requestId: ctx.requestId, from: warm.agentId, to: answered.id, reason, cachedTokens: warm.cachedTokens, extraCostUsd });
    services.logger.info(`Request ${ctx.requestId}: answered by "${answered.id}" instead of "${warm.agentId}", whose prompt cache held ${warm.cachedTokens} tokens of this conversation (about $${extraCostUsd.toFixed(4)} more).`);
  }
  services.sticky.remember(conversationKey, answered, result.usage);
}

function emitFinished(ctx: RequestContext, ok: boolean, agentId: string | undefined, errorCode: ErrorCode | undefined, cached: boolean): void {
  const { services } = ctx;
  if (!services.events.active) return;
  services.emit({
    type: 'request.finished',
    at: services.clock.now(),
    requestId: ctx.requestId,
    ok,
    agentId,
    errorCode,
    durationMs: services.clock.now() - ctx.started,
    costUsd: ctx.costUsd,
    attempts: ctx.attempts.filter((a) => a.outcome !== 'skipped' && a.outcome !== 'cached').length,
    cached,
  });
}
