import assert from 'node:assert/strict';
import { ANTHROPIC_KEY, assertSanitised, expectOk, makeOrchestrator, OPENAI_KEY, simConfig, simulatorPerSuite } from '../helpers/orchestratorHarness';
import { MemoryStateStore } from '../../../src/core/ports';
import type { RunResult } from '../../../src/core/orchestrator';
import { keyFingerprint } from '../../../src/core/hash';
import { userTurn } from '../../../src/core/types';

const ok = expectOk;

describe('Orchestrator over the provider simulator (real SDKs, real HTTP)', function () {
  this.timeout(20_000);
  const { sim, addr } = simulatorPerSuite();

  it('answers from the primary agent and accounts the exact usage and cost', async () => {
    const { orchestrator, events } = makeOrchestrator(simConfig(addr()));
    const r = ok(await orchestrator.run({ messages: [userTurn('Write a function that adds two numbers')], task: 'code', temperature: 0.5 }));
    assert.equal(r.agentId, 'oa');
    assert.match(r.text, /Simulated/);
    const tally = sim.tally();
    assert.equal(tally.requests, 1);
    assert.equal(r.usage.inputTokens, tally.inputTokens);
    assert.equal(r.usage.outputTokens, tally.outputTokens);
    // gpt-4.1-mini: $0.40 / $1.60 per MTok
    const expected = (tally.inputTokens * 0.4 + tally.outputTokens * 1.6) / 1e6;
    assert.ok(Math.abs(r.costUsd - expected) < 1e-9);
    assert.ok(Math.abs(orchestrator.ledger.summary().monthUsd - expected) < 1e-9);
    assert.equal(orchestrator.ledger.summary().reservedUsd, 0);
    const types = events.map((e) => e.type);
    assert.deepEqual(types.filter((t) => t !== 'context.pruned'), ['request.started', 'attempt', 'usage', 'request.finished']);
  });

  it('classifies auto requests and routes them to the task’s primary', async () => {
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    const r = ok(await orchestrator.run({ messages: [userTurn('Review this module for security vulnerabilities')], structured: false }));
    assert.equal(r.task, 'analysis');
    assert.equal(r.agentId, 'an');
    assert.equal(r.classification?.task, 'analysis');
  });

  it('honours retry-after-ms on 429 and succeeds on the same agent', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'rate_limit', retryAfterMs: 40 } }]);
    const { orchestrator, events } = makeOrchestrator(simConfig(addr()));
    const r = ok(await orchestrator.run({ messages: [userTurn('implement a stack')], task: 'code' }));
    assert.equal(r.agentId, 'oa');
    assert.deepEqual(
      r.attempts.map(({ elapsedMs: _elapsed, ...rest }) => rest),
      [{ agent: 'oa', outcome: 'RATE_LIMITED', status: 429, waitMs: 40 }, { agent: 'oa', outcome: 'ok' }],
    );
    assert.ok(r.attempts.every((a) => typeof a.elapsedMs === 'number' && a.elapsedMs >= 0), 'each call says how long it took');
    // A 429 is a pause the key shares, shown as a wait with its end time, not a failed attempt.
    const wait = events.find((e) => e.type === 'waiting');
    assert.ok(wait && wait.type === 'waiting' && wait.reason === 'rate-limit' && wait.agentId === 'oa' && wait.until - wait.at === 40);
    assert.equal(orchestrator.breakers.get('oa').snapshot().consecutiveFailures, 0, 'the 429 did not count against the breaker');
    assert.equal(sim.tally().requests, 2);
  });

  it('a request that finds its primary\'s key paused by a 429 goes to the free fallback; the one that got the 429 waits it out', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'rate_limit', retryAfterMs: 300 } }]);
    const { orchestrator, events } = makeOrchestrator(simConfig(addr()));
    let second: Promise<RunResult> | undefined;
    orchestrator.events.onType('waiting', () => {
      second ??= orchestrator.run({ messages: [userTurn('implement a queue')], task: 'code', requestId: 'second' });
    });
    const first = ok(await orchestrator.run({ messages: [userTurn('implement a stack')], task: 'code', requestId: 'first' }));
    assert.ok(second, 'the first request waited');
    const other = ok(await second);
    assert.equal(first.agentId, 'oa', 'the request the provider paused waited for its own agent');
    assert.equal(other.agentId, 'an');
    assert.deepEqual(other.attempts.map(({ elapsedMs: _e, ...a }) => a), [{ agent: 'oa', outcome: 'skipped' }, { agent: 'an', outcome: 'ok' }], 'nothing was sent to the paused key');
    assert.ok(events.some((e) => e.type === 'fallback' && e.requestId === 'second' && e.from === 'oa' && e.to === 'an' && e.reason === 'RATE_LIMITED'));
    assert.equal(sim.tally().requests, 3);
  });

  it('falls back to the other provider at once when retry-after exceeds the cap', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'rate_limit', retryAfterS: 120 } }]);
    const { orchestrator, events } = makeOrchestrator(simConfig(addr()));
    const started = Date.now();
    const r = ok(await orchestrator.run({ messages: [userTurn('implement a queue')], task: 'code' }));
    assert.ok(Date.now() - started < 5_000, 'did not wait two minutes');
    assert.equal(r.agentId, 'an');
    assert.deepEqual(r.attempts.map((a) => [a.agent, a.outcome]), [['oa', 'RATE_LIMITED'], ['an', 'ok']]);
    assert.ok(events.some((e) => e.type === 'fallback' && e.from === 'oa' && e.to === 'an' && e.reason === 'RATE_LIMITED'));
  });

  it('never resends after a rejected key: one attempt, then the fallback', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 401 }, times: 5 }]);
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    const r = ok(await orchestrator.run({ messages: [userTurn('implement a map')], task: 'code' }));
    assert.deepEqual(r.attempts.map((a) => [a.agent, a.outcome]), [['oa', 'AUTH'], ['an', 'ok']]);
    assert.equal(sim.tally().requests, 2);
  });

  it('never resends a context-length error to the same agent', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'context_length' }, times: 5 }]);
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    const r = ok(await orchestrator.run({ messages: [userTurn('implement a set')], task: 'code' }));
    assert.deepEqual(r.attempts.map((a) => a.outcome), ['CONTEXT_TOO_LARGE', 'ok']);
  });

  it('counts a short prompt exactly when its byte-length bound would not fit a small window', async () => {
    // ~470 bytes of system prompt and prompt bound the tokens at ~480, which a 200-token room
    // refuses; counted, they are ~100 tokens, which fit.
    const config = simConfig(addr(), { agents: [{ id: 'tiny', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr().openaiBaseUrl, contextWindow: 300, maxOutputTokens: 100, requiresKey: true }], routes: { code: ['tiny'] } });
    const { orchestrator } = makeOrchestrator(config);
    const r = ok(await orchestrator.run({ messages: [userTurn('implement a heap '.repeat(20))], task: 'code' }));
    assert.equal(r.agentId, 'tiny');
    assert.deepEqual(r.attempts.map((a) => a.outcome), ['ok']);
  });

  it('sends local keyless agents (loopback base URL) without a key', async () => {
    const config = simConfig(addr(), { agents: [{ id: 'local', provider: 'openai', model: 'llama3', baseUrl: addr().openaiBaseUrl, contextWindow: 8_000 }], routes: { code: ['local'] } });
    const { orchestrator } = makeOrchestrator(config, { secrets: {} });
    const r = ok(await orchestrator.run({ messages: [userTurn('implement a heap')], task: 'code' }));
    assert.equal(r.agentId, 'local');
    assert.equal(r.costUsd, 0, 'local models cost nothing');
  });

  it('never sends a provider-wide key to a third-party endpoint: such an agent needs its own key', async () => {
    const config = simConfig(addr(), {
      agents: [{ id: 'remote', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: 'https://gateway.example.invalid/v1', contextWindow: 8_000 }],
      routes: { code: ['remote'] },
    });
    const { orchestrator } = makeOrchestrator(config);
    assert.equal(await orchestrator.keyFingerprint(config.agents.find((a) => a.id === 'remote')!), undefined);
    const r = await orchestrator.run({ messages: [userTurn('implement a heap')], task: 'code' });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.error.code, 'AUTH');
      assert.match(r.error.message, /needs its own key/);
    }
    const own = makeOrchestrator(config, { secrets: { 'agent:remote': 'sk-own-key-123456789' } });
    assert.equal(await own.orchestrator.keyFingerprint(config.agents.find((a) => a.id === 'remote')!), keyFingerprint('sk-own-key-123456789'));
  });

  it('uses what is available when one provider has no key, and fails clearly when none has', async () => {
    const onlyAnthropic = makeOrchestrator(simConfig(addr()), { secrets: { 'provider:anthropic': ANTHROPIC_KEY } });
    const r = ok(await onlyAnthropic.orchestrator.run({ messages: [userTurn('implement a heap')], task: 'code' }));
    assert.equal(r.agentId, 'an');
    assert.equal(sim.tally().requests, 1, 'nothing was sent without a key');

    const none = makeOrchestrator(simConfig(addr()), { secrets: {} });
    const f = await none.orchestrator.run({ messages: [userTurn('implement a heap')], task: 'code' });
    assert.equal(f.ok, false);
    if (!f.ok) {
      assert.equal(f.error.code, 'AUTH');
      assert.match(f.error.message, /Set API Key/);
      assertSanitised(f.error.message);
    }
  });

  it('opens the breaker after repeated failures and then skips the agent without calling it', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 500 }, times: 100 }]);
    const { orchestrator, events } = makeOrchestrator(simConfig(addr(), { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }));
    ok(await orchestrator.run({ messages: [userTurn('first')], task: 'code' }));
    assert.equal(orchestrator.breakers.get('oa').state, 'open');
    assert.ok(events.some((e) => e.type === 'breaker.changed' && e.agentId === 'oa' && e.to === 'open'));
    const before = sim.tally().byModel['gpt-4.1-mini']?.requests ?? 0;
    const r = ok(await orchestrator.run({ messages: [userTurn('second')], task: 'code' }));
    assert.equal(r.agentId, 'an');
    assert.equal(r.attempts[0]?.outcome, 'CIRCUIT_OPEN');
    assert.equal(sim.tally().byModel['gpt-4.1-mini']?.requests ?? 0, before, 'an open breaker sends nothing');
  });

  it('persists breaker state so a restart keeps an open breaker open', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 503 }, times: 100 }]);
    const store = new MemoryStateStore();
    const first = makeOrchestrator(simConfig(addr()), { store });
    ok(await first.orchestrator.run({ messages: [userTurn('x')], task: 'code' }));
    await first.orchestrator.flush();
    const second = makeOrchestrator(simConfig(addr()), { store });
    assert.equal(second.orchestrator.breakers.get('oa').state, 'open');
  });

  it('refuses before sending anything when the budget cannot cover the worst case', async () => {
    const { orchestrator } = makeOrchestrator(simConfig(addr(), { budget: { monthlyUsd: 0.0000001 } }));
    const r = await orchestrator.run({ messages: [userTurn('implement a trie')], task: 'code' });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.error.code, 'BUDGET_EXCEEDED');
      assert.match(r.error.message, /maof\.budget/);
    }
    assert.equal(sim.tally().requests, 0);
    assert.equal(orchestrator.ledger.summary().reservedUsd, 0);
  });

  it('serves a repeated deterministic request from the cache without calling the provider', async () => {
    const { orchestrator, events } = makeOrchestrator(simConfig(addr()));
    const a = ok(await orchestrator.run({ messages: [userTurn('implement fizzbuzz')], task: 'code' }));
    const b = ok(await orchestrator.run({ messages: [userTurn('implement fizzbuzz')], task: 'code' }));
    assert.equal(b.cached, true);
    assert.equal(b.text, a.text);
    assert.equal(b.costUsd, 0);
    assert.equal(sim.tally().requests, 1);
    assert.ok(events.some((e) => e.type === 'cache.hit'));
    const c = ok(await orchestrator.run({ messages: [userTurn('implement fizzbuzz')], task: 'code', temperature: 0.9 }));
    assert.equal(c.cached, false, 'non-deterministic requests are not cached');
  });

  it('streams deltas that add up to the answer, and restarts cleanly after a cut stream', async () => {
    sim.plan([{ match: { provider: 'openai', stream: true }, fault: { kind: 'reset_mid_stream', afterChunks: 2 } }]);
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    let shown = '';
    let restarts = 0;
    const r = ok(
      await orchestrator.run({
        messages: [userTurn('implement a linked list [[words:30]]')],
        task: 'code',
        stream: true,
        temperature: 0.3,
        onDelta: (t) => (shown += t),
        onRestart: () => {
          restarts++;
          shown = '';
        },
      }),
    );
    assert.equal(restarts, 1);
    assert.equal(shown, r.text);
    assert.deepEqual(r.attempts.map((a) => a.outcome), ['NETWORK', 'ok']);
  });

  it('skips an agent whose window is too small and re-prunes context for the fallback', async () => {
    const config = simConfig(addr(), {
      agents: [
        { id: 'oa', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr().openaiBaseUrl, contextWindow: 1_000, maxOutputTokens: 200 },
        { id: 'an', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: addr().anthropicBaseUrl, contextWindow: 200_000, maxOutputTokens: 200 },
      ],
    });
    const { orchestrator, events } = makeOrchestrator(config);
    const big = 'word '.repeat(3_000);
    const r = ok(await orchestrator.run({ messages: [userTurn(`explain ${big}`)], task: 'code' }));
    assert.equal(r.agentId, 'an');
    assert.ok(events.some((e) => e.type === 'agent.skipped' && e.agentId === 'oa' && e.reason === 'CONTEXT_TOO_LARGE'));

    const ctx = [
      { id: 'sel', kind: 'selection' as const, label: 'sel.ts', text: 'const selected = 1;\n' },
      { id: 'tab', kind: 'openTab' as const, label: 'big.ts', text: 'let x = 1;\n'.repeat(2_000) },
    ];
    const small = makeOrchestrator(simConfig(addr(), { agents: [{ id: 'oa', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr().openaiBaseUrl, contextWindow: 2_000, maxOutputTokens: 200 }], routes: { code: ['oa'] } }));
    const s = ok(await small.orchestrator.run({ messages: [userTurn('implement it')], task: 'code', context: ctx }));
    assert.ok(s.pruned);
    assert.deepEqual(s.pruned.kept.map((k) => k.id)[0], 'sel', 'the selection is kept first');
    assert.ok(s.pruned.usedTokens <= s.pruned.budgetTokens);
    assert.ok(s.pruned.dropped.some((d) => d.id === 'tab') || s.pruned.truncated.some((t) => t.id === 'tab'));
  });

  it('returns validated structured analysis, repairing one invalid answer', async () => {
    sim.plan([{ match: { provider: 'anthropic' }, fault: { kind: 'invalid_output' } }]);
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    const r = ok(await orchestrator.run({ messages: [userTurn('analyse this function')], task: 'analysis' }));
    assert.equal(r.agentId, 'an');
    assert.ok(r.structured);
    assert.ok(r.structured.confidence >= 0 && r.structured.confidence <= 1);
    assert.equal(sim.tally().requests, 2, 'one answer plus one repair');
  });

  it('never passes invalid structured output on: falls back to the next agent', async () => {
    sim.plan([{ match: { provider: 'anthropic' }, fault: { kind: 'invalid_output' }, times: 2 }]);
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    const r = ok(await orchestrator.run({ messages: [userTurn('analyse this function')], task: 'analysis' }));
    assert.equal(r.agentId, 'oa');
    assert.ok(r.structured);
    assert.ok(r.attempts.some((a) => a.agent === 'an' && a.outcome === 'INVALID_OUTPUT'));
  });

  it('cancels: the upstream connection is closed and the budget reservation released', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'slow_stream', chunkDelayMs: 200 } }]);
    const { orchestrator } = makeOrchestrator(simConfig(addr(), { budget: { monthlyUsd: 10 } }));
    const controller = new AbortController();
    let firstDelta = false;
    const p = orchestrator.run({
      messages: [userTurn('implement a parser [[words:50]]')],
      task: 'code',
      stream: true,
      temperature: 0.4,
      signal: controller.signal,
      onDelta: () => {
        if (!firstDelta) {
          firstDelta = true;
          controller.abort();
        }
      },
    });
    const r = await p;
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, 'CANCELLED');
    assert.equal(r.attempts.length, 1, 'no retry or fallback after a cancel');
    assert.equal(orchestrator.ledger.summary().reservedUsd, 0);
    for (let i = 0; i < 50 && sim.tally().aborted === 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(sim.tally().aborted, 1);
  });

  it('redacts key-looking strings from the prompt before it leaves', async () => {
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    const secret = 'sk-ant-api03-' + 'Z'.repeat(40);
    const r = ok(await orchestrator.run({ messages: [userTurn(`use ${secret} to call it`)], task: 'code', temperature: 0.2 }));
    assert.ok(!r.text.includes(secret), 'the echoed prompt holds no key');
    assert.match(r.text, /REDACTED/);
  });

  it('rejects empty and binary prompts with a clear message, sending nothing', async () => {
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    for (const prompt of ['', '   ', 'abc\u0000def']) {
      const r = await orchestrator.run({ messages: [userTurn(prompt)], task: 'code' });
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.code, 'BAD_REQUEST');
    }
    assert.equal(sim.tally().requests, 0);
  });

  it('keeps conversation memory across agent switches', async () => {
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    ok(await orchestrator.run({ messages: [userTurn('remember the word pineapple')], task: 'code', sessionId: 's1', temperature: 0.1 }));
    ok(await orchestrator.run({ messages: [userTurn('what word?')], agentId: 'an', sessionId: 's1', temperature: 0.1 }));
    const turns = orchestrator.sessions.get('s1').turns();
    assert.equal(turns.length, 4);
    assert.deepEqual(turns.map((t) => t.agentId ?? '-'), ['-', 'oa', '-', 'an']);
  });

  it('fans out to several agents and returns every result or error side by side', async () => {
    sim.plan([{ match: { provider: 'anthropic' }, fault: { kind: 'status', status: 401 } }]);
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    const out = await orchestrator.fanOut({ messages: [userTurn('implement sort')], task: 'code', temperature: 0.5 }, ['oa', 'an']);
    assert.deepEqual(out.results.map((r) => [r.agentId, r.result.ok]), [['oa', true], ['an', false]]);
    const failed = out.results[1].result;
    if (!failed.ok) {
      assert.equal(failed.error.code, 'AUTH');
      assertSanitised(failed.error.message);
    }
  });

  it('chains steps, passing each output to the next', async () => {
    const { orchestrator } = makeOrchestrator(simConfig(addr()));
    const out = await orchestrator.chain(
      [
        { name: 'draft', task: 'code', prompt: 'Draft: {{input}}' },
        { name: 'polish', task: 'writing', prompt: 'Polish this: {{previous}}' },
      ],
      'a tiny parser',
    );
    assert.equal(out.ok, true);
    assert.equal(out.steps.length, 2);
    const first = out.steps[0].result;
    const second = out.steps[1].result;
    assert.ok(first.ok && second.ok);
    if (first.ok && second.ok) assert.match(second.text, /Polish this: Simulated/, 'step 2 saw step 1’s output');
  });

  it('shows sanitised errors only: no endpoint, no key, no stack', async () => {
    sim.plan([{ fault: { kind: 'status', status: 500 }, times: 100 }]);
    const { orchestrator } = makeOrchestrator(simConfig(addr(), { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } }));
    const r = await orchestrator.run({ messages: [userTurn('implement x')], task: 'code' });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.error.code, 'UPSTREAM');
      assertSanitised(r.error.message);
      assert.doesNotMatch(r.error.message, /will retry/, 'the final message does not promise another try');
      assert.match(r.error.message, /did not help/);
      assert.ok(!JSON.stringify(r.attempts).includes(OPENAI_KEY));
    }
    assert.equal(sim.tally().requests, 4, '2 attempts × 2 agents');
  });
});
