// The one way MAOF is packaged: a production build, then `vsce package` with one set of options.
// `npm run package`, `npm start`, the e2e stage and the benchmark all call packageVsix(), so the
// VSIX they test is the VSIX a user installs (README links made absolute from package.json's
// repository, LICENSE and icon included).
//
//   npx tsx scripts/package.ts [--out FILE]      (npm run package: maof-<version>.vsix)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..');

/** The vsce options every package is made with; nothing else passes its own. */
export const VSCE_ARGS: readonly string[] = ['package', '--no-dependencies'];

export interface PackageOptions {
  /** Where the VSIX goes. */
  out: string;
  /** Folder holding package.json, dist/ and the files .vscodeignore lets in (default: the repo). */
  cwd?: string;
  /** Run the production build first (default true; false when `cwd` already holds one). */
  build?: boolean;
  /** Where vsce's own output goes (default: inherited). */
  quiet?: boolean;
}

export interface PackagedVsix {
  file: string;
  bytes: number;
}

export function packageVsix(opts: PackageOptions): PackagedVsix {
  const cwd = opts.cwd ?? repoRoot;
  const stdio: ['ignore', 'pipe' | 'inherit', 'pipe' | 'inherit'] = ['ignore', opts.quiet ? 'pipe' : 'inherit', opts.quiet ? 'pipe' : 'inherit'];
  if (opts.build ?? true) {
    const built = spawnSync(process.execPath, [path.join(repoRoot, 'esbuild.js'), '--production'], { cwd: repoRoot, stdio, encoding: 'utf8', timeout: 300_000 });
    if (built.status !== 0) throw new Error(`the production build failed (exit ${String(built.status ?? built.signal)})${opts.quiet ? `: ${built.stderr}` : ''}`);
  }
  if (!fs.existsSync(path.join(cwd, '.vscodeignore'))) throw new Error('.vscodeignore is missing: it lists what the VSIX holds');
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  fs.rmSync(opts.out, { force: true });
  const vsce = path.join(repoRoot, 'node_modules', '.bin', 'vsce');
  // stdin closed: vsce asks y/N questions when something is missing, and must fail instead of waiting.
  const r = spawnSync(vsce, [...VSCE_ARGS, '-o', opts.out], { cwd, stdio, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0 || !fs.existsSync(opts.out)) {
    const why = opts.quiet ? `: ${(r.stderr || r.stdout || '').trim()}` : '';
    throw new Error(`vsce package failed (exit ${String(r.status ?? r.signal)})${why}`);
  }
  return { file: opts.out, bytes: fs.statSync(opts.out).size };
}

function main(): void {
  const args = process.argv.slice(2);
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
  let out = path.join(repoRoot, `${manifest.name}-${manifest.version}.vsix`);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out' || args[i] === '-o') out = path.resolve(args[++i] ?? '');
    else throw new Error(`unknown argument ${args[i]} (usage: npm run package [-- --out FILE])`);
  }
  const vsix = packageVsix({ out });
  process.stdout.write(`[package] ${path.relative(process.cwd(), vsix.file) || vsix.file} (${(vsix.bytes / 1024 / 1024).toFixed(2)} MB)\n`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`[package] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
