import assert from 'node:assert/strict';
import { breakerSchema, type BreakerPolicy } from '../../../src/core/config/schema';
import type { ErrorCode } from '../../../src/core/errors';
import type { BreakerState } from '../../../src/core/events';
import { BreakerRegistry, CircuitBreaker } from '../../../src/core/resilience/circuitBreaker';
import { FakeClock } from '../helpers/fakeClock';

function policy(overrides: Partial<BreakerPolicy> = {}): BreakerPolicy {
  return breakerSchema.parse({ failureThreshold: 3, windowSize: 10, resetTimeoutMs: 30_000, ...overrides });
}

type Change = [BreakerState, BreakerState, ErrorCode | undefined];

describe('CircuitBreaker', () => {
  let clock: FakeClock;
  let changes: Change[];
  let breaker: CircuitBreaker;

  beforeEach(() => {
    clock = new FakeClock();
    changes = [];
    breaker = new CircuitBreaker('gpt', policy(), clock, (from, to, reason) => changes.push([from, to, reason]));
  });

  function fail(n: number, code: ErrorCode = 'OVERLOADED'): void {
    for (let i = 0; i < n; i++) {
      assert.equal(breaker.tryAcquire().allowed, true);
      breaker.recordFailure(code);
    }
  }

  it('stays closed below the threshold and opens after N consecutive counted failures', () => {
    fail(2);
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(breaker.tryAcquire(), { allowed: true, probe: false });
    breaker.recordFailure('TIMEOUT');
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.snapshot().lastFailureCode, 'TIMEOUT');
    assert.equal(breaker.snapshot().opens, 1);
  });

  it('a success in between resets the consecutive count', () => {
    fail(2);
    breaker.recordSuccess();
    fail(2);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.snapshot().consecutiveFailures, 2);
  });

  it('refuses while open and says when to try again', async () => {
    fail(3);
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, retryInMs: 30_000 });
    await clock.advance(10_000);
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, retryInMs: 20_000 });
    await clock.advance(19_999);
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, retryInMs: 1 });
  });

  it('after the reset timeout lets exactly one probe through at a time', async () => {
    fail(3);
    await clock.advance(30_000);
    assert.equal(breaker.state, 'half-open');
    assert.deepEqual(breaker.tryAcquire(), { allowed: true, probe: true });
    const second = breaker.tryAcquire();
    const third = breaker.tryAcquire();
    assert.equal(second.allowed, false);
    assert.equal(third.allowed, false);
  });

  it('a successful probe closes the breaker and clears the failure history', async () => {
    fail(3);
    await clock.advance(30_000);
    assert.equal(breaker.tryAcquire().allowed, true);
    breaker.recordSuccess();
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(breaker.tryAcquire(), { allowed: true, probe: false });
    assert.equal(breaker.snapshot().consecutiveFailures, 0);
    // It takes a full new run of failures to open again.
    fail(2);
    assert.equal(breaker.state, 'closed');
  });

  it('a failed probe reopens it with a fresh cool-down', async () => {
    fail(3);
    await clock.advance(30_000);
    assert.equal(breaker.tryAcquire().allowed, true);
    await clock.advance(5_000);
    breaker.recordFailure('NETWORK');
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.snapshot().openedAt, clock.now());
    assert.equal(breaker.snapshot().opens, 2);
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, retryInMs: 30_000 });
  });

  it('neutral codes do not count and release the probe', async () => {
    for (const code of ['BAD_REQUEST', 'CANCELLED', 'AUTH', 'CONTEXT_TOO_LARGE', 'BUDGET_EXCEEDED', 'INVALID_OUTPUT', 'CONFIG', 'CIRCUIT_OPEN'] as const) {
      fail(1, code);
    }
    fail(2);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.snapshot().consecutiveFailures, 2);

    fail(1);
    await clock.advance(30_000);
    assert.deepEqual(breaker.tryAcquire(), { allowed: true, probe: true });
    breaker.recordFailure('CANCELLED');
    assert.equal(breaker.state, 'half-open', 'a cancelled probe says nothing about the agent');
    assert.deepEqual(breaker.tryAcquire(), { allowed: true, probe: true }, 'the next caller may probe');
  });

  it('opens on the failure rate once the window is full', () => {
    breaker = new CircuitBreaker('gpt', policy({ failureThreshold: 100, failureRateThreshold: 0.5, windowSize: 4 }), clock, (f, t, r) => changes.push([f, t, r]));
    // fail, ok, fail: 2 of 3 — the window is not full yet.
    breaker.recordFailure('UPSTREAM');
    breaker.recordSuccess();
    breaker.recordFailure('UPSTREAM');
    assert.equal(breaker.state, 'closed');
    breaker.recordSuccess(); // 2 of 4 → 50 %, but the decision is made on a failure
    assert.equal(breaker.state, 'closed');
    breaker.recordFailure('RATE_LIMITED'); // window: ok, fail, ok, fail → 50 %
    assert.equal(breaker.state, 'open');
    assert.deepEqual(changes, [['closed', 'open', 'RATE_LIMITED']]);
  });

  it('failure rate below the threshold keeps it closed', () => {
    // Every window of 6 over (ok, ok, fail)* holds exactly 2 failures: 33 %.
    breaker = new CircuitBreaker('gpt', policy({ failureThreshold: 100, failureRateThreshold: 0.5, windowSize: 6 }), clock);
    for (let i = 0; i < 20; i++) {
      breaker.recordSuccess();
      breaker.recordSuccess();
      breaker.recordFailure('TIMEOUT');
    }
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.snapshot().recent.length, 6);
  });

  it('emits state changes in order, each once', async () => {
    fail(3, 'RATE_LIMITED');
    await clock.advance(30_000);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.state, 'half-open');
    breaker.tryAcquire();
    breaker.recordFailure('TIMEOUT');
    await clock.advance(30_000);
    breaker.tryAcquire();
    breaker.recordSuccess();
    fail(3);
    breaker.reset();
    assert.deepEqual(changes, [
      ['closed', 'open', 'RATE_LIMITED'],
      ['open', 'half-open', undefined],
      ['half-open', 'open', 'TIMEOUT'],
      ['open', 'half-open', undefined],
      ['half-open', 'closed', undefined],
      ['closed', 'open', 'OVERLOADED'],
      ['open', 'closed', undefined],
    ]);
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(breaker.tryAcquire(), { allowed: true, probe: false });
  });

  it('a probe that never reports is considered lost after the reset timeout', async () => {
    fail(3);
    await clock.advance(30_000);
    assert.deepEqual(breaker.tryAcquire(), { allowed: true, probe: true });
    await clock.advance(10_000);
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, retryInMs: 20_000 });
    await clock.advance(20_000);
    assert.deepEqual(breaker.tryAcquire(), { allowed: true, probe: true });
    breaker.recordSuccess();
    assert.equal(breaker.state, 'closed');
  });
});

describe('BreakerRegistry', () => {
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock();
  });

  it('keeps one breaker per agent and reports changes with the agent id', () => {
    const events: string[] = [];
    const reg = new BreakerRegistry(policy({ failureThreshold: 1 }), clock, (id, from, to, reason) => events.push(`${id}:${from}>${to}:${reason ?? ''}`));
    assert.equal(reg.get('a'), reg.get('a'));
    reg.get('a').recordFailure('OVERLOADED');
    assert.equal(reg.get('a').state, 'open');
    assert.equal(reg.get('b').state, 'closed');
    reg.reset('a');
    assert.deepEqual(events, ['a:closed>open:OVERLOADED', 'a:open>closed:']);
  });

  it('round-trips snapshots through JSON', () => {
    const reg = new BreakerRegistry(policy(), clock);
    for (let i = 0; i < 3; i++) reg.get('gpt').recordFailure('TIMEOUT');
    reg.get('claude').recordFailure('NETWORK');
    reg.get('claude').recordSuccess();
    const saved: unknown = JSON.parse(JSON.stringify(reg.snapshots()));

    const again = new BreakerRegistry(policy(), clock);
    assert.deepEqual(again.restore(saved), []);
    assert.deepEqual(again.snapshots(), reg.snapshots());
    assert.equal(again.get('gpt').state, 'open');
    assert.equal(again.get('gpt').tryAcquire().allowed, false);
    assert.deepEqual(again.get('claude').snapshot().recent, [true, false]);
  });

  it('an open breaker whose cool-down ended during a restart comes back half-open, with one probe', async () => {
    const reg = new BreakerRegistry(policy(), clock);
    for (let i = 0; i < 3; i++) reg.get('gpt').recordFailure('OVERLOADED');
    const saved: unknown = JSON.parse(JSON.stringify(reg.snapshots()));
    assert.equal((saved as Record<string, { state: string }>).gpt?.state, 'open');

    await clock.advance(45_000); // MAOF was not running meanwhile
    const events: string[] = [];
    const restarted = new BreakerRegistry(policy(), clock, (id, from, to) => events.push(`${id}:${from}>${to}`));
    restarted.restore(saved);
    assert.equal(restarted.get('gpt').state, 'half-open');
    assert.deepEqual(restarted.get('gpt').tryAcquire(), { allowed: true, probe: true });
    assert.equal(restarted.get('gpt').tryAcquire().allowed, false);
    assert.deepEqual(events, [], 'restoring is not a live state change');
  });

  it('an open breaker restored before its cool-down ended waits out the rest', async () => {
    const reg = new BreakerRegistry(policy(), clock);
    for (let i = 0; i < 3; i++) reg.get('gpt').recordFailure('OVERLOADED');
    const saved: unknown = JSON.parse(JSON.stringify(reg.snapshots()));
    await clock.advance(10_000);
    const restarted = new BreakerRegistry(policy(), clock);
    restarted.restore(saved);
    assert.deepEqual(restarted.get('gpt').tryAcquire(), { allowed: false, retryInMs: 20_000 });
  });

  it('ignores junk entries and keeps the valid ones', () => {
    const reg = new BreakerRegistry(policy(), clock);
    const ignored = reg.restore({
      good: { state: 'open', consecutiveFailures: 3, openedAt: clock.now(), recent: [true, true, true], opens: 1 },
      badState: { state: 'ajar', consecutiveFailures: 0, recent: [], opens: 0 },
      openWithoutTime: { state: 'open', consecutiveFailures: 3, recent: [], opens: 1 },
      negative: { state: 'closed', consecutiveFailures: -1, recent: [], opens: 0 },
      badCode: { state: 'closed', consecutiveFailures: 0, lastFailureCode: 'TEAPOT', recent: [], opens: 0 },
      notAnObject: 42,
      nothing: null,
    });
    assert.deepEqual(ignored.sort(), ['badCode', 'badState', 'negative', 'notAnObject', 'nothing', 'openWithoutTime']);
    assert.deepEqual(Object.keys(reg.snapshots()), ['good']);
    assert.equal(reg.get('good').state, 'open');
    assert.doesNotThrow(() => reg.restore('garbage'));
    assert.doesNotThrow(() => reg.restore(null));
    assert.doesNotThrow(() => reg.restore([1, 2]));
  });

  it('a saved openedAt in the future does not stretch the cool-down', async () => {
    const reg = new BreakerRegistry(policy(), clock);
    reg.restore({ gpt: { state: 'open', consecutiveFailures: 3, openedAt: clock.now() + 86_400_000, recent: [], opens: 1 } });
    assert.deepEqual(reg.get('gpt').tryAcquire(), { allowed: false, retryInMs: 30_000 });
    await clock.advance(30_000);
    assert.equal(reg.get('gpt').state, 'half-open');
  });

  it('setPolicy changes the threshold of existing and future breakers', () => {
    const reg = new BreakerRegistry(policy({ failureThreshold: 5 }), clock);
    reg.get('a').recordFailure('TIMEOUT');
    reg.setPolicy(policy({ failureThreshold: 2 }));
    reg.get('a').recordFailure('TIMEOUT');
    assert.equal(reg.get('a').state, 'open');
    reg.get('b').recordFailure('TIMEOUT');
    reg.get('b').recordFailure('TIMEOUT');
    assert.equal(reg.get('b').state, 'open');
  });

  it('resetAll closes every breaker', () => {
    const reg = new BreakerRegistry(policy({ failureThreshold: 1 }), clock);
    reg.get('a').recordFailure('TIMEOUT');
    reg.get('b').recordFailure('NETWORK');
    reg.resetAll();
    assert.deepEqual(
      Object.values(reg.snapshots()).map((s) => s.state),
      ['closed', 'closed'],
    );
  });

  it('reports failure-count changes for saving, but not a success that changes no count', () => {
    const counted: string[] = [];
    const reg = new BreakerRegistry(policy(), clock, undefined, (id) => counted.push(id));
    reg.get('a').recordSuccess();
    reg.get('a').recordNeutral();
    reg.get('a').recordFailure('BAD_REQUEST');
    assert.deepEqual(counted, [], 'nothing a restart would need to know changed');
    reg.get('a').recordFailure('TIMEOUT');
    reg.get('b').recordFailure('NETWORK');
    assert.deepEqual(counted, ['a', 'b']);
    reg.get('a').recordSuccess();
    assert.deepEqual(counted, ['a', 'b', 'a'], 'a success that clears failures is saved');
    reg.get('a').recordSuccess();
    assert.equal(counted.length, 3);
    reg.reset('b');
    assert.deepEqual(counted, ['a', 'b', 'a', 'b'], 'a reset of a closed breaker with failures is saved');
  });

  it('says how long until an open breaker lets a probe through', async () => {
    const reg = new BreakerRegistry(policy({ failureThreshold: 1, resetTimeoutMs: 30_000 }), clock);
    assert.equal(reg.get('a').halfOpenInMs(), undefined);
    reg.get('a').recordFailure('TIMEOUT');
    assert.equal(reg.get('a').halfOpenInMs(), 30_000);
    await clock.advance(12_000);
    assert.equal(reg.get('a').halfOpenInMs(), 18_000);
    await clock.advance(18_000);
    assert.equal(reg.get('a').halfOpenInMs(), 0);
    assert.equal(reg.get('a').state, 'half-open');
  });
});
