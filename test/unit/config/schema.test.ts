import assert from 'node:assert/strict';
import { defaultConfig, parseConfig } from '../../../src/core/config/schema';

const ISSUE_EXAMPLE = {
  agents: [
    { id: 'fast', provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'http://127.0.0.1:11434/v1', apiKeyEnv: 'MY_KEY', contextWindow: 128000, maxOutputTokens: 1024, temperature: 0, timeoutMs: 60000, pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 } },
    { id: 'deep', provider: 'anthropic', model: 'claude-sonnet-4-5', apiKeyEnv: 'ANTHROPIC_API_KEY', contextWindow: 200000, maxOutputTokens: 2048, pricing: { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3 } },
  ],
  routes: { code: ['fast', 'deep'], writing: ['deep'], analysis: ['deep', 'fast'] },
  retry: { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 8000, maxTotalMs: 60000, maxRetryAfterMs: 30000 },
  breaker: { failureThreshold: 5, resetTimeoutMs: 60000 },
  budget: { monthlyUsd: 20, alertAt: 0.8 },
  cache: { enabled: true, ttlMs: 600000, maxEntries: 500 },
};

describe('config schema', () => {
  it('accepts the documented example config as it is, with no issues', () => {
    const { config, issues } = parseConfig(ISSUE_EXAMPLE);
    assert.deepEqual(issues, []);
    assert.deepEqual(config.routes.code, ['fast', 'deep']);
    assert.equal(config.budget.monthlyUsd, 20);
    assert.deepEqual(config.budget.alertAt, [0.8]);
    const fast = config.agents.find((a) => a.id === 'fast');
    assert.equal(fast?.baseUrl, 'http://127.0.0.1:11434/v1');
    assert.equal(fast?.apiKeyEnv, 'MY_KEY');
    assert.equal(config.retry.maxRetryAfterMs, 30000);
  });

  it('gives every task a primary and a fallback from the other provider by default', () => {
    const config = defaultConfig();
    for (const [task, ids] of Object.entries(config.routes)) {
      const providers = ids.map((id) => config.agents.find((a) => a.id === id)?.provider);
      assert.ok(ids.length >= 2, `${task} has a fallback`);
      assert.ok(providers.slice(1).some((p) => p !== providers[0]), `${task} falls back to the other provider`);
    }
  });

  it('keeps valid fields and names each invalid one, falling back field by field', () => {
    const { config, issues } = parseConfig({ retry: { maxAttempts: -1, baseDelayMs: 100 }, cache: { ttlMs: 'soon', maxEntries: 7 } });
    assert.equal(config.retry.baseDelayMs, 100, 'valid sibling kept');
    assert.equal(config.retry.maxAttempts, 3, 'invalid field → default');
    assert.equal(config.cache.maxEntries, 7);
    assert.equal(config.cache.ttlMs, 600000);
    assert.deepEqual(issues.map((i) => i.path).sort(), ['cache.ttlMs', 'retry.maxAttempts']);
  });

  it('drops invalid agents and duplicate ids, and unknown agents from routes', () => {
    const { config, issues } = parseConfig({
      agents: [
        { id: 'x' },
        { id: 'a1', provider: 'openai', model: 'gpt-4.1', contextWindow: 1000 },
        { id: 'a1', provider: 'anthropic', model: 'claude-haiku-4-5', contextWindow: 1000 },
      ],
      routes: { code: ['ghost', 'a1'], writing: ['ghost'] },
    });
    assert.equal(config.agents.filter((a) => a.id === 'a1').length, 1);
    assert.equal(config.agents.find((a) => a.id === 'a1')?.provider, 'openai', 'the first definition wins');
    assert.ok(!config.agents.some((a) => a.id === 'x'));
    assert.deepEqual(config.routes.code, ['a1']);
    assert.ok(config.routes.writing && config.routes.writing.length > 0, 'an emptied route falls back to the default');
    const paths = issues.map((i) => i.path);
    assert.ok(paths.includes('agents[0].provider'));
    assert.ok(paths.includes('agents[2].id'));
    assert.ok(issues.some((i) => i.path === 'routes.code' && i.message.includes('"ghost"')));
  });

  it('rejects negative limits and wrong types without throwing', () => {
    const { config, issues } = parseConfig({ budget: { monthlyUsd: -5, dailyUsd: 2 }, breaker: 'yes', agents: 'none', routes: [] });
    assert.equal(config.budget.monthlyUsd, undefined);
    assert.equal(config.budget.dailyUsd, 2);
    assert.equal(config.breaker.failureThreshold, 5);
    assert.ok(config.agents.length > 0);
    assert.ok(issues.some((i) => i.path === 'budget.monthlyUsd'));
    assert.ok(issues.some((i) => i.path === 'breaker'));
    assert.ok(issues.some((i) => i.path === 'agents'));
  });

  it('survives garbage at the root', () => {
    for (const raw of [null, undefined, 42, 'x', [], { agents: [null, 1, 'a'] }]) {
      const { config } = parseConfig(raw);
      assert.ok(config.agents.length >= 4);
    }
  });

  it('warns when a remote model has no known price', () => {
    const { issues } = parseConfig({ agents: [{ id: 'mystery', provider: 'openai', model: 'gpt-zzz', contextWindow: 1000 }] });
    assert.ok(issues.some((i) => i.path === 'agents.mystery.pricing'));
  });
});
