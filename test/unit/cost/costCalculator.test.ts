import assert from 'node:assert/strict';
import { costOf, formatUsd, worstCaseCost } from '../../../src/core/cost/costCalculator';
import { builtInPrice } from '../../../src/core/cost/priceTable';

describe('costCalculator', () => {
  it('prices OpenAI usage with cached prompt tokens at the cache-read price', () => {
    // 10 000 prompt tokens of which 4 000 were cached: the adapter reports 6 000 uncached + 4 000 read.
    const cost = costOf({ inputTokens: 6_000, cacheReadTokens: 4_000, cacheWriteTokens: 0, outputTokens: 500 }, builtInPrice('gpt-4.1')!);
    assert.equal(cost, (6_000 * 2 + 4_000 * 0.5 + 500 * 8) / 1e6);
    assert.equal(cost, 0.018);
  });

  it('prices Anthropic cache reads and cache writes apart', () => {
    const cost = costOf({ inputTokens: 1_000, cacheReadTokens: 20_000, cacheWriteTokens: 5_000, outputTokens: 800 }, builtInPrice('claude-sonnet-4-5-20250929')!);
    assert.equal(cost, 0.03975); // 1000×3 + 20000×0.3 + 5000×3.75 + 800×15 per MTok
  });

  it('charges cache reads and writes at the input price when the pricing has none', () => {
    const cost = costOf({ inputTokens: 0, cacheReadTokens: 1_000, cacheWriteTokens: 1_000, outputTokens: 0 }, { inputPerMTok: 1, outputPerMTok: 2 });
    assert.equal(cost, 0.002);
  });

  it('worst case is all input at the input price plus the whole output allowance', () => {
    assert.equal(worstCaseCost(10_000, 4_096, builtInPrice('claude-sonnet-4-5')!), 0.09144);
    assert.equal(worstCaseCost(10_000, 4_096, { inputPerMTok: 0, outputPerMTok: 0 }), 0);
  });

  it('formats amounts for people', () => {
    assert.equal(formatUsd(0), '$0.00');
    assert.equal(formatUsd(0.0042), '$0.0042');
    assert.equal(formatUsd(1.234), '$1.23');
    assert.equal(formatUsd(0.00004), '<$0.0001');
    assert.equal(formatUsd(0.00999), '$0.01');
    assert.equal(formatUsd(0.42), '$0.42');
    assert.equal(formatUsd(1234.5), '$1,234.50');
  });
});
