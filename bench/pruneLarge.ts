// P3: prune 200 open files totalling 20 MB to a 16 k-token budget with the real tokenizer, cold (a
// fresh pruner, the tokenizer's block cache emptied) and incremental (the same pruner after one file changed, its version bumped).
//   node --import tsx bench/pruneLarge.ts [--runs N]
import { mulberry32 } from '../src/simulator/faultPlan';
import { ContextPruner, type ContextItem, type PruneReport } from '../src/core/context/contextPruner';
import { clearBlockCaches, tokenizerFor } from '../src/core/context/tokenizer';
import { argNumber, emitResult } from './harness';
import { round, roundSummary, summarize } from './stats';

const FILES = 200;
const TOTAL_CHARS = 20 * 1024 * 1024;
const BUDGET = 16_000;


const WORDS = ['value', 'result', 'index', 'count', 'items', 'config', 'request', 'response', 'handler', 'buffer', 'offset', 'length', 'token', 'agent', 'route', 'budget', 'cache', 'state', 'error', 'signal'];
const KEYWORDS = ['const', 'let', 'return', 'if', 'for', 'await', 'export function', 'import', 'new', 'throw'];

/** Code-like text with seeded identifiers and numbers, so that BPE sees varied input, not one line repeated. */
function codeText(rnd: () => number, chars: number): string {
  const lines: string[] = [];
  let n = 0;
  let indent = 0;
  while (n < chars) {
    const w = (): string => WORDS[Math.floor(rnd() * WORDS.length)] + (rnd() < 0.5 ? String(Math.floor(rnd() * 1000)) : '');
    const r = rnd();
    let line: string;
    if (r < 0.1) line = `// ${w()} ${w()} keeps the ${w()} within its ${w()} when the ${w()} changes`;
    else if (r < 0.2) {
      line = `export function ${w()}(${w()}: number, ${w()}: string): ${rnd() < 0.5 ? 'number' : 'string'} {`;
      indent = 1;
    } else if (r < 0.25 && indent > 0) {
      line = '}';
      indent = 0;
    } else line = `${KEYWORDS[Math.floor(rnd() * KEYWORDS.length)]} ${w()} = ${w()}.${w()}(${Math.floor(rnd() * 100000)}, '${w()}-${w()}');`;
    const full = '  '.repeat(indent) + line;
    lines.push(full);
    n += full.length + 1;
  }
  return lines.join('\n');
}

/** 200 files with sizes spread from a few KB to ~1 MB, 20 MB in all; the first is the active file. */
function makeFiles(seed: number): ContextItem[] {
  const rnd = mulberry32(seed);
  const weights = Array.from({ length: FILES }, () => Math.exp(rnd() * Math.log(300)));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((wgt, i) => {
    const chars = Math.max(1024, Math.round((wgt / sum) * TOTAL_CHARS));
    const text = codeText(rnd, chars);
    const kind = i === 0 ? 'activeFile' : i < 3 ? 'visibleEditor' : 'openTab';
    return { id: `file:${i}`, kind, label: `src/module${i}.ts`, path: `src/module${i}.ts`, languageId: 'typescript', text, version: 1, ...(i === 0 ? { cursorOffset: Math.floor(text.length / 2) } : {}) };
  });
}

function changed(item: ContextItem, n: number): ContextItem {
  // The active file is edited where its cursor is (typing moves the cursor along), so the window
  // around the cursor changes every time; any other file gets a line inserted a third of the way in.
  const insert = `const edited${n} = ${n};\n`;
  const at = item.cursorOffset !== undefined ? item.text.lastIndexOf('\n', item.cursorOffset) + 1 : Math.floor(item.text.length / 3);
  return {
    ...item,
    text: `${item.text.slice(0, at)}${insert}${item.text.slice(at)}`,
    version: (item.version ?? 0) + 1,
    ...(item.cursorOffset !== undefined ? { cursorOffset: item.cursorOffset + insert.length } : {}),
  };
}

function main(): void {
  const runs = argNumber('--runs', 15);
  const tk = tokenizerFor('openai', 'gpt-4.1');
  const opts = { budgetTokens: BUDGET, tokenizer: tk, redact: true, maxFileBytes: 1_000_000 };
  const items = makeFiles(42);
  const totalChars = items.reduce((n, i) => n + i.text.length, 0);

  let t0 = performance.now();
  tk.count('warm up the encoding');
  const encodingLoadMs = performance.now() - t0;

  t0 = performance.now();
  let report: PruneReport = new ContextPruner().prune(items, opts);
  const firstMs = performance.now() - t0;

  const cold: number[] = [];
  for (let r = 0; r < runs; r++) {
    // Truly cold: the tokenizer's block cache (shared by all pruners) is emptied too.
    clearBlockCaches();
    const pruner = new ContextPruner();
    t0 = performance.now();
    report = pruner.prune(items, opts);
    cold.push(performance.now() - t0);
  }

  // Incremental: one pruner that has seen the files; each run edits one file and prunes again.
  const pruner = new ContextPruner();
  let current = items.slice();
  pruner.prune(current, opts);
  const incrementalActive: number[] = [];
  const incrementalTab: number[] = [];
  const unchanged: number[] = [];
  for (let r = 0; r < runs * 2; r++) {
    const index = r % 2 === 0 ? 0 : 3 + ((r * 7) % (FILES - 3));
    current[index] = changed(current[index], r);
    t0 = performance.now();
    pruner.prune(current, opts);
    (index === 0 ? incrementalActive : incrementalTab).push(performance.now() - t0);
    t0 = performance.now();
    report = pruner.prune(current, opts);
    unchanged.push(performance.now() - t0);
  }
  current = [];

  emitResult({
    files: items.length,
    totalMB: round(totalChars / 1024 / 1024, 2),
    budgetTokens: BUDGET,
    tokenizer: tk.name,
    encodingLoadMs: round(encodingLoadMs, 1),
    firstEverMs: round(firstMs, 2),
    cold: roundSummary(summarize(cold), 3),
    incrementalActiveFile: roundSummary(summarize(incrementalActive), 3),
    incrementalOpenTab: roundSummary(summarize(incrementalTab), 3),
    unchanged: roundSummary(summarize(unchanged), 3),
    report: { kept: report.kept.length, truncated: report.truncated.length, dropped: report.dropped.length, usedTokens: report.usedTokens },
  });
}

main();
