import assert from 'node:assert/strict';
import { blockEnd, blockStart, isPieceBoundary, MAX_BLOCK_CHARS } from '../../../src/core/context/pieceBlocks';
import { tokenizerFor } from '../../../src/core/context/tokenizer';
import { mulberry32, randomText } from './randomText';

/** Lines that sit at the edge of what a piece boundary may be: blank, indented, comment, CR, wide spaces. */
const EDGE_LINES = ['', '  ', '\t', ' \t ', '// note', '/* c */', '}', '  }', '\r', '  \r', '    return x;', '\u00a0\u00a0y', '\u3000z', 'x'];

function trickyText(rnd: () => number, lines: number): string {
  return Array.from({ length: lines }, () => (rnd() < 0.5 ? EDGE_LINES[Math.floor(rnd() * EDGE_LINES.length)] : randomText(rnd, Math.floor(rnd() * 60)))).join('\n');
}

function partition(text: string): string[] {
  const blocks: string[] = [];
  for (let start = 0; start < text.length; ) {
    const end = blockEnd(text, start);
    assert.ok(end > start);
    blocks.push(text.slice(start, end));
    start = end;
  }
  return blocks;
}

describe('pieceBlocks', () => {
  it('splits text only where the tokenizer would: both sides count the same apart as together', () => {
    const rnd = mulberry32(99);
    for (const tk of [tokenizerFor('openai', 'gpt-4o'), tokenizerFor('openai', 'gpt-4')]) {
      for (let round = 0; round < 30; round++) {
        const text = trickyText(rnd, 40);
        const whole = tk.count(text);
        let checked = 0;
        for (let p = 1; p < text.length; p++) {
          if (!isPieceBoundary(text, p)) continue;
          checked += 1;
          assert.equal(tk.count(text.slice(0, p)) + tk.count(text.slice(p)), whole, `${tk.name} split at ${p}: ${JSON.stringify(text.slice(p - 10, p + 10))}`);
        }
        assert.ok(checked > 3, 'the text has boundaries to check');
      }
    }
  });

  it('refuses the line starts where a piece runs over the line break', () => {
    const o200k = tokenizerFor('openai', 'gpt-4o');
    // Each of these counts differently when split after its first line break.
    for (const text of ['abc def\n  \nghi', 'a }\n// x', 'x;\n\n  y']) {
      const p = text.indexOf('\n') + 1;
      assert.notEqual(o200k.count(text.slice(0, p)) + o200k.count(text.slice(p)), o200k.count(text));
      assert.equal(isPieceBoundary(text, p), false, JSON.stringify(text));
    }
    assert.equal(isPieceBoundary(`a\n${' '.repeat(600)}b`, 2), false, 'inside a whitespace run long enough to be cut in chunks');
    assert.equal(isPieceBoundary('a\n    b', 2), true);
  });

  it('chooses block edges by content, so an edit leaves the blocks after it as they were', () => {
    const rnd = mulberry32(7);
    const lines = Array.from({ length: 3000 }, (_, i) => `${'  '.repeat(i % 3)}const v${i} = compute(${Math.floor(rnd() * 1e6)}, "${randomText(rnd, 12).replace(/[\n"\\]/g, '')}");`);
    const text = lines.join('\n');
    const before = partition(text);
    assert.ok(before.length > 20 && before.length < text.length / 200, `${before.length} blocks`);
    assert.ok(before.every((b) => b.length <= MAX_BLOCK_CHARS + 200), 'no block grows far past the limit');
    assert.equal(before.join(''), text);
    const at = text.indexOf('\n', text.length / 3) + 1;
    const edited = `${text.slice(0, at)}const inserted = 1;\n${text.slice(at)}`;
    const after = new Set(partition(edited));
    const changed = before.filter((b) => !after.has(b));
    assert.ok(changed.length <= 2, `${changed.length} blocks changed`);
    // Read back from the end, the blocks are the same ones (but where a block reached its size limit).
    const back: string[] = [];
    for (let end = text.length; end > 0; ) {
      const start = blockStart(text, end) ?? 0;
      back.unshift(text.slice(start, end));
      end = start;
    }
    assert.ok(back.filter((b) => before.includes(b)).length >= back.length * 0.95);
  });
});
