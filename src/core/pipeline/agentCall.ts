// Stage 6, the agent call: reserve the worst case → breaker permit → rate-limit permit → the
// provider → settle the real cost, with retries (p-retry) and a 429 as a shared pause of the key.
// A call cancelled while at the provider is billed (estimated), not released. Throws the call's
// MaofError (CIRCUIT_OPEN, RATE_LIMITED, BUDGET_EXCEEDED, INVALID_OUTPUT for an answer without text…).
import { MaofError, cancelledError, toMaofError } from '../errors';
import type { MaofEvent } from '../events';
import { addUsage, type ChatMessage, type Usage } from '../types';
import { pricingFor, type AgentConfig } from '../config/schema';
import { costOf, promptCacheSavingsUsd, worstCaseCost } from '../cost/costCalculator';
import type { Pricing } from '../cost/priceTable';
import type { Reservation } from '../cost/costLedger';
import { tokenizerFor } from '../context/tokenizer';
import type { ProviderResponse } from '../providers/provider';
import { backoffDelay, exceedsRetryAfterCap, withRetry } from '../resilience/retry';
import type { AgentCall } from './prepareContext';
import type { RequestContext } from './requestContext';

export interface CallOutcome {
  response: ProviderResponse;
  costUsd: number;
}

/** One agent, with budget reservation, breaker, rate limit and retries. */
export async function callAgent(ctx: RequestContext, call: AgentCall): Promise<CallOutcome> {
  const { services, req } = ctx;
  const { agent, apiKey, messages, maxOutputTokens, temperature, json, promptCache } = call;
  const config = services.config;
  const clock = services.clock;
  let inputTokens = call.inputTokens;
  const pricing = pricingFor(agent);
  // maxTotalMs bounds the whole request: no retry waits past it, and a call still running at it
  // (a gateway retrying on its own) is aborted then.
  const deadline = ctx.started + config.retry.maxTotalMs;
  let reservation: Reservation | undefined = services.ledger.tryReserve(worstCaseCost(inputTokens, maxOutputTokens, pricing));
  if (!reservation) {
    // A refusal or a wait is at stake: count the input exactly instead of the cheap upper bound.
    const exact = services.messageTokens(tokenizerFor(agent.provider, agent.model), messages);
    if (exact < inputTokens) inputTokens = exact;
    const pending = services.ledger.reserveOrWait(worstCaseCost(inputTokens, maxOutputTokens, pricing), {
      agentId: agent.id,
      maxOutputTokens,
      signal: ctx.signal,
      deadline,
      onWait: () => services.emit({ type: 'waiting', at: clock.now(), requestId: ctx.requestId, agentId: agent.id, reason: 'budget', until: deadline }),
    });
    reservation = pending instanceof Promise ? await pending : pending;
  }
  let settled = false;
  // A cancel while a call is at the provider is billed (estimated), not released: the provider
  // has read the prompt and, when streaming, written what was shown.
  let cancelledInFlight = false;
  ctx.streamedChars = 0;
  try {
    const breaker = services.breakers.get(agent.id);
    const provider = services.providerFor(agent.provider);
    const keyId = services.keyIdFor(agent, apiKey);
    const stream = req.stream === true && !json;
    const onDelta = stream ? ctx.onDelta : undefined;
    const tools = call.tools;
    const onToolCall = tools ? ctx.onToolCall : undefined;
    const response = await withRetry(
      async (attempt) => {
        // A 429 the provider wants waited out is a pause, not a failed attempt: the loop goes
        // round again after the key's shared pause, bounded by the request's deadline.
        // Set after a 429 of this request, whose wait was shown already: the next round says nothing.
        let announced = false;
        /** The 429 this request is waiting out: what the user is told if time runs out meanwhile. */
        let pausedBy: MaofError | undefined;
        for (let pauses = 1; ; pauses++) {
          const permit = breaker.tryAcquire();
          if (!permit.allowed) {
            ctx.attempts.push({ agent: agent.id, outcome: 'CIRCUIT_OPEN' });
            throw circuitOpenError(agent.id);
          }
          let judged = false;
          let sentAt: number | undefined;
          let pauseUntil: number | undefined;
          let pauseWaitMs = 0;
          /** The key's pause outlasts this request's deadline: nothing was sent, nothing to judge. */
          let sentNothing = false;
          try {
            const paused = services.limiter.pausedUntil(keyId);
            if (paused !== undefined) {
              sentNothing = paused > deadline;
              if (sentNothing) throw keyPausedError(agent.id, paused - clock.now());
              if (!announced) services.emit({ type: 'waiting', at: clock.now(), requestId: ctx.requestId, agentId: agent.id, reason: 'rate-limit', until: paused });
            }
            announced = false;
            const limit = await services.limiter.acquire(keyId, agent.rateLimit, inputTokens + maxOutputTokens, ctx.signal, (waitMs, reason) =>
              services.emit({ type: 'queued', at: clock.now(), requestId: ctx.requestId, agentId: agent.id, waitMs, reason }),
            );
            if (services.events.active) services.emit({ type: 'attempt', at: clock.now(), requestId: ctx.requestId, agentId: agent.id, attempt });
            if (ctx.deltasDelivered) {
              ctx.deltasDelivered = false;
              req.onRestart?.(agent.id);
            }
            try {
              ctx.streamedChars = 0;
              ctx.firstDeltaAt = undefined;
              sentAt = clock.now();
              let res = await provider.complete({ agent, apiKey, messages, maxOutputTokens, temperature, stream, onDelta, signal: ctx.signal, json, deadline, ...(tools ? { tools, toolMode: req.toolMode, onToolCall } : {}), ...(promptCache ? { promptCache } : {}) });
              if (res.usageEstimated) res = { ...res, usage: countedUsage(ctx, agent, messages, res.text) };
              limit.settle(res.usage.inputTokens + res.usage.cacheReadTokens + res.usage.cacheWriteTokens + res.usage.outputTokens);
              services.limiter.served(keyId);
              // The server answered, so it is healthy; an answer without text is still no answer.
              breaker.recordSuccess();
              services.onBreakerSuccess();
              judged = true;
              ctx.attempts.push({ agent: agent.id, outcome: unusableAnswer(res, agent) ? 'INVALID_OUTPUT' : 'ok', elapsedMs: clock.now() - sentAt });
              return res;
            } catch (err) {
              limit.settle(inputTokens);
              if (ctx.signal.aborted) cancelledInFlight = true;
              throw err;
            }
          } catch (err) {
            const error = ctx.signal.aborted ? cancelledError() : toMaofError(err).withAgent(agent.id, agent.provider);
            const now = clock.now();
            const elapsed = sentAt !== undefined ? { elapsedMs: now - sentAt } : {};
            if (!judged) {
              // Cut off by the request's own deadline says as little about the agent as a cancel.
              if (error.code === 'TIMEOUT' && now >= deadline) breaker.recordNeutral();
              else if (error.code === 'RATE_LIMITED' && (sentNothing || !exceedsRetryAfterCap(error, config.retry))) {
                // A provider asking us to slow down is not an outage: the breaker does not count
                // it, and every request on the key shares the pause.
                breaker.recordNeutral();
                if (!sentNothing) {
                  const pausedAt = clock.now();
                  pauseUntil = services.limiter.rateLimited(keyId, error.retryAfterMs ?? backoffDelay(pauses, config.retry, services.random), pausedAt);
                  // Measured from the same instant the pause was set, so a 1,000 ms Retry-After reads 1,000.
                  pauseWaitMs = Math.max(0, pauseUntil - pausedAt);
                }
              } else if (error.countsAgainstBreaker) breaker.recordFailure(error.code);
              else breaker.recordNeutral();
            }
            if (pauseUntil !== undefined && pauseUntil <= deadline && !ctx.signal.aborted) {
              ctx.attempts.push({ agent: agent.id, outcome: error.code, status: error.status, waitMs: pauseWaitMs, ...elapsed });
              // `at` is the instant the pause was set: the countdown shows the wait asked for.
              services.emit({ type: 'waiting', at: pauseUntil - pauseWaitMs, requestId: ctx.requestId, agentId: agent.id, reason: 'rate-limit', until: pauseUntil });
              announced = true;
              pausedBy = error;
              continue;
            }
            ctx.attempts.push({ agent: agent.id, outcome: error.code, status: error.status, ...elapsed });
            // Out of time while the provider kept saying "slow down": that, not the cut-off call, is the news.
            if (pausedBy && error.code === 'TIMEOUT' && now >= deadline) throw pausedBy;
            throw error;
          }
        }
      },
      {
        policy: config.retry,
        clock,
        signal: ctx.signal,
        deadline,
        random: services.random,
        onRetry: ({ attempt, error, waitMs }) => {
          const last = ctx.attempts[ctx.attempts.length - 1];
          if (last) last.waitMs = waitMs;
          const event: MaofEvent = { type: 'retry.scheduled', at: clock.now(), requestId: ctx.requestId, agentId: agent.id, attempt, waitMs, code: error.code };
          if (last?.elapsedMs !== undefined) event.elapsedMs = last.elapsedMs;
          services.emit(event);
        },
      },
    );
    const costUsd = costOf(response.usage, pricing);
    const unusable = unusableAnswer(response, agent);
    const now = clock.now();
    services.ledger.settle(reservation, {
      requestId: ctx.requestId, agentId: agent.id, model: agent.model, task: ctx.task, usage: response.usage, costUsd, cached: false, source: ctx.source,
      outcome: unusable ? 'invalid-output' : 'ok', totalMs: now - ctx.started, ...(ctx.firstDeltaAt !== undefined ? { ttftMs: ctx.firstDeltaAt - ctx.started } : {}),
    });
    settled = true;
    ctx.usage = addUsage(ctx.usage, response.usage);
    ctx.costUsd += costUsd;
    const promptCacheSavedUsd = response.usage.cacheReadTokens + response.usage.cacheWriteTokens > 0 ? promptCacheSavingsUsd(response.usage, pricing) : undefined;
    if (promptCacheSavedUsd !== undefined) ctx.promptCacheSavedUsd = (ctx.promptCacheSavedUsd ?? 0) + promptCacheSavedUsd;
    if (response.usageEstimated) {
      ctx.usageEstimated = true;
      services.logger.info(`Request ${ctx.requestId}: "${agent.id}" reported no usage; its cost is estimated with the tokenizer.`);
    }
    if (services.events.active) services.emit({ type: 'usage', at: clock.now(), requestId: ctx.requestId, agentId: agent.id, usage: response.usage, costUsd, ...(response.usageEstimated ? { estimated: true } : {}), ...(promptCacheSavedUsd !== undefined ? { promptCacheSavedUsd } : {}) });
    // Billed (the provider read the prompt), but not an answer: the next agent may give one.
    if (unusable) throw unusable;
    return { response, costUsd };
  } finally {
    if (!settled && cancelledInFlight) billCancelled(ctx, agent, reservation, pricing, inputTokens);
    else if (!settled) services.ledger.release(reservation);
  }
}

/**
 * Settles a call the caller cancelled while it was at the provider, with the estimate the
 * adapters use when a provider reports no usage: the counted input, and about four characters a
 * token for what was streamed before the cancel.
 */
function billCancelled(ctx: RequestContext, agent: AgentConfig, reservation: Reservation, pricing: Pricing, inputTokens: number): void {
  const { services } = ctx;
  const usage: Usage = { inputTokens, outputTokens: Math.ceil(ctx.streamedChars / 4), cacheReadTokens: 0, cacheWriteTokens: 0 };
  const costUsd = costOf(usage, pricing);
  services.ledger.settle(reservation, { requestId: ctx.requestId, agentId: agent.id, model: agent.model, task: ctx.task, usage, costUsd, cached: false, source: ctx.source, outcome: 'cancelled', totalMs: services.clock.now() - ctx.started });
  ctx.usage = addUsage(ctx.usage, usage);
  ctx.costUsd += costUsd;
  services.emit({ type: 'usage', at: services.clock.now(), requestId: ctx.requestId, agentId: agent.id, usage, costUsd });
}

/** Usage counted with the agent's tokenizer, for a provider that reported none. */
function countedUsage(ctx: RequestContext, agent: AgentConfig, messages: readonly ChatMessage[], text: string): Usage {
  const tokenizer = tokenizerFor(agent.provider, agent.model);
  return { inputTokens: ctx.services.messageTokens(tokenizer, messages), outputTokens: text ? tokenizer.count(text) : 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

/**
 * An answer with no text is not a success, whatever its status: filtered by the provider,
 * refused by the model, or simply empty (a compatible server's `choices: []`). A refusal or a
 * filter that cut a started answer is no answer either.
 */
export function unusableAnswer(response: ProviderResponse, agent: AgentConfig): MaofError | undefined {
  // /\S/ stops at the first visible character: no copy of a long answer, unlike trim().
  const reason = response.finishReason === 'filtered' ? 'filtered' : response.finishReason === 'refused' ? 'refused' : !/\S/.test(response.text) && !response.toolCalls?.length ? 'empty' : undefined;
  if (!reason) return undefined;
  const who = `Agent "${agent.id}"`;
  const message =
    reason === 'filtered'
      ? `${who}'s answer was stopped by its provider's content filter (filtered) — rephrase the request or pick another agent.`
      : reason === 'refused'
        ? `${who} refused to answer (refused) — rephrase the request or pick another agent.`
        : `${who} sent an empty answer (no text) — try again, pick another agent, or check the agent's model setting.`;
  return new MaofError('INVALID_OUTPUT', message, { agentId: agent.id, provider: agent.provider, detail: `answer ${reason} (finish reason ${response.finishReason}, ${response.text.length} chars)` });
}

export function circuitOpenError(agentId: string): MaofError {
  return new MaofError('CIRCUIT_OPEN', `Agent "${agentId}" has its circuit breaker open after repeated failures — MAOF will try it again shortly, or run "MAOF: Reset Circuit Breakers".`, { agentId });
}

/** A request on a key the provider paused for longer than the request may still wait: try the next agent. */
export function keyPausedError(agentId: string, waitMs: number): MaofError {
  return new MaofError('RATE_LIMITED', `Agent "${agentId}" is rate-limited by its provider for another ${Math.max(1, Math.ceil(waitMs / 1000))} s — MAOF tried the other agents of the route; try again shortly.`, { agentId, retryAfterMs: waitMs });
}
