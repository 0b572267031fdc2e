import assert from 'node:assert/strict';
import { cacheSchema, type CachePolicy } from '../../../src/core/config/schema';
import { ResponseCache, type CacheKeyParts, type CachedResponse } from '../../../src/core/cache/responseCache';
import { MaofError, cancelledError } from '../../../src/core/errors';
import { FakeClock } from '../helpers/fakeClock';
import type { ChatMessage } from '../../../src/core/types';

function policy(input: Record<string, unknown> = {}): CachePolicy {
  return cacheSchema.parse(input);
}

function parts(over: Partial<CacheKeyParts> = {}): CacheKeyParts {
  return {
    agentId: 'gpt',
    provider: 'openai',
    model: 'gpt-4.1',
    temperature: 0,
    maxOutputTokens: 1024,
    messages: [
      { role: 'system', content: 'You write code.' },
      { role: 'user', content: 'Write fizzbuzz in TypeScript.' },
    ],
    contextHashes: ['abc'],
    ...over,
  };
}

function answer(text: string, costUsd = 0.25): CachedResponse {
  return { text, usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0 }, agentId: 'gpt', model: 'gpt-4.1', costUsd, finishReason: 'stop' };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('ResponseCache', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
  });

  it('misses, then serves the stored answer without calling upstream', async () => {
    const cache = new ResponseCache(policy(), clock);
    const key = cache.keyFor(parts())!;
    let calls = 0;
    const compute = (): Promise<CachedResponse> => Promise.resolve(answer(`answer ${++calls}`));
    const first = await cache.getOrCompute(key, compute);
    assert.deepEqual([first.value.text, first.hit, first.shared], ['answer 1', false, false]);
    const second = await cache.getOrCompute(key, compute);
    assert.deepEqual([second.value.text, second.hit, second.shared], ['answer 1', true, false]);
    assert.equal(cache.get(key)?.text, 'answer 1');
    assert.equal(calls, 1);
    assert.equal(cache.get(cache.keyFor(parts({ messages: [{ role: 'user', content: 'other' }] }))!), undefined);
    const stats = cache.stats();
    assert.deepEqual({ entries: stats.entries, hits: stats.hits, misses: stats.misses }, { entries: 1, hits: 2, misses: 1 });
  });

  it('expires entries after the TTL of the injected clock', async () => {
    const cache = new ResponseCache(policy({ ttlMs: 60_000 }), clock);
    const key = cache.keyFor(parts())!;
    await cache.getOrCompute(key, () => Promise.resolve(answer('old')));
    await clock.advance(59_000);
    assert.equal(cache.get(key)?.text, 'old');
    await clock.advance(2_000);
    assert.equal(cache.get(key), undefined);
    assert.equal(cache.stats().entries, 0);
    const again = await cache.getOrCompute(key, () => Promise.resolve(answer('new')));
    assert.deepEqual([again.value.text, again.hit], ['new', false]);
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = new ResponseCache(policy({ maxEntries: 2 }), clock);
    const [a, b, c] = ['a', 'b', 'c'].map((t) => cache.keyFor(parts({ messages: [{ role: 'user', content: t }] }))!);
    await cache.getOrCompute(a, () => Promise.resolve(answer('A')));
    await cache.getOrCompute(b, () => Promise.resolve(answer('B')));
    assert.ok(cache.get(a)); // a is now more recent than b
    await cache.getOrCompute(c, () => Promise.resolve(answer('C')));
    assert.equal(cache.get(b), undefined);
    assert.equal(cache.get(a)?.text, 'A');
    assert.equal(cache.get(c)?.text, 'C');
    assert.equal(cache.stats().entries, 2);
  });

  it('does not cache sampled requests (temperature > 0 or provider default) unless the user opts in', () => {
    const cache = new ResponseCache(policy(), clock);
    assert.equal(cache.keyFor(parts({ temperature: 0.7 })), undefined);
    assert.equal(cache.keyFor(parts({ temperature: undefined })), undefined);
    assert.equal(cache.keyFor(parts({ temperature: undefined, provider: 'anthropic' })), undefined);
    assert.equal(typeof cache.keyFor(parts({ temperature: 0 })), 'string');
    cache.setPolicy(policy({ cacheNonDeterministic: true }));
    const hot = cache.keyFor(parts({ temperature: 0.7 }));
    assert.equal(typeof hot, 'string');
    assert.notEqual(hot, cache.keyFor(parts({ temperature: 0 })));
    assert.notEqual(cache.keyFor(parts({ temperature: undefined })), hot);
  });

  it('keys differ with anything that changes the answer and match for equal requests', () => {
    const cache = new ResponseCache(policy(), clock);
    const base = cache.keyFor(parts());
    assert.equal(cache.keyFor(structuredClone(parts())), base);
    const variants: Partial<CacheKeyParts>[] = [
      { messages: [{ role: 'system', content: 'You write code.' }, { role: 'user', content: 'Write fizzbuzz in Rust.' }] },
      { messages: [{ role: 'user', content: 'You write code.' }, { role: 'user', content: 'Write fizzbuzz in TypeScript.' }] },
      { model: 'gpt-4.1-mini' },
      { agentId: 'gpt-alt' },
      { provider: 'anthropic' },
      { baseUrl: 'http://127.0.0.1:11434/v1' },
      { maxOutputTokens: 2048 },
      { json: true },
      { contextHashes: ['abd'] },
      { contextHashes: [] },
    ];
    const keys = new Set([base, ...variants.map((v) => cache.keyFor(parts(v)))]);
    assert.equal(keys.size, variants.length + 1);
    // Content split differently between messages is a different conversation.
    const joined = cache.keyFor(parts({ messages: [{ role: 'user', content: 'ab' }] }));
    const split = cache.keyFor(parts({ messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] }));
    assert.notEqual(joined, split);
  });

  it('keys a turn by its tool calls, tool results and images too, not by its text alone', () => {
    const cache = new ResponseCache(policy(), clock);
    const call = (input: unknown, id = 'call_1'): ChatMessage => ({ role: 'assistant', content: '', parts: [{ type: 'tool_call', id, name: 'read_file', input }] });
    const result = (content: string, isError?: boolean): ChatMessage => ({ role: 'user', content: '', parts: [{ type: 'tool_result', callId: 'call_1', content, ...(isError ? { isError } : {}) }] });
    const image = (bytes: number[]): ChatMessage => ({ role: 'user', content: 'What is this?', parts: [{ type: 'text', text: 'What is this?' }, { type: 'data', mimeType: 'image/png', data: new Uint8Array(bytes) }] });
    const ask: ChatMessage = { role: 'user', content: 'Read a.ts' };
    const conversations: ChatMessage[][] = [
      [ask, call({ path: 'a.ts' }), result('export const a = 1;')],
      [ask, call({ path: 'b.ts' }), result('export const a = 1;')],
      [ask, call({ path: 'a.ts' }, 'call_2'), result('export const a = 1;')],
      [ask, call({ path: 'a.ts' }), result('export const a = 2;')],
      [ask, call({ path: 'a.ts' }), result('export const a = 1;', true)],
      [image([1, 2, 3])],
      [image([1, 2, 4])],
      [{ role: 'user', content: 'What is this?' }],
    ];
    const keys = conversations.map((messages) => cache.keyFor(parts({ messages })));
    assert.equal(new Set(keys).size, conversations.length, 'each conversation has its own key');
    assert.equal(cache.keyFor(parts({ messages: [ask, call({ path: 'a.ts' }), result('export const a = 1;')] })), keys[0], 'an equal conversation has the same key');
    assert.equal(cache.keyFor(parts({ messages: [image([1, 2, 3])] })), keys[5]);
    const tool = { name: 'read_file', description: 'Reads a file', inputSchema: { type: 'object' } };
    const offered = cache.keyFor(parts({ messages: [ask], tools: [tool] }));
    assert.notEqual(offered, cache.keyFor(parts({ messages: [ask] })), 'offering a tool changes the key');
    assert.notEqual(offered, cache.keyFor(parts({ messages: [ask], tools: [tool], toolMode: 'required' })), 'so does requiring one');
  });

  it('tells long requests apart by their last character and stores them in a bounded key', async () => {
    const cache = new ResponseCache(policy(), clock);
    const long = (last: string): Partial<CacheKeyParts> => ({ messages: [{ role: 'user', content: `${'x'.repeat(50_000)}${last}` }] });
    const a = cache.keyFor(parts(long('a')))!;
    assert.equal(cache.keyFor(parts(long('a'))), a);
    assert.notEqual(cache.keyFor(parts(long('b'))), a);
    assert.ok(a.length < 100, 'a long request is not kept as a 50 kB key');
    await cache.getOrCompute(a, () => Promise.resolve(answer('long a')));
    assert.equal(cache.get(cache.keyFor(parts(long('a')))!)?.text, 'long a');
    assert.equal(cache.get(cache.keyFor(parts(long('b')))!), undefined);
  });

  it('shares one upstream call between concurrent identical requests', async () => {
    const cache = new ResponseCache(policy(), clock);
    const key = cache.keyFor(parts())!;
    const upstream = deferred<CachedResponse>();
    let calls = 0;
    const compute = (): Promise<CachedResponse> => {
      calls++;
      return upstream.promise;
    };
    const all = Promise.all([cache.getOrCompute(key, compute), cache.getOrCompute(key, compute), cache.getOrCompute(key, compute)]);
    await new Promise((r) => setImmediate(r));
    assert.equal(calls, 1);
    upstream.resolve(answer('shared', 0.1));
    const results = await all;
    assert.deepEqual(results.map((r) => r.value.text), ['shared', 'shared', 'shared']);
    assert.deepEqual(results.map((r) => r.shared), [false, true, true]);
    assert.equal(calls, 1);
    assert.equal(cache.stats().shared, 2);
    assert.equal(Math.round(cache.stats().savedUsd * 1e6), 0.2 * 1e6);
  });

  it('delivers a failure to every waiter, stores nothing, and recomputes next time', async () => {
    const cache = new ResponseCache(policy(), clock);
    const key = cache.keyFor(parts())!;
    const upstream = deferred<CachedResponse>();
    let calls = 0;
    const failing = (): Promise<CachedResponse> => {
      calls++;
      return upstream.promise;
    };
    const settled = Promise.allSettled([cache.getOrCompute(key, failing), cache.getOrCompute(key, failing), cache.getOrCompute(key, failing)]);
    const boom = new MaofError('OVERLOADED', 'OpenAI is overloaded — MAOF will retry.');
    upstream.reject(boom);
    const results = await settled;
    assert.equal(calls, 1);
    for (const r of results) assert.deepEqual(r, { status: 'rejected', reason: boom });
    assert.equal(cache.get(key), undefined);
    const next = await cache.getOrCompute(key, () => {
      calls++;
      return Promise.resolve(answer('recovered'));
    });
    assert.equal(calls, 2);
    assert.deepEqual([next.value.text, next.hit], ['recovered', false]);
  });

  it("one caller's cancellation does not cancel the others: a waiter runs its own call", async () => {
    const cache = new ResponseCache(policy(), clock);
    const key = cache.keyFor(parts())!;
    const leader = cache.getOrCompute(key, () => Promise.reject(cancelledError()));
    let waiterCalls = 0;
    const waiter = cache.getOrCompute(key, () => {
      waiterCalls++;
      return Promise.resolve(answer('mine'));
    });
    await assert.rejects(leader, (err: unknown) => err instanceof MaofError && err.code === 'CANCELLED');
    const got = await waiter;
    assert.equal(waiterCalls, 1);
    assert.deepEqual([got.value.text, got.shared], ['mine', false]);
  });

  it('a disabled cache gives no keys, serves nothing and is emptied when disabled live', async () => {
    const off = new ResponseCache(policy({ enabled: false }), clock);
    assert.equal(off.keyFor(parts()), undefined);

    const cache = new ResponseCache(policy(), clock);
    const key = cache.keyFor(parts())!;
    await cache.getOrCompute(key, () => Promise.resolve(answer('x')));
    cache.setPolicy(policy({ enabled: false }));
    assert.equal(cache.keyFor(parts()), undefined);
    assert.equal(cache.get(key), undefined);
    cache.setPolicy(policy());
    assert.equal(cache.get(key), undefined, 're-enabling does not bring old answers back');
    assert.equal(cache.stats().entries, 0);
  });

  it('does not store an answer that finished after clear()', async () => {
    const cache = new ResponseCache(policy(), clock);
    const key = cache.keyFor(parts())!;
    const upstream = deferred<CachedResponse>();
    const pending = cache.getOrCompute(key, () => upstream.promise);
    cache.clear();
    upstream.resolve(answer('stale'));
    assert.equal((await pending).value.text, 'stale');
    assert.equal(cache.get(key), undefined);
  });

  it('resizing live keeps the most recent entries and their age', async () => {
    const cache = new ResponseCache(policy({ maxEntries: 10, ttlMs: 60_000 }), clock);
    const keys = ['a', 'b', 'c'].map((t) => cache.keyFor(parts({ messages: [{ role: 'user', content: t }] }))!);
    for (const k of keys) await cache.getOrCompute(k, () => Promise.resolve(answer(k)));
    await clock.advance(30_000);
    cache.setPolicy(policy({ maxEntries: 2, ttlMs: 60_000 }));
    assert.equal(cache.get(keys[0]), undefined);
    assert.ok(cache.get(keys[1]));
    assert.ok(cache.get(keys[2]));
    await clock.advance(31_000);
    assert.equal(cache.get(keys[2]), undefined, 'age carried over: 61 s old now');
  });

  it('counts what hits saved', async () => {
    const cache = new ResponseCache(policy(), clock);
    const key = cache.keyFor(parts())!;
    await cache.getOrCompute(key, () => Promise.resolve(answer('x', 0.25)));
    assert.equal(cache.stats().savedUsd, 0);
    await cache.getOrCompute(key, () => Promise.resolve(answer('never')));
    cache.get(key);
    assert.equal(cache.stats().savedUsd, 0.5);
  });
});
