// P4 (activation): installs the packaged VSIX into the cached code-server, opens the workbench in
// headless Chromium and reads what the extension wrote to MAOF_BENCH_ACTIVATION_FILE: VS Code's
// own code-loading time for the bundle and the time spent in activate(). Each reload starts a new
// extension host, so one editor gives several activations (the first one with a cold disk cache).
//   node --import tsx bench/activation.ts VSIX [--runs N]
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  chromiumPath,
  codeServerEntry,
  createRunDir,
  installVsix,
  launchBrowser,
  node24,
  shutdownAndExit,
  startCodeServer,
  workbenchUrl,
  type CodeServer,
} from '../scripts/editor';
import { argNumber, emitResult } from './harness';
import { median, round } from './stats';

interface Timing {
  activateMs: number;
  codeLoadingMs?: number;
  /** Loading and starting the host proper, just after activation (not part of it). */
  hostStartMs?: number;
}

async function waitForFile(file: string, timeoutMs: number): Promise<Timing> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fs.existsSync(file)) {
      try {
        const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Timing;
        if (typeof v.activateMs === 'number' && typeof v.hostStartMs === 'number') return v;
      } catch {
        // being written
      }
    }
    if (Date.now() > deadline) throw new Error(`the extension did not report its activation within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const vsix = process.argv[2];
  if (!vsix || !fs.existsSync(vsix)) throw new Error('usage: activation.ts VSIX [--runs N]');
  const runs = argNumber('--runs', 5);
  const missing = [node24, codeServerEntry, chromiumPath].filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    emitResult({ skipped: 'run npm run setup:editor', missing });
    return;
  }
  const run = createRunDir('bench', 2);
  const workspace = path.join(run.root, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  installVsix(vsix, run.extensionsDir);
  const file = path.join(run.root, 'activation.json');
  let server: CodeServer | undefined;
  try {
    server = await startCodeServer({ name: 'bench', runDir: run, workspace, env: { MAOF_BENCH_ACTIVATION_FILE: file } });
    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const timings: Timing[] = [];
    for (let i = 0; i < runs; i++) {
      fs.rmSync(file, { force: true });
      if (i === 0) await page.goto(workbenchUrl({ port: server.port, folder: workspace }));
      else await page.reload();
      timings.push(await waitForFile(file, 120_000));
    }
    await browser.close();
    const total = (t: Timing): number => t.activateMs + (t.codeLoadingMs ?? 0);
    const warm = timings.length > 1 ? timings.slice(1) : timings;
    const sorted = [...warm].sort((a, b) => total(a) - total(b));
    // The median reload (the lower middle one for an even count).
    const mid = sorted[Math.floor((sorted.length - 1) / 2)];
    emitResult({
      runs: timings.map((t) => ({ codeLoadingMs: t.codeLoadingMs, activateMs: round(t.activateMs, 2), totalMs: round(total(t), 2), hostStartMs: round(t.hostStartMs ?? Number.NaN, 1) })),
      median: { codeLoadingMs: mid.codeLoadingMs, activateMs: round(mid.activateMs, 2), totalMs: round(total(mid), 2) },
      hostStartMedianMs: round(median(warm.map((t) => t.hostStartMs ?? Number.NaN)), 1),
      note: 'median of the reloads after the first (warm disk cache); codeLoadingMs has 1 ms resolution (VS Code marks); hostStartMs is the host proper loading after activation',
    });
  } finally {
    await server?.stop();
  }
}

main().then(
  () => shutdownAndExit(0),
  async (err: unknown) => {
    console.error(err);
    await shutdownAndExit(1);
  },
);
