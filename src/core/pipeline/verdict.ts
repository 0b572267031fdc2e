// The breaker's verdict on a failed attempt, and what the call does next: a provider's "slow down"
// (429) is a shared pause of the key and another round, not a failure; a request cut off by its own
// deadline says nothing about the agent; a failure of the agent counts against its breaker.
import { cancelledError, toMaofError, type MaofError } from '../errors';
import { keyTagOf } from '../resilience/creditMarks';
import { backoffDelay, exceedsRetryAfterCap } from '../resilience/retry';
import type { AgentRun, AttemptTrace } from './attempt';
import type { RequestContext } from './requestContext';

/** 'again': the key is paused within the request's time, wait and send again; else the error to throw. */
export type Verdict = 'again' | MaofError;

/** Judges what an attempt threw, records it in the attempts, and says whether to go round again. */
export function judgeFailure(ctx: RequestContext, run: AgentRun, thrown: unknown, trace: AttemptTrace, pauses: number): Verdict {
  const { services } = ctx;
  const { agent } = run;
  const error = ctx.signal.aborted ? cancelledError() : toMaofError(thrown).withAgent(agent.id, agent.provider);
  const now = services.clock.now();
  const elapsed = trace.sentAt !== undefined ? { elapsedMs: now - trace.sentAt } : {};
  const pause = trace.judged ? undefined : recordVerdict(ctx, run, error, trace, pauses);
  if (pause && pause.until <= run.deadline && !ctx.signal.aborted) {
    ctx.attempts.push({ agent: agent.id, outcome: error.code, status: error.status, waitMs: pause.waitMs, ...elapsed });
    // `at` is the instant the pause was set: the countdown shows the wait asked for.
    services.emit({ type: 'waiting', at: pause.until - pause.waitMs, requestId: ctx.requestId, agentId: agent.id, reason: 'rate-limit', until: pause.until });
    run.announced = true;
    run.pausedBy = error;
    return 'again';
  }
  ctx.attempts.push({ agent: agent.id, outcome: error.code, status: error.status, ...elapsed });
  // Out of time while the provider kept saying "slow down": that, not the cut-off call, is the news.
  if (run.pausedBy && error.code === 'TIMEOUT' && now >= run.deadline) return run.pausedBy;
  return error;
}

/** Tells the breaker; for a 429 worth waiting out, pauses the key and returns the pause. */
function recordVerdict(ctx: RequestContext, run: AgentRun, error: MaofError, trace: AttemptTrace, pauses: number): { until: number; waitMs: number } | undefined {
  const { services } = ctx;
  const { breaker } = run;
  const config = services.config;
  // Cut off by the request's own deadline says as little about the agent as a cancel.
  if (error.code === 'TIMEOUT' && services.clock.now() >= run.deadline) {
    breaker.recordNeutral();
    return undefined;
  }
  if (error.code === 'RATE_LIMITED' && (trace.sentNothing || !exceedsRetryAfterCap(error, config.retry))) {
    // A provider asking us to slow down is not an outage: the breaker does not count it, and
    // every request on the key shares the pause.
    breaker.recordNeutral();
    if (trace.sentNothing) return undefined;
    const pausedAt = services.clock.now();
    const until = services.limiter.rateLimited(run.keyId, error.retryAfterMs ?? backoffDelay(pauses, config.retry, services.random), pausedAt);
    // Measured from the same instant the pause was set, so a 1,000 ms Retry-After reads 1,000.
    return { until, waitMs: Math.max(0, until - pausedAt) };
  }
  if (error.code === 'OUT_OF_CREDIT') services.credit.mark(run.agent.id, keyTagOf(run.keyId));
  if (error.countsAgainstBreaker) {
    breaker.recordFailure(error.code);
    if (trace.sentAt !== undefined) services.latency.recordFailure(run.agent.id, error.code === 'STALLED' ? 'stalled' : 'failed');
  } else breaker.recordNeutral();
  return undefined;
}
