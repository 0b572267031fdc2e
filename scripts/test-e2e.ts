// Runs test/e2e/**/*.e2e.ts against the packaged extension in a real workbench, offline: builds
// and packages a VSIX, installs it into a fresh code-server, and drives the UI with Chromium.
// The tests run in this process under mocha, sharing one Playwright page (see test/e2e/driver.ts).
// Prints `e2e: N passed, N failed`; exit code 1 on any failure. `MAOF_E2E_GREP=<text>` runs only the
// tests whose full title (suite + test) contains that text, e.g. one test alone in a fresh workbench.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import type { Page } from 'playwright-core';
import { artifactsDir, screenshot, setSession, waitForWorkbench } from '../test/e2e/driver';
import {
  createRunDir,
  ensureEditor,
  formatSeconds,
  installVsix,
  launchBrowser,
  repoRoot,
  shutdownAndExit,
  startCodeServer,
  testRunsDir,
  workbenchUrl,
  type CodeServer,
} from './editor';
import { packageVsix } from './package';
import { prepareWorkspace } from './test-integration';

const TOTAL_TIMEOUT_MS = 10 * 60_000;
const vsixPath = path.join(testRunsDir, 'maof.vsix');

/**
 * The stranger extension of publicApi.e2e.ts, packaged as a VSIX. It is a test fixture, not MAOF:
 * it has no repository or licence, so it is packaged with vsce's options for that.
 */
function packageProbeExtension(): string {
  const out = path.join(testRunsDir, 'maof-probe.vsix');
  fs.rmSync(out, { force: true });
  const vsce = path.join(repoRoot, 'node_modules', '.bin', 'vsce');
  const r = spawnSync(vsce, ['package', '--allow-missing-repository', '--skip-license', '-o', out], {
    cwd: path.join(repoRoot, 'test', 'fixtures', 'probe-extension'), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 120_000,
  });
  if (r.status !== 0 || !fs.existsSync(out)) throw new Error(`packaging the probe extension failed: ${r.stderr || r.stdout}`);
  return out;
}

/** The e2e test files (*.e2e.ts under test/e2e), or those whose name contains one of `filters`. */
function e2eFiles(filters: string[]): string[] {
  const dir = path.join(repoRoot, 'test', 'e2e');
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.e2e.ts'))
    .filter((e) => filters.length === 0 || filters.some((f) => e.name.includes(f)))
    .map((e) => path.join(e.parentPath, e.name))
    // The smoke test first: it checks the workbench before other tests change it.
    .sort((a, b) => Number(!a.endsWith('smoke.e2e.ts')) - Number(!b.endsWith('smoke.e2e.ts')) || a.localeCompare(b));
}

function runMocha(page: Page, files: string[], grep: string | undefined): Promise<{ passed: number; failed: number; pending: number }> {
  const mocha = new Mocha({
    ui: 'bdd',
    // A plain substring (fgrep), not a regular expression: titles hold "(", "?" and "…". Mocha
    // skips the hooks of a suite none of whose tests match, so nothing else runs first.
    fgrep: grep,
    timeout: 60_000,
    reporter: 'spec',
    rootHooks: {
      async afterEach(this: Mocha.Context) {
        const t = this.currentTest;
        if (t?.state === 'failed') {
          const file = await screenshot(page, `failed-${t.fullTitle()}`).catch(() => undefined);
          if (file) console.log(`      screenshot: ${path.relative(repoRoot, file)}`);
        }
      },
    },
  });
  for (const f of files) mocha.addFile(f);
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run(() => {
        resolve({ passed: runner.stats?.passes ?? 0, failed: runner.stats?.failures ?? 0, pending: runner.stats?.pending ?? 0 });
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

async function main(): Promise<number> {
  const t0 = Date.now();
  // `npm run test:e2e -- smoke chat` runs only the files whose names contain those words.
  const files = e2eFiles(process.argv.slice(2));
  if (files.length === 0) throw new Error(`no e2e test file matches ${process.argv.slice(2).join(' ')}`);
  // `MAOF_E2E_GREP='comes back after a window reload' npm run test:e2e -- dashboard` runs one test.
  const grep = process.env.MAOF_E2E_GREP || undefined;
  ensureEditor();
  const tSetup = Date.now();
  packageVsix({ out: vsixPath });
  const tPackage = Date.now();
  console.log(`[e2e] setup ${formatSeconds(tSetup - t0)}, build + package ${formatSeconds(tPackage - tSetup)}`);

  const run = createRunDir('e2e');
  installVsix(vsixPath, run.extensionsDir);
  installVsix(packageProbeExtension(), run.extensionsDir);
  const workspace = prepareWorkspace(run.root);
  let server: CodeServer | undefined;
  try {
    server = await startCodeServer({ name: 'e2e', runDir: run, workspace });
    console.log(`[e2e] code-server on ${server.baseUrl} (run folder ${path.relative(repoRoot, run.root)})`);
    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const consoleLog = path.join(run.root, 'browser-console.log');
    page.on('console', (m) => fs.appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => fs.appendFileSync(consoleLog, `[pageerror] ${e.stack ?? e.message}\n`));
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(workbenchUrl({ port: server.port, folder: workspace }), { timeout: 60_000 });
      await waitForWorkbench(page);
    } catch (err) {
      const shot = path.join(run.root, 'workbench-not-ready.png');
      await page.screenshot({ path: shot }).catch(() => undefined);
      throw new Error(`the workbench did not load (see ${path.relative(repoRoot, shot)}, ${path.relative(repoRoot, server.logFile)}): ${String(err)}`);
    }
    const tWorkbench = Date.now();
    console.log(`[e2e] workbench ready in ${formatSeconds(tWorkbench - tPackage)}`);

    fs.mkdirSync(artifactsDir, { recursive: true });
    setSession({ page, baseUrl: server.baseUrl, workspace, runDir: run.root });
    const stats = await runMocha(page, files, grep);
    setSession(undefined);
    await browser.close();
    console.log(`[e2e] tests ${formatSeconds(Date.now() - tWorkbench)}; screenshots in ${path.relative(repoRoot, artifactsDir)}/`);
    // A filter that matches nothing is a mistake (a renamed test), not a pass.
    const none = grep !== undefined && stats.passed + stats.failed + stats.pending === 0;
    if (none) console.error(`[e2e] no test title contains MAOF_E2E_GREP="${grep}"`);
    console.log(`e2e: ${stats.passed} passed, ${none ? 1 : stats.failed} failed`);
    return stats.failed > 0 || none ? 1 : 0;
  } finally {
    await server?.stop();
    console.log(`[e2e] total ${formatSeconds(Date.now() - t0)}`);
  }
}

if (require.main === module) {
  setTimeout(() => {
    console.error(`[e2e] gave up after ${formatSeconds(TOTAL_TIMEOUT_MS)}`);
    console.log('e2e: 0 passed, 1 failed');
    void shutdownAndExit(1);
  }, TOTAL_TIMEOUT_MS).unref();
  main().then(
    (code) => shutdownAndExit(code),
    async (err: unknown) => {
      console.error(`[e2e] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      console.log('e2e: 0 passed, 1 failed');
      await shutdownAndExit(1);
    },
  );
}
