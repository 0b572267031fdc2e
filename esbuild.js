// Builds the extension host bundle, the CLI and the webview bundles. esbuild does not type-check:
// `npm run typecheck` (tsc --noEmit) does.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'none',
};

const targets = [
  {
    ...common,
    entryPoints: ['src/host/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: ['src/simulator/main.ts'],
    outfile: 'dist/simulator.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  ...['chat', 'dashboard'].map((name) => ({
    ...common,
    entryPoints: [`src/webview/${name}/main.ts`],
    outfile: `dist/webview/${name}.js`,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  })),
].filter((t) => t.entryPoints.every((e) => fs.existsSync(path.join(__dirname, e))));

async function main() {
  if (watch) {
    const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
    await Promise.all(contexts.map((c) => c.watch()));
    process.stdout.write(`[esbuild] watching ${targets.length} bundles\n`);
    return;
  }
  await Promise.all(targets.map((t) => esbuild.build(t)));
  const cli = path.join(__dirname, 'dist', 'cli.js');
  if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
