import assert from 'node:assert/strict';
import { parseConfig, type MaofConfig } from '../../../src/core/config/schema';
import { Orchestrator } from '../../../src/core/orchestrator';
import { MemoryStateStore } from '../../../src/core/ports';
import type { Provider, ProviderRequest, ProviderResponse } from '../../../src/core/providers/provider';
import { MapSecrets } from '../helpers/orchestratorHarness';
import { userTurn } from '../../../src/core/types';

/** Answers every call with a fixed usage and remembers which agents were called. */
class CountingProvider implements Provider {
  readonly kind = 'openai' as const;
  readonly calls: string[] = [];
  complete(req: ProviderRequest): Promise<ProviderResponse> {
    this.calls.push(req.agent.id);
    return Promise.resolve({ text: `answer from ${req.agent.id}`, usage: { inputTokens: 1000, outputTokens: 1000, cacheReadTokens: 0, cacheWriteTokens: 0 }, finishReason: 'stop', model: req.agent.model });
  }
}

const GATEWAY = { id: 'gw', provider: 'openai', model: 'team-smart', baseUrl: 'https://gateway.example.com/v1', contextWindow: 128_000, maxOutputTokens: 256 };
const PRICED = { id: 'priced', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 128_000, maxOutputTokens: 256 };
const LOCAL = { id: 'local', provider: 'openai', model: 'llama3.1', baseUrl: 'http://127.0.0.1:11434/v1', contextWindow: 128_000, maxOutputTokens: 256 };

function setup(raw: Record<string, unknown>): { orchestrator: Orchestrator; provider: CountingProvider; config: MaofConfig } {
  const { config } = parseConfig({ agents: [GATEWAY, PRICED, LOCAL], routes: { code: ['gw', 'priced'] }, cache: { enabled: false }, ...raw });
  const provider = new CountingProvider();
  const orchestrator = new Orchestrator({
    config,
    secrets: new MapSecrets({ 'agent:gw': 'sk-gw-own-key-0123456789', 'provider:openai': 'sk-test-openai-0123456789' }),
    store: new MemoryStateStore(),
    providerFor: () => provider,
  });
  return { orchestrator, provider, config };
}

describe('an agent whose price MAOF cannot know (a gateway alias)', () => {
  it('is a settings problem naming the agent and the fix, unless it is on this machine or priced', () => {
    const { issues } = parseConfig({ agents: [GATEWAY, LOCAL, { ...GATEWAY, id: 'free-gw', pricing: { inputPerMTok: 0, outputPerMTok: 0 } }, { ...GATEWAY, id: 'known', model: 'gpt-4.1' }] });
    const pricing = issues.filter((i) => i.path.endsWith('.pricing'));
    assert.deepEqual(
      pricing.map((i) => i.path),
      ['agents.gw.pricing'],
      'only the remote alias without pricing: not the local model, not zero pricing written by the user, not a known model',
    );
    assert.match(pricing[0].message, /no known price for model "team-smart"/);
    assert.match(pricing[0].message, /set pricing for agent "gw"/);
  });

  it('while a budget is set, is refused before anything is sent, with the fix', async () => {
    const { orchestrator, provider } = setup({ budget: { perRequestUsd: 0.5 } });
    const r = await orchestrator.run({ messages: [userTurn('summarise this')], agentId: 'gw', task: 'writing' });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'CONFIG');
    assert.match(r.error.message, /^Agent "gw" has no known price for model "team-smart".*set pricing for agent "gw"/);
    assert.doesNotMatch(r.error.message, /gateway\.example\.com/);
    assert.deepEqual(provider.calls, [], 'nothing was sent');
    assert.deepEqual(r.attempts, [{ agent: 'gw', outcome: 'CONFIG' }]);
  });

  it('on a route, the next agent answers instead', async () => {
    const { orchestrator, provider } = setup({ budget: { monthlyUsd: 20 } });
    const r = await orchestrator.run({ messages: [userTurn('implement a queue')], task: 'code' });
    assert.equal(r.ok, true);
    assert.deepEqual(provider.calls, ['priced']);
    assert.deepEqual(r.attempts.map((a) => [a.agent, a.outcome]), [['gw', 'CONFIG'], ['priced', 'ok']]);
    assert.ok(r.costUsd > 0);
  });

  it('is sent when the user wrote pricing (zero included), or when no budget is set', async () => {
    const zero = setup({ budget: { perRequestUsd: 0.5 }, agents: [{ ...GATEWAY, pricing: { inputPerMTok: 0, outputPerMTok: 0 } }, PRICED] });
    const a = await zero.orchestrator.run({ messages: [userTurn('x')], agentId: 'gw', task: 'writing' });
    assert.equal(a.ok, true);
    assert.equal(a.costUsd, 0);
    const noBudget = setup({});
    const b = await noBudget.orchestrator.run({ messages: [userTurn('x')], agentId: 'gw', task: 'writing' });
    assert.equal(b.ok, true);
    assert.deepEqual(noBudget.provider.calls, ['gw']);
  });

  it('a model on this machine without a price is free and passes the budget', async () => {
    const { orchestrator, provider } = setup({ budget: { perRequestUsd: 0.000001 } });
    const r = await orchestrator.run({ messages: [userTurn('x')], agentId: 'local', task: 'writing' });
    assert.equal(r.ok, true);
    assert.deepEqual(provider.calls, ['local']);
  });

  it('is not used as the classifier while a budget is set (the heuristics decide)', async () => {
    const { orchestrator, provider } = setup({ budget: { monthlyUsd: 20 }, classifierAgent: 'gw', routes: { code: ['priced'], writing: ['priced'], analysis: ['priced'] } });
    const r = await orchestrator.run({ messages: [userTurn('hmm')] });
    assert.equal(r.ok, true);
    assert.deepEqual(provider.calls, ['priced']);
  });
});
