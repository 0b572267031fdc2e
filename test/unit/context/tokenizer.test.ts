import assert from 'node:assert/strict';
import o200kEncoding from 'gpt-tokenizer/encoding/o200k_base';
import { ANTHROPIC_TOKEN_FACTOR, clearBlockCaches, tokenizerFor } from '../../../src/core/context/tokenizer';
import { mulberry32, randomText } from './randomText';

/** Code-like lines with the edge cases of piece boundaries: blank and indented lines, comments, CRLF. */
function sourceText(rnd: () => number, lines: number): string {
  const edge = ['', '  ', '\t', '// note', '  // indented note', '}', '\r', '/* c */', '\u3000wide'];
  return Array.from({ length: lines }, (_, i) =>
    rnd() < 0.3 ? edge[Math.floor(rnd() * edge.length)] : `${'  '.repeat(i % 4)}const v${i} = f(${Math.floor(rnd() * 1e5)}, "${randomText(rnd, 8 + Math.floor(rnd() * 40)).replace(/["\\\n]/g, '')}");`,
  ).join('\n');
}

/** An edit a user might make: type or delete a little, paste or cut lines, anywhere. */
function edit(rnd: () => number, text: string): string {
  const at = Math.floor(rnd() * text.length);
  const r = rnd();
  if (r < 0.3) return `${text.slice(0, at)}${randomText(rnd, 1 + Math.floor(rnd() * 10))}${text.slice(at)}`;
  if (r < 0.5) return `${text.slice(0, at)}${text.slice(Math.min(text.length, at + 1 + Math.floor(rnd() * 200)))}`;
  if (r < 0.7) return `${text.slice(0, at)}\n${sourceText(rnd, 1 + Math.floor(rnd() * 30))}\n${text.slice(at)}`;
  if (r < 0.85) return `${text.slice(0, at)}\n  \n${text.slice(at)}`;
  return `${text.slice(0, at)}${text.slice(at + 1)}`;
}

describe('tokenizer', () => {
  const o200k = tokenizerFor('openai', 'gpt-4o');
  const cl100k = tokenizerFor('openai', 'gpt-4');

  it('counts o200k_base tokens exactly as OpenAI does', () => {
    assert.equal(o200k.name, 'o200k_base');
    assert.equal(o200k.exact, true);
    assert.equal(o200k.count('hello world'), 2);
    assert.equal(o200k.count('Hello, world!'), 4);
    assert.equal(o200k.count('The quick brown fox jumps over the lazy dog.'), 10);
    assert.equal(o200k.count('こんにちは世界'), 2);
    assert.equal(o200k.count(''), 0);
  });

  it('picks the encoding from the model name', () => {
    for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-nano', 'gpt-5', 'gpt-5-mini', 'o1', 'o3-mini', 'o4-mini', 'chatgpt-4o-latest', 'ft:gpt-4o-mini-2024-07-18:acme::abc123']) {
      assert.equal(tokenizerFor('openai', model).name, 'o200k_base', model);
    }
    for (const model of ['gpt-4', 'gpt-4-turbo', 'gpt-4-0613', 'gpt-3.5-turbo', 'text-embedding-3-small', 'ft:gpt-3.5-turbo-0125:acme::x']) {
      const t = tokenizerFor('openai', model);
      assert.equal(t.name, 'cl100k_base', model);
      assert.equal(t.exact, true);
    }
    // The two encodings really differ: Japanese takes twice the tokens in cl100k_base.
    assert.equal(cl100k.count('こんにちは世界'), 4);
  });

  it('estimates Anthropic counts above o200k, and says it is an estimate', () => {
    const claude = tokenizerFor('anthropic', 'claude-sonnet-4-5');
    assert.equal(claude.exact, false);
    const rnd = mulberry32(7);
    for (let i = 0; i < 15; i++) {
      const text = randomText(rnd, 20 + Math.floor(rnd() * 2000));
      const base = o200k.count(text);
      assert.ok(claude.count(text) >= base);
      assert.equal(claude.count(text), Math.ceil(Math.round(base * ANTHROPIC_TOKEN_FACTOR * 1e6) / 1e6));
    }
    assert.equal(claude.count('hello world'), 3);
  });

  it('treats unknown models behind OpenAI-compatible endpoints as estimates', () => {
    const llama = tokenizerFor('openai', 'llama3.1:8b');
    assert.equal(llama.exact, false);
    assert.ok(llama.count('hello world') >= 2);
  });

  it('counts special-token text as plain text instead of throwing', () => {
    assert.ok(o200k.count('a file that says <|endoftext|> in it') > 5);
    assert.ok(o200k.truncate('<|endoftext|><|im_start|>', 3).length > 0);
  });

  it('truncates to a prefix that never exceeds maxTokens, wastes almost none of it, and counts it exactly', () => {
    const rnd = mulberry32(42);
    for (const tk of [o200k, cl100k, tokenizerFor('anthropic', 'claude-opus-4-1')]) {
      for (let i = 0; i < 25; i++) {
        const text = randomText(rnd, 1 + Math.floor(rnd() * 1500));
        const total = tk.count(text);
        const max = Math.floor(rnd() * (total + 5));
        const cut = tk.truncate(text, max);
        assert.ok(text.startsWith(cut), 'a prefix');
        const n = tk.count(cut);
        assert.ok(n <= max, `${n} tokens for max ${max}`);
        if (max >= total) assert.equal(cut, text);
        // Scaled (estimated) counts move in steps of more than one token.
        else assert.ok(n >= max - (tk.exact ? 2 : 3), `${n} tokens used of ${max}`);
        const counted = tk.truncateCounted!(text, max);
        assert.equal(counted.text, cut);
        assert.equal(counted.tokens, n);
        // A window reports the exact count of the text it spans.
        const w = tk.window!(text, Math.floor(rnd() * text.length), max);
        assert.ok(w.tokens <= max);
        assert.equal(tk.count(text.slice(w.start, w.end)), w.tokens);
        if (max >= 200 && w.end - w.start < text.length) assert.ok(w.tokens >= max * 0.6, `window uses ${w.tokens} of ${max}`);
      }
    }
  });

  it('stays linear on giant runs of one character class instead of hanging', () => {
    // gpt-tokenizer merges a run like this in quadratic time: each would take seconds, 1 MB hours.
    for (const run of ['ACGT'.repeat(5_000), '中文字符'.repeat(5_000), '='.repeat(20_000), ' '.repeat(20_000)]) {
      const n = o200k.count(`start ${run} end`);
      assert.ok(n > 0);
      const cut = o200k.truncateCounted!(run, 500);
      assert.ok(cut.tokens <= 500 && (cut.tokens > 400 || cut.text === run));
      const w = o200k.window!(run, run.length / 2, 500);
      assert.ok(w.tokens <= 500 && w.end > w.start);
    }
  });

  it('never cuts an emoji in half', () => {
    const text = '😀'.repeat(50);
    for (let max = 1; max < 40; max++) {
      const cut = o200k.truncate(text, max);
      assert.equal(cut.length % 2, 0);
      assert.ok(o200k.count(cut) <= max);
    }
  });

  it('cuts a window of whole lines around the centre within the budget', () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `  const value${i} = compute(${i}, "label ${i}"); // line ${i}`);
    const text = lines.join('\n');
    const centre = text.indexOf('line 1000');
    for (const max of [64, 300, 2000]) {
      const w = o200k.window!(text, centre, max);
      const slice = text.slice(w.start, w.end);
      assert.ok(w.tokens <= max);
      assert.equal(o200k.count(slice), w.tokens);
      assert.ok(w.start <= centre && centre < w.end, 'holds the centre');
      assert.ok(w.start === 0 || text[w.start - 1] === '\n', 'starts on a line');
      assert.ok(w.end === text.length || text[w.end - 1] === '\n', 'ends on a line');
      const before = o200k.count(text.slice(w.start, centre));
      const after = o200k.count(text.slice(centre, w.end));
      assert.ok(Math.abs(before - after) <= max * 0.3, `balanced: ${before} before, ${after} after`);
      // Only the partial lines at either end are given up.
      const lineTokens = o200k.count(`${lines[1000]}\n`);
      assert.ok(w.tokens >= max - 2 * lineTokens, `uses the budget: ${w.tokens} of ${max}`);
    }
  });

  it('shifts the window when the centre is near an edge', () => {
    const text = Array.from({ length: 500 }, (_, i) => `line ${i} of the file`).join('\n');
    const atEnd = o200k.window!(text, text.length, 200);
    assert.equal(atEnd.end, text.length);
    assert.ok(atEnd.tokens >= 180);
    const atStart = o200k.window!(text, 0, 200);
    assert.equal(atStart.start, 0);
    assert.ok(atStart.tokens >= 180);
    const whole = o200k.window!(text, 100, 1_000_000);
    assert.deepEqual([whole.start, whole.end, whole.tokens], [0, text.length, o200k.count(text)]);
  });

  it('reads the same window after edits, from the blocks it already tokenised, as from scratch', () => {
    const rnd = mulberry32(2024);
    for (const tk of [o200k, cl100k, tokenizerFor('anthropic', 'claude-sonnet-4-5')]) {
      let text = sourceText(rnd, 500);
      for (let round = 0; round < 20; round++) {
        text = edit(rnd, text);
        const centre = rnd() < 0.8 ? Math.floor(rnd() * text.length) : text.length;
        const max = 20 + Math.floor(rnd() * 4000);
        const warm = tk.window!(text, centre, max);
        clearBlockCaches();
        const cold = tk.window!(text, centre, max);
        assert.deepEqual(warm, cold, `${tk.name} round ${round}`);
        assert.equal(tk.count(text.slice(cold.start, cold.end)), cold.tokens, `${tk.name} round ${round}: the count of the text cut`);
        assert.ok(cold.tokens <= max);
      }
    }
  });

  it('tokenises again only around an edit when it reads a window after one', () => {
    const rnd = mulberry32(5);
    const text = sourceText(rnd, 2000);
    const enc = o200kEncoding as unknown as { encodeGenerator: (text: string, options?: unknown) => Iterable<number[]> };
    const original = enc.encodeGenerator;
    let chars = 0;
    enc.encodeGenerator = (t, options) => {
      chars += t.length;
      return original(t, options);
    };
    try {
      clearBlockCaches();
      const first = o200k.window!(text, text.length / 2, 8000);
      const coldChars = chars;
      assert.ok(coldChars >= first.end - first.start, 'a cold window tokenises what it spans');
      chars = 0;
      const at = text.indexOf('\n', first.start + (first.end - first.start) / 3) + 1;
      const edited = `${text.slice(0, at)}const typed = 1;\n${text.slice(at)}`;
      const again = o200k.window!(edited, text.length / 2 + 17, 8000);
      assert.ok(again.start <= at && at < again.end, 'the edit is inside the window');
      assert.ok(chars > 0 && chars < 10_000, `${chars} chars tokenised again, of ${coldChars}`);
    } finally {
      enc.encodeGenerator = original;
    }
  });
});
