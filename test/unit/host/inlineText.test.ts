import assert from 'node:assert/strict';
import { fitToRange, indentComment, joinContinuation, shiftRange, stripCodeFence, stripWholeFence } from '../../../src/host/inline/inlineText';

describe('host/inlineText', () => {
  describe('stripCodeFence', () => {
    it('unwraps an answer that is one fenced block, language tag and all', () => {
      assert.equal(stripCodeFence('```ts\nconst a = 1;\nconst b = 2;\n```'), 'const a = 1;\nconst b = 2;');
      assert.equal(stripCodeFence('\n\n~~~\nx\n~~~\n'), 'x');
    });
    it('takes the single block out of prose around it', () => {
      assert.equal(stripCodeFence('Here is the code:\n```python\nprint(1)\n```\nHope it helps.'), 'print(1)');
    });
    it('keeps the answer when it has no fence or several blocks, minus blank edges', () => {
      assert.equal(stripCodeFence('\n  return x;\n\n'), '  return x;');
      const two = 'a\n```\n1\n```\nb\n```\n2\n```';
      assert.equal(stripCodeFence(two), two);
    });
    it('does not cut a fence that contains a shorter inner fence', () => {
      assert.equal(stripCodeFence('````md\n```js\nx\n```\n````'), '```js\nx\n```');
    });
  });

  it('stripWholeFence only removes a fence around everything (prose may contain code)', () => {
    assert.equal(stripWholeFence('```\nhello\n```'), 'hello');
    assert.equal(stripWholeFence('Use `x`:\n```\nx\n```'), 'Use `x`:\n```\nx\n```');
  });

  describe('fitToRange', () => {
    it('indents the following lines of code written at an indented cursor', () => {
      assert.equal(fitToRange('if (a) {\n  b();\n}', '', '    '), 'if (a) {\n      b();\n    }');
    });
    it('leaves code that is already indented for the place alone, but not the first line', () => {
      assert.equal(fitToRange('  x();\n    y();', '', '    '), 'x();\n    y();');
    });
    it('keeps the final line break of a replaced block of whole lines', () => {
      assert.equal(fitToRange('new()', 'old()\n', ''), 'new()\n');
      assert.equal(fitToRange('new()\n', 'old()\n', ''), 'new()\n');
      assert.equal(fitToRange('new()', 'old()', ''), 'new()');
    });
  });

  it('indentComment indents each line to the declaration and ends with a newline', () => {
    assert.equal(indentComment('```ts\n/**\n * Adds.\n */\n```', '  '), '  /**\n   * Adds.\n   */\n');
    assert.equal(indentComment('# One\n\n# Two\n\n', '\t'), '\t# One\n\n\t# Two\n');
  });

  it('joinContinuation continues a sentence with a space and a paragraph on a new paragraph', () => {
    assert.equal(joinContinuation('It was late', 'and dark.'), ' and dark.');
    assert.equal(joinContinuation('End.\n', 'Next.'), 'Next.');
    assert.equal(joinContinuation('End.', 'Para one.\nPara two.'), '\n\nPara one.\nPara two.');
  });

  describe('shiftRange', () => {
    const r = { start: 10, end: 20 };
    it('moves with edits before it, and typing right at its start counts as before', () => {
      assert.deepEqual(shiftRange(r, { rangeOffset: 0, rangeLength: 0, text: 'abc' }), { start: 13, end: 23, touched: false });
      assert.deepEqual(shiftRange(r, { rangeOffset: 2, rangeLength: 8, text: '' }), { start: 2, end: 12, touched: false });
      assert.deepEqual(shiftRange(r, { rangeOffset: 10, rangeLength: 0, text: 'x' }), { start: 11, end: 21, touched: false });
    });
    it('ignores edits after it, including typing right at its end', () => {
      assert.deepEqual(shiftRange(r, { rangeOffset: 20, rangeLength: 0, text: 'x' }), { start: 10, end: 20, touched: false });
      assert.deepEqual(shiftRange(r, { rangeOffset: 25, rangeLength: 3, text: '' }), { start: 10, end: 20, touched: false });
    });
    it('grows or shrinks with edits inside it and marks it touched', () => {
      assert.deepEqual(shiftRange(r, { rangeOffset: 12, rangeLength: 2, text: 'hello' }), { start: 10, end: 23, touched: true });
    });
    it('becomes the replacement when an undo replaces exactly the range', () => {
      assert.deepEqual(shiftRange(r, { rangeOffset: 10, rangeLength: 10, text: 'orig' }), { start: 10, end: 14, touched: true });
      assert.deepEqual(shiftRange(r, { rangeOffset: 10, rangeLength: 10, text: '' }), { start: 10, end: 10, touched: true });
    });
    it('covers an edit overlapping its start or end', () => {
      assert.deepEqual(shiftRange(r, { rangeOffset: 5, rangeLength: 10, text: 'z' }), { start: 5, end: 11, touched: true });
      assert.deepEqual(shiftRange(r, { rangeOffset: 15, rangeLength: 10, text: 'zz' }), { start: 10, end: 17, touched: true });
    });
  });
});
