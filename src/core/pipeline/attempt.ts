// One attempt of an agent call: wait out the key's shared 429 pause and the rate limiter, send to
// the provider, and on an answer tell the limiter and the breaker. The breaker's verdict on a
// failure is verdict.ts's; the money is billing.ts's.
import type { MaofError } from '../errors';
import type { AgentConfig } from '../config/schema';
import type { Provider, ProviderRequest, ProviderResponse } from '../providers/providerTypes';
import { deadlinesFor, type AttemptDeadlines } from '../resilience/deadlines';
import type { CircuitBreaker } from '../resilience/circuitBreaker';
import { unusableAnswer, keyPausedError } from './agentErrors';
import { AttemptGuard, stalledError } from './attemptGuard';
import { countedUsage, type CallBill } from './billing';
import { mayFallBack } from './fallbackCheck';
import type { AgentCall } from './prepareContext';
import type { RequestContext } from './requestContext';

/** What one agent call carries from attempt to attempt. */
export interface AgentRun {
  readonly call: AgentCall;
  readonly agent: AgentConfig;
  readonly bill: CallBill;
  readonly breaker: CircuitBreaker;
  readonly provider: Provider;
  /** The rate limiter's opaque id of the agent's key. */
  readonly keyId: string;
  /** Streamed to the caller (its onDelta gets the text). */
  readonly stream: boolean;
  /** The request's deadline (retry.maxTotalMs): no wait and no call runs past it. */
  readonly deadline: number;
  /** Set after a 429 of this request, whose wait was shown already: the next round says nothing. */
  announced: boolean;
  /** The 429 this request is waiting out: what the user is told if time runs out meanwhile. */
  pausedBy: MaofError | undefined;
}

/** What the breaker's verdict needs to know about one attempt. */
export interface AttemptTrace {
  /** Clock time the request went to the provider; undefined when nothing was sent. */
  sentAt: number | undefined;
  /** The key's pause outlasts the request's deadline: nothing was sent, nothing to judge. */
  sentNothing: boolean;
  /** The breaker already heard of this attempt (an answer, even an unusable one). */
  judged: boolean;
}

/** Sends one attempt; resolves with the provider's answer or rejects with what the provider threw. */
export async function sendAttempt(ctx: RequestContext, run: AgentRun, attempt: number, trace: AttemptTrace): Promise<ProviderResponse> {
  const { services, req } = ctx;
  const { agent, call, keyId } = run;
  const clock = services.clock;
  const paused = services.limiter.pausedUntil(keyId);
  if (paused !== undefined) {
    trace.sentNothing = paused > run.deadline;
    if (trace.sentNothing) throw keyPausedError(agent.id, paused - clock.now());
    if (!run.announced) services.emit({ type: 'waiting', at: clock.now(), requestId: ctx.requestId, agentId: agent.id, reason: 'rate-limit', until: paused });
  }
  run.announced = false;
  const limit = await services.limiter.acquire(keyId, agent.rateLimit, run.bill.inputTokens + call.maxOutputTokens, ctx.signal, (waitMs, reason) =>
    services.emit({ type: 'queued', at: clock.now(), requestId: ctx.requestId, agentId: agent.id, waitMs, reason }),
  );
  if (services.events.active) services.emit({ type: 'attempt', at: clock.now(), requestId: ctx.requestId, agentId: agent.id, attempt });
  if (ctx.deltasDelivered) {
    ctx.deltasDelivered = false;
    req.onRestart?.(agent.id);
  }
  const guard = new AttemptGuard(ctx, agent.id, watchedDeadlines(ctx, run), run.stream);
  let res: ProviderResponse;
  try {
    ctx.streamedChars = 0;
    ctx.firstDeltaAt = undefined;
    trace.sentAt = clock.now();
    res = await run.provider.complete(providerRequest(ctx, run, guard));
  } catch (err) {
    limit.settle(run.bill.inputTokens);
    // The provider read the prompt: a cancel or a missed deadline is billed, not released.
    if (ctx.signal.aborted || guard.stall) run.bill.abortedAtProvider = true;
    throw guard.stall && !ctx.signal.aborted ? stalledError(agent.id, agent.provider, guard.stall, ctx.deltasDelivered) : err;
  } finally {
    guard.dispose();
  }
  const firstAt = guard.firstPartAt;
  if (firstAt !== undefined) services.latency.recordAnswer(agent.id, firstAt - trace.sentAt, res.usage.outputTokens, clock.now() - firstAt);
  if (res.usageEstimated) res = { ...res, usage: countedUsage(ctx, agent, call.messages, res.text) };
  limit.settle(res.usage.inputTokens + res.usage.cacheReadTokens + res.usage.cacheWriteTokens + res.usage.outputTokens);
  services.limiter.served(keyId);
  // The server answered, so it is healthy; an answer without text is still no answer.
  run.breaker.recordSuccess();
  services.onBreakerSuccess();
  trace.judged = true;
  ctx.attempts.push({ agent: agent.id, outcome: unusableAnswer(res, agent) ? 'INVALID_OUTPUT' : 'ok', elapsedMs: clock.now() - trace.sentAt });
  return res;
}

const UNWATCHED: AttemptDeadlines = { firstTokenMs: undefined, firstTokenSource: 'off', idleMs: undefined };

/**
 * The deadlines this attempt is watched by. A caller that streams is always watched. A caller that
 * wants the answer whole is watched (and so streamed on the wire, see providerRequest) only when a
 * missed first token could move the request on: another agent may take it, or the agent's own
 * setting cuts it anyway. Otherwise it is sent as asked, bounded by its timeoutMs and maxTotalMs.
 */
function watchedDeadlines(ctx: RequestContext, run: AgentRun): AttemptDeadlines {
  const deadlines = deadlinesFor(run.agent, ctx.services.config.deadlines, ctx.services.latency);
  if (run.stream) return deadlines;
  const canAct = deadlines.firstTokenMs !== undefined && (deadlines.firstTokenSource === 'setting' || mayFallBack(ctx));
  return canAct ? deadlines : UNWATCHED;
}

/**
 * The provider's request. An attempt a deadline watches is streamed on the wire even when the
 * caller wants the answer whole (`--json`, batch, chains, the classifier): only a stream shows signs
 * of life, and the text is then collected, not shown.
 */
function providerRequest(ctx: RequestContext, run: AgentRun, guard: AttemptGuard): ProviderRequest {
  const { agent, apiKey, messages, maxOutputTokens, temperature, json, promptCache, tools } = run.call;
  const stream = run.stream || guard.watching;
  return {
    agent,
    apiKey,
    messages,
    maxOutputTokens,
    temperature,
    stream,
    onDelta: stream ? guard.onDelta : undefined,
    onProgress: guard.onProgress,
    signal: guard.signal,
    json,
    deadline: run.deadline,
    ...(tools ? { tools, toolMode: ctx.req.toolMode, onToolCall: guard.onToolCall } : {}),
    ...(promptCache ? { promptCache } : {}),
  };
}
