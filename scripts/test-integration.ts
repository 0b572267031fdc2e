// Runs test/integration/ inside a real VS Code extension host, offline: builds the extension and
// the tests, serves them with code-server and drives the workbench with Chromium.
// Prints the suite's report and `integration: N passed, N failed`; exit code 1 on any failure.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import {
  createRunDir,
  ensureEditor,
  formatSeconds,
  launchBrowser,
  repoRoot,
  shutdownAndExit,
  startCodeServer,
  workbenchUrl,
  type CodeServer,
} from './editor';

const SUITE_TIMEOUT_MS = Number(process.env.MAOF_INTEGRATION_TIMEOUT_MS) || 5 * 60_000;
export const integrationOutDir = path.join(repoRoot, 'out', 'test', 'integration');
export const integrationEntry = path.join(integrationOutDir, 'index.js');

/** `node esbuild.js [args]`: the project's build, which the extension host loads from dist/. */
export function buildExtension(args: string[] = []): void {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'esbuild.js'), ...args], {
    cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'], timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`node esbuild.js ${args.join(' ')} failed (exit ${String(r.status ?? r.signal)})`);
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js was not built (is src/host/boot/extension.ts missing?)');
  }
}

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Compiles test/integration/**.ts to out/test/integration/ (CommonJS; vscode and mocha external). */
export async function buildIntegrationTests(): Promise<void> {
  const srcDir = path.join(repoRoot, 'test', 'integration');
  const entryPoints = tsFiles(srcDir);
  if (!entryPoints.some((f) => path.basename(f) === 'index.ts')) throw new Error(`${srcDir}/index.ts is missing`);
  fs.rmSync(integrationOutDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints,
    outdir: integrationOutDir,
    outbase: srcDir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'warning',
  });
}

/** A throwaway copy of test/fixtures/workspace/ (or an empty folder). */
export function prepareWorkspace(runRoot: string): string {
  const ws = path.join(runRoot, 'workspace');
  const fixture = path.join(repoRoot, 'test', 'fixtures', 'workspace');
  if (fs.existsSync(fixture)) fs.cpSync(fixture, ws, { recursive: true });
  else fs.mkdirSync(ws, { recursive: true });
  return ws;
}

interface Results {
  passed: number;
  failed: number;
  failures: { title: string; error: string }[];
}

function readResults(file: string): Results | undefined {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof v === 'object' && v !== null && 'passed' in v && 'failed' in v
      && typeof v.passed === 'number' && typeof v.failed === 'number') {
      const failures = 'failures' in v && Array.isArray(v.failures) ? (v.failures as Results['failures']) : [];
      return { passed: v.passed, failed: v.failed, failures };
    }
  } catch {
    // missing or half-written
  }
  return undefined;
}

/** The extension host's own log files, for a failed or hung run. */
function extensionHostLogs(userDataDir: string): string[] {
  const logs = path.join(userDataDir, 'logs');
  if (!fs.existsSync(logs)) return [];
  return fs.readdirSync(logs, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /^(remoteexthost|remoteagent|exthost)\.log$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

interface PassResult {
  passed: number;
  failed: number;
}

/**
 * One code-server + workbench run of the suite. The untrusted pass leaves workspace trust on (the
 * workspace opens in Restricted Mode) and runs only the tests tagged `@untrusted`, which the
 * trusted pass does not define.
 */
async function runPass(label: string, opts: { untrusted: boolean; grep?: string }): Promise<PassResult> {
  const tPass = Date.now();
  let server: CodeServer | undefined;
  let exitCode: number | undefined;
  let problem: string | undefined;
  try {
    const run = createRunDir('integration');
    // The extension host inherits code-server's environment: that is how the suite learns where
    // to write its report.
    const resultsDir = path.join(run.root, 'results');
    const workspace = prepareWorkspace(run.root);
    server = await startCodeServer({
      name: 'integration', runDir: run, workspace, untrustedWorkspace: opts.untrusted,
      env: { MAOF_TEST_RESULTS_DIR: resultsDir, ...(opts.grep ? { MAOF_INTEGRATION_GREP: opts.grep } : {}) },
    });
    console.log(`[${label}] code-server on ${server.baseUrl} (run folder ${path.relative(repoRoot, run.root)})`);

    const browser = await launchBrowser();
    const page = await browser.newPage();
    const consoleLog = path.join(run.root, 'browser-console.log');
    page.on('console', (m) => fs.appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => fs.appendFileSync(consoleLog, `[pageerror] ${e.stack ?? e.message}\n`));

    // The workbench calls codeAutomationExit(code) when the suite ends: 0 passed, 1 failed or did
    // not load. A crashed page would never call it.
    let settle: (outcome: number | 'crash') => void = () => undefined;
    const finished = new Promise<number | 'crash'>((resolve) => {
      settle = resolve;
    });
    await page.exposeFunction('codeAutomationExit', (code: unknown) => settle(typeof code === 'number' ? code : 1));
    page.on('crash', () => settle('crash'));
    const url = workbenchUrl({
      port: server.port,
      folder: workspace,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: integrationEntry,
    });
    await page.goto(url, { timeout: 60_000 });
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), SUITE_TIMEOUT_MS).unref());
    const outcome = await Promise.race([finished, timeout]);
    if (outcome === 'timeout') {
      problem = `the suite did not finish within ${formatSeconds(SUITE_TIMEOUT_MS)}`;
      await page.screenshot({ path: path.join(run.root, 'timeout.png') }).catch(() => undefined);
    } else if (outcome === 'crash') {
      problem = 'the workbench page crashed';
    } else {
      exitCode = outcome;
    }
    await browser.close();
    console.log(`[${label}] workbench + suite ${formatSeconds(Date.now() - tPass)}`);

    const output = path.join(resultsDir, 'mocha-output.txt');
    if (fs.existsSync(output)) process.stdout.write('\n' + fs.readFileSync(output, 'utf8') + '\n');
    const results = readResults(path.join(resultsDir, 'results.json'));
    if (!results && !problem) problem = `the suite did not load or wrote no results (codeAutomationExit ${String(exitCode)})`;
    if (results && exitCode !== 0 && results.failed === 0 && !problem) {
      problem = `the workbench reported exit code ${String(exitCode)} although no test failed`;
    }
    if (problem) {
      console.log(`[${label}] ${problem}`);
      console.log(`[${label}] logs: ${path.relative(repoRoot, server.logFile)}, ${path.relative(repoRoot, consoleLog)}`);
      for (const l of extensionHostLogs(run.userDataDir)) console.log(`[${label}]       ${path.relative(repoRoot, l)}`);
    }
    // A suite that did not load or finish counts as one failure, so the line never reads "0 failed".
    return { passed: results?.passed ?? 0, failed: Math.max(results?.failed ?? 0, problem ? 1 : 0) };
  } finally {
    await server?.stop();
  }
}

async function main(): Promise<number> {
  const t0 = Date.now();
  ensureEditor();
  const tSetup = Date.now();
  buildExtension();
  await buildIntegrationTests();
  const tBuild = Date.now();
  console.log(`[integration] setup ${formatSeconds(tSetup - t0)}, build ${formatSeconds(tBuild - tSetup)}`);
  try {
    const trusted = await runPass('integration', { untrusted: false, grep: process.env.MAOF_INTEGRATION_GREP || undefined });
    // MAOF_INTEGRATION_UNTRUSTED=0 skips the second pass (e.g. while iterating on one trusted test).
    const untrusted = process.env.MAOF_INTEGRATION_UNTRUSTED === '0' ? { passed: 0, failed: 0 } : await runPass('integration:untrusted', { untrusted: true, grep: '@untrusted' });
    const passed = trusted.passed + untrusted.passed;
    const failed = trusted.failed + untrusted.failed;
    console.log(`integration: ${passed} passed, ${failed} failed`);
    return failed > 0 ? 1 : 0;
  } finally {
    console.log(`[integration] total ${formatSeconds(Date.now() - t0)}`);
  }
}

if (require.main === module) {
  main().then(
    (code) => shutdownAndExit(code),
    async (err: unknown) => {
      console.error(`[integration] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      console.log('integration: 0 passed, 1 failed');
      await shutdownAndExit(1);
    },
  );
}
