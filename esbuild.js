// Builds the extension host bundle, the CLI and the webview bundles. esbuild does not type-check:
// `npm run typecheck` (tsc --noEmit) does.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// --outdir=DIR builds somewhere else than dist/ (the benchmark packages a production build apart
// from the working tree's dist/, which tests and a running editor may be using).
const outdirArg = process.argv.find((a) => a.startsWith('--outdir='));
const outdir = outdirArg ? path.resolve(outdirArg.slice('--outdir='.length)) : path.join(__dirname, 'dist');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'none',
  absWorkingDir: __dirname,
  // The BPE rank tables are mostly non-ASCII strings: \uXXXX escapes would make them 15 % larger.
  charset: 'utf8',
};

// Big dependencies live in dist/chunks/, shared by the host and CLI bundles so that the VSIX holds
// each once; all but zod load on first use only, so activation parses ~0.1 MB instead of ~9 MB.
// The core imports them by package name (import('openai'), require('gpt-tokenizer/...')); here
// those names resolve to the chunk files, which are required at run time relative to the bundle.
const chunks = {
  zod: 'zod',
  openai: 'openai',
  '@anthropic-ai/sdk': 'anthropic-sdk',
  'gpt-tokenizer/encoding/o200k_base': 'o200k_base',
  'gpt-tokenizer/encoding/cl100k_base': 'cl100k_base',
};

/** @type {import('esbuild').Plugin} */
const lazyChunks = (dir = './chunks') => ({
  name: 'lazy-chunks',
  setup(build) {
    build.onResolve({ filter: /^(zod|openai|@anthropic-ai\/sdk|gpt-tokenizer\/encoding\/(o200k|cl100k)_base)$/ }, (args) => ({
      path: `${dir}/${chunks[args.path]}.js`,
      external: true,
    }));
  },
});

/**
 * zod loads every one of its ~50 locales at start-up only to offer them as `z.locales`, which MAOF
 * never uses (messages are English, set by zod itself from locales/en): about a sixth of the time
 * the host spends loading its code. The chunk gets an index with English only.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.c?js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/]/.test(args.importer)) return undefined;
      return { path: path.join(path.dirname(args.importer), '..', 'locales', 'index-en-only.cjs'), namespace: 'zod-locales' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "exports.en = require('./en.cjs');",
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

/** Options of the bundles that load chunks: dynamic import() becomes a lazy require() of the chunk. */
const loadsChunks = { plugins: [lazyChunks()], supported: { 'dynamic-import': false } };

/**
 * A chunk's source. A tokenizer's rank table (200 k tokens) goes in as one JSON string parsed at
 * load: V8 parses JSON several times faster than it compiles the same array as a JS literal,
 * which is how gpt-tokenizer ships it (~1 s to load on a busy 2-core machine, vs ~0.1 s).
 */
function chunkSource(pkg, name) {
  if (!pkg.startsWith('gpt-tokenizer/')) return `module.exports = require(${JSON.stringify(pkg)});`;
  const ranks = require(`gpt-tokenizer/cjs/bpeRanks/${name}`).default;
  return [
    "const { GptEncoding } = require('gpt-tokenizer/GptEncoding');",
    `const ranks = JSON.parse(${JSON.stringify(JSON.stringify(ranks))});`,
    `module.exports = { default: GptEncoding.getEncodingApi(${JSON.stringify(name)}, () => ranks) };`,
  ].join('\n');
}

const chunkTargets = Object.entries(chunks).map(([pkg, name]) => ({
  ...common,
  stdin: { contents: chunkSource(pkg, name), resolveDir: __dirname, loader: 'js', sourcefile: `${name}.js` },
  outfile: path.join(outdir, 'chunks', `${name}.js`),
  plugins: name === 'zod' ? [zodEnglishOnly] : [],
  platform: 'node',
  format: 'cjs',
  target: 'node18',
}));

/**
 * The entry point (extension.ts) loads the host proper (hostMain.ts) with require('./hostMain')
 * after activation: here that becomes dist/host.js, a bundle of its own, so activation loads
 * only the few kilobytes of the entry point.
 */
const hostApart = {
  name: 'host-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/hostMain$/ }, () => ({ path: './host.js', external: true }));
  },
};

/** A Node bundle. The host's two target Node 18 and leave `vscode` to the extension host. */
const nodeBundle = (entry, outfile, options = {}) => ({
  ...common,
  entryPoints: [entry],
  outfile: path.join(outdir, outfile),
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The ledger's SQLite is Node's own (loaded with process.getBuiltinModule): never bundled, no native module.
  external: ['node:sqlite', ...(options.external ?? [])],
  ...options,
});
const hostBundle = { target: 'node18', external: ['vscode', 'node:sqlite'] };

const targets = [
  nodeBundle('src/host/boot/extension.ts', 'extension.js', { ...hostBundle, plugins: [hostApart] }),
  nodeBundle('src/host/boot/hostMain.ts', 'host.js', { ...hostBundle, ...loadsChunks }),
  nodeBundle('src/cli/main.ts', 'cli.js', { ...loadsChunks, banner: { js: '#!/usr/bin/env node' } }),
  nodeBundle('src/simulator/main.ts', 'simulator.js'),
  // The chat is an ES module split into chunks: each highlight.js grammar but a few tiny ones is a
  // chunk of its own under webview/chat-chunks/, imported the first time an answer needs it.
  {
    ...common,
    entryPoints: { chat: 'src/webview/chat/main.ts' },
    outdir: path.join(outdir, 'webview'),
    splitting: true,
    format: 'esm',
    chunkNames: 'chat-chunks/[name]-[hash]',
    platform: 'browser',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['src/webview/dashboard/main.ts'],
    outfile: path.join(outdir, 'webview', 'dashboard.js'),
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
].filter((t) => Object.values(t.entryPoints).every((e) => fs.existsSync(path.join(__dirname, e))));
targets.push(...chunkTargets);

// --bench also builds the in-process benchmarks (`npm run bench` does), so that they measure the
// code as shipped — minified, one copy of each SDK from the chunks — rather than tsx's output.
if (process.argv.includes('--bench')) {
  for (const name of ['pipelineOverhead', 'streamingFirstToken', 'fanOut', 'cacheAndHeap', 'pruneLarge', 'profileBatch', 'languageModelProvider']) {
    targets.push(nodeBundle(`bench/${name}.ts`, path.join('bench', `${name}.js`), { plugins: [lazyChunks('../chunks')], supported: { 'dynamic-import': false } }));
  }
}

async function main() {
  // Chunk names carry a content hash: old ones would otherwise pile up (and go into the VSIX).
  fs.rmSync(path.join(outdir, 'webview', 'chat-chunks'), { recursive: true, force: true });
  if (watch) {
    const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
    await Promise.all(contexts.map((c) => c.watch()));
    process.stdout.write(`[esbuild] watching ${targets.length} bundles\n`);
    return;
  }
  await Promise.all(targets.map((t) => esbuild.build(t)));
  const cli = path.join(outdir, 'cli.js');
  if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
