// One attempt of an agent call: wait out the key's shared 429 pause and the rate limiter, send to
// the provider, and on an answer tell the limiter and the breaker. The breaker's verdict on a
// failure is verdict.ts's; the money is billing.ts's.
import type { MaofError } from '../errors';
import type { AgentConfig } from '../config/schema';
import type { Provider, ProviderResponse } from '../providers/providerTypes';
import type { CircuitBreaker } from '../resilience/circuitBreaker';
import { unusableAnswer, keyPausedError } from './agentErrors';
import { countedUsage, type CallBill } from './billing';
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
  let res: ProviderResponse;
  try {
    ctx.streamedChars = 0;
    trace.sentAt = clock.now();
    res = await run.provider.complete(providerRequest(ctx, run));
  } catch (err) {
    limit.settle(run.bill.inputTokens);
    if (ctx.signal.aborted) run.bill.abortedAtProvider = true;
    throw err;
  }
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

function providerRequest(ctx: RequestContext, run: AgentRun): Parameters<Provider['complete']>[0] {
  const { agent, apiKey, messages, maxOutputTokens, temperature, json, promptCache, tools } = run.call;
  return {
    agent,
    apiKey,
    messages,
    maxOutputTokens,
    temperature,
    stream: run.stream,
    onDelta: run.stream ? ctx.onDelta : undefined,
    signal: ctx.signal,
    json,
    deadline: run.deadline,
    ...(tools ? { tools, toolMode: ctx.req.toolMode, onToolCall: ctx.onToolCall } : {}),
    ...(promptCache ? { promptCache } : {}),
  };
}
