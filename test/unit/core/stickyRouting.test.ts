// Cache-aware routing: a conversation's next turn goes to the agent whose provider holds its prompt
// in cache, while that agent is healthy; a fallback says in the event stream what the lost cache cost.
import assert from 'node:assert/strict';
import { expectOk, makeOrchestrator, simConfig, simulatorPerSuite } from '../helpers/orchestratorHarness';
import type { ContextItem } from '../../../src/core/context/contextPruner';
import type { EventOf } from '../../../src/core/events';
import { userTurn } from '../../../src/core/types';

const ok = expectOk;

const CONTEXT: ContextItem[] = [{ id: 'a', kind: 'openTab', label: 'src/a.ts', text: 'export const a = 1; // a line of the open file\n'.repeat(800) }];

describe('sticky routing within a conversation', function () {
  this.timeout(20_000);
  const { sim, addr } = simulatorPerSuite();

  const config = () =>
    simConfig(addr(), {
      agents: [
        { id: 'an', provider: 'anthropic', model: 'claude-sonnet-4-6', baseUrl: addr().anthropicBaseUrl, contextWindow: 200_000, maxOutputTokens: 512, requiresKey: true },
        { id: 'oa', provider: 'openai', model: 'gpt-4.1', baseUrl: addr().openaiBaseUrl, contextWindow: 100_000, maxOutputTokens: 512, requiresKey: true },
      ],
      routes: { code: ['an', 'oa'], writing: ['an', 'oa'], analysis: ['an', 'oa'] },
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 5, maxTotalMs: 10_000, maxRetryAfterMs: 1_000 },
    });
  const turn = (prompt: string, sessionId = 'chat-1') => ({ messages: [userTurn(prompt)], task: 'code', sessionId, context: CONTEXT, structured: false });

  it('keeps a conversation on the agent that served it, even when the primary is back', async () => {
    const { orchestrator, events } = makeOrchestrator(config());
    sim.plan([{ match: { provider: 'anthropic' }, fault: { kind: 'overloaded' }, times: 1 }]);
    const t1 = ok(await orchestrator.run(turn('first question')));
    assert.equal(t1.agentId, 'oa', 'the primary was overloaded: fallback');
    const t2 = ok(await orchestrator.run(turn('second question')));
    assert.equal(t2.agentId, 'oa', 'the warm cache is on oa');
    assert.ok(t2.usage.cacheReadTokens > 1000, `read ${t2.usage.cacheReadTokens}`);
    assert.equal(sim.tally().byModel['claude-sonnet-4-6']?.requests, 1, 'the primary was not asked again');
    // Another conversation starts on the route's primary.
    assert.equal(ok(await orchestrator.run(turn('hello', 'chat-2'))).agentId, 'an');
    assert.equal(events.filter((e) => e.type === 'promptCache.lost').length, 0);
  });

  it('falls back when the warm agent fails, and says what the lost cache cost', async () => {
    const { orchestrator, events } = makeOrchestrator(config());
    const t1 = ok(await orchestrator.run(turn('first question')));
    assert.equal(t1.agentId, 'an');
    sim.plan([{ match: { provider: 'anthropic' }, fault: { kind: 'overloaded' }, times: 1 }]);
    const t2 = ok(await orchestrator.run(turn('second question')));
    assert.equal(t2.agentId, 'oa');
    const lost = events.filter((e): e is EventOf<'promptCache.lost'> => e.type === 'promptCache.lost');
    assert.equal(lost.length, 1);
    assert.equal(lost[0].from, 'an');
    assert.equal(lost[0].to, 'oa');
    assert.equal(lost[0].reason, 'OVERLOADED');
    assert.equal(lost[0].cachedTokens, t1.usage.cacheReadTokens + t1.usage.cacheWriteTokens);
    // gpt-4.1 input $2/MTok against Sonnet's cache read $0.30/MTok.
    assert.ok(Math.abs(lost[0].extraCostUsd - (lost[0].cachedTokens * (2 - 0.3)) / 1e6) < 1e-9, `extra ${lost[0].extraCostUsd}`);
  });

  it('does not wait for an agent whose breaker is open', async () => {
    const { orchestrator, events } = makeOrchestrator(config());
    sim.plan([{ match: { provider: 'anthropic' }, fault: { kind: 'overloaded' }, times: 1 }]);
    ok(await orchestrator.run(turn('first question')));
    for (let i = 0; i < 3; i++) orchestrator.breakers.get('oa').recordFailure('OVERLOADED');
    const t2 = ok(await orchestrator.run(turn('second question')));
    assert.equal(t2.agentId, 'an');
    const started = events.filter((e): e is EventOf<'request.started'> => e.type === 'request.started').at(-1);
    assert.deepEqual(started?.agents, ['an', 'oa'], 'the route as configured, the open agent not put first');
  });

  it('does not put first an agent whose key was removed', async () => {
    const { orchestrator, secrets } = makeOrchestrator(config());
    sim.plan([{ match: { provider: 'anthropic' }, fault: { kind: 'overloaded' }, times: 1 }]);
    ok(await orchestrator.run(turn('first question')));
    secrets.values['provider:openai'] = undefined;
    const t2 = ok(await orchestrator.run(turn('second question')));
    assert.equal(t2.agentId, 'an');
    assert.deepEqual(t2.attempts.map((a) => a.agent), ['an'], 'no attempt on the keyless warm agent');
  });

  it('leaves a pinned agent alone (fan-out and compare)', async () => {
    const { orchestrator, events } = makeOrchestrator(config());
    ok(await orchestrator.run(turn('first question')));
    const r = await orchestrator.fanOut(turn('compare these'), ['an', 'oa']);
    assert.deepEqual(r.results.map((x) => x.result.ok && x.result.agentId), ['an', 'oa']);
    assert.equal(events.filter((e) => e.type === 'promptCache.lost').length, 0);
  });
});
