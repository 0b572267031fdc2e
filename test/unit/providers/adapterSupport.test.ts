// Unit tests for what both adapters share: the client cache, the stall watchdog and the guarded
// call, on a fake clock so that timeouts are tested without sleeping.
import assert from 'node:assert/strict';
import { agentSchema } from '../../../src/core/config/schema';
import { MaofError } from '../../../src/core/errors';
import { ClientCache, StallWatchdog, estimateUsage, runGuarded, tokens } from '../../../src/core/providers/adapterSupport';
import type { ProviderRequest } from '../../../src/core/providers/provider';
import { FakeClock } from '../helpers/fakeClock';

const parts = { provider: 'openai' as const, baseUrl: 'https://example.invalid/v1', apiKey: 'sk-one', timeoutMs: 1000 };

describe('ClientCache', () => {
  it('reuses a client for the same configuration, whatever the header order', () => {
    const cache = new ClientCache<object>();
    let made = 0;
    const create = (): object => ({ n: ++made });
    const a = cache.get({ ...parts, headers: { a: '1', b: '2' } }, create);
    const b = cache.get({ ...parts, headers: { b: '2', a: '1' } }, create);
    assert.equal(a, b);
    assert.equal(made, 1);
  });

  it('builds a separate client when the key, base URL, timeout or headers differ', () => {
    const cache = new ClientCache<object>();
    const create = (): object => ({});
    const base = cache.get(parts, create);
    assert.notEqual(cache.get({ ...parts, apiKey: 'sk-two' }, create), base);
    assert.notEqual(cache.get({ ...parts, baseUrl: 'https://other.invalid' }, create), base);
    assert.notEqual(cache.get({ ...parts, timeoutMs: 5 }, create), base);
    assert.notEqual(cache.get({ ...parts, headers: { x: '1' } }, create), base);
    assert.equal(cache.get(parts, create), base);
  });

  it('stays bounded, dropping the least recently used client', () => {
    const cache = new ClientCache<object>(2);
    const create = (): object => ({});
    const first = cache.get({ ...parts, apiKey: 'k1' }, create);
    cache.get({ ...parts, apiKey: 'k2' }, create);
    cache.get({ ...parts, apiKey: 'k1' }, create); // k1 is now the most recent
    cache.get({ ...parts, apiKey: 'k3' }, create); // evicts k2
    assert.equal(cache.size, 2);
    assert.equal(cache.get({ ...parts, apiKey: 'k1' }, create), first);
  });
});

describe('StallWatchdog', () => {
  it('fires after idleMs of silence, and activity postpones it', async () => {
    const clock = new FakeClock();
    let fired = 0;
    const dog = new StallWatchdog(clock, 300, () => fired++);
    await clock.advance(200);
    dog.touch();
    await clock.advance(200);
    assert.equal(fired, 0, 'touched 200 ms ago: not stalled');
    await clock.advance(100);
    assert.equal(fired, 1);
    dog.dispose();
  });

  it('fires at the deadline even while the call stays busy, and says so (a fake clock, no sleeping)', async () => {
    const clock = new FakeClock();
    const fired: boolean[] = [];
    const dog = new StallWatchdog(clock, 300, (overran) => fired.push(overran), clock.now() + 1_000);
    for (let t = 0; t < 900; t += 100) {
      await clock.advance(100);
      dog.touch();
    }
    assert.deepEqual(fired, [], 'busy and before the deadline');
    await clock.advance(100);
    assert.deepEqual(fired, [true], 'at the deadline: overran, not stalled');
    dog.dispose();
  });

  it('never fires once disposed', async () => {
    const clock = new FakeClock();
    let fired = 0;
    const dog = new StallWatchdog(clock, 300, () => fired++);
    dog.dispose();
    await clock.advance(1000);
    assert.equal(fired, 0);
    assert.equal(clock.pendingSleeps(), 0);
  });
});

function request(signal: AbortSignal): ProviderRequest {
  return {
    agent: agentSchema.parse({ id: 'a1', provider: 'openai', model: 'gpt-4.1', contextWindow: 1000, timeoutMs: 500 }),
    apiKey: 'sk-x',
    messages: [{ role: 'user', content: 'hi' }],
    maxOutputTokens: 10,
    stream: true,
    signal,
  };
}

/** A body that, like an SDK call, settles only when its signal aborts. */
function waitForAbort(signal: AbortSignal): Promise<string> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('Request was aborted.')), { once: true }));
}

describe('runGuarded', () => {
  it('ends a silent call with TIMEOUT after the agent timeoutMs', async () => {
    const clock = new FakeClock();
    const p = runGuarded('openai', request(new AbortController().signal), clock, () => Promise.resolve(undefined), ({ signal }) => waitForAbort(signal));
    let done = false;
    const settled = p.then(
      () => undefined,
      (e: unknown) => e,
    ).finally(() => (done = true));
    await clock.advance(499);
    assert.equal(done, false, 'still waiting 1 ms before the timeout');
    await clock.advance(1);
    const err = await settled;
    assert.ok(err instanceof MaofError);
    assert.equal(err.code, 'TIMEOUT');
    assert.equal(err.agentId, 'a1');
  });

  it('is CANCELLED when the caller aborts, even if the SDK then ends quietly', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = runGuarded('openai', request(ac.signal), clock, () => Promise.resolve(undefined), ({ signal }) => new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve('partial'))));
    ac.abort();
    await assert.rejects(p, (e: unknown) => e instanceof MaofError && e.code === 'CANCELLED');
  });

  it('maps a failure in setup (e.g. a missing key) without arming the watchdog', async () => {
    const clock = new FakeClock();
    const p = runGuarded(
      'anthropic',
      request(new AbortController().signal),
      clock,
      () => Promise.reject(new MaofError('AUTH', 'No key.')),
      () => Promise.resolve('never'),
    );
    await assert.rejects(p, (e: unknown) => e instanceof MaofError && e.code === 'AUTH' && e.provider === 'anthropic');
    assert.equal(clock.pendingSleeps(), 0);
  });

  it('returns the body result and leaves no timer behind', async () => {
    const clock = new FakeClock();
    const out = await runGuarded('openai', request(new AbortController().signal), clock, () => Promise.resolve(2), (_call, n) => Promise.resolve(n * 21));
    assert.equal(out, 42);
    await clock.flush();
    assert.equal(clock.pendingSleeps(), 0);
  });
});

describe('usage helpers', () => {
  it('estimates usage the way the simulator bills it and never yields NaN', () => {
    assert.deepEqual(estimateUsage([{ role: 'user', content: 'abcdefgh' }], 'abcde'), { inputTokens: 6, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0 });
    assert.equal(tokens(undefined), 0);
    assert.equal(tokens(Number.NaN), 0);
    assert.equal(tokens(-3), 0);
    assert.equal(tokens(12), 12);
  });
});
