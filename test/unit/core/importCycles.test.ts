// The core's modules import one another without a loop (type-only imports count too: a loop of
// types is still a stage that knows its composer). Reads the relative imports of src/core and
// searches the graph depth-first; madge would do the same, but is not a dependency of the project.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../src/core');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+'(\.[^']+)'/g)) {
    const target = resolve(dirname(file), m[1]);
    const path = existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts');
    // Only the core's own modules: src/shared is a leaf the core may read.
    if (path.startsWith(ROOT) && existsSync(path)) out.push(path);
  }
  return out;
}

/** Every import loop, each as the list of files that form it. */
function importCycles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push(stack.slice(stack.indexOf(next)).map((f) => relative(ROOT, f)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles;
}

/**
 * The one loop left on purpose: the built-in defaults are data typed by the schema's input type,
 * and the schema reads them for its defaults. Data and its type, no behaviour either way.
 */
const ALLOWED = new Set(['config/schema.ts > config/defaults.ts']);

describe('src/core import graph', () => {
  it('has no import loop (a stage never imports back into the composer)', () => {
    const files = sourceFiles(ROOT);
    assert.ok(files.length > 40, 'found the core sources');
    assert.deepEqual(importCycles(files).map((c) => c.join(' > ')).filter((c) => !ALLOWED.has(c)), []);
  });
});
