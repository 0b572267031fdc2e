import assert from 'node:assert/strict';
import { retrySchema, type RetryPolicy } from '../../../src/core/config/schema';
import { type ErrorCode, MaofError } from '../../../src/core/errors';
import { backoffDelay, exceedsRetryAfterCap, type RetryInfo, withRetry } from '../../../src/core/resilience/retry';
import { FakeClock } from '../helpers/fakeClock';

function policy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return retrySchema.parse({ maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 8000, maxTotalMs: 60_000, maxRetryAfterMs: 30_000, jitter: 0, ...overrides });
}

function err(code: ErrorCode, retryAfterMs?: number): MaofError {
  return new MaofError(code, `failed: ${code}`, retryAfterMs === undefined ? {} : { retryAfterMs });
}

/** fn that fails with the given errors in turn, then succeeds with 'ok'. */
function script(...failures: MaofError[]): { fn: (attempt: number) => Promise<string>; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    fn: (attempt) => {
      calls.push(attempt);
      const failure = failures[calls.length - 1];
      return failure ? Promise.reject(failure) : Promise.resolve('ok');
    },
  };
}

/** Settles a promise into a result we can inspect after the fake clock has run. */
function track<T>(p: Promise<T>): { done: () => boolean; value: () => T | undefined; error: () => unknown } {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then(
    (v) => {
      done = true;
      value = v;
    },
    (e: unknown) => {
      done = true;
      error = e;
    },
  );
  return { done: () => done, value: () => value, error: () => error };
}

describe('withRetry', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
  });

  it('succeeds after two transient failures with exactly three calls, waiting the backoff in between', async () => {
    const s = script(err('OVERLOADED'), err('NETWORK'));
    const waits: RetryInfo[] = [];
    const start = clock.now();
    const t = track(withRetry(s.fn, { policy: policy(), clock, onRetry: (i) => waits.push(i) }));
    await clock.runAll();
    assert.equal(t.value(), 'ok');
    assert.deepEqual(s.calls, [1, 2, 3]);
    assert.deepEqual(
      waits.map((w) => [w.attempt, w.error.code, w.waitMs]),
      [
        [1, 'OVERLOADED', 1000],
        [2, 'NETWORK', 2000],
      ],
    );
    assert.equal(clock.now() - start, 3000);
  });

  it('does not start the next attempt before the wait is over', async () => {
    const s = script(err('UPSTREAM'));
    const t = track(withRetry(s.fn, { policy: policy(), clock }));
    await clock.advance(999);
    assert.equal(s.calls.length, 1);
    assert.equal(t.done(), false);
    await clock.advance(1);
    assert.equal(s.calls.length, 2);
    assert.equal(t.value(), 'ok');
  });

  for (const code of ['AUTH', 'BAD_REQUEST', 'CONTEXT_TOO_LARGE', 'BUDGET_EXCEEDED', 'CANCELLED', 'CIRCUIT_OPEN', 'INVALID_OUTPUT', 'CONFIG'] as const) {
    it(`never resends after ${code}: one call, the same error back, no wait`, async () => {
      const original = err(code);
      const s = script(original);
      const retries: RetryInfo[] = [];
      const start = clock.now();
      const t = track(withRetry(s.fn, { policy: policy(), clock, onRetry: (i) => retries.push(i) }));
      await clock.runAll();
      assert.equal(t.error(), original);
      assert.equal(s.calls.length, 1);
      assert.equal(retries.length, 0);
      assert.equal(clock.now(), start);
    });
  }

  it('does not retry errors that are not MaofErrors and rethrows them untouched', async () => {
    const boom = new RangeError('bug');
    let calls = 0;
    const t = track(
      withRetry(
        () => {
          calls++;
          return Promise.reject(boom);
        },
        { policy: policy(), clock },
      ),
    );
    await clock.runAll();
    assert.equal(t.error(), boom);
    assert.equal(calls, 1);
  });

  it('rethrows a non-Error throw as it was thrown, not p-retry’s wrapper', async () => {
    const t = track(
      withRetry(
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        () => Promise.reject('plain string'),
        { policy: policy(), clock },
      ),
    );
    await clock.runAll();
    assert.equal(t.error(), 'plain string');
  });

  it('honours the server’s retry-after exactly, even above maxDelayMs', async () => {
    const s = script(err('RATE_LIMITED', 12_345), err('RATE_LIMITED', 250));
    const waits: number[] = [];
    const start = clock.now();
    const t = track(withRetry(s.fn, { policy: policy({ maxDelayMs: 2000, jitter: 1 }), clock, random: () => 0.99, onRetry: (i) => waits.push(i.waitMs) }));
    await clock.advance(12_344);
    assert.equal(s.calls.length, 1, 'second attempt must not start before the retry-after');
    await clock.advance(1);
    assert.equal(s.calls.length, 2);
    assert.equal(clock.now() - start, 12_345);
    await clock.runAll();
    assert.equal(t.value(), 'ok');
    assert.deepEqual(waits, [12_345, 250]);
    assert.equal(clock.now() - start, 12_595);
  });

  it('throws at once when the retry-after exceeds maxRetryAfterMs, so the caller can fall back now', async () => {
    const tooLong = err('RATE_LIMITED', 45_000);
    const s = script(tooLong);
    const retries: RetryInfo[] = [];
    const start = clock.now();
    const t = track(withRetry(s.fn, { policy: policy({ maxRetryAfterMs: 30_000 }), clock, onRetry: (i) => retries.push(i) }));
    await clock.flush();
    assert.equal(t.error(), tooLong);
    assert.equal(s.calls.length, 1);
    assert.equal(retries.length, 0);
    assert.equal(clock.now(), start);
    assert.equal(clock.pendingSleeps(), 0);
    assert.equal(exceedsRetryAfterCap(tooLong, policy({ maxRetryAfterMs: 30_000 })), true);
    assert.equal(exceedsRetryAfterCap(err('RATE_LIMITED', 30_000), policy({ maxRetryAfterMs: 30_000 })), false);
  });

  it('stops after maxAttempts and throws the last error', async () => {
    const errors = [err('TIMEOUT'), err('NETWORK'), err('UPSTREAM'), err('OVERLOADED'), err('OVERLOADED')];
    const s = script(...errors);
    const t = track(withRetry(s.fn, { policy: policy({ maxAttempts: 4 }), clock }));
    await clock.runAll();
    assert.equal(s.calls.length, 4);
    assert.equal(t.error(), errors[3]);
  });

  it('maxAttempts 1 means a single call', async () => {
    const s = script(err('TIMEOUT'));
    const t = track(withRetry(s.fn, { policy: policy({ maxAttempts: 1 }), clock }));
    await clock.runAll();
    assert.equal(s.calls.length, 1);
    assert.equal((t.error() as MaofError).code, 'TIMEOUT');
  });

  it('ends now when the server’s wait would end past the deadline (20 s retry-after, 10 s left)', async () => {
    const limited = err('RATE_LIMITED', 20_000);
    const s = script(limited);
    const retries: RetryInfo[] = [];
    const start = clock.now();
    const t = track(withRetry(s.fn, { policy: policy(), clock, deadline: start + 10_000, onRetry: (i) => retries.push(i) }));
    await clock.flush();
    assert.equal(t.error(), limited);
    assert.equal(s.calls.length, 1);
    assert.equal(retries.length, 0);
    assert.equal(clock.now(), start);
  });

  it('bounds the total time by policy.maxTotalMs when no deadline is given', async () => {
    // Backoff 4 s, 8 s, 8 s, ... against 15 s: attempts at 0, 4 s and 12 s; the next 8 s wait would end at 20 s.
    const s = script(...Array.from({ length: 10 }, () => err('OVERLOADED')));
    const start = clock.now();
    const t = track(withRetry(s.fn, { policy: policy({ maxAttempts: 10, baseDelayMs: 4000, maxTotalMs: 15_000 }), clock }));
    await clock.runAll();
    assert.equal(s.calls.length, 3);
    assert.equal((t.error() as MaofError).code, 'OVERLOADED');
    assert.equal(clock.now() - start, 12_000);
  });

  it('does not start at all when the deadline has already passed', async () => {
    let calls = 0;
    const t = track(
      withRetry(
        () => {
          calls++;
          return Promise.resolve(1);
        },
        { policy: policy(), clock, deadline: clock.now() - 1 },
      ),
    );
    await clock.flush();
    assert.equal(calls, 0);
    assert.equal((t.error() as MaofError).code, 'TIMEOUT');
  });

  it('abort during a wait rejects with CANCELLED promptly and makes no further call', async () => {
    const s = script(err('OVERLOADED'));
    const ac = new AbortController();
    const start = clock.now();
    const t = track(withRetry(s.fn, { policy: policy(), clock, signal: ac.signal }));
    await clock.advance(500);
    assert.equal(clock.pendingSleeps(), 1);
    ac.abort();
    await clock.flush();
    assert.equal(t.done(), true);
    assert.equal((t.error() as MaofError).code, 'CANCELLED');
    assert.equal(clock.now() - start, 500);
    await clock.runAll();
    assert.equal(s.calls.length, 1);
  });

  it('an already aborted signal makes no call', async () => {
    const s = script();
    const ac = new AbortController();
    ac.abort();
    const t = track(withRetry(s.fn, { policy: policy(), clock, signal: ac.signal }));
    await clock.flush();
    assert.equal((t.error() as MaofError).code, 'CANCELLED');
    assert.equal(s.calls.length, 0);
  });
});

describe('backoffDelay', () => {
  it('doubles from baseDelayMs and caps at maxDelayMs without jitter', () => {
    const p = policy({ baseDelayMs: 500, maxDelayMs: 3000, jitter: 0 });
    assert.deepEqual([1, 2, 3, 4, 5, 20].map((a) => backoffDelay(a, p)), [500, 1000, 2000, 3000, 3000, 3000]);
  });

  it('keeps jittered delays within [d·(1−jitter), d]', () => {
    const p = policy({ baseDelayMs: 1000, maxDelayMs: 8000, jitter: 0.5 });
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const d = backoffDelay(3, p, random);
      assert.ok(d >= 2000 && d <= 4000, `delay ${d} out of [2000, 4000]`);
      seen.add(d);
    }
    assert.ok(seen.size > 50, 'jitter should actually vary the delay');
    assert.equal(backoffDelay(3, p, () => 0), 2000);
    assert.equal(backoffDelay(3, p, () => 0.999999), 4000);
  });

  it('full jitter can go down to zero but never above the cap', () => {
    const p = policy({ baseDelayMs: 1000, maxDelayMs: 8000, jitter: 1 });
    assert.equal(backoffDelay(10, p, () => 0), 0);
    assert.equal(backoffDelay(10, p, () => 0.9999999), 8000);
  });
});
