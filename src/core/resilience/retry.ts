// Retries one agent's call after transient failures, with exponential backoff, the server's
// retry-after honoured up to a cap, an overall deadline and cancellation.
//
// Why the delay is ours and not p-retry's: p-retry computes one delay from attempt number alone
// and waits with a real setTimeout. MAOF must (a) wait exactly what the server asked in its
// retry-after for *that* error, (b) give up at once when that ask exceeds the cap so the router
// falls back to the next agent instead of idling, (c) never start a wait that ends past the
// request's deadline, and (d) wait on the injected Clock so tests never sleep. So p-retry runs
// the attempt loop (from the second attempt on) with its own delay zeroed, and the decision and the wait happen in
// `onFailedAttempt`, which p-retry awaits and whose throw ends the loop with that error.
import pRetry from 'p-retry';
import type { RetryPolicy } from '../config/schema';
import { cancelledError, MaofError } from '../errors';
import type { Clock } from '../ports';

export interface RetryInfo {
  /** The attempt that just failed (1-based); the next one is `attempt + 1`. */
  attempt: number;
  error: MaofError;
  waitMs: number;
}

export interface RetryOptions {
  policy: RetryPolicy;
  clock: Clock;
  signal?: AbortSignal;
  /** Absolute clock time after which no new attempt starts (the request's overall deadline). Default: start + policy.maxTotalMs */
  deadline?: number;
  /** Injectable for deterministic jitter; must return a value in [0, 1). */
  random?: () => number;
  /** Called before each wait. */
  onRetry?: (info: RetryInfo) => void;
}

/**
 * The backoff before attempt `attempt + 1`: base·2^(attempt−1) capped at maxDelayMs, of which the
 * `jitter` fraction is randomised downwards (so the result lies in [d·(1−jitter), d]).
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  if (jitter === 0 || raw === 0) return Math.round(raw);
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0;
  return Math.round(raw * (1 - jitter) + raw * jitter * unit);
}

/** The server's requested wait, when it gave a usable one. */
function serverWait(error: MaofError): number | undefined {
  const ms = error.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/**
 * True when the server asked for a longer wait than the policy accepts: withRetry then throws at
 * once so the caller can fall back to another agent instead of waiting.
 */
export function exceedsRetryAfterCap(error: MaofError, policy: RetryPolicy): boolean {
  const wait = serverWait(error);
  return wait !== undefined && wait > policy.maxRetryAfterMs;
}

/**
 * Runs `fn` until it succeeds, a non-retryable error occurs, attempts run out, the next wait would
 * end past the deadline, or the signal aborts. Rejects with the last error exactly as `fn` threw
 * it (a MaofError for anything retryable), or with CANCELLED on abort.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { policy, clock, signal, onRetry } = opts;
  const random = opts.random ?? Math.random;
  const deadline = opts.deadline ?? clock.now() + policy.maxTotalMs;
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));

  if (signal?.aborted) throw cancelledError();
  if (clock.now() > deadline) {
    throw new MaofError('TIMEOUT', 'The request ran out of time before it could be sent.', { detail: 'retry deadline already passed' });
  }

  // What fn really threw: p-retry replaces non-Error throws with a TypeError, and we hand back the
  // original instead. `stop` is set when we end the loop ourselves, so nothing else is mistaken for it.
  let lastThrown: unknown;
  let stop: { error: unknown } | undefined;

  const attemptOnce = async (attempt: number): Promise<T> => {
    if (signal?.aborted) {
      stop = { error: cancelledError() };
      throw stop.error;
    }
    try {
      return await fn(attempt);
    } catch (err) {
      lastThrown = err;
      throw err;
    }
  };

  const decideAndWait = async (attempt: number): Promise<void> => {
    const err = lastThrown;
    const giveUp = (): never => {
      stop = { error: err };
      throw err;
    };
    if (!(err instanceof MaofError) || !err.retryable) return giveUp();
    if (attempt >= maxAttempts) return giveUp();
    if (exceedsRetryAfterCap(err, policy)) return giveUp();
    const waitMs = serverWait(err) ?? backoffDelay(attempt, policy, random);
    if (clock.now() + waitMs > deadline) return giveUp();
    if (signal?.aborted) {
      stop = { error: cancelledError() };
      throw stop.error;
    }
    onRetry?.({ attempt, error: err, waitMs });
    try {
      await clock.sleep(waitMs, signal);
    } catch {
      // The only way a clock sleep fails is the abort.
      stop = { error: cancelledError() };
      throw stop.error;
    }
    if (signal?.aborted) {
      stop = { error: cancelledError() };
      throw stop.error;
    }
  };

  try {
    // The first attempt runs outside p-retry, which costs ~12 µs a call even when nothing fails
    // (measured; 4 % of the pipeline's whole budget in issue 5's P1). It takes over after a failure.
    try {
      return await attemptOnce(1);
    } catch {
      await decideAndWait(1);
    }
    return await pRetry((n) => attemptOnce(n + 1), {
      retries: maxAttempts - 2,
      minTimeout: 0,
      maxTimeout: 0,
      factor: 1,
      randomize: false,
      onFailedAttempt: ({ attemptNumber }) => decideAndWait(attemptNumber + 1),
      // Only reached when decideAndWait chose to go on; kept in agreement with it.
      shouldRetry: ({ error }) => error instanceof MaofError && error.retryable,
    });
  } catch (err) {
    if (stop) throw stop.error;
    // p-retry gave up on its own (e.g. attempts exhausted): hand back what fn threw.
    throw lastThrown !== undefined ? lastThrown : err;
  }
}
