import assert from 'node:assert/strict';
import { ContextPruner, renderContext, type ContextItem, type ContextKind, type PruneReport } from '../../../src/core/context/contextPruner';
import { clearBlockCaches, tokenizerFor, type Tokenizer } from '../../../src/core/context/tokenizer';
import { mulberry32, randomText } from './randomText';

const tk = tokenizerFor('openai', 'gpt-4o');
const ANTHROPIC_KEY = ['sk-ant-', 'api03-', 'Xy7Qk2LmN9pR4sT1uV6wZ0aB3cD5eF8gH2iJ4kL6mN8oP0qR2sT4uV6w'].join('');

function code(name: string, lines: number): string {
  return Array.from({ length: lines }, (_, i) => `export function ${name}${i}(a: number): number { return a * ${i} + ${name.length}; }`).join('\n');
}

function item(id: string, kind: ContextKind, text: string, extra: Partial<ContextItem> = {}): ContextItem {
  return { id, kind, label: extra.path ?? id, text, ...extra };
}

/** A tokenizer that records the text of every call, to see what a prune actually tokenised. */
function spying(inner: Tokenizer): { tokenizer: Tokenizer; seen: string[] } {
  const seen: string[] = [];
  const tokenizer: Tokenizer = {
    name: inner.name,
    exact: inner.exact,
    count: (t) => (seen.push(t), inner.count(t)),
    truncate: (t, m) => (seen.push(t), inner.truncate(t, m)),
    countUpTo: (t, l) => (seen.push(t), inner.countUpTo!(t, l)),
    truncateCounted: (t, m) => (seen.push(t), inner.truncateCounted!(t, m)),
    window: (t, c, m) => (seen.push(t), inner.window!(t, c, m)),
  };
  return { tokenizer, seen };
}

const ids = (r: PruneReport): string[] => r.kept.map((k) => k.id);

describe('ContextPruner', () => {
  it('keeps everything whole, highest priority first, when it all fits', () => {
    const items = [
      item('note', 'note', 'Prefer small pure functions.'),
      item('tab', 'openTab', code('tab', 5), { path: 'src/tab.ts', languageId: 'typescript' }),
      item('history', 'history', 'user: why does it fail?'),
      item('sel', 'selection', 'return a * 2;', { path: 'src/active.ts' }),
      item('visible', 'visibleEditor', code('vis', 3), { path: 'src/vis.ts' }),
      item('active', 'activeFile', code('act', 4), { path: 'src/active.ts', cursorOffset: 10 }),
    ];
    const r = new ContextPruner().prune(items, { budgetTokens: 10_000, tokenizer: tk });
    assert.deepEqual(ids(r), ['sel', 'active', 'visible', 'tab', 'history', 'note']);
    assert.deepEqual(r.dropped, []);
    assert.deepEqual(r.truncated, []);
    for (const k of r.kept) {
      assert.equal(k.truncated, false);
      assert.equal(k.text, items.find((i) => i.id === k.id)!.text);
      assert.equal(k.tokens, tk.count(k.text));
    }
    assert.ok(r.usedTokens > r.kept.reduce((n, k) => n + k.tokens, 0), 'counts the fences and headers too');
    assert.ok(tk.count(renderContext(r.kept)) <= r.usedTokens);
    assert.equal(r.budgetTokens, 10_000);
  });

  it('under a tight budget keeps the selection, cuts the active file around the cursor and says what it left out', () => {
    const active = code('active', 400);
    const cursorLine = 'export function active200(a: number): number';
    const items = [
      item('tab-a', 'openTab', code('tabA', 60), { path: 'src/a.ts' }),
      item('active', 'activeFile', active, { path: 'src/active.ts', cursorOffset: active.indexOf(cursorLine) + 5, languageId: 'typescript' }),
      item('tab-b', 'openTab', code('tabB', 60), { path: 'src/b.ts' }),
      item('sel', 'selection', 'const doubled = a * 2;\nreturn doubled;', { path: 'src/active.ts' }),
    ];
    const r = new ContextPruner().prune(items, { budgetTokens: 600, tokenizer: tk });
    assert.deepEqual(ids(r), ['sel', 'active']);
    const [sel, excerpt] = r.kept;
    assert.equal(sel.truncated, false);
    assert.equal(excerpt.truncated, true);
    assert.ok(excerpt.text.includes(cursorLine), 'the cursor line is kept');
    assert.ok(!excerpt.text.includes('export function active0('), 'the head of the file is not');
    assert.ok(excerpt.text.includes('active190') && excerpt.text.includes('active210'), 'lines on both sides of the cursor');
    assert.deepEqual(r.truncated, [{ id: 'active', label: 'src/active.ts', fromTokens: tk.count(active), toTokens: excerpt.tokens }]);
    assert.deepEqual(
      r.dropped.map((d) => [d.id, d.reason]),
      [['tab-a', 'budget'], ['tab-b', 'budget']],
    );
    assert.ok(r.usedTokens <= 600 && r.usedTokens > 550, `uses the budget: ${r.usedTokens}`);
  });

  it('never drops the selection for a tab: a selection larger than the budget is cut instead', () => {
    const selection = code('picked', 200);
    const items = [item('tab', 'openTab', 'const small = 1;', { path: 'src/small.ts' }), item('sel', 'selection', selection, { path: 'src/big.ts' })];
    const r = new ContextPruner().prune(items, { budgetTokens: 300, tokenizer: tk });
    assert.deepEqual(ids(r), ['sel']);
    assert.ok(selection.startsWith(r.kept[0].text), 'a selection keeps its head');
    assert.deepEqual(r.truncated.map((t) => t.id), ['sel']);
    assert.deepEqual(r.dropped.map((d) => [d.id, d.reason]), [['tab', 'budget']]);
  });

  it('still takes a small later item after a bigger one was left out', () => {
    const sel = item('sel', 'selection', code('sel', 10), { path: 'src/x.ts' });
    const alone = new ContextPruner().prune([sel], { budgetTokens: 10_000, tokenizer: tk }).usedTokens;
    const items = [
      sel,
      item('big-tab', 'openTab', code('big', 100), { path: 'src/big.ts' }),
      item('mid-tab', 'openTab', code('mid', 10), { path: 'src/mid.ts' }),
      item('note', 'note', 'Use tabs.'),
    ];
    const r = new ContextPruner().prune(items, { budgetTokens: alone + 55, tokenizer: tk });
    assert.deepEqual(ids(r), ['sel', 'note']);
    assert.deepEqual(r.dropped.map((d) => [d.id, d.reason]), [['big-tab', 'budget'], ['mid-tab', 'budget']]);
    assert.deepEqual(r.truncated, []);
  });

  it('keeps the cursor line when the cursor is at the very end of a big file', () => {
    const text = `${code('f', 300)}\n// the cursor is here`;
    const r = new ContextPruner().prune([item('active', 'activeFile', text, { path: 'f.ts', cursorOffset: text.length })], { budgetTokens: 200, tokenizer: tk });
    assert.ok(r.kept[0].text.endsWith('// the cursor is here'));
    assert.ok(r.kept[0].tokens > 100);
  });

  it('drops secret files before reading them and never lets their content through', () => {
    const items = [
      item('env', 'openTab', 'OPENAI_API_KEY=zzz-env-marker', { path: 'app/.env' }),
      item('env-local', 'visibleEditor', 'TOKEN=zzz-env-local-marker', { path: 'app/.env.local' }),
      item('ssh', 'visibleEditor', 'zzz-ssh-marker', { path: '/home/me/.ssh/id_rsa' }),
      item('sel-from-env', 'selection', 'zzz-selected-env-marker', { path: '.env.production' }),
      item('excluded', 'openTab', 'zzz-excluded-marker', { path: 'config/prod/db.yml' }),
      item('ok', 'openTab', 'const fine = true;', { path: 'src/ok.ts' }),
    ];
    const { tokenizer, seen } = spying(tk);
    const r = new ContextPruner().prune(items, { budgetTokens: 5_000, tokenizer, excludeFiles: ['config/prod/**'] });
    assert.deepEqual(ids(r), ['ok']);
    assert.deepEqual(
      r.dropped.map((d) => [d.id, d.reason, d.tokens]),
      [['env', 'secret-file', 0], ['env-local', 'secret-file', 0], ['ssh', 'secret-file', 0], ['sel-from-env', 'secret-file', 0], ['excluded', 'secret-file', 0]],
    );
    assert.ok(!renderContext(r.kept).includes('zzz-'));
    assert.ok(!seen.some((t) => t.includes('zzz-')), 'secret files are never tokenised');
  });

  it('drops binary text', () => {
    const items = [
      item('png', 'openTab', '\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR', { path: 'logo.png' }),
      item('garbled', 'openTab', Array.from({ length: 400 }, (_, i) => String.fromCharCode(i % 31 === 9 ? 1 : (i % 29) + 1)).join(''), { path: 'blob.dat' }),
      item('text', 'openTab', 'plain text\twith a tab\r\n', { path: 'notes.txt' }),
    ];
    const r = new ContextPruner().prune(items, { budgetTokens: 1_000, tokenizer: tk });
    assert.deepEqual(ids(r), ['text']);
    assert.deepEqual(r.dropped.map((d) => [d.id, d.reason]), [['png', 'binary'], ['garbled', 'binary']]);
  });

  it('cuts a 5 MB active file around the cursor and leaves a 5 MB tab out as too large', () => {
    const line = 'const row = { id: 1, name: "a row of generated data", tags: ["x", "y"] };\n';
    const half = line.repeat(Math.ceil(2_500_000 / line.length));
    const huge = `${half}// >>> cursor here <<<\n${half}`;
    assert.ok(huge.length > 5_000_000);
    const items = [
      item('active', 'activeFile', huge, { path: 'data.ts', cursorOffset: huge.indexOf('>>> cursor') }),
      item('tab', 'openTab', huge, { path: 'copy.ts' }),
    ];
    const r = new ContextPruner().prune(items, { budgetTokens: 16_000, tokenizer: tk });
    assert.deepEqual(ids(r), ['active']);
    assert.ok(r.kept[0].text.includes('>>> cursor here <<<'));
    assert.ok(r.kept[0].tokens <= 16_000 && r.kept[0].tokens > 15_000);
    assert.equal(r.truncated.length, 1);
    assert.equal(r.truncated[0].estimated, true);
    assert.ok(r.truncated[0].fromTokens > 1_000_000, `${r.truncated[0].fromTokens} estimated`);
    assert.deepEqual(r.dropped.map((d) => [d.id, d.reason]), [['tab', 'too-large']]);
    assert.ok(r.usedTokens <= 16_000);
  });

  it('redacts keys inside kept code, keeps the rest of the line and counts the redactions', () => {
    const text = `import x from "y";\nconst client = make("${ANTHROPIC_KEY}"); // keep this comment\nexport default client;`;
    const r = new ContextPruner().prune([item('f', 'openTab', text, { path: 'src/client.ts' })], { budgetTokens: 1_000, tokenizer: tk });
    assert.equal(r.kept[0].text, 'import x from "y";\nconst client = make("[REDACTED]"); // keep this comment\nexport default client;');
    assert.equal(r.redactions, 1);
    assert.equal(r.kept[0].tokens, tk.count(r.kept[0].text));
    const raw = new ContextPruner().prune([item('f', 'openTab', text, { path: 'src/client.ts' })], { budgetTokens: 1_000, tokenizer: tk, redact: false });
    assert.equal(raw.kept[0].text, text);
    assert.equal(raw.redactions, 0);
  });

  it('redacts inside an excerpt too, and never shows half a key at its edge', () => {
    const lines = Array.from({ length: 3000 }, (_, i) => (i % 50 === 7 ? `  const k${i} = "${ANTHROPIC_KEY}";` : `  const v${i} = ${i};`));
    const text = lines.join('\n');
    for (const budget of [200, 333, 1_000]) {
      const r = new ContextPruner().prune([item('a', 'activeFile', text, { path: 'a.ts', cursorOffset: text.length / 2 })], { budgetTokens: budget, tokenizer: tk, maxFileBytes: 20_000 });
      const kept = r.kept[0].text;
      assert.ok(!kept.includes('sk-ant-') && !kept.includes('Xy7Qk2LmN9pR4sT1'), 'no key, whole or in part');
      assert.equal(r.redactions, kept.split('[REDACTED]').length - 1);
    }
  });

  describe('incremental pruning', () => {
    const tabs = (): ContextItem[] => Array.from({ length: 6 }, (_, i) => item(`tab${i}`, 'openTab', code(`tab${i}_`, 20), { path: `src/t${i}.ts`, version: 1 }));

    it('tokenises nothing again when nothing changed, and only the changed item when one did', () => {
      const items = tabs();
      const { tokenizer, seen } = spying(tk);
      const pruner = new ContextPruner();
      const first = pruner.prune(items, { budgetTokens: 20_000, tokenizer });
      assert.ok(seen.length >= 6);
      seen.length = 0;
      assert.deepEqual(pruner.prune(items, { budgetTokens: 20_000, tokenizer }), first);
      assert.equal(seen.length, 0, 'an unchanged prune reuses every count');

      items[3] = { ...items[3], text: `${items[3].text}\n// changed`, version: 2 };
      const third = pruner.prune(items, { budgetTokens: 20_000, tokenizer });
      assert.ok(seen.length > 0);
      assert.ok(seen.every((t) => t.includes('// changed')), 'only the changed item is tokenised');
      assert.equal(third.kept[3].text, items[3].text);
      assert.deepEqual(third.kept.filter((_, i) => i !== 3), first.kept.filter((_, i) => i !== 3));
    });

    it('recounts a selection whose text changed under the same document version', () => {
      const pruner = new ContextPruner();
      const sel = item('sel', 'selection', 'const a = 1;', { path: 'a.ts', version: 7 });
      pruner.prune([sel], { budgetTokens: 1_000, tokenizer: tk });
      const moved = { ...sel, text: 'const somethingElse = computeIt(a, b, c);' };
      const r = pruner.prune([moved], { budgetTokens: 1_000, tokenizer: tk });
      assert.equal(r.kept[0].text, moved.text);
      assert.equal(r.kept[0].tokens, tk.count(moved.text));
    });

    it('gives exactly what a fresh pruner gives after each edit of the active file, keys redacted at any edge', () => {
      const rnd = mulberry32(77);
      // A private key long enough that its body spans blocks.
      const body = Array.from({ length: 40 }, (_, i) => `MIIEvQIBADAN${i}BgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Qk2LmN9pR4s${i}\n`).join('');
      const pem = ['-----BEGIN ', 'PRIVATE KEY-----\n', body, '-----END PRIVATE KEY-----\n'].join('');
      const line = (i: number): string => {
        const r = rnd();
        // Keys at the start and the end of lines sit on the edges of the blocks an edit re-reads.
        if (r < 0.04) return `${ANTHROPIC_KEY} = load(${i});`;
        if (r < 0.08) return `  const key${i} = "${ANTHROPIC_KEY}"`;
        if (r < 0.1) return `Authorization: Bearer ab${i}C123def456ghi789jkl0`;
        if (r < 0.2) return i % 2 ? '' : '  ';
        return `${'  '.repeat(i % 3)}export const v${i} = compute(${Math.floor(rnd() * 1e5)}, "${randomText(rnd, 10 + Math.floor(rnd() * 30)).replace(/["\\\n]/g, '')}");`;
      };
      const lines = (n: number): string => Array.from({ length: n }, (_, i) => line(i)).join('\n');
      for (const tokenizer of [tk, tokenizerFor('anthropic', 'claude-sonnet-4-5')]) {
        let active = lines(500);
        const tabs = [item('tab0', 'openTab', code('tab', 8), { path: 'src/t0.ts', version: 1 }), item('tab1', 'openTab', lines(300), { path: 'src/t1.ts', version: 1 })];
        const pruner = new ContextPruner();
        for (let round = 0; round < 12; round++) {
          const at = Math.floor(rnd() * active.length);
          const r = rnd();
          if (r < 0.2) active = `${active.slice(0, at)}${active.slice(at + Math.floor(rnd() * 3000))}`;
          else if (r < 0.4) active = `${active.slice(0, at)} "${ANTHROPIC_KEY}" ${active.slice(at)}`;
          else active = `${active.slice(0, at)}\n${lines(1 + Math.floor(rnd() * 20))}\n${active.slice(at)}`;
          // Now and then a private key is pasted in (its body spans many lines) and taken out again.
          const pasted = rnd() < 0.25;
          const text = pasted ? `${active.slice(0, at)}\n${pem}${active.slice(at)}` : active;
          const cursorOffset = pasted ? at + Math.floor(rnd() * pem.length) : Math.floor(rnd() * text.length);
          const items = [
            item('active', 'activeFile', text, { path: 'src/active.ts', version: round + 2, cursorOffset, languageId: 'typescript' }),
            ...tabs,
          ];
          const opts = { budgetTokens: rnd() < 0.2 ? 40_000 : 300 + Math.floor(rnd() * 6000), tokenizer };
          const incremental = pruner.prune(items, opts);
          clearBlockCaches();
          const fresh = new ContextPruner().prune(items, opts);
          // A pruner that counted a tab in an earlier round reports its count when it drops it; a
          // fresh one estimates. Everything else is the same.
          const settled = (r: PruneReport): PruneReport => ({ ...r, dropped: r.dropped.map(({ tokens: _t, estimated: _e, ...d }) => ({ ...d, tokens: 0 })) });
          assert.deepEqual(settled(incremental), settled(fresh), `${tokenizer.name} round ${round}`);
          fresh.dropped.forEach((d, i) => assert.ok(d.estimated || incremental.dropped[i].tokens === d.tokens));
          for (const k of incremental.kept) {
            assert.ok(!k.text.includes('Xy7Qk2LmN9pR4sT1') && !k.text.includes('MIIEvQIBADAN') && !k.text.includes('def456ghi789'), `no key in ${k.id}, round ${round}`);
            assert.equal(k.tokens, tokenizer.count(k.text));
          }
        }
      }
    });

    it('reuses counts for the same text without versions', () => {
      const items = tabs().map(({ version: _v, ...rest }) => ({ ...rest, text: `${rest.text}` }));
      const { tokenizer, seen } = spying(tk);
      const pruner = new ContextPruner();
      pruner.prune(items, { budgetTokens: 20_000, tokenizer });
      seen.length = 0;
      pruner.prune(items.map((i) => ({ ...i, text: (' ' + i.text).slice(1) })), { budgetTokens: 20_000, tokenizer });
      assert.equal(seen.length, 0);
    });
  });

  it('drops everything for a zero budget, and skips empty items', () => {
    const r = new ContextPruner().prune([item('sel', 'selection', 'x = 1'), item('empty', 'openTab', '   \n', { path: 'e.ts' })], { budgetTokens: 0, tokenizer: tk });
    assert.deepEqual(r.kept, []);
    assert.deepEqual(r.dropped.map((d) => [d.id, d.reason]), [['sel', 'budget']]);
    assert.equal(r.usedTokens, 0);
  });

  it('holds its invariants over random item sets (seeded)', () => {
    const rnd = mulberry32(20240611);
    const kinds: ContextKind[] = ['selection', 'activeFile', 'visibleEditor', 'openTab', 'history', 'note'];
    const priority = (k: ContextKind): number => kinds.indexOf(k);
    const tokenizers = [tk, tokenizerFor('anthropic', 'claude-sonnet-4-5'), tokenizerFor('openai', 'gpt-4')];
    const pruner = new ContextPruner();
    for (let round = 0; round < 25; round++) {
      const tokenizer = tokenizers[round % tokenizers.length];
      const items: ContextItem[] = Array.from({ length: 1 + Math.floor(rnd() * 7) }, (_, i) => {
        const kind = kinds[Math.floor(rnd() * kinds.length)];
        let text = randomText(rnd, Math.floor(rnd() * 4000));
        if (rnd() < 0.1) text = `const key = "${ANTHROPIC_KEY}";\n${text}`;
        if (rnd() < 0.05) text = `\u0000${text}`;
        const path = rnd() < 0.1 ? `.env.${i}` : `src/f${i}.ts`;
        return item(`i${i}`, kind, text, { path, cursorOffset: Math.floor(rnd() * text.length), version: round, languageId: rnd() < 0.5 ? 'typescript' : undefined });
      });
      const budget = Math.floor(rnd() * 2500);
      const r = pruner.prune(items, { budgetTokens: budget, tokenizer });

      assert.ok(r.usedTokens <= budget, `used ${r.usedTokens} of ${budget}`);
      assert.ok(tokenizer.count(renderContext(r.kept)) <= budget, 'the rendered context fits the budget');
      const accounted = [...r.kept.map((k) => k.id), ...r.dropped.map((d) => d.id)].sort();
      const expected = items.filter((i) => i.text.trim() !== '' || i.path!.startsWith('.env')).map((i) => i.id);
      assert.deepEqual(accounted, expected.sort(), 'each item is kept or dropped, once');
      assert.deepEqual(r.truncated.map((t) => t.id), r.kept.filter((k) => k.truncated).map((k) => k.id));
      assert.ok(r.truncated.length <= 1);
      for (let i = 1; i < r.kept.length; i++) assert.ok(priority(r.kept[i - 1].kind) <= priority(r.kept[i].kind), 'priority order');
      for (const k of r.kept) {
        assert.equal(k.tokens, tokenizer.count(k.text));
        assert.ok(!k.text.includes(ANTHROPIC_KEY));
      }
      assert.ok(!r.kept.some((k) => items.find((i) => i.id === k.id)!.path!.startsWith('.env')));
    }
  });
});

describe('renderContext', () => {
  it('renders each item as a fenced block headed by its label and language', () => {
    const out = renderContext([
      { id: 'a', kind: 'activeFile', label: 'src/a.ts', text: 'const a = 1;', tokens: 5, truncated: false, languageId: 'typescript' },
      { id: 'n', kind: 'note', label: 'Notes', text: 'remember this\n', tokens: 3, truncated: true },
    ]);
    assert.equal(out, 'src/a.ts\n```typescript\nconst a = 1;\n```\n\nNotes (excerpt)\n```\nremember this\n```');
  });

  it('uses a longer fence when the text holds one', () => {
    const text = 'Example:\n```js\nx()\n```\n````\nnested\n````';
    const out = renderContext([{ id: 'r', kind: 'openTab', label: 'README.md', text, tokens: 1, truncated: false, languageId: 'markdown' }]);
    assert.ok(out.startsWith('README.md\n`````markdown\n'));
    assert.ok(out.endsWith('\n`````'));
  });
});
