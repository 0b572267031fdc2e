// A request whose route is all behind open breakers waits for the cool-down (or any breaker
// change) within its maxTotalMs instead of failing at once (issue 10 §1); fake provider, fake clock.
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/core/config/schema';
import type { MaofEvent } from '../../../src/core/events';
import { Orchestrator, type RunResult } from '../../../src/core/orchestrator';
import { MemoryStateStore } from '../../../src/core/ports';
import type { Provider, ProviderRequest, ProviderResponse } from '../../../src/core/providers/provider';
import { FakeClock } from '../helpers/fakeClock';
import { MapSecrets } from '../helpers/orchestratorHarness';
import { userTurn } from '../../../src/core/types';

class AnsweringProvider implements Provider {
  readonly kind = 'openai' as const;
  calls = 0;
  complete(req: ProviderRequest): Promise<ProviderResponse> {
    this.calls++;
    return Promise.resolve({ text: 'done', usage: { inputTokens: 5, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, finishReason: 'stop', model: req.agent.model });
  }
}

function setup(maxTotalMs: number) {
  const { config } = parseConfig({
    agents: [{ id: 'oa', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: 'http://127.0.0.1:9/v1', contextWindow: 100_000, maxOutputTokens: 64, requiresKey: true, pricing: { inputPerMTok: 1, outputPerMTok: 1 } }],
    routes: { code: ['oa'] },
    retry: { maxTotalMs },
    breaker: { failureThreshold: 1, resetTimeoutMs: 1_000 },
    cache: { enabled: false },
  });
  const clock = new FakeClock();
  const provider = new AnsweringProvider();
  const orchestrator = new Orchestrator({ config, clock, secrets: new MapSecrets({ 'provider:openai': 'sk-test' }), store: new MemoryStateStore(), providerFor: () => provider });
  const events: MaofEvent[] = [];
  orchestrator.events.on((e) => events.push(e));
  orchestrator.breakers.get('oa').recordFailure('UPSTREAM');
  assert.equal(orchestrator.breakers.get('oa').state, 'open');
  return { clock, provider, orchestrator, events };
}

describe('Orchestrator: a route behind open breakers', () => {
  it('waits for the cool-down and is answered by the half-open probe', async () => {
    const { clock, provider, orchestrator, events } = setup(10_000);
    const seen: RunResult[] = [];
    const run = orchestrator.run({ messages: [userTurn('implement a stack')], task: 'code' }).then((r) => seen.push(r));
    await clock.advance(999);
    assert.equal(seen.length, 0, 'still waiting, not failed');
    const wait = events.find((e) => e.type === 'waiting');
    assert.ok(wait && wait.type === 'waiting' && wait.reason === 'breaker' && wait.agentId === 'oa' && wait.until - wait.at === 1_000, 'the wait is shown with its end');
    await clock.advance(1);
    await run;
    assert.ok(seen[0]?.ok, 'answered once the breaker let a probe through');
    assert.equal(provider.calls, 1);
    assert.equal(orchestrator.breakers.get('oa').state, 'closed');
  });

  it('fails at once with CIRCUIT_OPEN when the cool-down ends after its maxTotalMs', async () => {
    const { provider, orchestrator } = setup(500);
    const result = await orchestrator.run({ messages: [userTurn('implement a stack')], task: 'code' });
    assert.ok(!result.ok && result.error.code === 'CIRCUIT_OPEN');
    assert.equal(provider.calls, 0);
    assert.equal(result.durationMs, 0, 'no time was spent waiting');
  });

  it('a cancel ends the wait with CANCELLED', async () => {
    const { clock, orchestrator } = setup(10_000);
    const ac = new AbortController();
    const run = orchestrator.run({ messages: [userTurn('implement a stack')], task: 'code', signal: ac.signal });
    await clock.advance(100);
    ac.abort();
    const result = await run;
    assert.ok(!result.ok && result.error.code === 'CANCELLED');
  });
});
