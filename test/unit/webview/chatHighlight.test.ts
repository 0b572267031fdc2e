// The chat's markdown rendering and code highlighting, in a DOM from jsdom: highlight.js tokens
// appear in fenced blocks (built-in grammars at once, the others after their chunk loads), the
// code's text is unchanged, and markup or styles written by the model are still removed.
import * as assert from 'node:assert/strict';
import hljs from 'highlight.js/lib/core';
import { JSDOM } from 'jsdom';
import type * as HighlightModule from '../../../src/webview/chat/highlight';
import type * as MarkdownModule from '../../../src/webview/chat/markdown';

type Markdown = typeof MarkdownModule;
type Highlight = typeof HighlightModule;

const globals = ['window', 'document', 'Node', 'Element', 'HTMLElement', 'DocumentFragment'] as const;

describe('chat code highlighting (webview, in jsdom)', () => {
  let md: Markdown;
  let hl: Highlight;
  const saved = new Map<string, unknown>();

  before(async () => {
    const dom = new JSDOM('<!DOCTYPE html><html><body></body></html>');
    const g = globalThis as unknown as Record<string, unknown>;
    for (const name of globals) {
      saved.set(name, g[name]);
      g[name] = dom.window[name];
    }
    // DOMPurify binds to the window it finds when first imported.
    md = await import('../../../src/webview/chat/markdown');
    hl = await import('../../../src/webview/chat/highlight');
  });
  after(() => {
    const g = globalThis as unknown as Record<string, unknown>;
    for (const name of globals) {
      if (saved.get(name) === undefined) delete g[name];
      else g[name] = saved.get(name);
    }
  });

  function render(markdown: string, onLoaded: () => void = () => undefined): HTMLElement {
    const div = document.createElement('div');
    div.innerHTML = md.renderMarkdown(markdown);
    hl.highlightCodeBlocks(div, onLoaded);
    return div;
  }

  const tsAnswer = 'Here:\n\n```typescript\nexport function simulated1(value: number): number {\n  return value + 1; // one\n}\n```';

  it('highlights a block whose grammar is a chunk once it has loaded, and asks for a re-render', async () => {
    let loaded = 0;
    const first = render(tsAnswer, () => loaded++);
    assert.equal(first.querySelectorAll('code span').length, 0, 'plain until the grammar is there');
    assert.equal(await hl.loadGrammar('typescript'), true);
    await new Promise((r) => setImmediate(r));
    assert.ok(loaded >= 1, 'the view is told to render again');

    const again = render(tsAnswer);
    const code = again.querySelector('pre > code');
    assert.ok(code);
    assert.ok(code.classList.contains('hljs'));
    const tokens = (cls: string): string[] => [...code.querySelectorAll(`.${cls}`)].map((s) => s.textContent ?? '');
    assert.deepEqual(tokens('hljs-keyword').slice(0, 2), ['export', 'function']);
    assert.ok(tokens('hljs-title').includes('simulated1'), `function name highlighted: ${code.innerHTML}`);
    assert.ok(tokens('hljs-comment').some((t) => t.includes('// one')));
    assert.equal(code.textContent, 'export function simulated1(value: number): number {\n  return value + 1; // one\n}\n', 'the text (what Copy / Insert take) is unchanged');
  });

  it('knows a grammar by its fence aliases (ts, py, rs, sh) and highlights built-in ones at once', async () => {
    const bash = render('```sh\necho "hi" # greet\n```');
    assert.ok(bash.querySelector('code .hljs-string'), bash.innerHTML);
    assert.ok(bash.querySelector('code .hljs-comment'));
    assert.equal(await hl.loadGrammar('py'), true);
    assert.ok(render('```py\ndef f():\n    return 1\n```').querySelector('code .hljs-keyword'));
    assert.equal(await hl.loadGrammar('RS'), true, 'case does not matter');
    assert.ok(render('```rs\nfn main() {}\n```').querySelector('code .hljs-keyword'));
  });

  it('leaves a block in an unknown language, or without one, plain', async () => {
    let loaded = 0;
    const div = render('```brainfuck\n+[-->-[>>+>-----<<]<--<---]\n```\n\n```\nconst x = 1;\n```', () => loaded++);
    assert.equal(div.querySelectorAll('code span').length, 0);
    assert.equal(await hl.loadGrammar('brainfuck'), false);
    await new Promise((r) => setImmediate(r));
    assert.equal(loaded, 0);
  });

  it('keeps HTML inside a code block as text: the model cannot inject markup through highlighting', async () => {
    assert.equal(await hl.loadGrammar('html'), true);
    const div = render('```html\n<img src=x onerror="alert(1)"><script>alert(2)</script><style>body{}</style>\n```');
    const code = div.querySelector('pre > code');
    assert.ok(code?.querySelector('.hljs-name'), 'tag names are highlighted');
    assert.equal(div.querySelectorAll('img, script, style').length, 0);
    assert.match(code?.textContent ?? '', /^<img src=x onerror="alert\(1\)"><script>alert\(2\)<\/script>/);
    for (const span of div.querySelectorAll('span')) {
      assert.deepEqual(span.getAttributeNames(), ['class']);
      assert.match(span.className, /^hljs-[\w-]+( [\w-]+_?)*$/);
    }
  });

  it('still strips classes and styles the model writes, also hljs ones and on its own code elements', () => {
    const div = render(
      'text <span class="hljs-keyword" style="color:red">fake</span> <style>.msg{display:none}</style>\n\n' +
        '<pre><code class="language-ts hljs-string" style="color:red" onclick="x()">let a = 1;</code></pre>',
    );
    assert.equal(div.querySelectorAll('style, [style], [onclick]').length, 0, div.innerHTML);
    const fake = [...div.querySelectorAll('span')].find((s) => s.textContent === 'fake');
    assert.ok(fake);
    assert.equal(fake.getAttribute('class'), null, 'the model cannot borrow a token colour');
    const code = div.querySelector('pre > code');
    assert.ok(code);
    assert.deepEqual([...code.classList].filter((c) => c !== 'hljs'), ['language-ts']);
  });

  it('the fence aliases of every lazy grammar are the grammar\'s own', async () => {
    for (const [name, load] of Object.entries(hl.LAZY_GRAMMARS)) {
      const grammar = (await load()).default(hljs);
      const ours = Object.entries(hl.LAZY_ALIASES).filter(([, n]) => n === name).map(([alias]) => alias).sort();
      assert.deepEqual(ours, [...(grammar.aliases ?? [])].sort(), name);
    }
    for (const name of Object.keys(hl.BUILT_IN_GRAMMARS)) assert.ok(!(name in hl.LAZY_GRAMMARS), `${name} is built in and lazy`);
  });

  it('leaves a very long block plain (it is highlighted again on every streamed frame)', () => {
    const long = `\`\`\`sh\n${'echo hi\n'.repeat(Math.ceil(hl.MAX_HIGHLIGHT_CHARS / 8) + 1)}\`\`\``;
    assert.equal(render(long).querySelectorAll('code span').length, 0);
  });
});
