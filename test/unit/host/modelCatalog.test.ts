// What MAOF tells VS Code about each model (issue 20 §3): the family of the agent that would answer
// now, windows no larger than the smallest agent that may answer, capabilities only where every
// such agent has them.
import * as assert from 'node:assert/strict';
import { parseConfig, type MaofConfig } from '../../../src/core/config/schema';
import { modelCatalog, type AgentReadiness, type CatalogModel } from '../../../src/host/languageModels/modelCatalog';

function config(agents: Record<string, unknown>[], routes: Record<string, string[]>): MaofConfig {
  const { config: c, issues } = parseConfig({ agents, routes, context: { reservedOutputTokens: 1000 } });
  assert.deepEqual(issues.filter((i) => !i.path.endsWith('.pricing')), []);
  return c;
}

const price = { inputPerMTok: 1, outputPerMTok: 1 };
const gpt = { id: 'g', provider: 'openai', model: 'gpt-4.1', contextWindow: 128_000, maxOutputTokens: 8000, pricing: price };
const claude = { id: 'c', provider: 'anthropic', model: 'claude-sonnet-4-5', contextWindow: 200_000, maxOutputTokens: 4000, pricing: price };
const local = { id: 'l', provider: 'openai', model: 'llama3', baseUrl: 'http://127.0.0.1:11434/v1', contextWindow: 8_000, maxOutputTokens: 2000, toolCalling: false, family: 'llama', pricing: price };

const all: AgentReadiness = { hasKey: () => true, breakerOpen: () => false };
const model = (models: CatalogModel[], id: string): CatalogModel => models.find((m) => m.id === id)!;

describe('the model catalog MAOF hands VS Code', () => {
  it('a route offers the smallest window and answer of its agents, and the family of its primary', () => {
    const code = model(modelCatalog(config([gpt, claude], { code: ['g', 'c'] }), all), 'code');
    assert.equal(code.maxInputTokens, 128_000 - 1000);
    assert.equal(code.maxOutputTokens, 4000);
    assert.equal(code.family, 'gpt-4.1');
    assert.deepEqual(code.capabilities, { toolCalling: true, imageInput: true });
  });

  it('the family is the agent that would answer now: the fallback while the primary has no key or an open breaker', () => {
    const c = config([gpt, claude], { code: ['g', 'c'] });
    assert.equal(model(modelCatalog(c, { hasKey: (id) => id === 'c', breakerOpen: () => false }), 'code').family, 'claude-sonnet-4-5');
    assert.equal(model(modelCatalog(c, { hasKey: () => true, breakerOpen: (id) => id === 'g' }), 'code').family, 'claude-sonnet-4-5');
    assert.equal(model(modelCatalog(c, { hasKey: () => true, breakerOpen: (id) => id === 'g' }), 'auto').family, 'claude-sonnet-4-5', 'auto follows the code route');
  });

  it('an agent without a key may not answer: its window does not shrink the route', () => {
    const c = config([gpt, local], { code: ['g', 'l'] });
    const withoutLocal = model(modelCatalog(c, { hasKey: (id) => id === 'g', breakerOpen: () => false }), 'code');
    assert.equal(withoutLocal.maxInputTokens, 127_000);
    assert.equal(withoutLocal.capabilities.toolCalling, true);
  });

  it('a route with an agent that cannot call tools or read images claims neither', () => {
    const models = modelCatalog(config([gpt, local], { code: ['g', 'l'] }), all);
    assert.deepEqual(model(models, 'code').capabilities, { toolCalling: false, imageInput: false });
    assert.equal(model(models, 'code').maxInputTokens, 8_000 - 1000);
    assert.deepEqual(model(models, 'agent:g').capabilities, { toolCalling: true, imageInput: true });
    assert.equal(model(models, 'agent:l').family, 'llama', 'an agent\'s family setting wins over its model id');
  });
});
