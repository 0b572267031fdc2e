import assert from 'node:assert/strict';
import type { MaofError } from '../../../src/core/errors';
import { type Permit, RateLimiter } from '../../../src/core/resilience/rateLimiter';
import { FakeClock } from '../helpers/fakeClock';

interface Tracked {
  permit: () => Permit | undefined;
  error: () => unknown;
  done: () => boolean;
}

function track(p: Promise<Permit>): Tracked {
  let permit: Permit | undefined;
  let error: unknown;
  let done = false;
  p.then(
    (v) => {
      permit = v;
      done = true;
    },
    (e: unknown) => {
      error = e;
      done = true;
    },
  );
  return { permit: () => permit, error: () => error, done: () => done };
}

describe('RateLimiter', () => {
  let clock: FakeClock;
  let limiter: RateLimiter;

  beforeEach(() => {
    clock = new FakeClock();
    limiter = new RateLimiter(clock);
  });

  it('rpm=2 lets two through at once and queues the third until a request refills', async () => {
    const first = await limiter.acquire('k', { rpm: 2 }, 0);
    const second = await limiter.acquire('k', { rpm: 2 }, 0);
    assert.equal(first.waitedMs, 0);
    assert.equal(second.waitedMs, 0);
    assert.equal(first.reason, undefined);

    const queued: Array<[number, string]> = [];
    const third = track(limiter.acquire('k', { rpm: 2 }, 0, undefined, (ms, reason) => queued.push([ms, reason])));
    assert.deepEqual(queued, [[30_000, 'rpm']], 'one request per 30 s refills at 2 rpm');
    assert.equal(limiter.pending('k'), 1);

    await clock.advance(29_999);
    assert.equal(third.done(), false);
    await clock.advance(1);
    assert.equal(third.done(), true);
    assert.equal(third.permit()?.waitedMs, 30_000);
    assert.equal(third.permit()?.reason, 'rpm');
    assert.equal(limiter.pending('k'), 0);
  });

  it('keys are independent', async () => {
    await limiter.acquire('a', { rpm: 1 }, 0);
    const other = await limiter.acquire('b', { rpm: 1 }, 0);
    assert.equal(other.waitedMs, 0);
    const sameKey = track(limiter.acquire('a', { rpm: 1 }, 0));
    await clock.flush();
    assert.equal(sameKey.done(), false);
    assert.equal(limiter.pending(), 1);
  });

  it('tpm limits by tokens', async () => {
    const limits = { tpm: 6000 }; // 100 tokens per second
    const big = await limiter.acquire('k', limits, 5000);
    assert.equal(big.waitedMs, 0);
    const queued: Array<[number, string]> = [];
    const next = track(limiter.acquire('k', limits, 3000, undefined, (ms, reason) => queued.push([ms, reason])));
    // 1000 left, 2000 more needed at 100/s.
    assert.deepEqual(queued, [[20_000, 'tpm']]);
    await clock.advance(19_999);
    assert.equal(next.done(), false);
    await clock.advance(1);
    assert.equal(next.permit()?.waitedMs, 20_000);
    assert.equal(next.permit()?.reason, 'tpm');
  });

  it('serves a queue in FIFO order: a big request is not overtaken by small ones', async () => {
    const limits = { tpm: 6000 };
    await limiter.acquire('k', limits, 6000);
    const order: string[] = [];
    const start = clock.now();
    const served = (name: string) => (p: Permit) => {
      order.push(`${name}@${clock.now() - start}`);
      return p;
    };
    const big = limiter.acquire('k', limits, 5000).then(served('big'));
    const small1 = limiter.acquire('k', limits, 100).then(served('small1'));
    const small2 = limiter.acquire('k', limits, 100).then(served('small2'));
    assert.equal(limiter.pending('k'), 3);
    await clock.runAll();
    await Promise.all([big, small1, small2]);
    // Small ones would fit after 1 s, but they wait behind the big one (50 s), then 1 s each.
    assert.deepEqual(order, ['big@50000', 'small1@51000', 'small2@52000']);
  });

  it('settle() returns unused tokens so the next request goes sooner', async () => {
    const limits = { tpm: 6000 };
    const p = await limiter.acquire('k', limits, 5000);
    const waiting = track(limiter.acquire('k', limits, 3000));
    await clock.advance(5000); // 1000 + 500 refilled: still short
    assert.equal(waiting.done(), false);
    p.settle(1000); // 4000 estimated tokens were never used
    await clock.flush();
    assert.equal(waiting.done(), true, 'the queued request is served as soon as the tokens come back');
    assert.equal(waiting.permit()?.waitedMs, 5000);
  });

  it('settle() charges tokens used beyond the estimate', async () => {
    const limits = { tpm: 6000 };
    const p = await limiter.acquire('k', limits, 1000);
    p.settle(4000);
    p.settle(0); // only the first settle counts
    const next = track(limiter.acquire('k', limits, 3000));
    await clock.flush();
    assert.equal(next.done(), false, '2000 left, 3000 needed');
    await clock.advance(10_000);
    assert.equal(next.done(), true);
  });

  it('abort removes a queued waiter and rejects with CANCELLED; the queue moves on', async () => {
    await limiter.acquire('k', { rpm: 1 }, 0);
    const ac = new AbortController();
    const head = track(limiter.acquire('k', { rpm: 1 }, 0, ac.signal));
    const behind = track(limiter.acquire('k', { rpm: 1 }, 0));
    assert.equal(limiter.pending('k'), 2);
    await clock.advance(1000);
    ac.abort();
    await clock.flush();
    assert.equal((head.error() as MaofError).code, 'CANCELLED');
    assert.equal(limiter.pending('k'), 1);
    await clock.advance(59_000);
    assert.equal(behind.done(), true, 'the next waiter takes the aborted one’s place');
    assert.equal(behind.permit()?.waitedMs, 60_000);
  });

  it('abort of a waiter in the middle of the queue', async () => {
    await limiter.acquire('k', { rpm: 1 }, 0);
    const ac = new AbortController();
    const first = track(limiter.acquire('k', { rpm: 1 }, 0));
    const middle = track(limiter.acquire('k', { rpm: 1 }, 0, ac.signal));
    const last = track(limiter.acquire('k', { rpm: 1 }, 0));
    ac.abort();
    await clock.flush();
    assert.equal((middle.error() as MaofError).code, 'CANCELLED');
    assert.equal(limiter.pending('k'), 2);
    await clock.advance(60_000);
    assert.equal(first.permit()?.waitedMs, 60_000);
    await clock.advance(60_000);
    assert.equal(last.permit()?.waitedMs, 120_000);
  });

  it('an already aborted signal rejects without queueing', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(limiter.acquire('k', { rpm: 1 }, 0, ac.signal), (e: MaofError) => e.code === 'CANCELLED');
    await assert.rejects(limiter.acquire('k', {}, 0, ac.signal), (e: MaofError) => e.code === 'CANCELLED');
    assert.equal(limiter.pending(), 0);
  });

  it('a request larger than the whole tpm budget is admitted when the bucket is full', async () => {
    const limits = { tpm: 1000 };
    const huge = await limiter.acquire('k', limits, 5000);
    assert.equal(huge.waitedMs, 0);
    // The debt is paid back before anyone else goes: 4000 over, +100 for the next request, at 1000/min.
    const next = track(limiter.acquire('k', limits, 100));
    await clock.advance(245_999);
    assert.equal(next.done(), false);
    await clock.advance(1);
    assert.equal(next.done(), true);
    // A second oversized request waits only for a full bucket, not forever.
    const huge2 = track(limiter.acquire('k', limits, 5000));
    await clock.advance(59_999);
    assert.equal(huge2.done(), false);
    await clock.advance(1);
    assert.equal(huge2.permit()?.waitedMs, 60_000);
  });

  it('applies both limits: the one that binds is the reason', async () => {
    const limits = { rpm: 60, tpm: 600 }; // 1 request/s, 10 tokens/s
    await limiter.acquire('k', limits, 600);
    const queued: Array<[number, string]> = [];
    const next = track(limiter.acquire('k', limits, 50, undefined, (ms, r) => queued.push([ms, r])));
    assert.deepEqual(queued, [[5000, 'tpm']]);
    await clock.advance(5000);
    assert.equal(next.permit()?.reason, 'tpm');
  });

  it('no limits: resolves at once with waitedMs 0, every time, without a queue', async () => {
    for (let i = 0; i < 1000; i++) {
      const p = await limiter.acquire('k', {}, 1_000_000);
      assert.equal(p.waitedMs, 0);
      p.settle(5);
    }
    assert.equal(limiter.pending(), 0);
    assert.equal(clock.pendingSleeps(), 0);
  });

  it('a limit switched on later starts with a full bucket', async () => {
    await limiter.acquire('k', {}, 100);
    const p1 = await limiter.acquire('k', { rpm: 1 }, 0);
    assert.equal(p1.waitedMs, 0);
    const p2 = track(limiter.acquire('k', { rpm: 1 }, 0));
    await clock.flush();
    assert.equal(p2.done(), false);
    // Raising the limit wakes the queue: at 6 rpm the next request is due 10 s after the first.
    const p3 = track(limiter.acquire('k', { rpm: 6 }, 0));
    await clock.advance(10_000);
    assert.equal(p2.permit()?.waitedMs, 10_000);
    assert.equal(p3.done(), false);
    await clock.runAll();
    assert.equal(p3.permit()?.waitedMs, 20_000);
  });
});

describe('RateLimiter pauses learned from 429s', () => {
  it('requests on a paused key share one pause and leave it paced, not all at once', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(clock);
    // The key was served 10 requests in the last second: that is the pace it starts from.
    for (let i = 0; i < 10; i++) limiter.served('k');
    await clock.advance(1_000);
    const until = limiter.rateLimited('k', 300);
    assert.equal(until, clock.now() + 300);
    assert.equal(limiter.pausedUntil('k'), until);
    const released: number[] = [];
    const all = Array.from({ length: 4 }, () => limiter.acquire('k', {}, 0).then(() => released.push(clock.now() - until)));
    await clock.advance(299);
    assert.deepEqual(released, [], 'nobody goes during the pause');
    await clock.runAll();
    await Promise.all(all);
    assert.deepEqual(released, [0, 100, 200, 300], 'one at the end of the pause, then one per 1/10 s');
    assert.equal(limiter.pausedUntil('k'), undefined);
  });

  it('a key younger than a second paces at the rate its burst was served at', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(clock);
    // 10 answers in the first 100 ms: 100 a second, not "10 in the last second".
    for (let i = 0; i < 10; i++) {
      limiter.served('k');
      await clock.advance(10);
    }
    const until = limiter.rateLimited('k', 5);
    const released: number[] = [];
    const all = Array.from({ length: 3 }, () => limiter.acquire('k', {}, 0).then(() => released.push(clock.now() - until)));
    await clock.runAll();
    await Promise.all(all);
    assert.deepEqual(released, [0, 10, 20]);
  });

  it('a key that was never served pauses without a pace, and another key is not paused', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(clock);
    const start = clock.now();
    limiter.rateLimited('k', 50);
    assert.equal(limiter.pausedUntil('other'), undefined);
    const released: number[] = [];
    const all = Array.from({ length: 3 }, () => limiter.acquire('k', {}, 0).then(() => released.push(clock.now())));
    await clock.runAll();
    await Promise.all(all);
    assert.ok(Math.min(...released) >= start + 50 && Math.max(...released) - Math.min(...released) < 1, 'all leave at the end of the pause');
  });
});
