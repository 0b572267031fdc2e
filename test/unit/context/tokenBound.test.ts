import * as assert from 'node:assert/strict';
import { tokenUpperBound } from '../../../src/core/context/tokenBound';
import { tokenizerFor } from '../../../src/core/context/tokenizer';
import { mulberry32 } from '../../../src/simulator/faultPlan';

const SAMPLES = ['', 'a', 'Write function number 12 that adds 12 to its input.', 'こんにちは世界', '👍🏽😀 emoji 👨‍👩‍👧', 'Ελληνικά русский中文字符', ' '.repeat(300), '=====\n\n\t\t}', '<|endoftext|> is text here'];

/** Random strings over a mix of scripts, symbols, whitespace and astral characters. */
function randomText(rnd: () => number, length: number): string {
  const pools = ['abcdefghijklmnopqrstuvwxyz', 'ABCXYZ0123456789', ' \t\n', '{}()[];=<>!&|', 'éèàÄÖÜß', 'こんにちは中文字符', 'русскийΕλληνικά', '😀👍🏽🚀'];
  let out = '';
  while (out.length < length) {
    const pool = Array.from(pools[Math.floor(rnd() * pools.length)]);
    out += pool[Math.floor(rnd() * pool.length)];
  }
  return out;
}

describe('token upper bound', () => {
  for (const [provider, model] of [
    ['openai', 'gpt-4.1'],
    ['openai', 'gpt-4'],
    ['anthropic', 'claude-sonnet-5-5'],
  ] as const) {
    it(`is never below the count of ${provider} ${model}`, () => {
      const tk = tokenizerFor(provider, model);
      const rnd = mulberry32(7);
      const texts = [...SAMPLES, ...Array.from({ length: 200 }, () => randomText(rnd, 1 + Math.floor(rnd() * 400)))];
      for (const text of texts) {
        const count = tk.count(text);
        const bound = tokenUpperBound(tk, text);
        assert.ok(bound >= count, `bound ${bound} < count ${count} for ${JSON.stringify(text.slice(0, 40))}`);
      }
    });
  }

  it('is the UTF-8 length for exact tokenizers and 1.15 times it for the estimate', () => {
    assert.equal(tokenUpperBound({ exact: true }, 'héllo'), 6);
    assert.equal(tokenUpperBound({ exact: false }, 'x'.repeat(100)), 115);
    assert.equal(tokenUpperBound({ exact: false }, 'x'), 2);
  });
});
