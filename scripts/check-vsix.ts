// Checks a packaged VSIX the way the Marketplace, Open VSX and a user meet it: the manifest has its
// repository, icon, licence and keywords; the README's links and images are absolute and each
// points at a file of this repository (or a web page); nothing but the allowlisted files is in it;
// it stays under 2 MB; and it installs into code-server.
//
//   npx tsx scripts/check-vsix.ts FILE.vsix [--no-install]
import * as fs from 'node:fs';
import * as path from 'node:path';
import JSZip from 'jszip';

const repoRoot = path.resolve(__dirname, '..');
export const VSIX_LIMIT_BYTES = 2 * 1024 * 1024;

interface Manifest {
  name?: string;
  version?: string;
  icon?: string;
  license?: string;
  keywords?: string[];
  galleryBanner?: { color?: string };
  repository?: { url?: string } | string;
}

export interface VsixReport {
  bytes: number;
  files: string[];
  links: string[];
  problems: string[];
}

/** `https://github.com/o/r.git` → `https://github.com/o/r`. */
function repositoryUrl(m: Manifest): string | undefined {
  const raw = typeof m.repository === 'string' ? m.repository : m.repository?.url;
  return raw?.replace(/^git\+/, '').replace(/\.git$/, '');
}

/** Markdown links and images: `[t](url)`, `![a](url)`, and `<img src="url">`. */
export function markdownLinks(md: string): string[] {
  const out: string[] = [];
  const withoutCode = md.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  for (const m of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]);
  for (const m of withoutCode.matchAll(/<img[^>]+src="([^"]+)"/g)) out.push(m[1]);
  return out;
}

export async function inspectVsix(file: string): Promise<VsixReport> {
  const problems: string[] = [];
  const bytes = fs.statSync(file).size;
  const zip = await JSZip.loadAsync(fs.readFileSync(file));
  const files = Object.keys(zip.files).filter((f) => !zip.files[f].dir);
  const read = async (name: string): Promise<string | undefined> => zip.file(name)?.async('string');

  const manifestText = await read('extension/package.json');
  if (!manifestText) return { bytes, files, links: [], problems: ['extension/package.json is missing'] };
  const manifest = JSON.parse(manifestText) as Manifest;
  const repo = repositoryUrl(manifest);
  if (!repo) problems.push('package.json has no repository');
  if (!manifest.icon) problems.push('package.json has no icon');
  else if (!files.includes(`extension/${manifest.icon}`)) problems.push(`the icon ${manifest.icon} is not in the package`);
  else if (!/\.png$/i.test(manifest.icon)) problems.push('the icon must be a PNG (the Marketplace refuses SVG)');
  if (!manifest.galleryBanner?.color) problems.push('package.json has no galleryBanner');
  if (!manifest.keywords?.length) problems.push('package.json has no keywords');
  if (!files.some((f) => /^extension\/LICENSE(\.txt|\.md)?$/i.test(f))) problems.push('the licence is not in the package');
  if (bytes > VSIX_LIMIT_BYTES) problems.push(`the VSIX is ${(bytes / 1024 / 1024).toFixed(2)} MB (limit 2 MB)`);
  const stray = files.filter((f) => /^extension\/(src|test|bench|scripts|node_modules|docs|\.cache|\.test-runs)\//.test(f));
  if (stray.length > 0) problems.push(`files that should not ship: ${stray.slice(0, 5).join(', ')}`);

  const readme = (await read('extension/readme.md')) ?? (await read('extension/README.md'));
  const links = readme ? markdownLinks(readme) : [];
  if (!readme) problems.push('the README is not in the package');
  for (const link of links) {
    if (link.startsWith('#') || link.startsWith('mailto:')) continue;
    if (!/^https:\/\//.test(link)) {
      problems.push(`README link is not absolute (broken on the Marketplace): ${link}`);
      continue;
    }
    // A link into this repository must name a file that exists in it.
    if (repo && link.startsWith(`${repo}/`)) {
      const rel = /^\/(?:blob|raw|tree)\/[^/]+\/(.+)$/.exec(link.slice(repo.length))?.[1];
      if (!rel) problems.push(`README link into the repository names no file: ${link}`);
      else if (!fs.existsSync(path.join(repoRoot, decodeURIComponent(rel.split('#')[0])))) problems.push(`README link points at a file the repository does not have: ${rel}`);
    }
  }
  return { bytes, files, links, problems };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const install = !args.includes('--no-install');
  const vsixFiles = args.filter((a) => !a.startsWith('--'));
  if (vsixFiles.length !== 1) throw new Error('usage: tsx scripts/check-vsix.ts FILE.vsix [--no-install]');
  const file = path.resolve(vsixFiles[0]);
  const report = await inspectVsix(file);
  process.stdout.write(`[check-vsix] ${path.basename(file)}: ${(report.bytes / 1024 / 1024).toFixed(2)} MB, ${report.files.length} files, ${report.links.length} README links\n`);
  if (install) {
    const { createRunDir, ensureEditor, installVsix } = await import('./editor');
    ensureEditor();
    const run = createRunDir('check-vsix', 2);
    try {
      installVsix(file, run.extensionsDir);
      process.stdout.write('[check-vsix] installs into code-server\n');
    } catch (err) {
      report.problems.push(`it does not install into code-server: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const p of report.problems) process.stdout.write(`[check-vsix] PROBLEM: ${p}\n`);
  if (report.problems.length > 0) process.exit(1);
  process.stdout.write('[check-vsix] ok\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`[check-vsix] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
