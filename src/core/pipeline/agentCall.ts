// Stage 6, the agent call: reserve the worst case (billing.ts) → attempts with retries (p-retry),
// each behind the breaker's permit (attempt.ts, verdict.ts) → settle the real cost (billing.ts).
// A call aborted while at the provider is billed (estimated), not released. Throws the call's
// MaofError (CIRCUIT_OPEN, RATE_LIMITED, BUDGET_EXCEEDED, INVALID_OUTPUT for an answer without text…).
import type { MaofEvent } from '../events';
import type { ProviderResponse } from '../providers/providerTypes';
import { withRetry } from '../resilience/retry';
import { circuitOpenError, unusableAnswer } from './agentErrors';
import { closeUnsettled, reserveCall, settleAnswer } from './billing';
import { sendAttempt, type AgentRun, type AttemptTrace } from './attempt';
import { judgeFailure } from './verdict';
import type { AgentCall } from './prepareContext';
import type { RequestContext } from './requestContext';

export interface CallOutcome {
  response: ProviderResponse;
  costUsd: number;
}

/** One agent, with budget reservation, breaker, rate limit and retries. */
export async function callAgent(ctx: RequestContext, call: AgentCall): Promise<CallOutcome> {
  const { services, req } = ctx;
  const { agent } = call;
  // maxTotalMs bounds the whole request: no retry waits past it, and a call still running at it
  // (a gateway retrying on its own) is aborted then.
  const deadline = ctx.started + services.config.retry.maxTotalMs;
  const bill = await reserveCall(ctx, call, deadline);
  ctx.streamedChars = 0;
  try {
    const run: AgentRun = {
      call,
      agent,
      bill,
      breaker: services.breakers.get(agent.id),
      provider: services.providerFor(agent.provider),
      keyId: services.keyIdFor(agent, call.apiKey),
      stream: req.stream === true && !call.json,
      deadline,
      announced: false,
      pausedBy: undefined,
    };
    const response = await withRetry((attempt) => attemptUntilSent(ctx, run, attempt), {
      policy: services.config.retry,
      clock: services.clock,
      signal: ctx.signal,
      deadline,
      random: services.random,
      onRetry: ({ attempt, error, waitMs }) => {
        const last = ctx.attempts[ctx.attempts.length - 1];
        if (last) last.waitMs = waitMs;
        const event: MaofEvent = { type: 'retry.scheduled', at: services.clock.now(), requestId: ctx.requestId, agentId: agent.id, attempt, waitMs, code: error.code };
        if (last?.elapsedMs !== undefined) event.elapsedMs = last.elapsedMs;
        services.emit(event);
      },
    });
    const costUsd = settleAnswer(ctx, bill, response);
    // Billed (the provider read the prompt), but not an answer: the next agent may give one.
    const unusable = unusableAnswer(response, agent);
    if (unusable) throw unusable;
    return { response, costUsd };
  } finally {
    closeUnsettled(ctx, bill);
  }
}

/**
 * One retry round: behind the breaker's permit, attempts until one is sent and answered or fails.
 * A 429 the provider wants waited out is a pause, not a failed attempt: the loop goes round again
 * after the key's shared pause, bounded by the request's deadline.
 */
async function attemptUntilSent(ctx: RequestContext, run: AgentRun, attempt: number): Promise<ProviderResponse> {
  run.announced = false;
  run.pausedBy = undefined;
  for (let pauses = 1; ; pauses++) {
    if (!run.breaker.tryAcquire().allowed) {
      ctx.attempts.push({ agent: run.agent.id, outcome: 'CIRCUIT_OPEN' });
      throw circuitOpenError(run.agent.id);
    }
    const trace: AttemptTrace = { sentAt: undefined, sentNothing: false, judged: false };
    try {
      return await sendAttempt(ctx, run, attempt, trace);
    } catch (err) {
      const verdict = judgeFailure(ctx, run, err, trace, pauses);
      if (verdict !== 'again') throw verdict;
    }
  }
}
